//! The Markdown step summary (`$GITHUB_STEP_SUMMARY`): the verdict and why, the gates, the
//! failures with links to their YAML lines, coverage, decay, tokens and latency. Every text
//! that comes from an agent or a case file is escaped so it cannot inject Markdown or HTML,
//! and the summary stays under GitHub's 1 MiB with a visible note when cut.

use std::collections::HashMap;
use std::fmt::Write;

use crate::baseline::Change;
use crate::output::{Feature, Shown, Verbosity};
use crate::report::RunReport;
use crate::report::gates::GateOutcome;
use crate::report::markdown::{escape, html_text};

/// GitHub refuses step summaries over 1 MiB; leave room for the note.
pub(crate) const MAX_BYTES: usize = 1024 * 1024 - 1024;

/// Where a case file's line is on GitHub, when the run knows its repository and commit.
pub(crate) struct Links {
    /// `https://github.com/owner/repo/blob/<sha>`
    pub blob: Option<String>,
}

impl Links {
    pub(crate) fn from_env() -> Links {
        let blob = crate::env::github_blob();
        Links { blob }
    }

    fn file_line(&self, file: &str, line: u32) -> String {
        let label = format!("{}:{line}", escape(file));
        match &self.blob {
            Some(blob) => {
                let path: String = file
                    .split('/')
                    .map(|segment| {
                        segment
                            .bytes()
                            .map(|b| match b {
                                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => {
                                    (b as char).to_string()
                                }
                                b => format!("%{b:02X}"),
                            })
                            .collect::<String>()
                    })
                    .collect::<Vec<_>>()
                    .join("/");
                format!("[{label}]({blob}/{path}#L{line})")
            }
            None => label,
        }
    }
}

/// The failures shown with their whole "why"; the rest are a table of links.
const FAILURES_IN_FULL: usize = 25;
/// The most of one failure's "why" shown (a failure quotes the agent's output).
const WHY_BYTES: usize = 8 * 1024;

/// The summary of `report` (the suite named `suite`).
pub(crate) fn render(
    report: &RunReport,
    suite: &str,
    links: &Links,
    failing_lines: &HashMap<(&str, &str), u32>,
) -> String {
    let mut md = String::new();
    verdict(&mut md, report, suite);
    failures(&mut md, report, links, failing_lines);
    // The terminal's rule at the verbosity the run asks for (a bad variable was refused
    // before the run): what the suite does not configure is not news.
    let verbosity = Verbosity::resolve(false, report.output.verbosity).unwrap_or_default();
    let shown = Shown::new(verbosity, &report.output);
    gates(&mut md, report, shown);
    coverage_and_decay(&mut md, report, shown);
    baseline(&mut md, report, links);
    attempts(&mut md, report);
    reruns(&mut md, report);
    signals(&mut md, report, shown);
    md
}

/// The heading with the verdict, why, and the run's counts.
fn verdict(md: &mut String, report: &RunReport, suite: &str) {
    let failed = report.has_failed();
    let summary = &report.summary;
    let _ = writeln!(
        md,
        "## evalgate {} {}\n",
        escape(suite),
        if failed { "❌ failed" } else { "✅ passed" }
    );
    let mut why = Vec::new();
    if let Some(incomplete) = summary.completion.describe() {
        why.push(escape(&incomplete));
    }
    if summary.failed > 0 {
        why.push(format!("{} case(s) failed", summary.failed));
    }
    for gate in report.gates.iter().filter(|g| g.fails_run()) {
        why.push(format!(
            "gate `{}` failed ({})",
            escape(&gate.name),
            escape(&gate.threshold)
        ));
    }
    if why.is_empty() {
        why.push("every case passed and no `fail` gate failed".into());
    }
    let _ = writeln!(md, "**Why:** {}.\n", why.join("; "));
    let _ = writeln!(
        md,
        "{} cases: {} pass, {} fail, {} inconclusive, {} error · {} samples · tokens {} in / {} out · latency p50 {} / p95 {}\n",
        summary.cases.len(),
        summary.count(crate::verdict::Verdict::Pass),
        summary.count(crate::verdict::Verdict::Fail),
        summary.count(crate::verdict::Verdict::Inconclusive),
        summary.count(crate::verdict::Verdict::Error),
        summary.samples,
        summary.input_tokens,
        summary.output_tokens,
        ms(summary.latency_p50_ms),
        ms(summary.latency_p95_ms),
    );
    if summary.stopped_early > 0 {
        let _ = writeln!(
            md,
            "Sequential sampling saved {} of {} samples ({} case(s) settled early).\n",
            summary.samples_saved, summary.samples_planned, summary.stopped_early
        );
    }
}

