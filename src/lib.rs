//! The evalgate command line: `evalgate demo`, `report`, `import`, `cost`, `economics`,
//! `bisect`, `memory`, `runs` and the other commands, and the side products they are built
//! from (the demo agent, the ticket importer, the usage and economics analyses, bisection).
//! Harness users depend on the `evalgate` crate, not on this one.

#![warn(missing_docs, unnameable_types)]

mod bisect;
pub mod cli;
mod commands;
pub mod demo;
mod economics;
mod tickets;
pub mod usage;
