//! Planner branch coverage: the branch catalog (`catalog`), coverage of a run computed
//! from its sample records (`compute`), and its LCOV rendering (`lcov`).

use evalgate_core::config::catalog;
mod compute;
mod lcov;
mod stamp;
mod suggest;

pub use catalog::{BranchCatalog, CatalogBranch, CatalogPoint, Risk, StaleSource};
pub use compute::{
    BranchCoverage, Coverage, CoverageBuilder, PointCoverage, TransitionSeen, Transitions,
};
pub use lcov::lcov;
pub use stamp::stamp;
pub use suggest::suggest;
