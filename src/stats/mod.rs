//! Statistics for verdicts from repeated samples: intervals for a pass rate (`proportion`),
//! pass@k and pass^k estimators (`pass_at_k`), stopping early (`sequential`), comparing two
//! runs (`fisher`), annotator agreement (`agreement`), and the distributions beneath them
//! (`normal`, `beta`).

mod agreement;
#[cfg(test)]
mod approx;
mod beta;
mod fisher;
mod normal;
mod pass_at_k;
mod proportion;
mod sequential;

pub use agreement::cohens_kappa;
pub use beta::{inverse_regularized_incomplete_beta, regularized_incomplete_beta};
pub use fisher::fisher_exact;
pub use normal::{normal_cdf, normal_quantile};
pub use pass_at_k::{pass_at_k, pass_hat_k};
pub use proportion::{
    binomial_tail_at_least, clopper_pearson, wilson_interval, wilson_interval_at,
};
pub use sequential::{Sprt, SprtDecision, decided_early};
