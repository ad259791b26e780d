//! Which cases a run has and which of them run: discovery (all of them, or under
//! `--exact` only the file of that case), the suite tier, the tags, and libtest's own
//! filters, `--skip` and `--ignored` applied as libtest applies them.

use std::sync::Arc;

use libtest_mimic::{Arguments, Trial};

use crate::case::{Case, Selection, Status, SuiteTier, TEST_PREFIX, TIER_ENV, discover};
use crate::decay::DecayContext;
use crate::errors::Error;
use crate::suite::Suite;

/// The cases of a run, before libtest's filters.
pub(super) struct Chosen {
    /// Every active case discovered (retired ones left out), in the tier when one is set.
    pub(super) cases: Vec<Arc<Case>>,
    /// Whether every case file was read (not only the one `--exact` names).
    pub(super) full_discovery: bool,
    /// What decay needs of the whole suite (a full discovery that is not `--list` only).
    pub(super) decay: Option<DecayContext>,
    pub(super) tier: Option<SuiteTier>,
}

/// Discovers the cases of `suite` that `args` can select: under `--exact evals::<id>` alone
/// only that case's file is read (nextest runs one process per case).
pub(super) fn choose(suite: &Suite, args: &Arguments) -> Result<Chosen, Error> {
    let selection = match (&args.filter, args.exact, args.skip.is_empty()) {
        (Some(filter), true, true) => match filter.strip_prefix(TEST_PREFIX) {
            Some(id) => Selection::Exact(id),
            None => Selection::All,
        },
        _ => Selection::All,
    };
    let full_discovery = matches!(selection, Selection::All);
    let (mut cases, stats) = discover(suite, selection)?;
    let decay = if full_discovery && !args.list {
        Some(crate::decay::context(suite, &cases)?)
    } else {
        None
    };
    let tier = SuiteTier::from_env(suite)?;
    if let Some(tier) = &tier {
        cases = if full_discovery {
            tier.select(cases)?
        } else {
            let asked: Vec<String> = cases.iter().map(|c| c.id.clone()).collect();
            let kept: Vec<_> = cases.into_iter().filter(|c| tier.contains(c)).collect();
            if kept.is_empty() {
                return Err(Error::Usage(format!(
                    "{} is not a case of suite tier `{}` ({}); unset {TIER_ENV} to run it",
                    asked.join(", "),
                    tier.name,
                    tier.file.display()
                )));
            }
            kept
        };
    }
    if crate::env::debug_discovery() {
        eprintln!(
            "evalgate: discovery listed {} folder(s), parsed {} case file(s)",
            stats.dirs_listed, stats.files_parsed
        );
    }
    let cases = cases
        .into_iter()
        .filter(|c| !matches!(c.status, Status::Retired { .. }))
        .map(Arc::new)
        .collect();
    Ok(Chosen {
        cases,
        full_discovery,
        decay,
        tier,
    })
}

/// Whether `case` has one of the tags the run is limited to (every case when none is).
/// Cases without one are not tests of this run at all (so `--list`, which nextest runs
/// from, leaves them out too); the suite's case list keeps them.
pub(super) fn tagged(tags: Option<&[String]>, case: &Case) -> bool {
    tags.is_none_or(|tags| case.tags.iter().any(|t| tags.contains(t)))
}

/// `--list`: the tests libtest would show, drafts marked ignored; nothing is called.
pub(super) fn list(args: &Arguments, cases: &[Arc<Case>], tags: Option<&[String]>) {
    let trials = cases
        .iter()
        .filter(|c| tagged(tags, c))
        .map(|c| Trial::test(c.test_name(), || Ok(())).with_ignored_flag(c.is_ignored()))
        .collect();
    let _listed = libtest_mimic::run(args, trials);
}

/// libtest's view of the cases, filters, `--skip` and `--ignored` applied as it does.
pub(super) struct Tests {
    /// Each case's test name, in case order.
    pub(super) names: Vec<String>,
    /// The tests libtest shows (drafts included).
    pub(super) kept: Vec<bool>,
    /// Those of them that run.
    pub(super) selected: Vec<bool>,
}

impl Tests {
    pub(super) fn of(cases: &[Arc<Case>], args: &Arguments, tags: Option<&[String]>) -> Tests {
        let names: Vec<String> = cases.iter().map(|c| c.test_name()).collect();
        let (kept, selected) = cases
            .iter()
            .zip(&names)
            .map(|(case, name)| {
                let probe = Trial::test(name, || Ok(())).with_ignored_flag(case.is_ignored());
                let kept = tagged(tags, case) && !args.is_filtered_out(&probe);
                (kept, kept && !args.is_ignored(&probe))
            })
            .unzip();
        Tests {
            names,
            kept,
            selected,
        }
    }

    /// The indices of the cases that run.
    pub(super) fn to_run(&self) -> Vec<usize> {
        (0..self.names.len())
            .filter(|i| self.selected[*i])
            .collect()
    }

    /// The names of the tests libtest shows.
    pub(super) fn shown(&self) -> impl Iterator<Item = &str> + Clone {
        self.names
            .iter()
            .zip(&self.kept)
            .filter(|(_, kept)| **kept)
            .map(|(name, _)| name.as_str())
    }

    /// The names of the tests shown but not run (`ignored`).
    pub(super) fn ignored(&self) -> impl Iterator<Item = &str> {
        (0..self.names.len())
            .filter(|i| self.kept[*i] && !self.selected[*i])
            .map(|i| self.names[i].as_str())
    }

    /// How many tagged cases libtest's filters left out.
    pub(super) fn filtered_out(&self, cases: &[Arc<Case>], tags: Option<&[String]>) -> u64 {
        let count = (0..cases.len())
            .filter(|i| tagged(tags, &cases[*i]) && !self.kept[*i])
            .count();
        count as u64
    }
}

/// Why nothing runs: what was asked, and how many cases there are.
pub(super) fn nothing_matched(
    args: &Arguments,
    tags: Option<&[String]>,
    cases: usize,
    suite: &Suite,
) -> String {
    let asked = match &args.filter {
        _ if tags.is_some() => format!(
            "tag {} (and the other arguments)",
            tags.iter()
                .copied()
                .flatten()
                .map(|t| format!("`{t}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Some(filter) if args.exact => format!("`--exact {filter}`"),
        Some(filter) => format!("filter `{filter}`"),
        None if !args.skip.is_empty() => "the arguments (`--skip`)".into(),
        None if args.ignored => "`--ignored` (no draft to run)".into(),
        None => "the arguments (every case is a draft)".into(),
    };
    format!(
        "no case matched {asked} ({cases} case(s) in {}; `--list` shows their names)",
        suite.dir.display()
    )
}
