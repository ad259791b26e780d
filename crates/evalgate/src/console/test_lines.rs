//! libtest's output as libtest-mimic writes it — pretty lines, `--quiet`'s terse marks,
//! `--format json` events, colours as `--color` and the environment decide, `--logfile` —
//! byte for byte, so what people and tools read of a run stays what they already read.

use std::fs::File;
use std::io::Write;
use std::time::Duration;

use anstream::{AutoStream, ColorChoice};
use anstyle::{AnsiColor, Color, Style};
use libtest_mimic::{Arguments, ColorSetting, FormatSetting};

use crate::errors::Error;

/// A test's outcome, as libtest words it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    Passed,
    Failed,
    Ignored,
}

impl Outcome {
    fn word(self) -> &'static str {
        match self {
            Outcome::Passed => "ok",
            Outcome::Failed => "FAILED",
            Outcome::Ignored => "ignored",
        }
    }

    fn terse(self) -> char {
        match self {
            Outcome::Passed => '.',
            Outcome::Failed => 'F',
            Outcome::Ignored => 'i',
        }
    }

    fn json_event(self) -> &'static str {
        match self {
            Outcome::Passed => "ok",
            Outcome::Failed => "failed",
            Outcome::Ignored => "ignored",
        }
    }

    fn style(self) -> Style {
        let color = match self {
            Outcome::Passed => AnsiColor::Green,
            Outcome::Failed => AnsiColor::Red,
            Outcome::Ignored => AnsiColor::Yellow,
        };
        Style::new().fg_color(Some(Color::Ansi(color)))
    }
}

/// The counts of libtest's last line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Counts {
    pub passed: u64,
    pub failed: u64,
    pub ignored: u64,
    pub filtered_out: u64,
}

/// Writes libtest's lines where `--logfile` says, else to standard output.
pub(crate) struct TestLines {
    out: Out,
    format: FormatSetting,
    /// Names are padded to the longest, as libtest-mimic aligns them.
    name_width: usize,
}

enum Out {
    /// Locked for each write, so that a line is never split by what other threads print.
    Stdout(ColorChoice),
    File(AutoStream<File>),
}

