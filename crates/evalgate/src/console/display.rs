//! A run's console: libtest's lines as cases finish, with the progress line kept off them.

use std::time::{Duration, Instant};

use libtest_mimic::Arguments;

use super::progress::{self, Progress};
use super::test_lines::{Counts, Outcome, TestLines};
use crate::errors::Error;

/// What a finished case shows.
pub(crate) struct CaseLine {
    pub failed: bool,
    /// Why it failed, for libtest's `failures:` section.
    pub message: Option<String>,
    /// How many samples passed of how many were taken, when the case has a result.
    pub samples: Option<(u32, u32)>,
}

pub(crate) struct Console {
    lines: TestLines,
    progress: Progress,
    counts: Counts,
    failures: Vec<(String, Option<String>)>,
    started: Instant,
}

impl Console {
    /// Starts a run's output: `running N tests` for the tests `names` (what the filters
    /// keep, ignored ones included), of which `to_run` run; `filtered_out` were left out.
    pub(crate) fn start<'a>(
        args: &Arguments,
        names: impl Iterator<Item = &'a str> + Clone,
        to_run: usize,
        filtered_out: u64,
    ) -> Result<Console, Error> {
        let mut lines = TestLines::new(args, names.clone())?;
        lines.title(names.count());
        let progress = Progress::new(to_run, lines.is_pretty());
        Ok(Console {
            lines,
            progress,
            counts: Counts {
                filtered_out,
                ..Counts::default()
            },
            failures: Vec::new(),
            started: Instant::now(),
        })
    }

    /// How often [`Console::tick`] should be called while no case finishes, if at all.
    pub(crate) fn redraw_every(&self) -> Option<Duration> {
        self.progress.enabled().then_some(progress::REDRAW_EVERY)
    }

    /// A test that does not run (a draft without `--ignored`).
    pub(crate) fn ignored(&mut self, name: &str) {
        self.counts.ignored += 1;
        self.write(name, Outcome::Ignored, None, None);
    }

    /// A case that just finished.
    pub(crate) fn finished(&mut self, name: &str, line: CaseLine) {
        let outcome = if line.failed {
            self.counts.failed += 1;
            Outcome::Failed
        } else {
            self.counts.passed += 1;
            Outcome::Passed
        };
        self.progress.finished(line.failed);
        self.write(name, outcome, line.samples, line.message.as_deref());
        if line.failed {
            self.failures.push((name.to_string(), line.message));
        }
        self.progress.draw();
    }

    /// Time passed with no case finishing: the progress line's clock moves.
    pub(crate) fn tick(&mut self) {
        self.progress.draw();
    }

    /// The failures (by name, whatever order they finished in) and libtest's result line;
    /// whether any test failed.
    pub(crate) fn finish(mut self) -> bool {
        self.progress.erase();
        self.failures.sort_by(|a, b| a.0.cmp(&b.0));
        self.lines.failures(&self.failures);
        self.lines.summary(self.counts, self.started.elapsed());
        self.counts.failed > 0
    }

    /// Writes a test's line, the progress line erased first.
    fn write(
        &mut self,
        name: &str,
        outcome: Outcome,
        samples: Option<(u32, u32)>,
        message: Option<&str>,
    ) {
        self.progress.erase();
        self.lines.test(name, outcome, samples, message);
    }
}
