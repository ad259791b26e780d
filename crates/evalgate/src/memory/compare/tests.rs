use std::collections::BTreeSet;

use super::*;
use crate::check::CheckResult;
use crate::memory::render;

fn set(ids: &[&str]) -> BTreeSet<String> {
    ids.iter().map(|s| s.to_string()).collect()
}

/// A sample of `case` whose memory held `turns[i]` after turn i + 1, and whose recall
/// probe (if any) passed or not.
fn sample(case: &str, turns: &[&[&str]], recalled: Option<bool>) -> SampleRecord {
    let mut record = SampleRecord {
        checks: Vec::new(),
        ..SampleRecord::example("r", case, 0)
    };
    record.memory = turns
        .iter()
        .enumerate()
        .map(|(i, ids)| MemoryTurn::new(i as u32 + 1, ids.iter().copied()))
        .collect();
    if let Some(passed) = recalled {
        record.checks.push(CheckResult {
            expectation: RECALLED.into(),
            line: 1,
            column: 1,
            passed,
            expected: String::new(),
            actual: String::new(),
        });
    }
    record
}

fn envelope(model: &str) -> Envelope {
    Envelope([("model".to_string(), model.to_string())].into())
}

/// A reference run under `model` holding `samples`.
fn reference(model: &str, samples: &[SampleRecord]) -> ReferenceRun {
    ReferenceRun {
        run_id: "before".into(),
        started_at: "2026-11-27T00:00:00Z".parse().unwrap(),
        envelope: envelope(model),
        samples: samples.to_vec(),
    }
}

/// `now` compared with `before` (under model m-1) as a run under `model`.
fn compare_under(
    model: &str,
    now: &[SampleRecord],
    before: &[SampleRecord],
) -> Option<MemoryReport> {
    compare(
        MemoryPolicy::default(),
        now,
        &envelope(model),
        &[reference("m-1", before)],
        Some("the latest earlier run holding it".into()),
        None,
    )
}

#[test]
fn jaccard_distance_of_sets() {
    assert_eq!(jaccard_distance(&set(&[]), &set(&[])), 0.0);
    assert_eq!(jaccard_distance(&set(&["a", "b"]), &set(&["a", "b"])), 0.0);
    assert_eq!(jaccard_distance(&set(&["a"]), &set(&["b"])), 1.0);
    let d = jaccard_distance(&set(&["a", "b", "c"]), &set(&["b", "c", "d"]));
    assert!((d - 0.5).abs() < 1e-12, "{d}");
}

#[test]
fn a_salience_memory_that_keeps_other_items_after_an_upgrade_is_flagged() {
    let before = [
        sample(
            "salience",
            &[&["order"], &["order", "mood"], &["order", "city"]],
            Some(true),
        ),
        sample("lru", &[&["order"], &["order", "mood"]], Some(true)),
    ];
    let now = [
        sample(
            "salience",
            &[&["order"], &["mood", "order"], &["mood", "city"]],
            Some(false),
        ),
        sample("lru", &[&["order"], &["order", "mood"]], Some(true)),
    ];
    let report = compare_under("m-2", &now, &before).unwrap();
    assert_eq!(report.changed, ["salience"]);
    assert!(report.not_compared.is_empty());
    let salience = &report.cases[1];
    assert_eq!(salience.case, "salience");
    let d = salience.divergence.as_ref().unwrap();
    assert_eq!((d.turn, d.turns, d.within), (3, 3, None));
    assert!((d.value - 2.0 / 3.0).abs() < 1e-12, "{}", d.value);
    assert_eq!(
        (d.before.clone(), d.now.clone()),
        (set(&["city", "order"]), set(&["city", "mood"]))
    );
    let recall = salience.recall.as_ref().unwrap();
    assert_eq!(
        (recall.before, recall.now, recall.changed),
        (Some([1, 1]), [0, 1], true)
    );
    let lru = &report.cases[0];
    assert!(!lru.changed);
    assert_eq!(lru.divergence.as_ref().unwrap().value, 0.0);
    let mut text = String::new();
    render(&report, &mut text);
    assert!(
        text.contains(
            "each compared with the latest earlier run holding it: 1 changed, 0 not compared\n  \
             vs run before (2026-11-27 00:00 UTC): model m-1 → m-2\n"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "    salience: effective past changed after upgrade — divergence 0.67 at turn \
             3 (retained {city, order} → {city, mood}; across 0.67, within unknown (one \
             sample each)); recall 1/1 → 0/1"
        ),
        "{text}"
    );
    assert!(
        text.contains("    lru: divergence 0.00 over 2 turn(s); recall 1/1 → 1/1"),
        "{text}"
    );
}

