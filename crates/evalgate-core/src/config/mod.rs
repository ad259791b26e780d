//! The plain config types of the suite's sections and of a case file: what the YAML says,
//! as typed data, validated at load (a bad value is a config error at its line). They sit
//! here, below everything that acts on them, so the suite file's parser depends on none
//! of the modules that read the suite.
//!
//! `case` (a case file), `catalog` (the branch catalog), `rubric` (the rubrics of
//! `evals/rubrics/`), and the sections `baseline`, `conditions` (the fault proxy's load
//! conditions), `decay`, `gate` (`gates:`), `junit`, `memory`, `output`, `signals`,
//! `snapshots` and `target`.

pub mod baseline;
pub mod case;
pub mod catalog;
pub mod conditions;
pub mod decay;
pub mod gate;
pub mod junit;
pub mod memory;
pub mod output;
pub mod rubric;
pub mod signals;
pub mod snapshots;
pub mod target;
