//! Appending records as they happen. Each process writes its own file in the run folder
//! (nextest runs one process per case), one `write` per line, so nothing finished is lost
//! when a run is killed and concurrent writers never interleave. Every line is written
//! with the run's secrets shown as their placeholders: each report is built from records.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::{Record, RunRecord, SCHEMA_VERSION};
use crate::errors::Error;
use crate::layout::RunFolder;
use crate::provenance::Provenance;
use crate::suite::Suite;
use crate::target::Secrets;

pub(crate) struct Recorder {
    path: PathBuf,
    file: Mutex<File>,
    first_error: Mutex<Option<std::io::Error>>,
    secrets: Secrets,
}

impl Recorder {
    /// Creates `run_dir` (if needed) and this process's record file in it.
    pub(crate) fn create(run_dir: &Path) -> Result<Recorder, Error> {
        std::fs::create_dir_all(run_dir).map_err(|e| Error::write(run_dir, e))?;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let path = RunFolder::new(run_dir).records(std::process::id(), nanos);
        let file = OpenOptions::new()
            .create_new(true)
            .append(true)
            .open(&path)
            .map_err(|e| Error::write(&path, e))?;
        Ok(Recorder {
            path,
            file: Mutex::new(file),
            first_error: Mutex::new(None),
            secrets: Secrets::default(),
        })
    }

    /// Writes every record with these secrets hidden.
    pub(crate) fn redacting(mut self, secrets: Secrets) -> Recorder {
        self.secrets = secrets;
        self
    }

    /// The secrets it hides.
    pub(crate) fn secrets(&self) -> &Secrets {
        &self.secrets
    }

    /// Appends one record. A write failure is remembered (and fails the run at the end)
    /// rather than aborting the samples in flight.
    pub(crate) fn append(&self, record: &Record) {
        let json = serde_json::to_string(record).expect("records serialize");
        let mut line = self.secrets.redact_json(json).into_bytes();
        line.push(b'\n');
        let result = {
            let mut file = self.file.lock().unwrap_or_else(|p| p.into_inner());
            file.write_all(&line)
        };
        if let Err(e) = result {
            let mut first = self.first_error.lock().unwrap_or_else(|p| p.into_inner());
            first.get_or_insert(e);
        }
    }

    /// The first write error, if any happened.
    pub(crate) fn take_error(&self) -> Option<Error> {
        let mut first = self.first_error.lock().unwrap_or_else(|p| p.into_inner());
        first.take().map(|e| Error::write(&self.path, e))
    }
}

/// The run record of this process, running `suite` against `target` as run `run_id`.
pub(crate) fn run_record_of_process(
    suite: &Suite,
    run_id: String,
    target: &str,
    concurrency: usize,
    provenance: Provenance,
) -> RunRecord {
    RunRecord {
        schema: SCHEMA_VERSION,
        run_id,
        suite: suite.name.clone(),
        target: target.to_string(),
        evalgate_version: env!("CARGO_PKG_VERSION").to_string(),
        pid: std::process::id(),
        started_at: jiff::Timestamp::now(),
        concurrency,
        envelope: suite.envelope.clone(),
        pins: suite.pins.clone(),
        branch: provenance.branch,
        commit: provenance.commit,
        commit_exact: provenance.exact,
        suite_tier: None,
        axes: BTreeMap::new(),
        planned: None,
    }
}
