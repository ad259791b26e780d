//! Cases: the YAML format (`model`), finding case files (`discover`) and the validated,
//! ready-to-run [`Case`].

mod compile;
pub mod discover;
pub(crate) mod model;
mod tier;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

pub use discover::{Selection, discover, existing_cases};
pub use model::{Label, Source, Status};
pub use tier::{SuiteTier, TIER_ENV, tier_path};

pub(crate) use compile::{Check, CheckKind};
use compile::{check_against_catalog, compile};

use crate::coverage::BranchCatalog;
use crate::decay::RubricRef;
use crate::errors::{ConfigError, Position};
use crate::observation::{Decision, Message, Request, Role, contains_word, user_messages};
use crate::suite::Suite;
use crate::verdict::{MAX_SAMPLES, PassRule, validate_rule};
use model::{CaseFile, Expectation, Input, SamplesFile, Sequential};

/// Separates a case id from its variant (`refunds/eu-1@tier=secondary`).
pub(crate) const VARIANT_SEPARATOR: char = '@';

/// A validated case, ready to run: defaults from the suite applied, regexes and schemas
/// compiled, every expectation knowing its YAML position.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Case {
    pub id: String,
    /// The case file, as shown to users (relative to the working directory when possible).
    pub file: PathBuf,
    /// The line the case starts at (its `id:` when set, else 1).
    pub line: u32,
    /// The folder under `cases/`, dotted (`refunds.eu`), or `evals` at the top level.
    pub classname: String,
    pub description: Option<String>,
    pub tags: Vec<String>,
    pub source: Option<Source>,
    pub reviewed: Option<jiff::civil::Date>,
    /// `rubric-id@version` the labels and expectations were written under (validated
    /// against the suite's rubrics).
    pub rubric: Option<String>,
    pub pins: BTreeMap<String, String>,
    pub status: Status,
    pub labels: Vec<Label>,
    /// Whether the output is compared with an insta snapshot.
    pub snapshot: bool,
    /// Branches the case names that the catalog lists as removed (a decay finding).
    pub removed_branches: Vec<Decision>,
    /// The lines of the case file's top-level keys (`reviewed`, `pins`, `rubric`...), so a
    /// finding about one points at it.
    pub key_lines: BTreeMap<String, u32>,
    pub messages: Vec<Message>,
    pub vars: serde_json::Map<String, Value>,
    pub customer: Option<String>,
    /// The serving tier the case forces (`input.tier`, or one of `tiers:`).
    pub tier: Option<String>,
    /// The load condition this variant runs under (one of `conditions:`).
    pub condition: Option<String>,
    /// The id of the case file's own case, when this is one of its variants (`tiers:`,
    /// `conditions:`): `refunds/eu-1@tier=secondary` is a variant of `refunds/eu-1`.
    pub variant_of: Option<String>,
    /// The most samples the case takes: exactly this many when `Sampling::Fixed`.
    pub samples: u32,
    pub sampling: Sampling,
    pub rule: PassRule,
    /// Sequential sampling: samples are taken this many at a time, and the case stops as
    /// soon as the verdict of all `samples` is decided whatever the rest would say.
    pub sequential: Option<u32>,
    pub timeout: Duration,
    pub(crate) checks: Vec<Check>,
}

/// How many samples a case takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sampling {
    /// `samples: n`: exactly `n` (fewer only when `sequential` settles the verdict early).
    Fixed,
    /// `samples: {min, max}`: from `min` up to [`Case::samples`], looked at as they
    /// arrive and stopped once the comparison with the baseline is clear; `min` when the
    /// case has no baseline to compare with.
    Adaptive { min: u32 },
    /// Nothing declared: one sample — and when the case has a baseline, more while its
    /// samples disagree with it (a failure where the baseline passes), up to
    /// [`DEFAULT_ESCALATION`].
    Default,
}

/// How far a case that declares no `samples` goes when its first samples disagree with its
/// baseline: far enough to call a case that stopped passing a regression against a
/// baseline of a few runs, and it costs nothing while the samples agree.
pub const DEFAULT_ESCALATION: u32 = 32;