/// The gates the terminal would show, as a table.
fn gates(md: &mut String, report: &RunReport, shown: Shown) {
    let gates: Vec<_> = report
        .gates
        .iter()
        .filter(|g| shown.everything() || g.outcome == GateOutcome::Failed || g.declared)
        .collect();
    if !gates.is_empty() {
        let _ = writeln!(
            md,
            "### Gates\n\n| status | gate | value | required | details |\n|---|---|---|---|---|"
        );
        for gate in gates {
            let value = gate
                .value
                .map(|v| format!("{v:.3}"))
                .unwrap_or_else(|| "-".into());
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} |",
                gate.status(),
                escape(&gate.name),
                value,
                escape(&gate.threshold),
                escape(&gate.details.join("; "))
            );
        }
        md.push('\n');
    }
}

/// Planner coverage and decay, one line each.
fn coverage_and_decay(md: &mut String, report: &RunReport, shown: Shown) {
    if let Some(catalog) = &report.coverage.catalog {
        let _ = writeln!(
            md,
            "**Planner coverage:** {}/{} branches ({:.1} %) of {}\n",
            report.coverage.branches_covered,
            report.coverage.branches_total,
            report.coverage.ratio().unwrap_or(0.0) * 100.0,
            escape(catalog)
        );
    }
    if let Some(decay) = report
        .decay
        .as_ref()
        .filter(|d| crate::report::decay_shown(d, shown))
    {
        let _ = writeln!(
            md,
            "**Decay:** green but stale: {} of {} passing cases · {} of {} active cases with findings · {} retired{}\n",
            decay.green_but_stale,
            decay.passing,
            decay.stale_cases,
            decay.active,
            decay.retired.len(),
            if decay.envelope.model_bumps.is_empty() {
                String::new()
            } else {
                format!(
                    " · ⚠️ {} silent model bump(s)",
                    decay.envelope.model_bumps.len()
                )
            }
        );
    }
}

/// The comparison with the baseline, and the cases whose verdict it changes.
fn baseline(md: &mut String, report: &RunReport, links: &Links) {
    if let Some(note) = &report.baseline_note {
        let _ = writeln!(md, "### Against the baseline\n\n{}\n", escape(note));
    }
    if let Some(baseline) = &report.baseline {
        let changed: Vec<_> = baseline
            .cases
            .iter()
            .filter(|c| {
                matches!(
                    c.change,
                    Change::Regression
                        | Change::NotEnoughSamples
                        | Change::Errored
                        | Change::Fix
                        | Change::Removed
                )
            })
            .collect();
        let _ = writeln!(
            md,
            "### Against the baseline\n\n{} regression(s), {} fix(es), {} not enough samples to tell — {} case(s) compared, α {} over the run ({}); {}\n",
            baseline.count(Change::Regression),
            baseline.count(Change::Fix),
            baseline.count(Change::NotEnoughSamples),
            baseline.compared,
            baseline.alpha,
            baseline.correction.as_str(),
            escape(&baseline.source)
        );
        if !changed.is_empty() {
            let _ = writeln!(
                md,
                "| change | case | where | baseline → now | p | adjusted p |\n|---|---|---|---|---|---|"
            );
            for c in changed {
                let counts = |side: Option<(u32, u32)>| {
                    side.map_or("-".to_string(), |(p, n)| format!("{p}/{n}"))
                };
                let place = match (&c.file, c.line) {
                    (Some(file), Some(line)) => links.file_line(file, line),
                    _ => "-".into(),
                };
                let p = |p: Option<f64>| p.map_or("-".to_string(), |p| format!("{p:.4}"));
                let _ = writeln!(
                    md,
                    "| {} | {} | {} | {} → {} | {} | {} |",
                    c.change,
                    escape(&c.case),
                    place,
                    counts(c.baseline),
                    counts(c.current),
                    p(c.p_value),
                    p(c.adjusted_p)
                );
            }
            md.push('\n');
        }
    }
}

