//! The output folder (`target/evalgate` by default, `$EVALGATE_OUT`) and every file evalgate
//! writes in it, named here and nowhere else, so a reader (`evalgate report`, the tests, the
//! book's Records and reports chapter) and the writers agree on one layout.

use std::path::{Path, PathBuf};

/// The output folder of a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    dir: PathBuf,
}

impl Layout {
    /// The layout under `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Layout {
        Layout { dir: dir.into() }
    }

    /// The folder itself.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `runs/`: one folder of records per run.
    pub fn runs(&self) -> PathBuf {
        self.dir.join("runs")
    }

    /// `runs/<run id>/`: the records of one run (every process of it).
    pub fn run(&self, run_id: &str) -> PathBuf {
        self.runs().join(run_id)
    }

    /// `junit.xml`.
    pub fn junit(&self) -> PathBuf {
        self.dir.join("junit.xml")
    }

    /// `coverage.json`: planner coverage (and, for earlier readers, the gates).
    pub fn coverage(&self) -> PathBuf {
        self.dir.join("coverage.json")
    }

    /// `gates.json`: every gate's outcome, and whether the run was partial or incomplete.
    pub fn gates(&self) -> PathBuf {
        self.dir.join("gates.json")
    }

    /// `coverage.lcov`.
    pub fn lcov(&self) -> PathBuf {
        self.dir.join("coverage.lcov")
    }

    /// `signals.json`.
    pub fn signals(&self) -> PathBuf {
        self.dir.join("signals.json")
    }

    /// `decay.json`.
    pub fn decay(&self) -> PathBuf {
        self.dir.join("decay.json")
    }

    /// `memory.json`.
    pub fn memory(&self) -> PathBuf {
        self.dir.join("memory.json")
    }

    /// `comparison.json`: the run against its baseline.
    pub fn comparison(&self) -> PathBuf {
        self.dir.join("comparison.json")
    }

    /// `history.sqlite`: the history store when neither the suite nor
    /// `$EVALGATE_HISTORY` names one.
    pub fn history(&self) -> PathBuf {
        self.dir.join("history.sqlite")
    }
}
