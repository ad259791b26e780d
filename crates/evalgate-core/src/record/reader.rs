//! Reading the records of one or more run folders back (for reports, and to merge
//! nextest processes and CI shards).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::policy::RunPolicy;
use super::{
    CaseRecord, EndRecord, OutcomeRecord, Record, RerunRecord, RunRecord, SCHEMA_VERSION,
    SampleRecord,
};
use crate::errors::{DataError, Error};
use crate::layout::RunFolder;

/// Every record found, in file order.
#[derive(Debug, Clone, Default)]
pub struct RunData {
    /// Run records, one per process.
    pub runs: Vec<RunRecord>,
    /// Sample records.
    pub samples: Vec<SampleRecord>,
    /// Case records.
    pub cases: Vec<CaseRecord>,
    /// `evalgate rerun` records (in a rerun's own folder, never in a run's).
    pub reruns: Vec<RerunRecord>,
    /// How reported runs ended (in a history export, never in a run folder).
    pub outcomes: Vec<OutcomeRecord>,
    /// The end markers of the processes that finished (or were interrupted).
    pub ends: Vec<EndRecord>,
    /// Lines that could not be read (a process killed mid-line), with where they are.
    pub skipped_lines: Vec<String>,
    /// The catalog and gates the run was made under (`suite.json`), when recorded.
    pub policy: Option<RunPolicy>,
    /// The cases the run should hold when its processes' plans cannot tell (each ran one
    /// case, as under nextest): set by `evalgate report` from the evals folder, so a case
    /// whose process never started is missing, not silently absent.
    pub expected: Option<Vec<String>>,
}

