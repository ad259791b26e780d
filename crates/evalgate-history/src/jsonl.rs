//! Moving a history between machines as JSON Lines (CI runners keep no state between runs):
//! `export` writes every stored record as the same lines run record files hold, and
//! `import` reads such lines back — from an export, or straight from a run's record files.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::Path;

use rusqlite::types::ValueRef;

use super::HistoryStore;
use super::ingest::RecordRef;
use super::rows::IngestStats;
use super::schema::database_error;
use crate::errors::{DataError, Error};
use crate::record::{Record, SCHEMA_VERSION};

/// What `export` writes, in order: run records first, then samples, cases, reruns,
/// outcomes and end markers, each sorted by its key so that the same history always exports
/// to the same bytes.
const EXPORT_QUERIES: [&str; 6] = [
    "SELECT record FROM run_records ORDER BY run_id, pid, started_s, started_ns",
    "SELECT record FROM sample_records ORDER BY run_id, case_id, sample",
    "SELECT record FROM case_records ORDER BY run_id, case_id",
    "SELECT record FROM reruns ORDER BY rerun_id",
    "SELECT record FROM run_outcomes ORDER BY run_id",
    "SELECT record FROM run_ends ORDER BY run_id, pid, started_s, started_ns",
];

/// Stands for the writer handed to `export` in errors: it has no path.
const EXPORT_OUTPUT: &str = "<history export>";

impl HistoryStore {
    /// Writes the whole history as JSON Lines of [`Record`] (the lines of run record files,
    /// byte for byte as ingested), runs first, in a deterministic order. Returns the number of
    /// lines written.
    pub fn export(&self, out: &mut dyn Write) -> Result<u64, Error> {
        let path = self.path();
        let sql = |e| database_error(path, e);
        // One read transaction: an ingest committed meanwhile is in the export entirely or
        // not at all.
        let snapshot = self.connection().unchecked_transaction().map_err(sql)?;
        let mut out = BufWriter::with_capacity(1 << 16, out);
        let write = |e| Error::write(Path::new(EXPORT_OUTPUT), e);
        let mut lines = 0;
        for query in EXPORT_QUERIES {
            let mut stmt = snapshot.prepare(query).map_err(sql)?;
            let mut rows = stmt.query([]).map_err(sql)?;
            while let Some(row) = rows.next().map_err(sql)? {
                let ValueRef::Text(json) = row.get_ref(0).map_err(sql)? else {
                    return Err(DataError::new(
                        path,
                        "a stored record is not text; the file was changed by something other \
                         than evalgate — restore it from an export, or move it away",
                    )
                    .into());
                };
                out.write_all(json).map_err(write)?;
                out.write_all(b"\n").map_err(write)?;
                lines += 1;
            }
        }
        out.flush().map_err(write)?;
        Ok(lines)
    }

    /// Reads JSON Lines written by [`HistoryStore::export`] (or a run's record files) and
    /// ingests them in one transaction: a line that is not a record, or a record of another
    /// schema, stops the import and nothing from the file is stored.
    pub fn import(&mut self, path: &Path) -> Result<IngestStats, Error> {
        let file = File::open(path).map_err(|e| Error::read(path, e))?;
        let mut reader = BufReader::with_capacity(1 << 16, file);
        let mut ingest = self.begin()?;
        let mut line = Vec::with_capacity(4096);
        let mut number = 0;
        loop {
            line.clear();
            if reader
                .read_until(b'\n', &mut line)
                .map_err(|e| Error::read(path, e))?
                == 0
            {
                break;
            }
            number += 1;
            if line.trim_ascii().is_empty() {
                continue;
            }
            let record = parse(path, number, &line)?;
            ingest.record(RecordRef::from(&record))?;
        }
        ingest.commit()
    }
}

