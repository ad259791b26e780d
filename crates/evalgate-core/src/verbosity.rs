//! How much the terminal report shows after the test lines: the suite's
//! `output.verbosity`, `EVALGATE_VERBOSITY` and libtest's `--quiet`. A plain config type,
//! low so the environment (`env`) can read it; what each verbosity shows is the report's.

use serde::{Deserialize, Serialize};

use crate::errors::Error;

/// How much the terminal report shows after the test lines.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verbosity {
    /// The line of verdicts and what failed: failing cases, gates that fired, an incomplete
    /// run.
    Quiet,
    /// Also the sections of the features the suite configures, and any finding, warning or
    /// earlier attempt the run must not hide.
    #[default]
    Normal,
    /// Every section, with hints on the features the suite does not use yet.
    Verbose,
}

impl Verbosity {
    const NAMES: [(&'static str, Verbosity); 3] = [
        ("quiet", Verbosity::Quiet),
        ("normal", Verbosity::Normal),
        ("verbose", Verbosity::Verbose),
    ];

    /// The verbosity called `name` (`quiet`, `normal`, `verbose`).
    pub fn named(name: &str) -> Option<Verbosity> {
        Verbosity::NAMES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| *v)
    }

    /// The verbosity of a run: libtest's `--quiet` (`quiet_flag`), else
    /// `$EVALGATE_VERBOSITY`, else the suite's `output.verbosity`, else normal. A bad value
    /// of the variable is a usage error.
    pub fn resolve(quiet_flag: bool, suite: Option<Verbosity>) -> Result<Verbosity, Error> {
        if quiet_flag {
            return Ok(Verbosity::Quiet);
        }
        if let Some(verbosity) = crate::env::verbosity()? {
            return Ok(verbosity);
        }
        Ok(suite.unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_quiet_flag_wins_over_the_suite() {
        // The variable is tested end to end (tests/it/quiet_defaults.rs): unit tests share the
        // process's environment.
        assert_eq!(
            Verbosity::resolve(true, Some(Verbosity::Verbose)).unwrap(),
            Verbosity::Quiet
        );
    }
}
