//! Saturation and discrimination, from run history: a case that passed under each of the
//! last N distinct envelopes (models, prompts, tools…) no longer tells them apart; the
//! suite's discrimination rate is the share of cases whose verdict differed between the two
//! most recent envelopes. Only passes saturate: a case failing under every envelope shows a
//! bug no envelope fixed, and advice to retire it would hide the bug; an inconclusive
//! verdict had too few samples to say the case passed.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::finding::{DecayFinding, Detector, Severity};
use crate::record::DecayContext;
use crate::verdict::Verdict;

/// One case's verdict in one run of the history, oldest first.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct VerdictAt {
    pub case: String,
    pub envelope_id: String,
    pub verdict: Verdict,
}

/// The verdicts of the suite under its two most recent envelopes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Discrimination {
    /// The most recent envelope id, then the one before.
    pub envelopes: [String; 2],
    /// Active cases with a verdict under both.
    pub compared: usize,
    /// Of those, cases whose verdict differed.
    pub differed: usize,
    /// `differed / compared`: the share of cases that still tell the envelopes apart.
    pub rate: f64,
}

/// What history says: saturation findings, the discrimination rate (when history holds two
/// envelopes), and how many distinct envelopes history holds.
pub(crate) struct HistoryVerdicts {
    pub findings: Vec<DecayFinding>,
    pub discrimination: Option<Discrimination>,
    pub envelopes: usize,
}

/// Judges `rows` (every case verdict in history, oldest run first). `error` verdicts say
/// nothing about the agent and are left out.
pub(crate) fn from_history(context: &DecayContext, rows: &[VerdictAt]) -> HistoryVerdicts {
    // Envelope order: by the last run seen under each.
    let mut last_seen: HashMap<&str, usize> = HashMap::new();
    // Per case, per envelope: the verdict of the latest run under it.
    let mut latest: HashMap<&str, HashMap<&str, Verdict>> = HashMap::new();
    for (index, row) in rows.iter().enumerate() {
        last_seen.insert(row.envelope_id.as_str(), index);
        if row.verdict != Verdict::Error {
            latest
                .entry(row.case.as_str())
                .or_default()
                .insert(row.envelope_id.as_str(), row.verdict);
        }
    }
    let mut envelopes: Vec<(&str, usize)> = last_seen.into_iter().collect();
    envelopes.sort_by_key(|(_, last)| std::cmp::Reverse(*last));
    let recent: Vec<&str> = envelopes.iter().map(|(e, _)| *e).collect();
    let n = context.policy.saturation_envelopes as usize;
    let mut findings = Vec::new();
    let mut compared = 0;
    let mut differed = 0;
    for case in context.active() {
        let Some(verdicts) = latest.get(case.case.as_str()) else {
            continue;
        };
        let ordered: Vec<(&str, Verdict)> = recent
            .iter()
            .filter_map(|e| verdicts.get(e).map(|v| (*e, *v)))
            .collect();
        if let [now, before, ..] = recent.as_slice()
            && let (Some(a), Some(b)) = (verdicts.get(now), verdicts.get(before))
        {
            compared += 1;
            if a != b {
                differed += 1;
            }
        }
        if ordered.len() >= n {
            let last: Vec<Verdict> = ordered[..n].iter().map(|(_, v)| *v).collect();
            if last.iter().all(|v| *v == Verdict::Pass) {
                let ids: Vec<&str> = ordered[..n].iter().map(|(e, _)| *e).collect();
                findings.push(DecayFinding {
                    case: case.case.clone(),
                    file: case.file.clone(),
                    line: case.line_of("expect"),
                    detector: Detector::Saturation,
                    reason: format!(
                        "pass under each of the last {n} distinct envelopes ({}): it no longer tells them apart",
                        ids.join(", ")
                    ),
                    action: "make the case harder or sharper (a rarer input, a stricter expectation), or retire it".into(),
                    severity: Severity::Stale,
                });
            }
        }
    }
    let discrimination = (recent.len() >= 2).then(|| Discrimination {
        envelopes: [recent[0].to_string(), recent[1].to_string()],
        compared,
        differed,
        rate: if compared == 0 {
            0.0
        } else {
            differed as f64 / compared as f64
        },
    });
    HistoryVerdicts {
        findings,
        discrimination,
        envelopes: recent.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decay::context::tests::{case, context};

    fn at(case: &str, envelope: &str, verdict: Verdict) -> VerdictAt {
        VerdictAt {
            case: case.into(),
            envelope_id: envelope.into(),
            verdict,
        }
    }

    #[test]
    fn the_same_verdict_under_the_last_n_envelopes_is_saturation() {
        use Verdict::{Error, Fail, Pass};
        let ctx = context(vec![case("always"), case("changes"), case("new")]);
        let rows = vec![
            at("always", "e1", Pass),
            at("changes", "e1", Pass),
            at("always", "e2", Pass),
            at("changes", "e2", Fail),
            // An infrastructure error says nothing about the agent.
            at("always", "e3", Error),
            at("always", "e3", Pass),
            at("changes", "e3", Pass),
            at("new", "e3", Pass),
        ];
        let judged = from_history(&ctx, &rows);
        assert_eq!(judged.envelopes, 3);
        let saturated: Vec<&str> = judged.findings.iter().map(|f| f.case.as_str()).collect();
        assert_eq!(saturated, ["always"], "default policy: 3 envelopes");
        assert!(
            judged.findings[0]
                .reason
                .contains("pass under each of the last 3")
        );
        let d = judged.discrimination.unwrap();
        assert_eq!(d.envelopes, ["e3".to_string(), "e2".to_string()]);
        assert_eq!(
            (d.compared, d.differed),
            (2, 1),
            "`new` has no verdict under e2"
        );
        assert!((d.rate - 0.5).abs() < 1e-9);
    }

    /// A case failing everywhere is a known failure: calling it saturated would advise
    /// retiring the one case that shows the bug.
    #[test]
    fn only_passing_under_the_last_n_envelopes_is_saturation() {
        use Verdict::{Fail, Inconclusive, Pass};
        let ctx = context(vec![case("broken"), case("steady"), case("undecided")]);
        let mut rows = Vec::new();
        for envelope in ["e1", "e2", "e3"] {
            rows.push(at("broken", envelope, Fail));
            rows.push(at("steady", envelope, Pass));
            rows.push(at("undecided", envelope, Inconclusive));
        }
        let judged = from_history(&ctx, &rows);
        let saturated: Vec<&str> = judged.findings.iter().map(|f| f.case.as_str()).collect();
        assert_eq!(saturated, ["steady"]);
    }

    #[test]
    fn one_envelope_judges_nothing() {
        let ctx = context(vec![case("a")]);
        let judged = from_history(&ctx, &[at("a", "e1", Verdict::Pass)]);
        assert!(judged.findings.is_empty());
        assert!(judged.discrimination.is_none());
    }
}