fn in_run(run: &str, mut samples: Vec<SampleRecord>) -> Vec<SampleRecord> {
    for s in &mut samples {
        s.run_id = run.into();
    }
    samples
}

#[test]
fn noisy_memory_counts_as_changed_only_when_a_permutation_test_says_so() {
    // Both runs keep `a` or `b` at random: no change.
    let noisy = || vec![sample("c", &[&["a"]], None), sample("c", &[&["b"]], None)];
    let report = compare_under("m-2", &in_run("y", noisy()), &in_run("x", noisy())).unwrap();
    let d = report.cases[0].divergence.as_ref().unwrap();
    assert!(
        (d.across - 0.5).abs() < 1e-12 && d.within == Some(1.0),
        "{d:?}"
    );
    assert_eq!(d.value, 0.0);
    assert!(report.changed.is_empty());
    // A real change of a noisy memory, with samples enough to show it.
    let runs = |keep: &str, other: &str, odd: &str| -> Vec<SampleRecord> {
        let mut samples: Vec<SampleRecord> = (0..5)
            .map(|_| sample("c", &[&[keep, other]], None))
            .collect();
        samples.push(sample("c", &[&[keep, odd]], None));
        samples
    };
    let report = compare_under("m-2", &runs("x", "y", "z"), &runs("a", "b", "c")).unwrap();
    let d = report.cases[0].divergence.as_ref().unwrap();
    assert!(d.p_value.unwrap() < 0.01 && d.value > 0.7, "{d:?}");
    assert_eq!(report.changed, ["c"]);
    // The same with three samples each: no test at that size can tell, and it says so.
    let three = |v: Vec<SampleRecord>| v.into_iter().skip(3).collect::<Vec<_>>();
    let report = compare_under(
        "m-2",
        &three(runs("x", "y", "z")),
        &three(runs("a", "b", "c")),
    )
    .unwrap();
    assert!(report.changed.is_empty(), "{report:?}");
    let note = report.cases[0].note.as_deref().unwrap();
    assert!(
        note.contains("3 + 3 samples cannot show a difference"),
        "{note}"
    );
}

#[test]
fn a_turn_that_counts_is_not_hidden_by_a_larger_one_that_cannot() {
    // Turn 1: three samples each, deterministic and different (counts). Turn 2: reported
    // by one sample of each run only, more different, under the same envelope (cannot
    // count: its noise is unknown).
    let mut before: Vec<SampleRecord> = (0..3).map(|_| sample("c", &[&["a", "b"]], None)).collect();
    let mut now: Vec<SampleRecord> = (0..3).map(|_| sample("c", &[&["a", "x"]], None)).collect();
    before[0].memory.push(MemoryTurn::new(2, ["p"]));
    now[0].memory.push(MemoryTurn::new(2, ["q"]));
    let report = compare_under("m-1", &now, &before).unwrap();
    let d = report.cases[0].divergence.as_ref().unwrap();
    assert_eq!((d.turn, d.turns), (1, 2), "{d:?}");
    assert_eq!(report.changed, ["c"]);
}

#[test]
fn one_reference_sample_under_the_same_envelope_cannot_tell_noise_from_change() {
    let before = [sample("c", &[&["a", "b"]], None)];
    let now = [sample("c", &[&["a", "c"]], None)];
    let same = compare_under("m-1", &now, &before).unwrap();
    assert!(same.changed.is_empty(), "{same:?}");
    assert!(
        same.cases[0]
            .note
            .as_deref()
            .unwrap()
            .contains("noise is unknown"),
        "{same:?}"
    );
    // Across a model change the same divergence counts.
    assert_eq!(compare_under("m-2", &now, &before).unwrap().changed, ["c"]);
}

