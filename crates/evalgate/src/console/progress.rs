//! The progress line: for a run that has gone on a while, one line on standard error —
//! cases done of all, failures so far, time elapsed — redrawn in place and erased before
//! any other line is written.
//!
//! Only where someone watches a terminal that can erase a line: standard error is a
//! terminal, `TERM` is not `dumb`, the run is not under CI (`CI`, `TF_BUILD`: their logs
//! may come through a terminal and keep every redraw) nor under nextest (one process per
//! case, and nextest draws its own progress), and the lines are libtest's pretty ones
//! (`--quiet`'s marks are progress already; JSON is for programs). These are the rules
//! cargo follows for its own progress bar. The line has no colour, so `NO_COLOR` finds
//! nothing to turn off. Anywhere else nothing is written: piped output and CI logs hold
//! exactly the lines they held before.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// A run shorter than this ends before a progress line would be read.
const SHOW_AFTER: Duration = Duration::from_secs(2);

/// How often the line is redrawn while no case finishes: the clock still moves.
pub(crate) const REDRAW_EVERY: Duration = Duration::from_millis(250);

/// Moves to the start of the line and clears it.
const ERASE: &str = "\r\x1b[K";

pub(crate) struct Progress {
    /// Whether the line may be shown at all (see the module docs).
    enabled: bool,
    started: Instant,
    total: usize,
    done: usize,
    failed: usize,
    /// Whether the line is on the screen now.
    drawn: bool,
}

impl Progress {
    /// The progress of `total` cases started now; shown if this process's standard error
    /// and environment allow it (see the module docs) and `pretty` lines are written.
    pub(crate) fn new(total: usize, pretty: bool) -> Progress {
        let enabled = wanted(
            pretty,
            std::io::stderr().is_terminal(),
            crate::env::dumb_terminal(),
            crate::env::ci(),
            crate::env::under_nextest(),
        );
        Progress {
            enabled,
            started: Instant::now(),
            total,
            done: 0,
            failed: 0,
            drawn: false,
        }
    }

    /// Whether the line may ever be shown (else nothing needs to redraw it).
    pub(crate) fn enabled(&self) -> bool {
        self.enabled
    }

    /// Counts a finished case.
    pub(crate) fn finished(&mut self, failed: bool) {
        self.done += 1;
        self.failed += usize::from(failed);
    }

    /// Draws the line, replacing the one on the screen, once the run has gone on long
    /// enough.
    pub(crate) fn draw(&mut self) {
        if !self.enabled || self.started.elapsed() < SHOW_AFTER {
            return;
        }
        let text = format!("\r{}\x1b[K", self.text(self.started.elapsed()));
        self.drawn = write_stderr(&text);
    }

    /// Takes the line off the screen, so that the next line written starts on a clean one.
    pub(crate) fn erase(&mut self) {
        if self.drawn {
            write_stderr(ERASE);
            self.drawn = false;
        }
    }

    fn text(&self, elapsed: Duration) -> String {
        let secs = elapsed.as_secs();
        let clock = if secs < 60 {
            format!("{secs}s")
        } else {
            format!("{}m{:02}s", secs / 60, secs % 60)
        };
        format!(
            "evalgate: {}/{} cases done · {} failed · {clock}",
            self.done, self.total, self.failed
        )
    }
}

/// Whether a progress line is shown: see the module docs.
fn wanted(pretty: bool, terminal: bool, dumb: bool, ci: bool, nextest: bool) -> bool {
    pretty && terminal && !dumb && !ci && !nextest
}

/// Writes `text` to standard error at once; whether it was written.
fn write_stderr(text: &str) -> bool {
    let mut err = std::io::stderr().lock();
    err.write_all(text.as_bytes())
        .and_then(|()| err.flush())
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shown_only_on_a_terminal_that_can_erase_outside_ci_and_nextest() {
        assert!(wanted(true, true, false, false, false));
        for (pretty, terminal, dumb, ci, nextest) in [
            (false, true, false, false, false),
            (true, false, false, false, false),
            (true, true, true, false, false),
            (true, true, false, true, false),
            (true, true, false, false, true),
        ] {
            assert!(!wanted(pretty, terminal, dumb, ci, nextest));
        }
    }

    #[test]
    fn says_done_of_all_failures_and_time() {
        let mut progress = Progress::new(500, true);
        for failed in [false, true, false] {
            progress.finished(failed);
        }
        assert_eq!(
            progress.text(Duration::from_millis(12_700)),
            "evalgate: 3/500 cases done · 1 failed · 12s"
        );
        assert_eq!(
            progress.text(Duration::from_secs(125)),
            "evalgate: 3/500 cases done · 1 failed · 2m05s"
        );
    }
}
