//! `evalgate.decay` in the JUnit: one testcase per detector listing its findings, one for
//! the envelope (and any silent model bump), and each retired case as a skipped testcase,
//! so retired cases stay counted where CI shows tests. Findings do not fail testcases: the
//! decay gates decide whether they fail the run. A low-severity finding (a case never
//! reviewed, still new) is listed as such and left out of `stale_cases`.

use quick_junit::{Property, TestCase, TestCaseStatus, TestSuite};

use super::xml_text::xml_safe;
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
        suite.add_property(Property::new(name, xml_safe(&value)));
    }
    let enveloped = !decay.envelope.envelope.0.is_empty();
    if enveloped {
        suite.add_property(Property::new("envelope", xml_safe(&decay.envelope.id)));
    }
    if let Some(d) = &decay.discrimination {
        suite.add_property(Property::new(
            "discrimination_rate",
            format!("{:.4}", d.rate),
        ));
    }
    if let Some(r) = &decay.representativeness {
        suite.add_property(Property::new(
            "uncovered_traffic",
            format!("{:.4}", r.uncovered_share),
        ));
    }

    let mut envelope = TestCase::new("envelope", TestCaseStatus::success());
    envelope.set_classname("evalgate.decay");
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
    envelope.add_property(Property::new(
        "model_bumps",
        decay.envelope.model_bumps.len().to_string(),
    ));
    envelope.set_system_out(xml_safe(&out));
    suite.add_test_case(envelope);

    for (detector, count) in &decay.by_detector {
        let mut tc = TestCase::new(detector.as_str(), TestCaseStatus::success());
        tc.set_classname("evalgate.decay");
        tc.add_property(Property::new("findings", count.to_string()));
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
            tc.set_system_out(xml_safe(&lines.join("\n")));
        }
        suite.add_test_case(tc);
    }

    for retired in &decay.retired {
        let mut status = TestCaseStatus::skipped();
        status.set_message(xml_safe(&format!(
            "retired {}: {}",
            retired.date, retired.reason
        )));
        let mut tc = TestCase::new(xml_safe(&retired.case), status);
        tc.set_classname("evalgate.decay.retired");
        tc.add_property(Property::new("file", xml_safe(&retired.file)));
        suite.add_test_case(tc);
    }
    suite
}