/// Earlier attempts of this commit, and each case's samples pooled over them.
fn attempts(md: &mut String, report: &RunReport) {
    if let Ok(Some(attempts)) = &report.attempts
        && (attempts.red_before() > 0 || !attempts.pooled.is_empty())
    {
        let red = attempts.red_before();
        let headline = if red > 0 && !report.has_failed() {
            format!("⚠️ Green after {red} red attempt(s) of this commit — rerun to green")
        } else {
            format!(
                "{} earlier attempt(s) of this commit, {red} red",
                attempts.earlier.len()
            )
        };
        let _ = writeln!(
            md,
            "### Attempts\n\n{headline} (commit `{}`, envelope `{}`). Each case's samples pooled over every attempt and `evalgate rerun`:\n",
            escape(&crate::baseline::short_commit(&attempts.commit)),
            escape(&attempts.envelope)
        );
        if !attempts.pooled.is_empty() {
            let _ = writeln!(
                md,
                "| case | pooled | failed in | p | adjusted p |\n|---|---|---|---|---|"
            );
            for case in &attempts.pooled {
                let p = |p: Option<f64>| p.map_or("-".to_string(), |p| format!("{p:.4}"));
                let _ = writeln!(
                    md,
                    "| {}{} | {}/{} | {} of {} | {} | {} |",
                    escape(&case.case),
                    if case.regression {
                        " (the pooled samples show a drop)"
                    } else {
                        ""
                    },
                    case.passes,
                    case.answered,
                    case.failed_in,
                    case.held_in,
                    p(case.p_value),
                    p(case.adjusted_p)
                );
            }
            md.push('\n');
        }
    }
}

/// The reruns of the last 30 days.
fn reruns(md: &mut String, report: &RunReport) {
    if !report.reruns.is_empty() {
        let _ = writeln!(
            md,
            "### Reruns in the last 30 days\n\n| when | case | passed | predicted | outcome | hypothesis |\n|---|---|---|---|---|---|"
        );
        for r in &report.reruns {
            let _ = writeln!(
                md,
                "| {} | {} | {}/{} | {} | {} | {} |",
                r.started_at.strftime("%Y-%m-%d %H:%M"),
                escape(&r.case),
                r.passes,
                r.passes + r.failures + r.errors,
                r.expect_rate,
                match r.consistent {
                    Some(false) => "**not consistent**",
                    _ => crate::report::rerun_text::outcome(r),
                },
                escape(&r.hypothesis)
            );
        }
        md.push('\n');
    }
}

/// Signals, cost and customers, folded.
fn signals(md: &mut String, report: &RunReport, shown: Shown) {
    let mut signals = String::new();
    crate::signals::render_markdown(&report.signals, &escape, &mut signals);
    // Signals, cost and customers, when the suite configures any of them: for whoever looks
    // further, folded so the verdict, the failures and the gates are what the page shows.
    let signal_features = [
        Feature::Slis,
        Feature::OutputLength,
        Feature::Tiers,
        Feature::Latency,
        Feature::TimeZone,
        Feature::Cost,
    ];
    if signal_features.into_iter().any(|f| shown.feature(f)) && !signals.trim().is_empty() {
        let _ = writeln!(
            md,
            "<details><summary>Operational signals: SLIs, tiers, latency, cost per case and customer</summary>\n{signals}\n</details>\n"
        );
    }
}