/// Why `snapshot: true` is a configuration error in a build without the `snapshots`
/// feature.
#[cfg(not(feature = "snapshots"))]
pub(crate) const SNAPSHOTS_FEATURE: &str = "`snapshot: true` needs evalgate's `snapshots` feature \
     (insta), which this build was compiled without: in Cargo.toml, \
     `evalgate = { version = \"0.1\", features = [\"snapshots\"] }`";

pub const TEST_PREFIX: &str = "evals::";

impl Case {
    /// The libtest name of this case: `evals::<id>`.
    pub fn test_name(&self) -> String {
        format!("{TEST_PREFIX}{}", self.id)
    }

    /// Whether libtest lists the case as ignored (drafts).
    pub fn is_ignored(&self) -> bool {
        matches!(self.status, Status::Draft)
    }

    /// The branches the case expects to reach (`branches` and `path`): what tells coverage
    /// that a catalog branch is exercised on purpose, not by accident.
    pub fn expected_branches(&self) -> Vec<Decision> {
        let mut expected: Vec<Decision> = self
            .checks
            .iter()
            .filter(|c| matches!(c.kind, CheckKind::Branches(_) | CheckKind::Path(_)))
            .flat_map(|c| c.kind.decisions().iter().cloned())
            .collect();
        expected.sort();
        expected.dedup();
        expected
    }

    /// Builds the request for one sample; a fresh value every time.
    pub fn request(&self, sample: u32) -> Request {
        let mut request = Request::new(self.id.clone(), sample, self.messages.clone());
        request.vars = self.vars.clone();
        request.customer = self.customer.clone();
        request.tier = self.tier.clone();
        request
    }

    /// Parses and validates the case file at `path` (`rel` is its path under `cases/`): the
    /// case, or its variants (`tiers:`, `conditions:`).
    pub(crate) fn load(
        path: &Path,
        display: PathBuf,
        rel: &Path,
        suite: &Suite,
    ) -> Result<Vec<Case>, ConfigError> {
        let source = crate::yaml::read(path).map_err(|e| ConfigError {
            path: display.clone(),
            ..e
        })?;
        Case::from_source(&source, display, rel, suite)
    }

    /// Parses and validates the text of a case file as if it were at `display` (`rel` under
    /// `cases/`): for case files about to be written.
    pub fn from_source(
        source: &str,
        display: PathBuf,
        rel: &Path,
        suite: &Suite,
    ) -> Result<Vec<Case>, ConfigError> {
        let file: CaseFile = crate::yaml::parse(&display, source)?;
        Case::validate(file, display, rel, source, suite)
    }

    /// The cases a case file runs as: itself, or one variant per tier of `tiers:`; each of
    /// those also under every load condition of `conditions:` (besides under none).
    fn expand(base: Case, tiers: &[String], conditions: &[String]) -> Vec<Case> {
        let by_tier: Vec<Case> = if tiers.is_empty() {
            vec![base]
        } else {
            tiers
                .iter()
                .map(|tier| base.variant(&format!("tier={tier}"), |c| c.tier = Some(tier.clone())))
                .collect()
        };
        by_tier
            .into_iter()
            .flat_map(|case| {
                let under: Vec<Case> = conditions
                    .iter()
                    .map(|name| {
                        case.variant(&format!("condition={name}"), |c| {
                            c.condition = Some(name.clone())
                        })
                    })
                    .collect();
                std::iter::once(case).chain(under)
            })
            .collect()
    }

    /// A copy of the case with `@label` appended to its id and `change` applied.
    fn variant(&self, label: &str, change: impl FnOnce(&mut Case)) -> Case {
        let mut variant = self.clone();
        variant.variant_of = Some(self.variant_of.clone().unwrap_or_else(|| self.id.clone()));
        variant.id = format!("{}{VARIANT_SEPARATOR}{label}", self.id);
        change(&mut variant);
        variant
    }

