//! Statistics for verdicts from repeated samples: intervals for a pass rate (`proportion`),
//! pass@k and pass^k estimators (`pass_at_k`), stopping early (`sequential`), comparing two
//! runs (`fisher`) while samples arrive (`group_sequential`), many comparisons in one run
//! (`multiple`), annotator agreement (`agreement`), and the distributions beneath them
//! (`normal`, `beta`).
//!
//! # Why these are not statrs
//!
//! statrs 0.19.1 (the latest) has the same functions: `beta_reg`, `inv_beta_reg`, `Normal`,
//! `Hypergeometric` and `fishers_exact`. Measured against this module (2 cores), it stays out:
//!
//! - Cost: with `default-features = false, features = ["std"]` it adds 3 packages (statrs,
//!   approx, libm) to the 213 a harness user builds, and about 3 CPU-seconds (user + system)
//!   to a cold debug build, 5 to a release one, next to 222 and 531 for evalgate as it is.
//!   Its default features (nalgebra, rand) add 14 packages and about 24 and 67 CPU-seconds.
//! - Accuracy, over a grid that reaches what the gates use (n up to 10,000 per side,
//!   confidence 0.9 to 0.999, rates 1e-6 to 0.999, z far into the tails), each disagreement
//!   checked against mpmath at 50 digits or exact integer sums:
//!   - the binomial tail (`beta_reg`): off by up to 2.8e-11 relative (n = 10,000, c = 9,990,
//!     p = 0.95), where this module is within 8.2e-13 and its tests ask 1e-12;
//!   - Clopper–Pearson bounds (`inv_beta_reg`): off by up to 2.5e-8 (the upper bound of
//!     0/10,000 at 90 %), where this module is within 1e-13 and its tests ask 1e-12;
//!   - Φ (`Normal::cdf`): off by up to 9.6e-11 (at z = −0.8), where this module is within
//!     3.1e-15 (2.5e-13 where Φ is subnormal) and its tests ask 1e-14;
//!   - the two-sided Fisher test: a different and broken test. It keeps the 1e-4 tie tolerance
//!     and mode search scipy dropped (scipy issue 4130); of 3,825 tables where it differs from
//!     this module, 2,443 are off by more than 1e-6 relative and 214 are negative. For
//!     `[[1, 0], [300, 2700]]` it says 1 where R, scipy and this module say 0.1003.
//!   - as good as this module: Φ⁻¹ (within 1.5e-15 of it from p = 1e-300 to 1 − 5e-4) and the
//!     one-sided Fisher test (both within 5.5e-10 of the exact value).
//!
//! Taking only those two would add the 3 packages to remove about 75 lines, while the
//! incomplete beta, Φ and the two-sided test would have to stay here anyway.

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