impl RunData {
    /// Every record, as the lines a run folder holds: runs first, then samples, then cases.
    pub fn records(&self) -> impl Iterator<Item = Record> + '_ {
        (self.runs.iter().cloned().map(|r| Record::Run(Box::new(r))))
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
            .chain(
                self.reruns
                    .iter()
                    .cloned()
                    .map(|r| Record::Rerun(Box::new(r))),
            )
            .chain(
                self.outcomes
                    .iter()
                    .cloned()
                    .map(|o| Record::Outcome(Box::new(o))),
            )
            .chain(self.ends.iter().cloned().map(|e| Record::End(Box::new(e))))
    }

    /// Reads every `*.jsonl` file directly in each of `dirs`. Several folders must be
    /// shards of one run (see `RunData::check_shards`).
    pub fn read(dirs: &[PathBuf]) -> Result<RunData, Error> {
        let mut data = RunData::default();
        // Which folder each run id's case records came from, and each folder's policy.
        let mut folder_of: HashMap<String, PathBuf> = HashMap::new();
        let mut policies: Vec<(PathBuf, RunPolicy)> = Vec::new();
        // The folder that recorded each case: shards partition the cases, so a case in two
        // folders (a folder given twice, overlapping shards) would be counted twice.
        let mut recorded_in: HashMap<String, &PathBuf> = HashMap::new();
        let mut seen: Vec<(PathBuf, &PathBuf)> = Vec::new();
        let mut overlaps: Vec<(String, &PathBuf, &PathBuf)> = Vec::new();
        for dir in dirs {
            let same = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.clone());
            if let Some((_, first)) = seen.iter().find(|(c, _)| *c == same) {
                return Err(Error::Usage(format!(
                    "run folder {} is given twice{}: its samples, tokens and cost would count \
                     twice",
                    dir.display(),
                    if *first == dir {
                        String::new()
                    } else {
                        format!(" (also as {})", first.display())
                    }
                )));
            }
            seen.push((same, dir));
            let cases_before = data.cases.len();
            let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
                .map_err(|e| {
                    Error::Usage(format!("cannot read run folder {}: {e}", dir.display()))
                })?
                .filter_map(|entry| entry.ok().map(|e| e.path()))
                .filter(|p| RunFolder::holds_records(p))
                .collect();
            files.sort();
            for file in files {
                data.read_file(&file)?;
            }
            for case in &data.cases[cases_before..] {
                if let Some(other) = recorded_in.insert(case.case.clone(), dir)
                    && other != dir
                {
                    overlaps.push((case.case.clone(), other, dir));
                }
                folder_of
                    .entry(case.run_id.clone())
                    .or_insert_with(|| dir.clone());
            }
            let policy_path = RunFolder::new(dir).policy();
            if policy_path.exists() {
                let policy = RunPolicy::load(&policy_path)?;
                policies.push((dir.clone(), policy.clone()));
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
        // The first case by id, whatever order each folder recorded its cases in.
        if let Some((case, first, second)) = overlaps.iter().min() {
            return Err(Error::Usage(format!(
                "run folders {} and {} both hold case `{case}`{}: shards of one run hold each \
                 case once; report overlapping runs one at a time",
                first.display(),
                second.display(),
                match overlaps.len() - 1 {
                    0 => String::new(),
                    more => format!(" (and {more} more case(s) twice)"),
                }
            )));
        }
        if dirs.len() > 1 {
            data.check_shards(&folder_of, &policies)?;
        }
        Ok(data)
    }

    /// Folders merged into one report must be shards of one run: one suite, the same gates
    /// and catalog, and each case recorded by one run only (a partition runs each case once;
    /// two full runs mixed together would count every case twice).
    fn check_shards(
        &self,
        folder_of: &HashMap<String, PathBuf>,
        policies: &[(PathBuf, RunPolicy)],
    ) -> Result<(), Error> {
        let mixed = |what: String| {
            Error::Usage(format!(
                "these run folders are not shards of one run: {what}; report them one at a time"
            ))
        };
        let mut suites: Vec<&str> = self.runs.iter().map(|r| r.suite.as_str()).collect();
        suites.sort_unstable();
        suites.dedup();
        if suites.len() > 1 {
            return Err(mixed(format!("they hold suites {}", suites.join(", "))));
        }
        if let Some((first_dir, first)) = policies.first() {
            for (dir, policy) in &policies[1..] {
                if policy.gates != first.gates || policy.catalog != first.catalog {
                    return Err(mixed(format!(
                        "{} and {} were run under different gates or branch catalogs",
                        first_dir.display(),
                        dir.display()
                    )));
                }
            }
        }
        // Every case recorded by two runs; the first by id is named (record order varies).
        let mut run_of: HashMap<&str, &str> = HashMap::new();
        let mut twice: Vec<(&str, &str, &str)> = Vec::new();
        for case in &self.cases {
            if let Some(other) = run_of.insert(case.case.as_str(), case.run_id.as_str())
                && other != case.run_id
            {
                let (a, b) = if other < case.run_id.as_str() {
                    (other, case.run_id.as_str())
                } else {
                    (case.run_id.as_str(), other)
                };
                twice.push((case.case.as_str(), a, b));
            }
        }
        twice.sort_unstable();
        twice.dedup_by_key(|(case, _, _)| *case);
        if let Some((case, a, b)) = twice.first() {
            let folder = |run: &str| {
                folder_of
                    .get(run)
                    .map(|d| d.display().to_string())
                    .unwrap_or_else(|| run.to_string())
            };
            return Err(mixed(format!(
                "case `{case}` was recorded by run {a} ({}) and by run {b} ({}){}",
                folder(a),
                folder(b),
                match twice.len() - 1 {
                    0 => String::new(),
                    more => format!(", and {more} more case(s) twice"),
                }
            )));
        }
        Ok(())
    }

    fn read_file(&mut self, path: &Path) -> Result<(), Error> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::read(path, e))?;
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
                        return Err(DataError::new(path, format!("not a run record: {e}"))
                            .at_line(index + 1)
                            .caused_by(e)
                            .into());
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
            Record::Rerun(r) => r.schema,
            Record::Outcome(o) => o.schema,
            Record::End(e) => e.schema,
        };
        if schema != SCHEMA_VERSION {
            return Err(unsupported(path, line, u64::from(schema)));
        }
        match record {
            Record::Run(r) => self.runs.push(*r),
            Record::Sample(s) => self.samples.push(*s),
            Record::Case(c) => self.cases.push(*c),
            Record::Rerun(r) => self.reruns.push(*r),
            Record::Outcome(o) => self.outcomes.push(*o),
            Record::End(e) => self.ends.push(*e),
        }
        Ok(())
    }
}

fn unsupported(path: &Path, line: usize, schema: u64) -> Error {
    DataError::new(
        path,
        format!(
            "record schema {schema} is not supported by this evalgate (schema \
             {SCHEMA_VERSION}); use the evalgate version that wrote it"
        ),
    )
    .at_line(line)
    .into()
}
