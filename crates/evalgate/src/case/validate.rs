//! A parsed case file checked against the suite and turned into ready-to-run [`Case`]s
//! (one per tier and load condition it names). Every error points at its YAML line and
//! says what to write instead.

use std::path::{Path, PathBuf};

#[cfg(not(feature = "snapshots"))]
use super::SNAPSHOTS_FEATURE;
use super::compile::{Check, CheckKind, check_against_catalog, compile};
use super::model::{CaseFile, SamplesFile, Sequential};
use super::{Case, Sampling, Status, VARIANT_SEPARATOR, id_from_path, top_level_keys};
use crate::decay::RubricRef;
use crate::errors::{At, ConfigError, Position};
use crate::observation::Decision;
use crate::suite::Suite;
use crate::verdict::{MAX_SAMPLES, PassRule, validate_rule};

/// How many samples a case takes and how they are judged.
struct Sampled {
    samples: u32,
    sampling: Sampling,
    rule: PassRule,
    sequential: Option<u32>,
}

impl Case {
    pub(super) fn validate(
        file: CaseFile,
        display: PathBuf,
        rel: &Path,
        source: &str,
        suite: &Suite,
    ) -> Result<Vec<Case>, ConfigError> {
        let at = At {
            path: &display,
            source,
        };
        let (id, line) = id(&file, rel, &at)?;
        messages_present(&file, &at)?;
        let Sampled {
            samples,
            sampling,
            rule,
            sequential,
        } = sampled(&file, suite, &at)?;
        let (tiers, conditions) = tiers_and_conditions(&file, suite, &at)?;
        let checks = checks(&file, suite, &at)?;
        let removed_branches = removed_branches(&checks, suite);
        rubric(&file, suite, &at)?;
        let case = Case {
            id,
            file: display,
            line,
            classname: classname(rel),
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
            timeout: file.timeout.map_or(suite.defaults.timeout, |t| t.0),
            checks,
        };
        Ok(Case::expand(case, &tiers, &conditions))
    }
}

/// The case's id (`id:`, else its path under `cases/`) and the line it starts at.
fn id(file: &CaseFile, rel: &Path, at: &At) -> Result<(String, u32), ConfigError> {
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
            .map_or(Position::new(1, 1), |s| Position::of(&s.referenced));
        return Err(at.line(position, format!("case id `{id}` {problem}")));
    }
    Ok((id, line))
}

/// A case sends at least one message.
fn messages_present(file: &CaseFile, at: &At) -> Result<(), ConfigError> {
    if !file.input.messages.is_empty() {
        return Ok(());
    }
    // The key's line (the parsed list has no position of its own), else the top.
    let position = at
        .source
        .lines()
        .enumerate()
        .find(|(_, line)| line.trim_start().starts_with("messages:"))
        .map_or(Position::new(1, 1), |(index, line)| {
            let column = line.len() - line.trim_start().len();
            Position::new(index as u32 + 1, column as u32 + 1)
        });
    Err(at.line(
        position,
        "`input.messages` is empty; a case needs at least one message",
    ))
}

/// `samples:`, `pass:` and `sequential:` (the case's, else the suite's defaults), each
/// checked against the others.
fn sampled(file: &CaseFile, suite: &Suite, at: &At) -> Result<Sampled, ConfigError> {
    let samples_at = file
        .samples
        .as_ref()
        .map_or(Position::new(1, 1), |s| Position::of(&s.referenced));
    if let Some(spec) = &file.samples {
        spec.value
            .validate(MAX_SAMPLES)
            .map_err(|m| at.line(samples_at, m))?;
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
        return Err(at
            .line(
                rule_at,
                format!(
                    "`pass: {{at_least: {k}}}` counts passes out of a fixed number of samples, \
                     but `samples: {{min, max}}` takes as many as the comparison needs"
                ),
            )
            .with_help(
                "write `pass: {min_rate: …}` (a rate, judged on any number of samples) or \
                 `pass: all`",
            ));
    }
    validate_rule(rule, samples)
        .map_err(|(message, help)| at.line(rule_at, message).with_help(help))?;
    let sequential = match (
        file.sequential.as_ref().map(|s| (s.value, &s.referenced)),
        sampling,
    ) {
        (Some((Sequential::On(false), _)), _) => None,
        (Some((_, position)), Sampling::Adaptive { .. }) => {
            return Err(at
                .line(
                    Position::of(position),
                    "`sequential` stops a fixed number of samples early, and `samples: {min, \
                     max}` already stops as soon as the comparison with the baseline is clear",
                )
                .with_help("keep one of them"));
        }
        (Some((s, position)), _) => {
            group_size(s, samples).map_err(|m| at.line(Position::of(position), m))?
        }
        (None, Sampling::Fixed) => suite
            .defaults
            .sequential
            .and_then(|s| group_size(s, samples).ok().flatten()),
        (None, _) => None,
    };
    Ok(Sampled {
        samples,
        sampling,
        rule,
        sequential,
    })
}

