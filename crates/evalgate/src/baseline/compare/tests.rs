use super::*;
use crate::baseline::BaselinePolicy;
use crate::stats::Correction;

fn record(case: &str, verdict: Verdict, passes: u32, samples: u32) -> CaseRecord {
    CaseRecord {
        verdict,
        passes,
        failures: samples - passes,
        samples,
        ..CaseRecord::example("r", case)
    }
}

/// The sample records of `record`: its passes first, then its failures.
fn samples_of(record: &CaseRecord) -> Vec<SampleRecord> {
    (0..record.samples)
        .map(|i| SampleRecord {
            verdict: if i < record.passes {
                SampleVerdict::Pass
            } else {
                SampleVerdict::Fail
            },
            ..SampleRecord::example(&record.run_id, &record.case, i)
        })
        .collect()
}

fn baseline(cases: &[(&str, Verdict, u32, u32)]) -> Baseline {
    let records: Vec<CaseRecord> = cases
        .iter()
        .map(|(c, v, p, n)| record(c, *v, *p, *n))
        .collect();
    Baseline::of("shop", "e1".into(), &Default::default(), &records, &[])
}

fn policy(correction: Correction) -> BaselinePolicy {
    let mut policy = BaselinePolicy::file("baseline.json".into());
    policy.correction = correction;
    policy
}

fn run(
    before: &Baseline,
    now: &[CaseRecord],
    correction: Correction,
    partial: bool,
) -> BaselineComparison {
    let samples: Vec<SampleRecord> = now.iter().flat_map(samples_of).collect();
    compare(
        before,
        "baseline.json".into(),
        now,
        &samples,
        &policy(correction),
        partial,
    )
}

#[test]
fn every_kind_of_change_is_told_apart() {
    use Verdict::{Error, Fail, Pass};
    let before = baseline(&[
        ("single", Pass, 1, 1),
        ("fixed", Fail, 0, 1),
        ("broken", Fail, 0, 1),
        ("steady", Pass, 1, 1),
        ("gone", Pass, 1, 1),
        ("drop-real", Pass, 20, 20),
        ("drop-noise", Pass, 5, 5),
        ("wobbly", Pass, 9, 10),
        ("down", Pass, 3, 3),
    ]);
    let now = [
        record("single", Fail, 0, 1),
        record("fixed", Pass, 1, 1),
        record("broken", Fail, 0, 1),
        record("steady", Pass, 1, 1),
        record("added", Pass, 1, 1),
        record("drop-real", Fail, 2, 20),
        record("drop-noise", Fail, 3, 5),
        record("wobbly", Pass, 8, 10),
        record("down", Error, 0, 3),
    ];
    let c = run(&before, &now, Correction::Holm, false);
    let of = |case: &str| c.cases.iter().find(|x| x.case == case).unwrap();
    // One sample against one is no evidence (one-sided p = 0.5), whatever the verdicts.
    assert_eq!(of("single").change, Change::NotEnoughSamples);
    assert_eq!(of("single").p_value, Some(0.5));
    assert_eq!(of("fixed").change, Change::Fix);
    assert_eq!(of("broken").change, Change::StillFailing);
    assert_eq!(of("steady").change, Change::Unchanged);
    assert_eq!(of("added").change, Change::New);
    assert_eq!(of("gone").change, Change::Removed);
    assert_eq!(of("down").change, Change::Errored);
    // 20/20 → 2/20: p ≈ 2e-9, still below α after adjusting for the 7 cases compared.
    let real = of("drop-real");
    assert_eq!(real.change, Change::Regression);
    assert!(real.p_value.unwrap() < 1e-8, "{real:?}");
    assert!(real.adjusted_p.unwrap() <= 7.0 * real.p_value.unwrap() + 1e-15);
    // 5/5 → 3/5: p ≈ 0.22, the samples cannot tell.
    assert_eq!(of("drop-noise").change, Change::NotEnoughSamples);
    assert_eq!(of("wobbly").change, Change::Flaky);
    assert_eq!(
        c.compared, 7,
        "new, removed and errored cases are not compared"
    );
    assert_eq!(c.count(Change::Regression), 1);
    assert_eq!(c.cases[0].change, Change::Regression, "regressions first");
    // A partial run (a filter, one shard) removes nothing.
    let partial = run(&before, &now[..1], Correction::Holm, true);
    assert_eq!(partial.count(Change::Removed), 0);
}

/// Twenty cases at 30/30 → 24/30 (one-sided p = 0.0119 each): unadjusted, every one is
/// called. Holm, bounding the chance of any false call, calls none (20 × 0.0119 > 0.05);
/// Benjamini–Hochberg, bounding the share of false calls, calls all twenty (twenty small
/// p-values are evidence of one another). One case at 0/30 among unchanged ones: both
/// call it alone.
#[test]
fn the_call_is_made_over_the_whole_run() {
    use Verdict::{Fail, Pass};
    let names: Vec<String> = (0..20).map(|i| format!("c{i:02}")).collect();
    let before_cases: Vec<(&str, Verdict, u32, u32)> =
        names.iter().map(|n| (n.as_str(), Pass, 30, 30)).collect();
    let before = baseline(&before_cases);
    let now: Vec<CaseRecord> = names.iter().map(|n| record(n, Fail, 24, 30)).collect();
    let holm = run(&before, &now, Correction::Holm, false);
    let p = holm.cases[0].p_value.unwrap();
    assert!((p - 0.011_860).abs() < 1e-5, "{p}");
    assert_eq!(holm.count(Change::Regression), 0);
    let bh = run(&before, &now, Correction::Bh, false);
    assert_eq!(bh.count(Change::Regression), 20);
    let mut now: Vec<CaseRecord> = names.iter().map(|n| record(n, Pass, 30, 30)).collect();
    now[3] = record("c03", Fail, 0, 30);
    for correction in [Correction::Holm, Correction::Bh] {
        let c = run(&before, &now, correction, false);
        assert_eq!(c.count(Change::Regression), 1, "{correction:?}");
        assert_eq!(c.cases[0].case, "c03");
    }
}

/// A case that stopped early under `sequential` is compared at its best completion: a drop
/// that every completion shows is still a regression, and a case stopped on the way is
/// never called on its truncated counts.
#[test]
fn a_curtailed_case_is_compared_as_if_every_remaining_sample_passed() {
    use Verdict::{Fail, Pass};
    let before = baseline(&[("c", Pass, 10, 10)]);
    // Two failures of ten planned, then stopped: alone, 10/10 → 0/2 is p = 0.015.
    let mut stopped = record("c", Fail, 0, 2);
    stopped.samples_planned = Some(10);
    let c = run(&before, &[stopped], Correction::Holm, false);
    assert_eq!(c.cases[0].change, Change::NotEnoughSamples);
    // At best 8/10: p = 0.24.
    assert!((c.cases[0].p_value.unwrap() - 0.236_842).abs() < 1e-5);
}