/// The failures, first after the verdict: each with a link to its first failing
/// expectation's line and its whole "why" as the terminal prints it; past
/// [`FAILURES_IN_FULL`], a table of the rest.
fn failures(
    md: &mut String,
    report: &RunReport,
    links: &Links,
    failing_lines: &HashMap<(&str, &str), u32>,
) {
    let failures: Vec<_> = report.summary.cases.iter().filter(|c| c.failed).collect();
    if failures.is_empty() {
        return;
    }
    let _ = writeln!(md, "### Failures\n");
    let line_of = |case: &crate::record::CaseRecord| {
        failing_lines
            .get(&(case.case.as_str(), case.run_id.as_str()))
            .copied()
            .unwrap_or(case.line)
    };
    for case in failures.iter().take(FAILURES_IN_FULL) {
        let why = case.message.as_deref().unwrap_or(case.verdict.as_str());
        let _ = writeln!(
            md,
            "**{}** · {} · {}\n\n<pre>{}</pre>\n",
            escape(&case.case),
            case.verdict.as_str(),
            links.file_line(&case.file, line_of(case)),
            pre(why, WHY_BYTES)
        );
    }
    if failures.len() > FAILURES_IN_FULL {
        let _ = writeln!(
            md,
            "{} more failure(s), each with its why in `junit.xml`:\n\n| case | verdict | where |\n|---|---|---|",
            failures.len() - FAILURES_IN_FULL
        );
        for case in &failures[FAILURES_IN_FULL..] {
            let _ = writeln!(
                md,
                "| {} | {} | {} |",
                escape(&case.case),
                case.verdict.as_str(),
                links.file_line(&case.file, line_of(case))
            );
        }
        md.push('\n');
    }
}

/// Text for a `<pre>` block: HTML-escaped (the block's content is HTML, not Markdown, so
/// nothing in it can open a tag or close the block), cut at `max` bytes with a note.
fn pre(text: &str, max: usize) -> String {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let mut out = html_text(&text[..end]);
    if end < text.len() {
        let _ = write!(
            out,
            "\n… {} more bytes in junit.xml and the run records",
            text.len() - end
        );
    }
    out
}

fn ms(value: Option<f64>) -> String {
    value
        .map(|v| format!("{v:.1} ms"))
        .unwrap_or_else(|| "-".into())
}

/// Keeps the summary within `budget` bytes (what GitHub's 1 MiB leaves after what the
/// file already holds), cutting at a line end, with a note saying so.
pub(crate) fn cut(md: String, budget: usize) -> String {
    if md.len() <= budget {
        return md;
    }
    let mut end = budget;
    while !md.is_char_boundary(end) {
        end -= 1;
    }
    let end = md[..end].rfind('\n').map_or(0, |i| i + 1);
    let dropped = md[end..].lines().count();
    format!(
        "{}\n> **Note:** this summary was cut at GitHub's 1 MiB limit; {dropped} more line(s) are in `junit.xml` and the run records.\n",
        &md[..end]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn untrusted_text_cannot_open_markdown_or_html() {
        let hostile =
            "<img src=x onerror=alert(1)> **bold** [link](http://e.vil) | cell\n# heading `code`";
        let safe = escape(hostile);
        assert!(!safe.contains('<') && !safe.contains('\n'));
        assert!(safe.contains("&lt;img"));
        assert!(safe.contains("\\*\\*bold\\*\\*"));
        assert!(safe.contains("\\[link\\]\\(http\\:"));
        assert!(safe.contains("\\| cell"));
        assert!(safe.contains("\\# heading \\`code\\`"));
    }

    #[test]
    fn pre_blocks_keep_lines_and_cannot_close_themselves() {
        assert_eq!(
            pre("a & b\n</pre><script>x</script> \"q\"", 1000),
            "a &amp; b\n&lt;/pre&gt;&lt;script&gt;x&lt;/script&gt; \"q\""
        );
        assert_eq!(
            pre("é<b>", 2),
            "é\n… 3 more bytes in junit.xml and the run records"
        );
    }

    #[test]
    fn links_point_at_the_line_on_github() {
        let links = Links {
            blob: Some("https://github.com/o/r/blob/abc".into()),
        };
        assert_eq!(
            links.file_line("evals/cases/a b.yaml", 12),
            "[evals/cases/a b\\.yaml:12](https://github.com/o/r/blob/abc/evals/cases/a%20b.yaml#L12)"
        );
    }

    #[test]
    fn a_summary_over_the_limit_is_cut_with_a_note() {
        let big = "| row |\n".repeat(200_000);
        let cut = cut(big, MAX_BYTES);
        assert!(cut.len() <= MAX_BYTES + 200);
        // What the file already holds counts: a 600 KB summary leaves room for the rest.
        let rest = super::cut("| row |\n".repeat(100_000), MAX_BYTES - 600_000);
        assert!(rest.len() <= MAX_BYTES - 600_000 + 200, "{}", rest.len());
        assert!(
            cut.contains("cut at GitHub's 1 MiB limit"),
            "{}",
            &cut[cut.len() - 200..]
        );
    }
}
