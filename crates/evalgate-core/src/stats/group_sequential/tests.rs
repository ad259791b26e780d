use super::*;
use crate::stats::approx::assert_close;
use crate::stats::fisher_exact_drop;
use crate::stats::random::XorShift;

#[test]
fn looks_grow_by_half_and_their_shares_spend_the_whole_error_rate() {
    let design = LookDesign::adaptive(10, 400);
    assert_eq!(design.looks(), [10, 15, 23, 35, 53, 80, 120, 180, 270, 400]);
    let total: f64 = (0..design.looks().len()).map(|i| design.weight(i)).sum();
    assert_close(total, 1.0, 1e-12);
    // The first look spends (10/400)² of it, the last 1 − (270/400)².
    assert_close(design.weight(0), 0.000_625, 1e-12);
    assert_close(design.weight(9), 1.0 - 0.675 * 0.675, 1e-12);
    assert_eq!(
        LookDesign::adaptive(1, 32).looks(),
        [1, 2, 3, 5, 8, 12, 18, 27, 32]
    );
    assert_eq!(LookDesign::adaptive(5, 5).looks(), [5]);
    let fixed = LookDesign::fixed(7);
    assert_eq!((fixed.looks(), fixed.weight(0)), (&[7][..], 1.0));
}

/// With one look the design's p-value is Fisher's one-sided test; with several it is the
/// smallest p-value of a look reached over that look's share.
#[test]
fn the_p_value_is_fishers_at_the_best_look_over_its_share() {
    let outcomes = [false, false, true, true, true, true, true, true, true, true];
    assert_close(
        LookDesign::fixed(10).p_value((10, 10), &outcomes),
        fisher_exact_drop(10, 0, 8, 2),
        1e-12,
    );
    let design = LookDesign::adaptive(2, 10);
    assert_eq!(design.looks(), [2, 3, 5, 8, 10]);
    let by_look: Vec<f64> = design
        .looks()
        .iter()
        .enumerate()
        .map(|(i, &n)| {
            let passes = outcomes[..n as usize].iter().filter(|&&o| o).count() as u64;
            fisher_exact_drop(10, 0, passes, u64::from(n) - passes) / design.weight(i)
        })
        .collect();
    let expected = by_look.iter().copied().fold(1.0, f64::min);
    assert_close(design.p_value((10, 10), &outcomes), expected, 1e-12);
    // Stopped after the first look: only that look counts.
    assert_close(
        design.p_value((10, 10), &outcomes[..2]),
        (by_look[0]).min(1.0),
        1e-12,
    );
    // Before the first look, or against an empty baseline: no evidence.
    assert_eq!(design.p_value((10, 10), &outcomes[..1]), 1.0);
    assert_eq!(design.p_value((0, 0), &outcomes), 1.0);
}

/// The deterministic example: baseline 10/10; samples 1–2 fail, 3–10 pass. A fixed
/// test on all ten says "not enough samples" (one-sided p = 0.24); a test on the first two
/// alone would say p = 0.015 — the design, stopped or not, never calls a regression there.
#[test]
fn stopping_after_two_failures_never_makes_the_example_a_regression() {
    let outcomes = [false, false, true, true, true, true, true, true, true, true];
    assert_close(fisher_exact_drop(10, 0, 0, 2), 0.015_151_515, 1e-6);
    for design in [
        LookDesign::adaptive(1, 10),
        LookDesign::adaptive(2, 10),
        LookDesign::fixed(10),
    ] {
        for taken in design.looks() {
            let p = design.p_value((10, 10), &outcomes[..*taken as usize]);
            assert!(p > 0.05, "{:?} after {taken}: p = {p}", design.looks());
        }
    }
}

/// Under no change, with the design stopping as the runner does (a certain call, or
/// agreement), the p-value is conservative: P(p ≤ u) ≤ u for each u checked, over 4,000
/// simulated cases per rate, each with its own simulated baseline.
#[test]
fn the_p_value_stays_valid_under_the_stopping_rule() {
    let mut random = XorShift(0x9e37_79b9_7f4a_7c15);
    for (rate, design, drop) in [
        (0.9, LookDesign::adaptive(10, 200), 0.15),
        (0.5, LookDesign::adaptive(10, 200), 0.15),
        (0.7, LookDesign::adaptive(1, 32), 1.0),
    ] {
        let trials = 4_000;
        let mut below = [0_u32; 3];
        let levels = [0.01, 0.05, 0.2];
        for _ in 0..trials {
            let before = (random.passes(300, rate), 300);
            let mut outcomes = Vec::new();
            for &look in design.looks() {
                while outcomes.len() < look as usize {
                    outcomes.push(random.uniform() < rate);
                }
                let passes = outcomes.iter().filter(|&&o| o).count() as u32;
                let p = design.p_value(before, &outcomes);
                if p <= 0.01 / 20.0 || design.agrees(before, passes, look, drop) {
                    break;
                }
            }
            let p = design.p_value(before, &outcomes);
            for (count, level) in below.iter_mut().zip(levels) {
                *count += u32::from(p <= level);
            }
        }
        for (count, level) in below.iter().zip(levels) {
            let share = f64::from(*count) / f64::from(trials);
            let slack = 3.0 * (level * (1.0 - level) / f64::from(trials)).sqrt();
            assert!(
                share <= level + slack,
                "rate {rate}: P(p ≤ {level}) = {share}"
            );
        }
    }
}

