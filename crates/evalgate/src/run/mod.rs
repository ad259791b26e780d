//! Running cases: every sample is an independent call of the target, bounded by the
//! suite's concurrency (a semaphore, independent of libtest's threads) and by the case's
//! timeout. Each sample and case record is appended the moment it is known.

mod batch;
mod case;
pub(crate) mod interrupt;
mod message;
mod runner;
mod sample;

pub(crate) use batch::RunEvent;
pub(crate) use interrupt::Interrupt;
pub(crate) use runner::{CaseOutcome, RunSetup, Runner};
pub(crate) use sample::truncate;

#[cfg(test)]
mod tests;