/// `tiers:` and `conditions:`, each naming only what the suite declares.
fn tiers_and_conditions(
    file: &CaseFile,
    suite: &Suite,
    at: &At,
) -> Result<(Vec<String>, Vec<String>), ConfigError> {
    let known_tier = |tier: &str| {
        if suite.tiers.is_empty() || suite.tiers.iter().any(|t| t == tier) {
            Ok(())
        } else {
            Err(format!("the suite's tiers are: {}", suite.tiers.join(", ")))
        }
    };
    let tiers = names(&file.tiers, "tiers", known_tier).map_err(|(p, m)| at.line(p, m))?;
    if let Some(tier) = &file.input.tier {
        known_tier(tier).map_err(|why| {
            at.line(
                Position::new(1, 1),
                format!("`input.tier: {tier}` is not a tier of the suite: {why}"),
            )
        })?;
    }
    if !tiers.is_empty() && file.input.tier.is_some() {
        return Err(at.line(
            Position::of(&file.tiers[0].referenced),
            "`tiers:` runs the case once per tier; it cannot also force `input.tier`",
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
    .map_err(|(p, m)| at.line(p, m))?;
    Ok((tiers, conditions))
}

/// The expectations, compiled: a `todo` only in a draft, branches the catalog knows, and at
/// least one check (or a snapshot).
fn checks(file: &CaseFile, suite: &Suite, at: &At) -> Result<Vec<Check>, ConfigError> {
    let mut checks = Vec::with_capacity(file.expect.len());
    for spanned in &file.expect {
        let position = Position::of(&spanned.referenced);
        let kind =
            compile(&spanned.value, &file.input).map_err(|message| at.line(position, message))?;
        if matches!(kind, CheckKind::Todo(_)) && file.status != Status::Draft {
            return Err(at
                .line(
                    position,
                    "a `todo` expectation is a placeholder: only a draft may have one",
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
                .map_err(|(message, help)| at.line(position, message).with_help(help))?;
        }
        checks.push(Check { position, kind });
    }
    #[cfg(not(feature = "snapshots"))]
    if file.snapshot {
        let line = top_level_keys(at.source)
            .get("snapshot")
            .copied()
            .unwrap_or(1);
        return Err(at.line(Position::new(line, 1), SNAPSHOTS_FEATURE));
    }
    if checks.is_empty() && !file.snapshot {
        return Err(at
            .line(
                Position::new(1, 1),
                "the case has no `expect:` entries; a case that checks nothing always passes",
            )
            .with_help("add at least one expectation, e.g. `expect: [ {contains: \"refund\"} ]`"));
    }
    Ok(checks)
}

/// The branches the checks name that the catalog lists as removed, once each.
fn removed_branches(checks: &[Check], suite: &Suite) -> Vec<Decision> {
    let Some(catalog) = &suite.catalog else {
        return Vec::new();
    };
    let mut removed: Vec<Decision> = checks
        .iter()
        .flat_map(|c| c.kind.decisions().iter())
        .filter(|d| catalog.is_removed(d))
        .cloned()
        .collect();
    removed.sort();
    removed.dedup();
    removed
}

/// `rubric:` names a rubric of the suite at a version that exists (not checked for a retired
/// case), and `labels:` come with one.
fn rubric(file: &CaseFile, suite: &Suite, at: &At) -> Result<(), ConfigError> {
    let retired = matches!(file.status, Status::Retired { .. });
    if let Some(rubric) = file.rubric.as_ref().filter(|_| !retired) {
        let position = Position::of(&rubric.referenced);
        let reference = RubricRef::parse(&rubric.value).map_err(|m| at.line(position, m))?;
        if let Some(current) = suite.rubrics.get(&reference.id)
            && reference.version > current.version
        {
            return Err(at
                .line(
                    position,
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
            return Err(at
                .line(
                    position,
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
        return Err(at.line(
            Position::new(1, 1),
            "the case has `labels:` but no `rubric:` they were given under",
        ));
    }
    Ok(())
}

/// The folder under `cases/`, dotted (`refunds.eu`), or `evals` at the top level.
fn classname(rel: &Path) -> String {
    match rel.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("."),
        _ => "evals".to_string(),
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
