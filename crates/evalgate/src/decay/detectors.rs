//! The detectors that look at one case at a time: review age (and cases never reviewed),
//! pin drift, references to removed branches, rubric drift, stale snapshots.

use super::finding::{DecayFinding, Detector, Severity};
use crate::envelope::{Envelope, MODEL};
use crate::record::{CaseFacts, DecayContext};

/// The envelope axes whose change makes an accepted snapshot stale: the output is a
/// function of the model and the prompt first of all.
const SNAPSHOT_AXES: [&str; 2] = [MODEL, "prompt"];

/// How long a case has existed, as far as the run history tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FirstRun {
    /// The day of its first run in history (the day of this run, for a new case).
    On(jiff::civil::Date),
    /// History is off or could not be read: the case may be of any age.
    Unknown,
}

/// Every case-local finding for `case`, judged on `today` under the `current` envelope.
pub(crate) fn case_findings(
    context: &DecayContext,
    case: &CaseFacts,
    first_run: FirstRun,
    today: jiff::civil::Date,
    current: &Envelope,
) -> Vec<DecayFinding> {
    let mut findings = Vec::new();
    findings.extend(review(
        case,
        first_run,
        today,
        context.policy.review_max_age_days,
    ));
    pin_drift(context, case, &mut findings);
    for branch in &case.removed_branches {
        findings.push(finding(
            case,
            Detector::MissingReference,
            format!("names `{branch}`, which the branch catalog lists as removed"),
            "rewrite the expectation for the planner as it is now, or retire the case".into(),
        ));
    }
    findings.extend(rubric_drift(context, case));
    findings.extend(stale_snapshot(case, current));
    findings
}

/// A finding of `detector` about `case`, at the line of the key it is about.
fn finding(case: &CaseFacts, detector: Detector, reason: String, action: String) -> DecayFinding {
    DecayFinding {
        case: case.case.clone(),
        file: case.file.clone(),
        severity: Severity::Stale,
        line: case.line_of(match detector {
            Detector::ReviewAge | Detector::NeverReviewed => "reviewed",
            Detector::PinDrift => "pins",
            Detector::RubricDrift => "rubric",
            Detector::StaleSnapshot => "snapshot",
            _ => "expect",
        }),
        detector,
        reason,
        action,
    }
}

/// `review_age` and `never_reviewed`: a review older than the policy, or in the future; no
/// review at all.
fn review(
    case: &CaseFacts,
    first_run: FirstRun,
    today: jiff::civil::Date,
    max_age: u32,
) -> Option<DecayFinding> {
    match case.reviewed {
        None => Some(never_reviewed(
            finding(
                case,
                Detector::NeverReviewed,
                String::new(),
                format!("review the case against the product today and set `reviewed: {today}`"),
            ),
            first_run,
            today,
            max_age,
        )),
        Some(reviewed) if reviewed > today => Some(finding(
            case,
            Detector::ReviewAge,
            format!("`reviewed: {reviewed}` is in the future (the run is on {today})"),
            format!("fix the date: set `reviewed: {today}` after reviewing the case"),
        )),
        Some(reviewed) => {
            let age = (today - reviewed).get_days();
            (age > i32::try_from(max_age).unwrap_or(i32::MAX)).then(|| {
                finding(
                    case,
                    Detector::ReviewAge,
                    format!("last reviewed {reviewed}, {age} days ago (policy: {max_age} days)"),
                    format!("re-review the case and set `reviewed: {today}`, or retire it"),
                )
            })
        }
    }
}

/// `pin_drift`: a version the case pins that the suite has moved from or no longer declares.
fn pin_drift(context: &DecayContext, case: &CaseFacts, findings: &mut Vec<DecayFinding>) {
    for (key, pinned) in &case.pins {
        match context.pins.get(key) {
            Some(in_force) if in_force != pinned => findings.push(finding(
                case,
                Detector::PinDrift,
                format!("pins {key} {pinned}; the suite has {in_force} in force"),
                format!(
                    "check the expectations against {key} {in_force} and update the pin, or retire the case"
                ),
            )),
            Some(_) => {}
            None => findings.push(finding(
                case,
                Detector::PinDrift,
                format!("pins {key} {pinned}; the suite no longer declares a `{key}` version"),
                format!("remove the `{key}` pin or declare `pins.{key}` in the suite"),
            )),
        }
    }
}

