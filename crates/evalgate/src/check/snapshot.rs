//! The `snapshot` check: a sample's comparison with its case's insta snapshot, reported like
//! every expectation — what was expected (the snapshot file), what was observed (the first
//! line that differs), and what to do about it.

use super::{CheckResult, excerpt};
use crate::snapshot::{Action, Comparison, Difference};

/// The result of comparing one sample with its snapshot.
pub(crate) fn snapshot(comparison: &Comparison, line: u32) -> CheckResult {
    let mut actual = match &comparison.difference {
        None if comparison.passed => "output matches the snapshot".to_string(),
        None => String::new(),
        Some(Difference::Missing) => "no snapshot accepted yet".to_string(),
        Some(Difference::Line {
            number,
            snapshot,
            output,
        }) => format!(
            "differs at line {number}: output {}, snapshot {}",
            side(output.as_deref()),
            side(snapshot.as_deref())
        ),
    };
    let next = match &comparison.action {
        Action::Nothing if comparison.difference.is_some() => {
            "no .snap.new written next to it (INSTA_UPDATE=no, or INSTA_PENDING_DIR)".into()
        }
        Action::Nothing => String::new(),
        Action::CiNothingWritten => "CI: nothing written; run the case locally and review the \
                                     change with `cargo insta review`"
            .into(),
        Action::Pending(path) => format!(
            "new output in {}: `cargo insta review` (or `cargo insta accept`) to accept it",
            path.display()
        ),
        Action::Updated => "snapshot updated in place (INSTA_UPDATE)".into(),
        Action::ForcePassed => {
            "passing under INSTA_FORCE_PASS (`cargo insta test` collects it for review)".into()
        }
        Action::EarlierSample => "an earlier sample's output is the one handed to insta".into(),
        Action::Error(e) => e.clone(),
    };
    if !next.is_empty() {
        if !actual.is_empty() {
            actual.push_str("; ");
        }
        actual.push_str(&next);
    }
    CheckResult {
        expectation: "snapshot".into(),
        line,
        column: 1,
        passed: comparison.passed,
        expected: format!(
            "output equal to the snapshot {}",
            comparison.shown.display()
        ),
        actual,
    }
}

/// One line of one side, quoted and bounded (it is untrusted output).
fn side(line: Option<&str>) -> String {
    match line {
        Some(line) => excerpt(line),
        None => "(no such line)".into(),
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    fn comparison(passed: bool, difference: Option<Difference>, action: Action) -> Comparison {
        Comparison {
            shown: PathBuf::from("evals/snapshots/refunds__over-limit.snap"),
            passed,
            difference,
            action,
        }
    }

    #[test]
    fn a_difference_names_the_line_the_file_and_what_to_do() {
        let r = snapshot(
            &comparison(
                false,
                Some(Difference::Line {
                    number: 2,
                    snapshot: Some("Refunded.".into()),
                    output: None,
                }),
                Action::Pending(PathBuf::from(
                    "evals/snapshots/refunds__over-limit.snap.new",
                )),
            ),
            7,
        );
        assert_eq!(r.expectation, "snapshot");
        assert_eq!(r.line, 7, "the `snapshot:` line of the case");
        assert!(!r.passed);
        assert_eq!(
            r.expected,
            "output equal to the snapshot evals/snapshots/refunds__over-limit.snap"
        );
        assert_eq!(
            r.actual,
            "differs at line 2: output (no such line), snapshot \"Refunded.\"; new output in \
             evals/snapshots/refunds__over-limit.snap.new: `cargo insta review` (or `cargo \
             insta accept`) to accept it"
        );
    }

    #[test]
    fn ci_and_matches_say_so() {
        let ci = snapshot(
            &comparison(false, Some(Difference::Missing), Action::CiNothingWritten),
            1,
        );
        assert!(
            ci.actual
                .starts_with("no snapshot accepted yet; CI: nothing written")
        );
        let ok = snapshot(&comparison(true, None, Action::Nothing), 1);
        assert!(ok.passed);
        assert_eq!(ok.actual, "output matches the snapshot");
    }
}
