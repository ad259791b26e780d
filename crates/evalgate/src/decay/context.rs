//! Taking what decay detection needs to know about the suite ([`DecayContext`], the record
//! type in `evalgate-core`) from the loaded suite and its compiled cases: every case's
//! review date, pins, rubric and labels, snapshot and input text.

use super::RubricRef;
use crate::case::Case;
use crate::errors::Error;
use crate::record::{CaseFacts, DecayContext, SnapshotFacts};
use crate::suite::Suite;

/// The decay context of `suite` with `cases` (every case, retired ones included).
pub fn context<'a>(
    suite: &Suite,
    cases: impl IntoIterator<Item = &'a Case>,
) -> Result<DecayContext, Error> {
    let mut facts = Vec::new();
    for case in cases {
        facts.push(case_facts(suite, case)?);
    }
    Ok(DecayContext {
        policy: suite.decay.clone(),
        pins: suite.pins.clone(),
        rubrics: suite.rubrics.clone(),
        history: suite.history.clone(),
        cases: facts,
    })
}

/// The facts about `case` the detectors read.
fn case_facts(suite: &Suite, case: &Case) -> Result<CaseFacts, Error> {
    let snapshot = if case.snapshot {
        let accepted = crate::snapshot::accepted(&suite.snapshots, &case.id)?;
        Some(match accepted {
            Some(a) => SnapshotFacts {
                path: suite.display_path(&a.path).display().to_string(),
                accepted: a.date,
                envelope: a.envelope,
                exists: true,
            },
            None => SnapshotFacts {
                path: String::new(),
                accepted: None,
                envelope: None,
                exists: false,
            },
        })
    } else {
        None
    };
    let text = crate::observation::user_text(&case.messages);
    Ok(CaseFacts {
        case: case.id.clone(),
        file: case.file.display().to_string(),
        line: case.line,
        classname: case.classname.clone(),
        key_lines: case.key_lines.clone(),
        status: case.status.clone(),
        reviewed: case.reviewed,
        pins: case.pins.clone(),
        rubric: case
            .rubric
            .as_deref()
            .and_then(|r| RubricRef::parse(r).ok()),
        labels: case.labels.clone(),
        removed_branches: case.removed_branches.clone(),
        snapshot,
        text,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::case::Status;
    use crate::decay::{DecayPolicy, Rubric};

    /// An active case with nothing to find: reviewed today, no pins, no rubric.
    pub(crate) fn case(id: &str) -> CaseFacts {
        CaseFacts {
            case: id.into(),
            file: format!("evals/cases/{id}.yaml"),
            line: 1,
            classname: "evals".into(),
            key_lines: BTreeMap::from([("reviewed".to_string(), 3)]),
            status: Status::Active,
            reviewed: Some(jiff::civil::date(2026, 11, 28)),
            pins: BTreeMap::new(),
            rubric: None,
            labels: Vec::new(),
            removed_branches: Vec::new(),
            snapshot: None,
            text: format!("question about {id}"),
        }
    }

    pub(crate) fn context(cases: Vec<CaseFacts>) -> DecayContext {
        DecayContext {
            policy: DecayPolicy::default(),
            pins: BTreeMap::from([("policy".to_string(), "refunds-v4".to_string())]),
            rubrics: BTreeMap::from([(
                "tone".to_string(),
                Rubric {
                    id: "tone".into(),
                    version: 2,
                    changed: Some(jiff::civil::date(2026, 9, 1)),
                    description: None,
                    criteria: Vec::new(),
                    file: "evals/rubrics/tone.yaml".into(),
                },
            )]),
            history: None,
            cases,
        }
    }
}