/// `rubric_drift`: labelled under a rubric version that is no longer in force.
fn rubric_drift(context: &DecayContext, case: &CaseFacts) -> Option<DecayFinding> {
    if let Some(reference) = &case.rubric
        && let Some(rubric) = context.rubrics.get(&reference.id)
        && reference.version != rubric.version
    {
        let since = rubric
            .changed
            .map(|d| format!(" (since {d})"))
            .unwrap_or_default();
        return Some(finding(
            case,
            Detector::RubricDrift,
            format!(
                "labelled under {}@{}; {} v{} is in force{since}",
                reference.id, reference.version, rubric.id, rubric.version
            ),
            format!(
                "re-label the case under {} v{} and set `rubric: {}@{}`",
                rubric.id, rubric.version, rubric.id, rubric.version
            ),
        ));
    }
    None
}

/// `stale_snapshot`: a snapshot accepted under another model or prompt, or under no
/// recorded envelope.
fn stale_snapshot(case: &CaseFacts, current: &Envelope) -> Option<DecayFinding> {
    let snapshot = case.snapshot.as_ref().filter(|s| s.exists)?;
    let accepted = snapshot
        .accepted
        .map(|d| format!(" on {d}"))
        .unwrap_or_default();
    let Some(then) = &snapshot.envelope else {
        return Some(finding(
            case,
            Detector::StaleSnapshot,
            format!(
                "snapshot {} records no envelope: unknown what it was accepted under",
                snapshot.path
            ),
            "re-accept it to record its envelope (`cargo insta test --force-update-snapshots`, \
             and review `git diff evals/snapshots`)"
                .into(),
        ));
    };
    let changed: Vec<String> = SNAPSHOT_AXES
        .iter()
        .filter_map(|axis| match (then.get(axis), current.get(axis)) {
            (Some(a), Some(b)) if a != b => Some(format!("{axis} {a} → {b}")),
            _ => None,
        })
        .collect();
    (!changed.is_empty()).then(|| {
        finding(
            case,
            Detector::StaleSnapshot,
            format!(
                "snapshot {} was accepted{accepted} under another envelope: {}",
                snapshot.path,
                changed.join(", ")
            ),
            "check the output still holds under the current envelope, then re-accept it \
             (`cargo insta test --force-update-snapshots`, and review `git diff evals/snapshots`)"
                .into(),
        )
    })
}