impl TestLines {
    /// For the tests named `names` (every test the filters keep, ignored ones included).
    pub(crate) fn new<'a>(
        args: &Arguments,
        names: impl Iterator<Item = &'a str>,
    ) -> Result<TestLines, Error> {
        let color = args.color.unwrap_or(ColorSetting::Auto);
        let out = match &args.logfile {
            Some(path) => {
                let file = File::create(path)
                    .map_err(|e| Error::Usage(format!("cannot create --logfile {path}: {e}")))?;
                Out::File(if color == ColorSetting::Always {
                    AutoStream::always(file)
                } else {
                    AutoStream::never(file)
                })
            }
            None => Out::Stdout(match color {
                ColorSetting::Auto => AutoStream::choice(&std::io::stdout()),
                ColorSetting::Always => ColorChoice::Always,
                ColorSetting::Never => ColorChoice::Never,
            }),
        };
        Ok(TestLines {
            out,
            format: if args.quiet {
                FormatSetting::Terse
            } else {
                args.format.unwrap_or(FormatSetting::Pretty)
            },
            name_width: names.map(|n| n.chars().count()).max().unwrap_or(0),
        })
    }

    /// Whether lines are libtest's pretty ones (not `--quiet`'s marks, not JSON events).
    pub(crate) fn is_pretty(&self) -> bool {
        self.format == FormatSetting::Pretty
    }

    /// `running N tests`.
    pub(crate) fn title(&mut self, tests: usize) {
        let text = match self.format {
            FormatSetting::Pretty | FormatSetting::Terse => {
                let s = if tests == 1 { "" } else { "s" };
                format!("\nrunning {tests} test{s}\n")
            }
            FormatSetting::Json => {
                format!(
                    "{{ \"type\": \"suite\", \"event\": \"started\", \"test_count\": {tests} }}\n"
                )
            }
        };
        self.write(&text);
    }

    /// One test's line: `test NAME ... ok`, a mark, or its JSON events. `samples` (passed
    /// of taken) is shown after the word when the case took more than one sample.
    pub(crate) fn test(
        &mut self,
        name: &str,
        outcome: Outcome,
        samples: Option<(u32, u32)>,
        message: Option<&str>,
    ) {
        let style = outcome.style();
        let text = match self.format {
            // `ok 6/8`: a case that passes on 6 of 8 samples is not the same news as one
            // that passes on 8, and the line is where people look. The count goes after the
            // word, as libtest itself puts `ignored, <reason>` and `--report-time`'s
            // `ok <0.012s>` there: readers of libtest lines take the word after ` ... `
            // and tolerate what follows it. It is not in the name (filters, `--exact` and
            // nextest's one process per test run by name), nor in `--quiet`'s marks or the
            // JSON events, whose consumers compare the whole value; nextest reads the exit
            // status of its one-test processes, which the count does not change.
            FormatSetting::Pretty => {
                let counted = samples
                    .filter(|(_, taken)| *taken > 1)
                    .map(|(passed, taken)| format!(" {passed}/{taken}"))
                    .unwrap_or_default();
                format!(
                    "test {name:<width$} ... {style}{}{style:#}{counted}\n",
                    outcome.word(),
                    width = self.name_width
                )
            }
            FormatSetting::Terse => format!("{style}{}{style:#}", outcome.terse()),
            FormatSetting::Json => {
                let name = json_text(name);
                let stdout = match (outcome, message) {
                    (Outcome::Failed, Some(message)) => {
                        format!(", \"stdout\": \"Error: \\\"{}\\\"\\n\"", json_text(message))
                    }
                    _ => String::new(),
                };
                format!(
                    "{{ \"type\": \"test\", \"event\": \"started\", \"name\": \"{name}\" }}\n\
                     {{ \"type\": \"test\", \"name\": \"{name}\", \"event\": \"{}\"{stdout} }}\n",
                    outcome.json_event()
                )
            }
        };
        self.write(&text);
    }

    /// The failed tests' messages, then their names (not in JSON, where each failure's
    /// event carried its message).
    pub(crate) fn failures(&mut self, failed: &[(String, Option<String>)]) {
        if failed.is_empty() || self.format == FormatSetting::Json {
            return;
        }
        let mut text = String::from("\nfailures:\n\n");
        for (name, message) in failed {
            text.push_str(&format!("---- {name} ----\n"));
            if let Some(message) = message {
                text.push_str(message);
                text.push('\n');
            }
            text.push('\n');
        }
        text.push_str("\nfailures:\n");
        for (name, _) in failed {
            text.push_str(&format!("    {name}\n"));
        }
        self.write(&text);
    }

    /// `test result: ok. N passed; ...`.
    pub(crate) fn summary(&mut self, counts: Counts, elapsed: Duration) {
        let Counts {
            passed,
            failed,
            ignored,
            filtered_out,
        } = counts;
        let secs = elapsed.as_secs_f64();
        let text = match self.format {
            FormatSetting::Pretty | FormatSetting::Terse => {
                let outcome = if failed > 0 {
                    Outcome::Failed
                } else {
                    Outcome::Passed
                };
                let style = outcome.style();
                format!(
                    "\ntest result: {style}{}{style:#}. {passed} passed; {failed} failed; \
                     {ignored} ignored; 0 measured; {filtered_out} filtered out; finished in \
                     {secs:.2}s\n\n",
                    outcome.word()
                )
            }
            FormatSetting::Json => format!(
                "{{ \"type\": \"suite\", \"event\": \"{}\", \"passed\": {passed}, \"failed\": \
                 {failed}, \"ignored\": {ignored}, \"measured\": 0, \"filtered_out\": \
                 {filtered_out}, \"exec_time\": {secs} }}\n",
                if failed > 0 { "failed" } else { "ok" }
            ),
        };
        self.write(&text);
    }

    /// Writes `text` in one piece. A closed output (`| head`) does not stop the run: its
    /// records and reports still matter.
    fn write(&mut self, text: &str) {
        let _ = match &mut self.out {
            Out::Stdout(choice) => {
                let mut out = AutoStream::new(std::io::stdout().lock(), *choice);
                out.write_all(text.as_bytes()).and_then(|()| out.flush())
            }
            Out::File(file) => file.write_all(text.as_bytes()).and_then(|()| file.flush()),
        };
    }
}

/// `text` inside a JSON string, escaped as RFC 8259 requires (as libtest-mimic does).
fn json_text(text: &str) -> String {
    let quoted = serde_json::to_string(text).expect("a string serializes");
    quoted[1..quoted.len() - 1].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(args: &[&str]) -> TestLines {
        let args = Arguments::from_iter(std::iter::once("t").chain(args.iter().copied()));
        TestLines::new(&args, ["evals::a", "evals::longer"].into_iter()).unwrap()
    }

    #[test]
    fn json_text_escapes_as_rfc_8259_requires() {
        assert_eq!(json_text("a\"b\\c\nd\u{1}é"), "a\\\"b\\\\c\\nd\\u0001é");
    }

    #[test]
    fn the_format_follows_quiet_and_format() {
        assert!(lines(&[]).is_pretty());
        assert!(!lines(&["--quiet"]).is_pretty());
        assert!(!lines(&["--format", "json"]).is_pretty());
    }
}
