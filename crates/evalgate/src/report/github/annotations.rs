//! Annotations on the YAML line of each failing expectation (`::error file=…,line=…`), and on
//! failing or warning gates, capped at what GitHub shows per step with one line for the rest.

use std::collections::BTreeSet;

use super::commands::{escape_data, escape_property};
use crate::record::{RunData, SampleRecord};
use crate::report::RunReport;
use crate::verdict::SampleVerdict;

/// GitHub shows at most 10 error and 10 warning annotations per step.
pub(crate) const MAX_PER_LEVEL: usize = 10;

/// One annotation before it is printed.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Annotation {
    pub level: Level,
    pub file: Option<String>,
    pub line: Option<u32>,
    pub title: String,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Level {
    Error,
    Warning,
}

impl Annotation {
    /// The workflow command line.
    pub(crate) fn command(&self) -> String {
        let mut properties = Vec::new();
        if let Some(file) = &self.file {
            properties.push(format!("file={}", escape_property(file)));
        }
        if let Some(line) = self.line {
            properties.push(format!("line={line}"));
        }
        properties.push(format!("title={}", escape_property(&self.title)));
        let name = match self.level {
            Level::Error => "error",
            Level::Warning => "warning",
        };
        format!(
            "::{name} {}::{}",
            properties.join(","),
            escape_data(&self.message)
        )
    }
}

/// Every annotation the run deserves, errors first: each failing expectation of each failing
/// case (its first failing sample's), each errored case, each failing gate, each warning.
pub(crate) fn annotations(data: &RunData, report: &RunReport) -> Vec<Annotation> {
    let mut out = Vec::new();
    if let Some(why) = report.summary.completion.describe() {
        out.push(Annotation {
            level: Level::Error,
            file: None,
            line: None,
            title: "evalgate: run incomplete".into(),
            message: why,
        });
    }
    for case in report.summary.cases.iter().filter(|c| c.failed) {
        let samples: Vec<&SampleRecord> = data
            .samples
            .iter()
            .filter(|s| s.case == case.case && s.run_id == case.run_id)
            .collect();
        let mut seen = BTreeSet::new();
        let failing = samples
            .iter()
            .find(|s| s.verdict == SampleVerdict::Fail)
            .map(|s| s.checks.iter().filter(|c| !c.passed).collect::<Vec<_>>())
            .unwrap_or_default();
        for check in failing {
            if !seen.insert((check.line, check.expectation.clone())) {
                continue;
            }
            out.push(Annotation {
                level: Level::Error,
                file: Some(case.file.clone()),
                line: Some(check.line),
                title: format!("{}: {}", case.case, check.expectation),
                message: format!("expected: {}\nactual:   {}", check.expected, check.actual),
            });
        }
        if seen.is_empty() {
            let why = samples
                .iter()
                .find_map(|s| s.error.clone())
                .or_else(|| case.message.clone())
                .unwrap_or_else(|| case.verdict.as_str().to_string());
            out.push(Annotation {
                level: Level::Error,
                file: Some(case.file.clone()),
                line: Some(case.line),
                title: format!("{}: {}", case.case, case.verdict.as_str()),
                message: why,
            });
        }
    }
    for gate in &report.gates {
        let level = if gate.fails_run() {
            Level::Error
        } else if gate.warns() {
            Level::Warning
        } else {
            continue;
        };
        out.push(Annotation {
            level,
            file: None,
            line: None,
            title: format!("gate {} ({})", gate.name, gate.threshold),
            message: gate.details.join("\n"),
        });
    }
    if let Some(decay) = &report.decay {
        for bump in &decay.envelope.model_bumps {
            out.push(Annotation {
                level: Level::Warning,
                file: None,
                line: None,
                title: "silent model bump".into(),
                message: bump.to_string(),
            });
        }
    }
    out.sort_by_key(|a| a.level == Level::Warning);
    out
}

/// The lines to print: at most [`MAX_PER_LEVEL`] annotations of each level, then one plain
/// line saying how many were left out and where they are.
pub(crate) fn lines(annotations: &[Annotation]) -> Vec<String> {
    let mut lines = Vec::new();
    let mut left_out = 0;
    for level in [Level::Error, Level::Warning] {
        let of_level = annotations.iter().filter(|a| a.level == level);
        for (i, annotation) in of_level.enumerate() {
            if i < MAX_PER_LEVEL {
                lines.push(annotation.command());
            } else {
                left_out += 1;
            }
        }
    }
    if left_out > 0 {
        lines.push(format!(
            "evalgate: {left_out} more annotation(s) not shown (GitHub shows {MAX_PER_LEVEL} errors and {MAX_PER_LEVEL} warnings per step); every failure is in the step summary and junit.xml"
        ));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn annotation(level: Level, n: usize) -> Annotation {
        Annotation {
            level,
            file: Some("evals/cases/a,b.yaml".into()),
            line: Some(7),
            title: format!("case {n}: contains"),
            message: "expected: x\nactual:   ::add-mask::y".into(),
        }
    }

    #[test]
    fn a_command_escapes_its_properties_and_data() {
        assert_eq!(
            annotation(Level::Error, 1).command(),
            "::error file=evals/cases/a%2Cb.yaml,line=7,title=case 1%3A contains::expected: x%0Aactual:   ::add-mask::y"
        );
    }

    #[test]
    fn at_most_ten_of_each_level_then_one_line_for_the_rest() {
        let mut all: Vec<Annotation> = (0..13).map(|n| annotation(Level::Error, n)).collect();
        all.extend((0..11).map(|n| annotation(Level::Warning, n)));
        let lines = lines(&all);
        assert_eq!(
            lines.iter().filter(|l| l.starts_with("::error ")).count(),
            10
        );
        assert_eq!(
            lines.iter().filter(|l| l.starts_with("::warning ")).count(),
            10
        );
        assert!(
            lines
                .last()
                .unwrap()
                .starts_with("evalgate: 4 more annotation(s) not shown")
        );
    }
}
