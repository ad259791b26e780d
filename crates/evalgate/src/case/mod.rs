//! Cases: the YAML format (`model`), finding case files (`discover`) and the validated,
//! ready-to-run [`Case`].

mod compile;
pub mod discover;
mod ready;
mod tier;
mod validate;

pub(crate) use compile::{Check, CheckKind};
pub use discover::{Selection, discover, existing_cases};
pub(crate) use evalgate_core::config::case as model;
pub use model::{Label, Source, Status};
#[cfg(not(feature = "snapshots"))]
pub(crate) use ready::SNAPSHOTS_FEATURE;
pub use ready::{Case, DEFAULT_ESCALATION, Sampling, TEST_PREFIX};
pub(crate) use ready::{VARIANT_SEPARATOR, id_from_path, top_level_keys};
pub use tier::{SuiteTier, TIER_ENV, tier_path};