#[test]
fn agreement_needs_the_drop_to_have_become_implausible() {
    let design = LookDesign::adaptive(1, 32);
    // Built to see a case that stops passing: one pass after failures is enough.
    assert!(design.agrees((20, 20), 1, 2, 1.0));
    assert!(!design.agrees((20, 20), 0, 2, 1.0));
    // A baseline that never passed cannot drop.
    assert!(design.agrees((0, 5), 0, 1, 1.0));
    // Never at the last look (nothing left to save), nor between looks.
    assert!(!design.agrees((20, 20), 30, 32, 1.0));
    assert!(!design.agrees((20, 20), 4, 4, 1.0));
    // A 15-point drop from 90 %: 10/10 cannot rule it out, 35/35 can (at 0.1/9 per look:
    // P(X ≥ 35 | 35, 0.75) = 4.2e-5; P(X ≥ 10 | 10, 0.75) = 0.056).
    let design = LookDesign::adaptive(10, 400);
    assert!(!design.agrees((90, 100), 10, 10, 0.15));
    assert!(design.agrees((90, 100), 35, 35, 0.15));
    // And over the whole record, the last look included.
    assert!(design.agreed((90, 100), &[true; 400], 0.15));
    assert!(!design.agreed((90, 100), &[false; 400], 0.15));
}

#[test]
fn a_thin_baseline_cannot_call_a_break() {
    let threshold = 0.05 / 20.0;
    // One sample in the baseline: even 32 failures in a row are p = 1/33 at best.
    assert!(!LookDesign::adaptive(1, 32).can_call_a_break((1, 1), threshold));
    assert!(LookDesign::adaptive(1, 32).can_call_a_break((20, 20), threshold));
    // One fixed sample hardly ever can (against n/n, p = 1/(n + 1): n ≥ 399 at 0.05/20);
    // a baseline with no passes has nothing to lose.
    assert!(!LookDesign::fixed(1).can_call_a_break((300, 300), threshold));
    assert!(LookDesign::fixed(1).can_call_a_break((399, 399), threshold));
    assert!(LookDesign::fixed(1).can_call_a_break((0, 3), threshold));
}

/// The exact operating characteristics agree with a simulation of the same stopping rule.
#[test]
fn operating_characteristics_match_a_simulation() {
    let design = LookDesign::adaptive(10, 200);
    let before = (270, 300);
    let threshold = 0.05 / 20.0;
    for rate in [0.9, 0.75] {
        let exact = design.operating(before, rate, threshold, 0.15);
        let mut random = XorShift(42);
        let trials = 3_000;
        let (mut called, mut samples) = (0_u32, 0_u64);
        for _ in 0..trials {
            let mut outcomes = Vec::new();
            for &look in design.looks() {
                while outcomes.len() < look as usize {
                    outcomes.push(random.uniform() < rate);
                }
                let passes = outcomes.iter().filter(|&&o| o).count() as u32;
                if design.p_value(before, &outcomes) <= threshold {
                    called += 1;
                    break;
                }
                if design.agrees(before, passes, look, 0.15) {
                    break;
                }
            }
            samples += outcomes.len() as u64;
        }
        let power = f64::from(called) / f64::from(trials);
        let slack = 4.0 * (exact.power * (1.0 - exact.power) / f64::from(trials)).sqrt() + 1e-3;
        assert!(
            (power - exact.power).abs() <= slack,
            "rate {rate}: {power} vs {exact:?}"
        );
        let mean = samples as f64 / f64::from(trials);
        assert!(
            (mean - exact.expected_samples).abs() <= 0.05 * exact.expected_samples,
            "rate {rate}: {mean} vs {exact:?}"
        );
    }
    // No drop: almost never called, and it stops long before the maximum; a 15-point drop:
    // called most of the time.
    let still = design.operating(before, 0.9, threshold, 0.15);
    assert!(
        still.power < 0.01 && still.expected_samples < 60.0,
        "{still:?}"
    );
    let dropped = design.operating(before, 0.75, threshold, 0.15);
    assert!(dropped.power > 0.8, "{dropped:?}");
}