/// A case without a `reviewed:` date is as old as its first run: young, it is a low-severity
/// finding (a new suite is not stale on day one); older than the policy, or of unknown age,
/// it counts as stale as an overdue review does.
fn never_reviewed(
    mut finding: DecayFinding,
    first_run: FirstRun,
    today: jiff::civil::Date,
    max_age: u32,
) -> DecayFinding {
    let (reason, severity) = match first_run {
        FirstRun::Unknown => (
            "never reviewed (no `reviewed:` date), and its age is unknown without run history: \
             counted as stale"
                .to_string(),
            Severity::Stale,
        ),
        FirstRun::On(first) => {
            let age = (today - first).get_days();
            if age > i32::try_from(max_age).unwrap_or(i32::MAX) {
                (
                    format!(
                        "never reviewed (no `reviewed:` date) since its first run on {first}, \
                         {age} days ago (policy: {max_age} days)"
                    ),
                    Severity::Stale,
                )
            } else {
                let from = first
                    .checked_add(jiff::Span::new().days(i64::from(max_age) + 1))
                    .map(|d| format!(" from {d}"))
                    .unwrap_or_default();
                (
                    format!(
                        "never reviewed (no `reviewed:` date); first run {first}, counted as \
                         stale{from} (policy: {max_age} days)"
                    ),
                    Severity::Low,
                )
            }
        }
    };
    finding.reason = reason;
    finding.severity = severity;
    finding
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::decay::RubricRef;
    use crate::decay::context::tests::{case, context};
    use crate::observation::Decision;
    use crate::record::SnapshotFacts;

    fn today() -> jiff::civil::Date {
        jiff::civil::date(2026, 11, 28)
    }

    fn detectors(c: &CaseFacts, current: &Envelope) -> Vec<Detector> {
        let ctx = context(vec![c.clone()]);
        case_findings(&ctx, c, FirstRun::Unknown, today(), current)
            .into_iter()
            .map(|f| f.detector)
            .collect()
    }

    #[test]
    fn a_fresh_case_has_no_findings() {
        assert!(detectors(&case("fresh"), &Envelope::default()).is_empty());
    }

    #[test]
    fn review_age_counts_days_against_the_policy_and_points_at_the_key() {
        let mut c = case("old");
        c.reviewed = Some(jiff::civil::date(2026, 8, 30)); // 90 days: still fine
        assert!(detectors(&c, &Envelope::default()).is_empty());
        c.reviewed = Some(jiff::civil::date(2026, 8, 29)); // 91 days
        let ctx = context(vec![c.clone()]);
        let f = &case_findings(&ctx, &c, FirstRun::Unknown, today(), &Envelope::default())[0];
        assert_eq!(f.detector, Detector::ReviewAge);
        assert_eq!(f.line, 3, "the `reviewed:` line");
        assert!(
            f.reason.contains("91 days ago (policy: 90 days)"),
            "{}",
            f.reason
        );
        // A typo in the future would otherwise never go stale.
        c.reviewed = Some(jiff::civil::date(2062, 11, 28));
        assert_eq!(detectors(&c, &Envelope::default()), [Detector::ReviewAge]);
    }

    #[test]
    fn a_case_never_reviewed_counts_only_once_older_than_the_policy() {
        let mut c = case("new");
        c.reviewed = None;
        // No `reviewed:` key: the finding points at the case, where the date goes.
        c.key_lines = BTreeMap::from([("expect".to_string(), 7)]);
        let ctx = context(vec![c.clone()]);
        let judged = |first_run| {
            let found = case_findings(&ctx, &c, first_run, today(), &Envelope::default());
            assert_eq!(found.len(), 1, "{found:?}");
            assert_eq!(found[0].detector, Detector::NeverReviewed);
            found[0].clone()
        };
        // First run today, or 90 days ago: listed, not counted.
        let young = judged(FirstRun::On(today()));
        assert_eq!(young.severity, Severity::Low);
        assert_eq!(young.line, c.line);
        assert!(
            young
                .reason
                .contains("first run 2026-11-28, counted as stale from 2027-02-27"),
            "{}",
            young.reason
        );
        let day_90 = judged(FirstRun::On(jiff::civil::date(2026, 8, 30)));
        assert_eq!(day_90.severity, Severity::Low);
        // 91 days: as stale as an overdue review.
        let old = judged(FirstRun::On(jiff::civil::date(2026, 8, 29)));
        assert_eq!(old.severity, Severity::Stale);
        assert!(
            old.reason
                .contains("2026-08-29, 91 days ago (policy: 90 days)"),
            "{}",
            old.reason
        );
        // Without history its age is unknown: counted, never assumed young.
        assert_eq!(judged(FirstRun::Unknown).severity, Severity::Stale);
    }

    #[test]
    fn pins_rubrics_removed_branches_and_snapshots_drift() {
        let mut c = case("drifted");
        c.pins = BTreeMap::from([
            ("policy".into(), "refunds-v3".into()),
            ("corpus".into(), "kb-1".into()),
        ]);
        c.rubric = Some(RubricRef {
            id: "tone".into(),
            version: 1,
        });
        c.removed_branches = vec![Decision::new("tool", "apply_store_credit")];
        c.snapshot = Some(SnapshotFacts {
            path: "evals/snapshots/drifted.snap".into(),
            accepted: Some(jiff::civil::date(2026, 6, 1)),
            envelope: Some(Envelope(BTreeMap::from([("model".into(), "m-1".into())]))),
            exists: true,
        });
        let now = Envelope(BTreeMap::from([("model".into(), "m-2".into())]));
        let found = detectors(&c, &now);
        assert_eq!(
            found,
            [
                Detector::PinDrift, // corpus: not declared by the suite
                Detector::PinDrift, // policy v3 vs v4
                Detector::MissingReference,
                Detector::RubricDrift,
                Detector::StaleSnapshot,
            ]
        );
        // The same model and prompt: the snapshot is current.
        let then = Envelope(BTreeMap::from([("model".into(), "m-1".into())]));
        assert!(!detectors(&c, &then).contains(&Detector::StaleSnapshot));
    }
}
