//! Eval economics: what each case costs to run and what it contributes, so a suite can be
//! cut to what earns its keep. Cost: the tokens, money (the suite's `prices:`) and time of
//! its samples in the run. Contribution: the branches of the planner only it reaches (with
//! every other case kept, losing it loses them), the failures it caught in the history
//! store (runs where it failed), and the decay findings on it.
//!
//! A case is *redundant* by these measures when it passed in every run of the history store
//! (a case that ever failed, was inconclusive or errored may be the one that catches the
//! next bug), it is outside the branch cover, and every branch it reaches is reached by a
//! case that is not redundant. The last condition is about the cases that stay, not merely
//! about other cases: two cases sharing a branch nobody else reaches would each be
//! replaceable by the other, yet removing both loses it. As defined, all redundant cases
//! can be removed together and every branch is still reached (and a branch some case
//! reached in every sample still is, by the cover, which stays). A case reaching no branch
//! is never redundant: branch coverage says nothing about it. Without history nothing is
//! judged (`redundant` is `None`), never "none redundant". Its checks may still be worth
//! keeping, which is for a person to judge, so a redundant case is listed, never removed.
//!
//! [`cover`] picks the cheapest set of cases that still reaches every branch the run
//! reached, the fewest cases among equally cheap ones (see [`set_cover`] for how, and when
//! it is proven the cheapest). A case's cost is what the run measured: its dollars when
//! every candidate case was priced in full, else its wall time for every case (one unit for
//! all, nothing estimated). `evalgate select` writes the cover as a suite tier.
//!
//! [`cover`]: Economics::cover

mod measure;
mod set_cover;
mod text;

pub use measure::{CaseEconomics, CostBasis, Cover, Economics};
pub(crate) use text::{cover_choice, cover_cost, markdown, terminal};
