use std::collections::BTreeSet;

use super::*;
use crate::check::CheckResult;

fn set(ids: &[&str]) -> BTreeSet<String> {
    ids.iter().map(|s| s.to_string()).collect()
}

/// A sample of `case` whose memory held `turns[i]` after turn i + 1, and whose recall
/// probe (if any) passed or not.
fn sample(case: &str, turns: &[&[&str]], recalled: Option<bool>) -> SampleRecord {
    let mut record: SampleRecord = serde_json::from_value(serde_json::json!({
        "schema": 1, "run_id": "r", "case": case, "file": "f.yaml", "sample": 0,
        "verdict": "pass", "output": "", "output_bytes": 0, "output_truncated": false,
        "latency_ms": 1.0, "usage": null, "tier": null, "model": null,
        "finish_reason": null, "refusal": null, "attempts": 1, "error": null,
        "started_at": "2026-11-28T00:00:00Z", "finished_at": "2026-11-28T00:00:01Z"
    }))
    .unwrap();
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

fn reference(model_before: &str, model_now: &str) -> Reference {
    let envelope = |m: &str| Envelope([("model".to_string(), m.to_string())].into());
    Reference::new(
        "before".into(),
        "2026-11-27T00:00:00Z".parse().unwrap(),
        "the latest earlier run under another envelope".into(),
        &envelope(model_before),
        &envelope(model_now),
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
    let report = compare(
        MemoryPolicy::default(),
        &now,
        Some((reference("m-1", "m-2"), &before)),
        None,
    )
    .unwrap();
    assert_eq!(report.changed, ["salience"]);
    let salience = &report.cases[1];
    assert_eq!(salience.case, "salience");
    let d = salience.divergence.as_ref().unwrap();
    assert_eq!((d.turn, d.turns), (3, 3));
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
            "salience: effective past changed after upgrade — divergence 0.67 at turn 3 (retained {city, order} → {city, mood}; across 0.67, within 0.00); \
             recall 1/1 → 0/1"
        ),
        "{text}"
    );
    assert!(text.contains("): model m-1 → m-2; 1 changed"), "{text}");
    assert!(
        text.contains("lru: divergence 0.00 over 2 turn(s); recall 1/1 → 1/1"),
        "{text}"
    );
}

#[test]
fn divergence_between_samples_of_one_run_is_noise_not_change() {
    // Both runs keep `a` or `b` at random: across the runs they differ as much as within.
    let noisy = |run: &str| -> Vec<SampleRecord> {
        let mut samples = vec![sample("c", &[&["a"]], None), sample("c", &[&["b"]], None)];
        for s in &mut samples {
            s.run_id = run.into();
        }
        samples
    };
    let (before, now) = (noisy("x"), noisy("y"));
    let report = compare(
        MemoryPolicy::default(),
        &now,
        Some((reference("m-1", "m-2"), &before)),
        None,
    )
    .unwrap();
    let d = report.cases[0].divergence.as_ref().unwrap();
    assert!(
        (d.across - 0.5).abs() < 1e-12 && (d.within - 1.0).abs() < 1e-12,
        "{d:?}"
    );
    assert_eq!(d.value, 0.0);
    assert!(report.changed.is_empty());
}

#[test]
fn recall_of_multi_sample_cases_changes_only_when_fisher_says_so() {
    let probes = |recalled: usize, of: usize| -> Vec<SampleRecord> {
        (0..of)
            .map(|i| sample("c", &[], Some(i < recalled)))
            .collect()
    };
    let compare_recall = |before: &[SampleRecord], now: &[SampleRecord]| {
        compare(
            MemoryPolicy::default(),
            now,
            Some((reference("m-1", "m-2"), before)),
            None,
        )
        .unwrap()
        .cases
        .remove(0)
        .recall
        .unwrap()
    };
    let slight = compare_recall(&probes(5, 5), &probes(4, 5));
    assert!(
        !slight.changed && slight.p_value.unwrap() > 0.05,
        "{slight:?}"
    );
    let real = compare_recall(&probes(10, 10), &probes(1, 10));
    assert!(real.changed && real.p_value.unwrap() < 0.05, "{real:?}");
}

#[test]
fn nothing_to_report_without_memory_or_probes_and_no_flag_without_a_reference() {
    assert!(
        compare(
            MemoryPolicy::default(),
            &[sample("c", &[], None)],
            None,
            None
        )
        .is_none()
    );
    let report = compare(
        MemoryPolicy::default(),
        &[sample("c", &[&["a"]], Some(false))],
        None,
        Some("history holds no earlier run under another envelope".into()),
    )
    .unwrap();
    assert!(report.changed.is_empty() && report.reference.is_none());
    let mut text = String::new();
    render(&report, &mut text);
    assert!(
        text.contains("not compared: history holds no earlier run under another envelope"),
        "{text}"
    );
    // A case the reference did not report is not compared, and says so.
    let report = compare(
        MemoryPolicy::default(),
        &[sample("c", &[&["a"]], None)],
        Some((reference("m-1", "m-2"), &[sample("other", &[&["a"]], None)])),
        None,
    )
    .unwrap();
    assert_eq!(
        report.cases[0].note.as_deref(),
        Some("not reported or probed under the reference")
    );
    assert!(!report.cases[0].changed);
}

#[test]
fn a_case_that_stops_reporting_memory_is_changed_not_skipped() {
    let before = [sample("c", &[&["a"], &["a", "b"]], None)];
    // The upgraded agent answers but reports no memory at all.
    let now = [sample("c", &[], None)];
    let report = compare(
        MemoryPolicy::default(),
        &now,
        Some((reference("m-1", "m-2"), &before)),
        None,
    )
    .expect("the lost memory is reported");
    assert_eq!(report.changed, ["c"]);
    assert_eq!(
        report.cases[0].note.as_deref(),
        Some("memory reported under the reference, none now")
    );
    // A case that did not run now (a filtered run) is not blamed.
    assert!(
        compare(
            MemoryPolicy::default(),
            &[sample("other", &[], None)],
            Some((reference("m-1", "m-2"), &before)),
            None,
        )
        .is_none()
    );
}
