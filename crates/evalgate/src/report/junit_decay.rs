//! `evalgate.decay` in the JUnit: one testcase per detector listing its findings, one for
//! the envelope (and any silent model bump), and each retired case as a skipped testcase,
//! so retired cases stay counted where CI shows tests. Findings do not fail testcases: the
//! decay gates decide whether they fail the run. A low-severity finding (a case never
//! reviewed, still new) is listed as such and left out of `stale_cases`.

use super::junit_doc::{Outcome, Property, Status, TestCase, TestSuite};
use crate::decay::DecayReport;

pub(super) fn decay_suite(decay: &DecayReport) -> TestSuite {
    let mut suite = TestSuite::new("evalgate.decay");
    let properties = [
        ("active", decay.active.to_string()),
        ("stale_cases", decay.stale_cases.to_string()),
        ("low_findings", decay.low_findings.to_string()),
        ("stale_share", format!("{:.4}", decay.stale_share)),
        ("passing", decay.passing.to_string()),
        ("green_but_stale", decay.green_but_stale.to_string()),
        ("retired", decay.retired.len().to_string()),
    ];
    for (name, value) in properties {
        suite.properties.push(Property::new(name, &value));
    }
    let enveloped = !decay.envelope.envelope.0.is_empty();
    if enveloped {
        suite
            .properties
            .push(Property::new("envelope", &decay.envelope.id));
    }
    if let Some(d) = &decay.discrimination {
        suite.properties.push(Property::new(
            "discrimination_rate",
            format!("{:.4}", d.rate),
        ));
    }
    if let Some(r) = &decay.representativeness {
        suite.properties.push(Property::new(
            "uncovered_traffic",
            format!("{:.4}", r.uncovered_share),
        ));
    }

    let mut envelope = TestCase::new("envelope", "evalgate.decay", Status::Success);
    let mut out = if enveloped {
        format!(
            "envelope {}: {}",
            decay.envelope.id,
            decay.envelope.envelope.describe()
        )
    } else {
        "no envelope: the suite declares no versions (`envelope:`) and the agent reported none"
            .to_string()
    };
    for bump in &decay.envelope.model_bumps {
        out.push_str(&format!("\nWARNING {bump}"));
    }
    envelope.properties.push(Property::new(
        "model_bumps",
        decay.envelope.model_bumps.len().to_string(),
    ));
    envelope.system_out = Some(out);
    suite.cases.push(envelope);

    for (detector, count) in &decay.by_detector {
        let mut tc = TestCase::new(detector.as_str(), "evalgate.decay", Status::Success);
        tc.properties
            .push(Property::new("findings", count.to_string()));
        let lines: Vec<String> = decay
            .findings
            .iter()
            .filter(|f| f.detector == *detector)
            .map(|f| {
                format!(
                    "{}:{} {}: {}{} → {}",
                    f.file,
                    f.line,
                    f.case,
                    if f.counts() {
                        ""
                    } else {
                        "(low, not counted) "
                    },
                    f.reason,
                    f.action
                )
            })
            .collect();
        if !lines.is_empty() {
            tc.system_out = Some(lines.join("\n"));
        }
        suite.cases.push(tc);
    }

    for retired in &decay.retired {
        let status = Status::Skipped(Outcome::message(format!(
            "retired {}: {}",
            retired.date, retired.reason
        )));
        let mut tc = TestCase::new(&retired.case, "evalgate.decay.retired", status);
        tc.properties.push(Property::new("file", &retired.file));
        suite.cases.push(tc);
    }
    suite
}
