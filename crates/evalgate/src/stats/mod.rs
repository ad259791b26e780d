//! Statistics for verdicts from repeated samples: intervals for a pass rate (`proportion`),
//! pass@k and pass^k estimators (`pass_at_k`), stopping early (`sequential`), comparing two
//! runs (`fisher`) while samples arrive (`group_sequential`), many comparisons in one run
//! (`multiple`), annotator agreement (`agreement`), and the distributions beneath them
//! (`normal`, `beta`).

mod agreement;
#[cfg(test)]
mod approx;
mod beta;
mod fisher;
mod group_sequential;
mod multiple;
mod normal;
mod pass_at_k;
mod proportion;
pub mod random;
mod search;
mod sequential;

pub use agreement::cohens_kappa;
pub use beta::{inverse_regularized_incomplete_beta, regularized_incomplete_beta};
pub use fisher::{fisher_exact, fisher_exact_drop};
pub use group_sequential::{AGREEMENT_ERROR, Evidence, LOOK_GROWTH, LookDesign, Operating};
pub use multiple::{Correction, benjamini_hochberg, holm};
pub use normal::{normal_cdf, normal_quantile};
pub use pass_at_k::{pass_at_k, pass_hat_k};
pub use proportion::{
    binomial_tail_at_least, clopper_pearson, wilson_interval, wilson_interval_at,
};
pub use search::{first_holding, last_holding};
pub use sequential::{Sprt, SprtDecision, decided_early};
