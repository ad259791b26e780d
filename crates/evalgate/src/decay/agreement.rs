//! Annotation agreement: where cases carry labels from several annotators, how much they
//! agree beyond chance (Cohen's κ, pooled over every pair of annotators of a rubric). A
//! rubric below the policy's κ is too vague to label by, and the cases where its annotators
//! disagree are findings.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::finding::{DecayFinding, Detector, Severity};
use crate::record::{CaseFacts, DecayContext};
use crate::stats::cohens_kappa;

/// Agreement under one rubric.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RubricAgreement {
    /// The rubric's id (all its versions together).
    pub rubric: String,
    /// Cases with labels from at least two annotators.
    pub cases: usize,
    /// Pairs of labels compared (every annotator pair on every such case).
    pub pairs: usize,
    /// `None` when undefined (no pairs, or one label given to everything).
    pub kappa: Option<f64>,
    /// κ below the policy's `min_agreement`.
    pub flagged: bool,
}

/// Agreement per rubric, and the findings on cases whose annotators disagree under a
/// flagged rubric.
pub(crate) fn agreement(context: &DecayContext) -> (Vec<RubricAgreement>, Vec<DecayFinding>) {
    let mut by_rubric: BTreeMap<&str, Vec<&CaseFacts>> = BTreeMap::new();
    for case in context.active() {
        if let Some(rubric) = &case.rubric
            && annotators(case).len() >= 2
        {
            by_rubric.entry(rubric.id.as_str()).or_default().push(case);
        }
    }
    let mut results = Vec::new();
    let mut findings = Vec::new();
    for (rubric, cases) in by_rubric {
        let mut pairs: Vec<(&str, &str)> = Vec::new();
        for case in &cases {
            let labels = annotators(case);
            let names: Vec<&&str> = labels.keys().collect();
            for (i, a) in names.iter().enumerate() {
                for b in &names[i + 1..] {
                    pairs.push((labels[**a], labels[**b]));
                }
            }
        }
        let kappa = cohens_kappa(&pairs);
        let flagged = kappa.is_some_and(|k| k < context.policy.min_agreement);
        if flagged {
            let k = kappa.unwrap_or_default();
            for case in &cases {
                let labels = annotators(case);
                let mut distinct: Vec<&str> = labels.values().copied().collect();
                distinct.sort_unstable();
                distinct.dedup();
                if distinct.len() > 1 {
                    findings.push(DecayFinding {
                        case: case.case.clone(),
                        file: case.file.clone(),
                        line: case.line_of("labels"),
                        detector: Detector::Agreement,
                        reason: format!(
                            "annotators disagree ({}) under rubric {rubric}, whose agreement is κ = {k:.2} (policy: ≥ {:.2})",
                            labels
                                .iter()
                                .map(|(a, l)| format!("{a}: {l}"))
                                .collect::<Vec<_>>()
                                .join(", "),
                            context.policy.min_agreement
                        ),
                        action: format!(
                            "adjudicate the label, and make rubric {rubric} precise enough that annotators agree"
                        ),
                        severity: Severity::Stale,
                    });
                }
            }
        }
        results.push(RubricAgreement {
            rubric: rubric.to_string(),
            cases: cases.len(),
            pairs: pairs.len(),
            kappa,
            flagged,
        });
    }
    (results, findings)
}

/// A case's labels by annotator (the last label of an annotator wins).
fn annotators(case: &CaseFacts) -> BTreeMap<&str, &str> {
    case.labels
        .iter()
        .map(|l| (l.annotator.as_str(), l.label.as_str()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::Label;
    use crate::decay::RubricRef;
    use crate::decay::context::tests::{case, context};

    fn labelled(id: &str, alice: &str, bob: &str) -> CaseFacts {
        let mut c = case(id);
        c.rubric = Some(RubricRef {
            id: "tone".into(),
            version: 2,
        });
        c.labels = vec![
            Label {
                annotator: "alice".into(),
                label: alice.into(),
            },
            Label {
                annotator: "bob".into(),
                label: bob.into(),
            },
        ];
        c
    }

    #[test]
    fn low_agreement_flags_the_rubric_and_the_cases_in_dispute() {
        let ctx = context(vec![
            labelled("a", "ok", "ok"),
            labelled("b", "ok", "ok"),
            labelled("c", "ok", "ok"),
            labelled("d", "ok", "bad"),
            labelled("e", "ok", "bad"),
            labelled("f", "bad", "bad"),
            case("unlabelled"),
        ]);
        let (rubrics, findings) = agreement(&ctx);
        assert_eq!(rubrics.len(), 1);
        let tone = &rubrics[0];
        assert_eq!((tone.cases, tone.pairs), (6, 6));
        // p_o = 4/6, p_e = 5/6·3/6 + 1/6·3/6 = 1/2 → κ = 1/3.
        assert!((tone.kappa.unwrap() - 1.0 / 3.0).abs() < 1e-9);
        assert!(tone.flagged);
        let disputed: Vec<&str> = findings.iter().map(|f| f.case.as_str()).collect();
        assert_eq!(disputed, ["d", "e"]);
    }

    #[test]
    fn agreement_above_the_policy_flags_nothing() {
        let ctx = context(vec![labelled("a", "ok", "ok"), labelled("b", "bad", "bad")]);
        let (rubrics, findings) = agreement(&ctx);
        assert!(!rubrics[0].flagged);
        assert!(findings.is_empty());
    }
}