#[test]
fn recall_compares_samples_with_fisher_when_either_run_took_several() {
    let probes = |recalled: usize, of: usize| -> Vec<SampleRecord> {
        (0..of)
            .map(|i| sample("c", &[], Some(i < recalled)))
            .collect()
    };
    let recall_of = |before: &[SampleRecord], now: &[SampleRecord]| {
        compare_under("m-2", now, before)
            .unwrap()
            .cases
            .remove(0)
            .recall
            .unwrap()
    };
    let slight = recall_of(&probes(5, 5), &probes(4, 5));
    assert!(
        !slight.changed && slight.p_value.unwrap() > 0.05,
        "{slight:?}"
    );
    let real = recall_of(&probes(10, 10), &probes(1, 10));
    assert!(real.changed && real.p_value.unwrap() < 0.05, "{real:?}");
    let one_against_many = recall_of(&probes(9, 10), &probes(1, 1));
    assert!(!one_against_many.changed, "{one_against_many:?}");
    let one_each = recall_of(&probes(1, 1), &probes(0, 1));
    assert!(one_each.changed && one_each.p_value.is_none());
}

#[test]
fn nothing_to_report_without_memory_or_probes_and_no_flag_without_a_reference() {
    let none = compare(
        MemoryPolicy::default(),
        &[sample("c", &[], None)],
        &envelope("m"),
        &[],
        None,
        None,
    );
    assert!(none.is_none());
    let report = compare(
        MemoryPolicy::default(),
        &[sample("c", &[&["a"]], Some(false))],
        &envelope("m"),
        &[],
        None,
        Some("history is off".into()),
    )
    .unwrap();
    assert!(report.changed.is_empty() && report.chosen.is_none());
    let mut text = String::new();
    render(&report, &mut text);
    assert!(text.contains("not compared: history is off"), "{text}");
    // A case no earlier run holds is listed as not compared.
    let report = compare_under(
        "m-2",
        &[sample("c", &[&["a"]], None)],
        &[sample("other", &[&["a"]], None)],
    )
    .unwrap();
    assert_eq!(report.not_compared, ["c"]);
    assert_eq!(
        report.cases[0].note.as_deref(),
        Some("no earlier run holds it: not compared")
    );
    assert!(!report.cases[0].changed);
}

#[test]
fn lost_or_renumbered_memory_is_changed_not_skipped() {
    let before = [sample("c", &[&["a"], &["a", "b"]], None)];
    // The upgraded agent answers but reports no memory at all.
    let report = compare_under("m-2", &[sample("c", &[], None)], &before)
        .expect("the lost memory is reported");
    assert_eq!(report.changed, ["c"]);
    assert_eq!(
        report.cases[0].note.as_deref(),
        Some("memory reported under the reference, none now")
    );
    // It reports turns the reference never did.
    let mut shifted = sample("c", &[], None);
    shifted.memory = vec![MemoryTurn::new(7, ["a"])];
    let report = compare_under("m-2", &[shifted], &before).unwrap();
    assert_eq!(report.changed, ["c"]);
    assert_eq!(
        report.cases[0].note.as_deref(),
        Some("no turn reported by both runs")
    );
    // A case that did not run now (a filtered run) is not blamed.
    assert!(compare_under("m-2", &[sample("other", &[], None)], &before).is_none());
}

#[test]
fn each_case_is_compared_with_the_first_listed_run_that_holds_it() {
    let newer = ReferenceRun {
        run_id: "newer".into(),
        started_at: "2026-11-27T12:00:00Z".parse().unwrap(),
        envelope: envelope("m-2"),
        samples: vec![sample("a", &[&["x"]], None)],
    };
    let older = reference(
        "m-1",
        &[sample("a", &[&["y"]], None), sample("b", &[&["x"]], None)],
    );
    let now = [sample("a", &[&["x"]], None), sample("b", &[&["x"]], None)];
    let report = compare(
        MemoryPolicy::default(),
        &now,
        &envelope("m-2"),
        &[newer, older],
        Some("the latest earlier run holding it".into()),
        None,
    )
    .unwrap();
    let refs: Vec<&str> = report
        .cases
        .iter()
        .map(|c| c.reference.as_ref().unwrap().run_id.as_str())
        .collect();
    assert_eq!(refs, ["newer", "before"]);
    assert!(report.changed.is_empty(), "{report:?}");
}
