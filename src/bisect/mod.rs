//! Multi-axis bisection of a regression over the version envelope (issue 8, first part: the
//! planner). `git bisect` walks one timeline; an agent has several (model snapshot, system
//! prompt, tool catalog, retrieval index, sampling config), and a regression often lives in
//! an interaction — the new model reading the new tool descriptions — so rolling back any one
//! axis from the bad envelope may fix it while switching any one axis of the good envelope
//! to bad does not break it.
//!
//! The plan, in a fixed order: the all-bad configuration (does the regression reproduce?),
//! then each single axis switched to bad (main effects), and for the cases none of those
//! reproduces, every pair (two-factor interactions), then triples, and so on. Each level is
//! run whole, because the smallest set of axes to roll back must stop every configuration
//! that reproduces; the plan stops once every case is settled: with five axes that is at
//! most 1 + 5 + 10 configurations when pairs explain the regressions, and 1 + 5 when single
//! axes do.
//!
//! Every case is judged on its own ([`decide_cases`]): a suite can hold two regressions with
//! different causes (one case broken by the new prompt, another by the new model reading the
//! new tools), and their pooled samples would look like neither envelope under any
//! configuration. Cases that every configuration so far judged alike still pool the samples
//! their own cannot decide with. A case is settled at the first level where some
//! configuration reproduces it; cases with the same causes form a group ([`CauseGroup`]),
//! each reported with its causes, and the rollback stops them all. What "reproduces" means
//! for one configuration (samples, the statistics) is the [`Probe`]'s; outcomes already
//! known (from history) are reused, not run again. How often this names the right causes,
//! and a wrong one, on noisy cases: the `simulation` tests.
//!
//! The runs themselves are `evalgate bisect`'s (`crate::commands::bisect`): the targets
//! carry each configuration's axis values to the agent (`Request::axes`).

mod decide;
mod search;
mod text;

pub use decide::{Significance, Tallies, Tally, decide_bad_envelope, decide_cases};
pub use search::{
    Answer, Bisection, Budget, Config, Outcome, Outcomes, Probe, bisect, differing_axes,
};
