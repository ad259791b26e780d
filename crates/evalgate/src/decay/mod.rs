//! Snapshot decay: findings that say a case no longer represents the product — review age,
//! pin drift, rubric drift and annotator agreement, saturation (no longer discriminating),
//! stale snapshots, and production traffic no case resembles.

mod agreement;
mod assess;
mod context;
mod detectors;
mod finding;
use evalgate_core::config::decay as policy;
mod representativeness;
use evalgate_core::config::rubric;
mod saturation;

pub use crate::record::DecayContext;
pub use agreement::RubricAgreement;
pub(crate) use assess::{CaseHistory, DecayInputs, assess};
pub use assess::{DecayReport, HistorySummary, RetiredCase};
pub use context::context;
pub use finding::{DecayFinding, Detector, Severity};
pub use policy::DEFAULT_MIN_SIMILARITY;
pub use policy::DecayPolicy;
pub use representativeness::analyse as representativeness;
pub use representativeness::similar;
pub use representativeness::{
    CaseMatch, CaseText, NearInput, ProductionSample, Representativeness,
    RepresentativenessOptions, UncoveredCluster,
};
// The streaming of a JSON Lines file through a worker per core, shared with the usage
// analysis of the command line.
pub use representativeness::{Batch, BatchReader, BatchWorker, fan_out, is_blank, one_per_core};
pub use rubric::{Rubric, RubricRef};
pub use saturation::Discrimination;
pub(crate) use saturation::VerdictAt;
