//! Comparing computed values with published references in the tests.

/// Asserts that `actual` is within `relative` of `expected` (relative error; absolute when
/// `expected` is 0).
#[track_caller]
pub(super) fn assert_close(actual: f64, expected: f64, relative: f64) {
    let error = if expected == 0.0 {
        actual.abs()
    } else {
        ((actual - expected) / expected).abs()
    };
    assert!(
        error <= relative,
        "{actual:e} differs from {expected:e} by {error:e} (relative), more than {relative:e}"
    );
}