    fn validate(
        file: CaseFile,
        display: PathBuf,
        rel: &Path,
        source: &str,
        suite: &Suite,
    ) -> Result<Vec<Case>, ConfigError> {
        let err = |position: Position, message: String| {
            ConfigError::new(&display, message).at(position, source)
        };
        let (id, line) = match &file.id {
            Some(id) => (id.value.clone(), Position::of(&id.referenced).line),
            None => (id_from_path(rel), 1),
        };
        if let Some(problem) = invalid_id(&id).or_else(|| {
            id.contains(VARIANT_SEPARATOR)
                .then_some("contains `@`, which separates a case from its variants")
        }) {
            let position = file
                .id
                .as_ref()
                .map(|s| Position::of(&s.referenced))
                .unwrap_or(Position::new(1, 1));
            return Err(err(position, format!("case id `{id}` {problem}")));
        }
        if file.input.messages.is_empty() {
            // The key's line (the parsed list has no position of its own), else the top.
            let at = source
                .lines()
                .position(|line| line.trim_start().starts_with("messages:"))
                .map_or(Position::new(1, 1), |index| {
                    let line = source.lines().nth(index).unwrap_or_default();
                    let column = line.len() - line.trim_start().len();
                    Position::new(index as u32 + 1, column as u32 + 1)
                });
            return Err(err(
                at,
                "`input.messages` is empty; a case needs at least one message".into(),
            ));
        }
        let samples_at = file
            .samples
            .as_ref()
            .map(|s| Position::of(&s.referenced))
            .unwrap_or(Position::new(1, 1));
        if let Some(spec) = &file.samples {
            spec.value
                .validate(MAX_SAMPLES)
                .map_err(|m| err(samples_at, m))?;
        }
        let (samples, sampling) = match file
            .samples
            .as_ref()
            .map(|s| s.value)
            .or(suite.defaults.samples)
        {
            // One sample is what a case takes when it says nothing: the same, with a baseline,
            // takes more when it fails where the baseline passes — unless a rule needs it fixed.
            Some(SamplesFile::Fixed(1)) if file.pass.is_none() && suite.defaults.pass.is_none() => {
                (1, Sampling::Default)
            }
            Some(SamplesFile::Fixed(n)) => (n, Sampling::Fixed),
            Some(SamplesFile::Range(r)) if r.min == r.max => (r.max, Sampling::Fixed),
            Some(SamplesFile::Range(r)) => (r.max, Sampling::Adaptive { min: r.min }),
            None => (1, Sampling::Default),
        };
        let (rule, rule_at) = match &file.pass {
            Some(rule) => (rule.value, Position::of(&rule.referenced)),
            None => (
                suite.defaults.pass.unwrap_or(match sampling {
                    Sampling::Fixed => PassRule::AtLeast(samples),
                    Sampling::Adaptive { .. } | Sampling::Default => PassRule::All,
                }),
                samples_at,
            ),
        };
        if let (PassRule::AtLeast(k), Sampling::Adaptive { .. }) = (rule, sampling) {
            return Err(err(
                rule_at,
                format!(
                    "`pass: {{at_least: {k}}}` counts passes out of a fixed number of samples, \
                     but `samples: {{min, max}}` takes as many as the comparison needs"
                ),
            )
            .with_help("write `pass: {min_rate: …}` (a rate, judged on any number of samples) or `pass: all`"));
        }
        validate_rule(rule, samples)
            .map_err(|(message, help)| err(rule_at, message).with_help(help))?;
        let sequential = match (
            file.sequential.as_ref().map(|s| (s.value, &s.referenced)),
            sampling,
        ) {
            (Some((Sequential::On(false), _)), _) => None,
            (Some((_, at)), Sampling::Adaptive { .. }) => {
                return Err(err(
                    Position::of(at),
                    "`sequential` stops a fixed number of samples early, and `samples: {min, \
                     max}` already stops as soon as the comparison with the baseline is clear"
                        .into(),
                )
                .with_help("keep one of them"));
            }
            (Some((s, at)), _) => group_size(s, samples).map_err(|m| err(Position::of(at), m))?,
            (None, Sampling::Fixed) => suite
                .defaults
                .sequential
                .and_then(|s| group_size(s, samples).ok().flatten()),
            (None, _) => None,
        };
        let known_tier = |tier: &str| {
            if suite.tiers.is_empty() || suite.tiers.iter().any(|t| t == tier) {
                Ok(())
            } else {
                Err(format!("the suite's tiers are: {}", suite.tiers.join(", ")))
            }
        };
        let tiers = names(&file.tiers, "tiers", known_tier).map_err(|(at, m)| err(at, m))?;
        if let Some(tier) = &file.input.tier {
            known_tier(tier).map_err(|why| {
                err(
                    Position::new(1, 1),
                    format!("`input.tier: {tier}` is not a tier of the suite: {why}"),
                )
            })?;
        }
        if !tiers.is_empty() && file.input.tier.is_some() {
            return Err(err(
                Position::of(&file.tiers[0].referenced),
                "`tiers:` runs the case once per tier; it cannot also force `input.tier`".into(),
            ));
        }
        let conditions = names(&file.conditions, "conditions", |name| match &suite.load {
            Some(load) if load.conditions.contains_key(name) => Ok(()),
            Some(load) => Err(format!(
                "the suite's load conditions are: {}",
                load.conditions
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
            None => Err("the suite declares no load conditions (`load:`)".to_string()),
        })
        .map_err(|(at, m)| err(at, m))?;
        let mut checks = Vec::with_capacity(file.expect.len());
        for spanned in &file.expect {
            let position = Position::of(&spanned.referenced);
            let kind =
                compile(&spanned.value, &file.input).map_err(|message| err(position, message))?;
            if matches!(kind, CheckKind::Todo(_)) && file.status != Status::Draft {
                return Err(err(
                    position,
                    "a `todo` expectation is a placeholder: only a draft may have one".into(),
                )
                .with_help(
                    "write the expectation it describes (contains, branches, refusal, ...), \
                     then set the case active; or keep `status: draft`",
                ));
            }
            // A retired case is kept for history: what it names may be long gone.
            if let Some(catalog) = &suite.catalog
                && !matches!(file.status, Status::Retired { .. })
            {
                check_against_catalog(&kind, catalog)
                    .map_err(|(message, help)| err(position, message).with_help(help))?;
            }
            checks.push(Check { position, kind });
        }
        #[cfg(not(feature = "snapshots"))]
        if file.snapshot {
            let line = top_level_keys(source).get("snapshot").copied().unwrap_or(1);
            return Err(err(Position::new(line, 1), SNAPSHOTS_FEATURE.into()));
        }
        if checks.is_empty() && !file.snapshot {
            return Err(err(
                Position::new(1, 1),
                "the case has no `expect:` entries; a case that checks nothing always passes"
                    .into(),
            )
            .with_help("add at least one expectation, e.g. `expect: [ {contains: \"refund\"} ]`"));
        }
        let mut removed_branches: Vec<Decision> = match &suite.catalog {
            Some(catalog) => checks
                .iter()
                .flat_map(|c| c.kind.decisions().iter())
                .filter(|d| catalog.is_removed(d))
                .cloned()
                .collect(),
            None => Vec::new(),
        };
        removed_branches.sort();
        removed_branches.dedup();
        let retired = matches!(file.status, Status::Retired { .. });
        if let Some(rubric) = file.rubric.as_ref().filter(|_| !retired) {
            let at = Position::of(&rubric.referenced);
            let reference = RubricRef::parse(&rubric.value).map_err(|m| err(at, m))?;
            if let Some(current) = suite.rubrics.get(&reference.id)
                && reference.version > current.version
            {
                return Err(err(
                    at,
                    format!(
                        "`rubric: {}` names version {}, but {} is at version {}",
                        rubric.value,
                        reference.version,
                        current.file.display(),
                        current.version
                    ),
                )
                .with_help(
                    "a case cannot be labelled under a rubric version that does not exist yet",
                ));
            }
            if !suite.rubrics.contains_key(&reference.id) {
                let known = suite.rubrics.keys().cloned().collect::<Vec<_>>().join(", ");
                return Err(err(
                    at,
                    format!("`rubric: {}` names no rubric in the suite", rubric.value),
                )
                .with_help(if known.is_empty() {
                    format!(
                        "add evals/rubrics/{}.yaml with its `version:`",
                        reference.id
                    )
                } else {
                    format!("the rubrics are: {known}")
                }));
            }
        }
        if !file.labels.is_empty() && file.rubric.is_none() {
            return Err(err(
                Position::new(1, 1),
                "the case has `labels:` but no `rubric:` they were given under".into(),
            ));
        }
        let classname = match rel.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("."),
            _ => "evals".to_string(),
        };
        let case = Case {
            id,
            file: display,
            line,
            classname,
            description: file.description,
            tags: file.tags,
            source: file.source,
            reviewed: file.reviewed,
            rubric: file.rubric.map(|r| r.value),
            pins: file.pins,
            status: file.status,
            labels: file.labels,
            snapshot: file.snapshot,
            removed_branches,
            key_lines: top_level_keys(source),
            messages: file.input.messages,
            vars: file.input.vars,
            customer: file.input.customer,
            tier: file.input.tier,
            condition: None,
            variant_of: None,
            samples,
            sampling,
            rule,
            sequential,
            timeout: file.timeout.map(|t| t.0).unwrap_or(suite.defaults.timeout),
            checks,
        };
        Ok(Case::expand(case, &tiers, &conditions))
    }
}

/// The group size of `sequential` for a case of `samples` samples: `true` takes a fifth of
/// them at a time (rounded up), `false` none.
fn group_size(sequential: Sequential, samples: u32) -> Result<Option<u32>, String> {
    match sequential {
        Sequential::On(false) => Ok(None),
        Sequential::On(true) => Ok(Some(samples.div_ceil(5).max(1))),
        Sequential::Group { group } if group == 0 || group > samples => Err(format!(
            "`sequential.group: {group}` must be between 1 and the case's samples ({samples})"
        )),
        Sequential::Group { group } => Ok(Some(group)),
    }
}

/// The names of a `tiers:` or `conditions:` list: non-empty, one word, no duplicates, and
/// each accepted by `known`.
fn names(
    list: &[serde_saphyr::Spanned<String>],
    key: &str,
    known: impl Fn(&str) -> Result<(), String>,
) -> Result<Vec<String>, (Position, String)> {
    let mut seen: Vec<String> = Vec::with_capacity(list.len());
    for item in list {
        let at = Position::of(&item.referenced);
        let name = item.value.as_str();
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.')
        {
            return Err((
                at,
                format!("`{key}: {name:?}` must be a name of letters, digits, `_`, `-` or `.`"),
            ));
        }
        if seen.iter().any(|s| s == name) {
            return Err((at, format!("`{key}` lists `{name}` twice")));
        }
        known(name).map_err(|why| (at, format!("`{key}` names `{name}`: {why}")))?;
        seen.push(name.to_string());
    }
    Ok(seen)
}

/// The line of each top-level `key:` of a YAML file (1-based).
fn top_level_keys(source: &str) -> BTreeMap<String, u32> {
    source
        .lines()
        .enumerate()
        .filter(|(_, line)| line.starts_with(|c: char| c.is_ascii_alphabetic()))
        .filter_map(|(i, line)| {
            let (key, _) = line.split_once(':')?;
            let key = key.trim();
            key.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
                .then(|| (key.to_string(), i as u32 + 1))
        })
        .collect()
}

/// The id of a case that sets none: its path under `cases/` without extension, `/`-separated.
pub(crate) fn id_from_path(rel: &Path) -> String {
    let without_ext = rel.with_extension("");
    without_ext
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

fn invalid_id(id: &str) -> Option<&'static str> {
    if id.is_empty() {
        Some("is empty")
    } else if id.chars().any(|c| c.is_whitespace() || c.is_control()) {
        Some("contains whitespace or control characters; test names must be one word")
    } else if id.starts_with('/') || id.ends_with('/') || id.contains("//") {
        Some("has an empty path segment")
    } else {
        None
    }
}
