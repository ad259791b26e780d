//! The terminal's decay section: the headline ("green but stale"), the envelope and any
//! silent model bump, findings per detector, uncovered production traffic, and one finding
//! of each detector with what to do.

use std::fmt::Write;

use super::coverage_text::printable;
use crate::decay::DecayReport;
use crate::output::Shown;

const SHOWN_CLUSTERS: usize = 3;

pub(super) fn render(decay: &DecayReport, shown: Shown<'_>, text: &mut String) {
    headline(decay, shown, text);
    counts(decay, text);
    examples(decay, text);
}

fn percent(x: f64) -> String {
    format!("{:.1} %", x * 100.0)
}

/// Green but stale, the envelope and any silent model bump.
fn headline(decay: &DecayReport, shown: Shown<'_>, text: &mut String) {
    let _ = write!(
        text,
        "\nevalgate: decay — green but stale: {} of {} passing cases · {} of {} active cases with findings ({}) · {} retired, {} drafts",
        decay.green_but_stale,
        decay.passing,
        decay.stale_cases,
        decay.active,
        percent(decay.stale_share),
        decay.retired.len(),
        decay.drafts,
    );
    // A suite that declares no version, and an agent that reports none, have no envelope:
    // the id of nothing says nothing.
    if !decay.envelope.envelope.0.is_empty() {
        let _ = write!(
            text,
            "\n  envelope {}: {}",
            decay.envelope.id,
            printable(&decay.envelope.envelope.describe())
        );
    } else if shown.everything() {
        let _ = write!(
            text,
            "\n  no envelope: the suite declares no versions (`envelope:`) and the agent \
             reported none"
        );
    }
    for bump in &decay.envelope.model_bumps {
        let _ = write!(text, "\n  WARNING {}", printable(&bump.to_string()));
    }
}

/// Findings per detector, discrimination, history, rubric agreement and production traffic
/// that resembles no case.
fn counts(decay: &DecayReport, text: &mut String) {
    let counts: Vec<String> = decay
        .by_detector
        .iter()
        .map(|(d, n)| format!("{d} {n}"))
        .collect();
    let _ = write!(text, "\n  findings: {}", counts.join(" · "));
    if decay.low_findings > 0 {
        let _ = write!(
            text,
            "\n  not counted as stale: {} low-severity finding(s) (cases never reviewed, whose \
             first run is more recent than `decay.review_max_age`)",
            decay.low_findings
        );
    }
    if let Some(d) = &decay.discrimination {
        let _ = write!(
            text,
            "\n  discrimination: {} of {} cases changed verdict between envelopes {} → {} ({})",
            d.differed,
            d.compared,
            d.envelopes[1],
            d.envelopes[0],
            percent(d.rate)
        );
    }
    if let Some(note) = &decay.history.note {
        let _ = write!(text, "\n  history: {note}");
    }
    for rubric in decay.agreement.iter().filter(|a| a.flagged) {
        let _ = write!(
            text,
            "\n  rubric {}: annotator agreement κ = {:.2} over {} cases — below the policy",
            printable(&rubric.rubric),
            rubric.kappa.unwrap_or_default(),
            rubric.cases
        );
    }
    if let Some(r) = &decay.representativeness {
        let _ = write!(
            text,
            "\n  production: {} of {} inputs ({}) resemble no case",
            r.uncovered,
            r.inputs,
            percent(r.uncovered_share)
        );
        for cluster in r.clusters.iter().take(SHOWN_CLUSTERS) {
            let example = cluster.examples.first().map(String::as_str).unwrap_or("");
            let _ = write!(text, "\n    {} like {:?}", cluster.size, printable(example));
        }
    }
}

/// One finding of each detector (so a detector with many findings does not hide the
/// others), with what to do.
fn examples(decay: &DecayReport, text: &mut String) {
    let mut shown = 0;
    for detector in decay.by_detector.keys() {
        let Some(f) = decay.findings.iter().find(|f| f.detector == *detector) else {
            continue;
        };
        shown += 1;
        let _ = write!(
            text,
            "\n  {}:{} {} [{}] {} → {}",
            f.file,
            f.line,
            printable(&f.case),
            f.detector,
            printable(&f.reason),
            printable(&f.action)
        );
    }
    if decay.findings.len() > shown {
        let _ = write!(
            text,
            "\n  … {} more findings in decay.json (one of each detector shown)",
            decay.findings.len() - shown
        );
    }
}
