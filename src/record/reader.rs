//! Reading the records of one or more run folders back (for reports, and to merge
//! nextest processes and CI shards).

use std::path::{Path, PathBuf};

use super::policy::{POLICY_FILE, RunPolicy};
use super::{CaseRecord, Record, RunRecord, SCHEMA_VERSION, SampleRecord};
use crate::errors::Error;

/// Every record found, in file order.
#[derive(Debug, Clone, Default)]
pub struct RunData {
    pub runs: Vec<RunRecord>,
    pub samples: Vec<SampleRecord>,
    pub cases: Vec<CaseRecord>,
    /// Lines that could not be read (a process killed mid-line), with where they are.
    pub skipped_lines: Vec<String>,
    /// The catalog and gates the run was made under (`suite.json`), when recorded.
    pub policy: Option<RunPolicy>,
}

impl RunData {
    /// Every record, as the lines a run folder holds: runs first, then samples, then cases.
    pub fn records(&self) -> impl Iterator<Item = Record> + '_ {
        (self.runs.iter().cloned().map(Record::Run))
            .chain(
                self.samples
                    .iter()
                    .cloned()
                    .map(|s| Record::Sample(Box::new(s))),
            )
            .chain(
                self.cases
                    .iter()
                    .cloned()
                    .map(|c| Record::Case(Box::new(c))),
            )
    }

    /// Reads every `*.jsonl` file directly in each of `dirs`.
    pub fn read(dirs: &[PathBuf]) -> Result<RunData, Error> {
        let mut data = RunData::default();
        for dir in dirs {
            let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
                .map_err(|e| {
                    Error::Usage(format!("cannot read run folder {}: {e}", dir.display()))
                })?
                .filter_map(|entry| entry.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
                .collect();
            files.sort();
            for file in files {
                data.read_file(&file)?;
            }
            let policy_path = dir.join(POLICY_FILE);
            if policy_path.exists() {
                let policy = RunPolicy::load(&policy_path)?;
                match &mut data.policy {
                    None => data.policy = Some(policy),
                    // Shards of one run carry the same policy; keep one that knows the cases.
                    Some(kept) if kept.cases.is_none() => {
                        kept.cases = policy.cases;
                        kept.decay = policy.decay;
                    }
                    Some(_) => {}
                }
            }
        }
        Ok(data)
    }

    fn read_file(&mut self, path: &Path) -> Result<(), Error> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let line_count = text.lines().count();
        for (index, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            match serde_json::from_str::<Record>(line) {
                Ok(record) => self.push(record, path, index + 1)?,
                Err(e) => {
                    let schema = serde_json::from_str::<serde_json::Value>(line)
                        .ok()
                        .and_then(|v| v.get("schema").and_then(|s| s.as_u64()));
                    if let Some(schema) = schema
                        && schema != u64::from(SCHEMA_VERSION)
                    {
                        return Err(unsupported(path, index + 1, schema));
                    }
                    // Only the last line of a file can be cut short by a kill.
                    if index + 1 != line_count || text.ends_with('\n') {
                        return Err(Error::Usage(format!(
                            "{}:{}: not a run record: {e}",
                            path.display(),
                            index + 1
                        )));
                    }
                    self.skipped_lines.push(format!(
                        "{}:{} (cut short)",
                        path.display(),
                        index + 1
                    ));
                }
            }
        }
        Ok(())
    }

    fn push(&mut self, record: Record, path: &Path, line: usize) -> Result<(), Error> {
        let schema = match &record {
            Record::Run(r) => r.schema,
            Record::Sample(s) => s.schema,
            Record::Case(c) => c.schema,
        };
        if schema != SCHEMA_VERSION {
            return Err(unsupported(path, line, u64::from(schema)));
        }
        match record {
            Record::Run(r) => self.runs.push(r),
            Record::Sample(s) => self.samples.push(*s),
            Record::Case(c) => self.cases.push(*c),
        }
        Ok(())
    }
}

fn unsupported(path: &Path, line: usize, schema: u64) -> Error {
    Error::Usage(format!(
        "{}:{line}: record schema {schema} is not supported by this evalgate (schema {SCHEMA_VERSION}); \
         use the evalgate version that wrote it",
        path.display()
    ))
}