/// One line as a record of this build's schema.
fn parse(path: &Path, number: u64, line: &[u8]) -> Result<Record, Error> {
    let at = |message: String| {
        DataError::new(path, message).at_line(usize::try_from(number).unwrap_or(usize::MAX))
    };
    let not_imported = "nothing from the file was imported";
    let unsupported = |schema: u64| -> Error {
        at(format!(
            "record schema {schema} is not supported by this evalgate (schema \
             {SCHEMA_VERSION}); import the file with the evalgate version that wrote it — \
             {not_imported}"
        ))
        .into()
    };
    match serde_json::from_slice::<Record>(line) {
        Ok(record) => {
            let schema = RecordRef::from(&record).schema();
            if schema != SCHEMA_VERSION {
                return Err(unsupported(u64::from(schema)));
            }
            Ok(record)
        }
        Err(e) => {
            // A record of another schema may not parse as one of ours: say so rather than
            // report the field it trips on.
            let schema = serde_json::from_slice::<serde_json::Value>(line)
                .ok()
                .and_then(|v| v.get("schema").and_then(|s| s.as_u64()));
            match schema {
                Some(schema) if schema != u64::from(SCHEMA_VERSION) => Err(unsupported(schema)),
                _ => Err(at(format!(
                    "not a run record: {e}; fix or remove the line and import again — \
                     {not_imported}"
                ))
                .caused_by(e)
                .into()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::record::RunData;
    use crate::tests::{case, exported, process, records, run, sample};
    use crate::verdict::Verdict;

    fn store(dir: &Path, name: &str) -> HistoryStore {
        HistoryStore::open(&dir.join(name)).unwrap()
    }

    fn write_lines(path: &Path, lines: &[String]) -> PathBuf {
        std::fs::write(path, lines.join("\n") + "\n").unwrap();
        path.to_path_buf()
    }

    fn two_runs() -> RunData {
        let mut data = process("r2", 9, 5, &["b/two", "a/one"]);
        let other = process("r1", 3, 0, &["a/one"]);
        data.runs.extend(other.runs);
        data.samples.extend(other.samples);
        data.cases.extend(other.cases);
        data.cases[0].verdict = Verdict::Inconclusive;
        data
    }

    #[test]
    fn export_gives_back_every_record_as_its_line_runs_first_in_key_order() {
        let dir = tempfile::tempdir().unwrap();
        let mut history = store(dir.path(), "history.db");
        let data = two_runs();
        history.ingest(&data).unwrap();
        let text = exported(&history);
        let lines: Vec<&str> = text.lines().collect();

        let mut expected: Vec<String> = records(&data)
            .iter()
            .map(|r| serde_json::to_string(r).unwrap())
            .collect();
        let mut sorted = lines.clone();
        sorted.sort_unstable();
        expected.sort_unstable();
        assert_eq!(
            sorted, expected,
            "byte for byte the lines of run record files"
        );

        let keys: Vec<String> = lines
            .iter()
            .map(|line| match serde_json::from_str::<Record>(line).unwrap() {
                Record::Run(r) => format!("run {} {}", r.run_id, r.pid),
                Record::Sample(s) => format!("sample {} {} {}", s.run_id, s.case, s.sample),
                Record::Case(c) => format!("case {} {}", c.run_id, c.case),
                Record::Rerun(r) => format!("rerun {}", r.rerun_id),
                Record::Outcome(o) => format!("outcome {}", o.run_id),
                Record::End(e) => format!("end {} {}", e.run_id, e.pid),
            })
            .collect();
        assert_eq!(
            keys,
            [
                "run r1 3",
                "run r2 9",
                "sample r1 a/one 0",
                "sample r1 a/one 1",
                "sample r2 a/one 0",
                "sample r2 a/one 1",
                "sample r2 b/two 0",
                "sample r2 b/two 1",
                "case r1 a/one",
                "case r2 a/one",
                "case r2 b/two",
            ]
        );
        assert_eq!(exported(&history), text, "the same history, the same bytes");
    }

    #[test]
    fn an_import_of_an_export_is_the_same_history() {
        let dir = tempfile::tempdir().unwrap();
        let mut source = store(dir.path(), "source.db");
        source.ingest(&two_runs()).unwrap();
        let text = exported(&source);
        let file = dir.path().join("history.jsonl");
        std::fs::write(&file, &text).unwrap();

        let mut copy = store(dir.path(), "copy.db");
        let stats = copy.import(&file).unwrap();
        assert_eq!((stats.runs, stats.samples, stats.cases), (2, 6, 3));
        assert_eq!(exported(&copy), text);
        assert_eq!(copy.runs().unwrap(), source.runs().unwrap());
        assert_eq!(
            copy.case_verdicts().unwrap(),
            source.case_verdicts().unwrap()
        );
        // Importing it again changes nothing.
        copy.import(&file).unwrap();
        assert_eq!(exported(&copy), text);
    }

    #[test]
    fn a_run_record_file_imports_blank_lines_and_all() {
        let dir = tempfile::tempdir().unwrap();
        let lines = [
            serde_json::to_string(&Record::Run(Box::new(run("r1", 1, 0, "m-1")))).unwrap(),
            String::new(),
            serde_json::to_string(&Record::Sample(Box::new(sample("r1", "a", 0, "m-2")))).unwrap(),
            "   ".to_string(),
            serde_json::to_string(&Record::Case(Box::new(case("r1", "a", Verdict::Fail)))).unwrap(),
        ];
        let file = write_lines(&dir.path().join("records-1.jsonl"), &lines);
        let mut history = store(dir.path(), "history.db");
        let stats = history.import(&file).unwrap();
        assert_eq!((stats.runs, stats.samples, stats.cases), (1, 1, 1));
        let runs = history.runs().unwrap();
        assert_eq!(runs[0].envelope.get("model"), Some("m-2"));
        assert_eq!(history.case_verdicts().unwrap()[0].verdict, Verdict::Fail);
    }

    /// `lines` with `bad` as line 3, imported into a history already holding a run.
    fn import_bad(bad: &str) -> (String, String, String) {
        let dir = tempfile::tempdir().unwrap();
        let mut history = store(dir.path(), "history.db");
        history.ingest(&process("kept", 1, 0, &["a"])).unwrap();
        let before = exported(&history);
        let mut lines: Vec<String> = records(&process("new", 1, 0, &["a", "b"]))
            .iter()
            .map(|r| serde_json::to_string(r).unwrap())
            .collect();
        lines.insert(2, bad.to_string());
        let file = write_lines(&dir.path().join("in.jsonl"), &lines);
        let e = match history.import(&file).unwrap_err() {
            Error::Data(e) => e.to_string(),
            other => panic!("expected a data error, got {other:?}"),
        };
        assert_eq!(
            exported(&history),
            before,
            "nothing from the file was stored"
        );
        assert_eq!(history.runs().unwrap().len(), 1);
        (e, format!("{}:3: ", file.display()), before)
    }

    #[test]
    fn a_line_that_is_not_a_record_stops_the_import_and_stores_nothing() {
        for bad in [
            "{\"schema\": 1, \"kind\": \"sample\", \"run_id\": \"new\"",
            "not json at all",
            "{\"schema\": 1, \"kind\": \"trace\"}",
            "[1, 2, 3]",
        ] {
            let (e, at, _) = import_bad(bad);
            assert!(e.starts_with(&at), "{bad}: {e}");
            assert!(e.contains("not a run record"), "{e}");
            assert!(e.contains("nothing from the file was imported"), "{e}");
        }
    }

    #[test]
    fn a_record_of_a_newer_schema_stops_the_import_and_stores_nothing() {
        let mut newer =
            serde_json::to_value(Record::Case(Box::new(case("new", "c", Verdict::Pass)))).unwrap();
        newer["schema"] = 2.into();
        for bad in [
            newer.to_string(),
            // A kind this build does not know, from a newer schema.
            "{\"schema\": 2, \"kind\": \"trace\", \"run_id\": \"new\"}".to_string(),
        ] {
            let (e, at, _) = import_bad(&bad);
            assert!(e.starts_with(&at), "{e}");
            assert!(
                e.contains("record schema 2 is not supported by this evalgate (schema 1)"),
                "{e}"
            );
        }
    }

    #[test]
    fn a_missing_file_is_an_io_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let mut history = store(dir.path(), "history.db");
        let missing = dir.path().join("nope.jsonl");
        let e = history.import(&missing).unwrap_err();
        assert!(
            matches!(e, Error::Io { ref path, .. } if *path == missing),
            "{e:?}"
        );
        // A read is told as one (it once said "error writing" for every I/O error).
        assert!(
            e.render()
                .starts_with(&format!("error reading {}: ", missing.display())),
            "{}",
            e.render()
        );
    }
}
