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

    /// `plan.json`: `evalgate plan`'s samples and cost per case.
    pub fn plan(&self) -> PathBuf {
        self.dir.join("plan.json")
    }

    /// `economics.json`: `evalgate economics`.
    pub fn economics(&self) -> PathBuf {
        self.dir.join("economics.json")
    }

    /// `import-report.json`: what `evalgate import` drafted and skipped.
    pub fn import_report(&self) -> PathBuf {
        self.dir.join("import-report.json")
    }

    /// `cost/`: `evalgate cost`'s files (see [`CostFiles`]).
    pub fn cost(&self) -> PathBuf {
        self.dir.join("cost")
    }

    /// `bisect/<key>/`: the rounds of one `evalgate bisect`, kept for the next with the
    /// same key.
    pub fn bisect(&self, key: &str) -> PathBuf {
        self.dir.join("bisect").join(key)
    }
}

/// A run's folder (`runs/<run id>/`, [`Layout::run`]): one record file per process and the
/// run's policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunFolder {
    dir: PathBuf,
}

impl RunFolder {
    /// The run folder `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> RunFolder {
        RunFolder { dir: dir.into() }
    }

    /// The folder itself.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `records-<pid>-<nanoseconds>.jsonl`: the records of the process `pid` started at
    /// `nanos` past its second (processes of one run never share a file).
    pub fn records(&self, pid: u32, nanos: u32) -> PathBuf {
        self.dir.join(format!("records-{pid}-{nanos:09}.jsonl"))
    }

    /// Whether `path`, a file directly in a run folder, holds records (`*.jsonl`).
    pub fn holds_records(path: &Path) -> bool {
        path.extension().is_some_and(|e| e == "jsonl")
    }

    /// `suite.json`: what the run's reports are computed from (the suite's policies).
    pub fn policy(&self) -> PathBuf {
        self.dir.join("suite.json")
    }
}

/// The files `evalgate cost` writes into its folder ([`Layout::cost`], or `--out`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CostFiles {
    /// `cost.json`: the whole report.
    pub json: PathBuf,
    /// `customers.csv`: one row per group, costliest first.
    pub csv: PathBuf,
    /// `lorenz.svg`: the Lorenz curve of the cost.
    pub svg: PathBuf,
    /// `summary.md`: for a step summary or a pull request comment.
    pub summary: PathBuf,
}

impl CostFiles {
    /// The files in `dir`.
    pub fn in_dir(dir: &Path) -> CostFiles {
        CostFiles {
            json: dir.join("cost.json"),
            csv: dir.join("customers.csv"),
            svg: dir.join("lorenz.svg"),
            summary: dir.join("summary.md"),
        }
    }
}
