//! The history store in a build without the `sqlite` feature (`evalgate`'s `history`):
//! there is none. No value of [`HistoryStore`] can exist (`open` always refuses), so every
//! question below is unreachable, and the code that would ask it takes its "history is off"
//! path, saying so where it reports (see [`super::OFF_BECAUSE`]).

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::io::Write;
use std::path::Path;

use super::rows::{Attempt, CaseVerdictRow, IngestStats, PoolQuery, Pooled, RunRow};
use crate::errors::Error;
use crate::record::{CaseRecord, RerunRecord, RunData, SampleRecord};

/// The run history; in this build, never opened.
#[derive(Debug)]
pub struct HistoryStore {
    never: Infallible,
}

// The questions of the SQLite store (`store.rs`, where each is documented), with the same
// signatures, so the code that asks them builds either way; none can be called here.
#[allow(missing_docs)]
impl HistoryStore {
    /// Refuses: this build keeps no history.
    pub fn open(path: &Path) -> Result<HistoryStore, Error> {
        Err(Error::Usage(format!(
            "{} cannot be opened: {}",
            path.display(),
            super::OFF_BECAUSE
        )))
    }

    pub fn path(&self) -> &Path {
        match self.never {}
    }

    pub fn ingest(&mut self, _: &RunData) -> Result<IngestStats, Error> {
        match self.never {}
    }

    pub fn case_verdicts(&self) -> Result<Vec<CaseVerdictRow>, Error> {
        match self.never {}
    }

    pub fn case_verdicts_of(&self, _: &str) -> Result<Vec<CaseVerdictRow>, Error> {
        match self.never {}
    }

    pub fn first_runs_of(&self, _: &str) -> Result<BTreeMap<String, jiff::Timestamp>, Error> {
        match self.never {}
    }

    pub fn runs(&self) -> Result<Vec<RunRow>, Error> {
        match self.never {}
    }

    pub fn pooled_baseline(&self, _: &PoolQuery) -> Result<Pooled, Error> {
        match self.never {}
    }

    pub fn memory_references(
        &self,
        _: &str,
        _: &[&str],
        _: jiff::Timestamp,
        _: &[&str],
        _: Option<&str>,
        _: Option<(&str, &str)>,
    ) -> Result<Vec<(RunRow, Vec<SampleRecord>)>, Error> {
        match self.never {}
    }

    pub fn attempts(
        &self,
        _: &str,
        _: &str,
        _: &str,
        _: Option<&str>,
        _: &[&str],
        _: jiff::Timestamp,
    ) -> Result<Vec<Attempt>, Error> {
        match self.never {}
    }

    pub fn case_counts(&self, _: &[&str]) -> Result<Vec<(String, String, u32, u32)>, Error> {
        match self.never {}
    }

    pub fn reruns_at(&self, _: &str, _: &str, _: &str) -> Result<Vec<RerunRecord>, Error> {
        match self.never {}
    }

    pub fn run_axes(&self, _: &str) -> Result<Option<BTreeMap<String, String>>, Error> {
        match self.never {}
    }

    pub fn run(&self, _: &str) -> Result<Option<RunRow>, Error> {
        match self.never {}
    }

    pub fn case_records_of_run(&self, _: &str) -> Result<Vec<CaseRecord>, Error> {
        match self.never {}
    }

    pub fn sample_records_of_run(&self, _: &str) -> Result<Vec<SampleRecord>, Error> {
        match self.never {}
    }

    pub fn reruns_of(
        &self,
        _: &str,
        _: jiff::Timestamp,
        _: jiff::Timestamp,
        _: Option<&str>,
    ) -> Result<Vec<RerunRecord>, Error> {
        match self.never {}
    }

    pub fn export(&self, _: &mut dyn Write) -> Result<u64, Error> {
        match self.never {}
    }

    pub fn import(&mut self, _: &Path) -> Result<IngestStats, Error> {
        match self.never {}
    }
}
