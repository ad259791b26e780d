//! Each section of the suite file checked and turned into what the run uses; an error
//! points at the line (where the file gives one) and says what to write instead.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Component, Path};
use std::time::Duration;

use super::file::{BudgetFile, DefaultsFile, LoadFile, MemoryFile, SuiteFile, TracesFile};
use super::{DEFAULT_TRACE_PATH, Defaults, LoadPolicy, TraceFiles};
use crate::config::gate::{Gate, Metric, SignalMetric};
use crate::config::memory::MemoryPolicy;
use crate::config::output::Feature;
use crate::config::signals::NO_CONDITION;
use crate::errors::{At, ConfigError, Position};
use crate::verdict::{MAX_SAMPLES, validate_rule};

const DEFAULT_CONCURRENCY: usize = 8;
const MAX_CONCURRENCY: usize = 4096;

/// The sections the suite file configures that the terminal report shows (its gates add
/// theirs once loaded).
pub fn configured(file: &SuiteFile) -> BTreeSet<Feature> {
    [
        (file.decay.is_some(), Feature::Decay),
        (file.memory.is_some(), Feature::Memory),
        (!file.refusal.patterns.is_empty(), Feature::Slis),
        (file.verbosity.is_some(), Feature::OutputLength),
        (!file.tiers.is_empty(), Feature::Tiers),
        (file.time_zone.is_some(), Feature::TimeZone),
        (!file.prices.is_empty(), Feature::Cost),
    ]
    .into_iter()
    .filter_map(|(written, feature)| written.then_some(feature))
    .collect()
}

/// `defaults:`: samples and a pass rule that fit them, sequential turns, the timeout.
pub fn defaults(file: &DefaultsFile, at: &At) -> Result<Defaults, ConfigError> {
    let samples = file.samples.as_ref().map(|s| s.value);
    if let Some(spec) = &file.samples
        && let Err(message) = spec.value.validate(MAX_SAMPLES)
    {
        return Err(at.line(
            Position::of(&spec.referenced),
            format!("defaults: {message}"),
        ));
    }
    if let Some(rule) = file.pass
        && let Err((message, help)) = validate_rule(rule, samples.map_or(1, |s| s.max()))
    {
        return Err(at.file(format!("defaults: {message}")).with_help(help));
    }
    Ok(Defaults {
        samples,
        pass: file.pass,
        sequential: file.sequential,
        timeout: file.timeout.map_or(Duration::from_secs(60), |t| t.0),
    })
}

/// `concurrency:`, between 1 and 4096 (8 when unset).
pub fn concurrency(
    value: Option<&serde_saphyr::Spanned<usize>>,
    at: &At,
) -> Result<usize, ConfigError> {
    match value {
        Some(c) if c.value == 0 || c.value > MAX_CONCURRENCY => Err(at.line(
            Position::of(&c.referenced),
            format!("`concurrency` must be between 1 and {MAX_CONCURRENCY}"),
        )),
        Some(c) => Ok(c.value),
        None => Ok(DEFAULT_CONCURRENCY),
    }
}

/// `refusal.patterns:`, each a regular expression.
pub fn refusal_patterns(patterns: &[String], at: &At) -> Result<Vec<regex::Regex>, ConfigError> {
    patterns
        .iter()
        .map(|pattern| {
            regex::Regex::new(pattern)
                .map_err(|e| at.file(format!("invalid refusal pattern `{pattern}`: {e}")))
        })
        .collect()
}

/// `traces:`: where each sample's trace file is, relative to the run folder, one file per
/// case and sample.
pub fn traces(traces: Option<&TracesFile>, at: &At) -> Result<Option<TraceFiles>, ConfigError> {
    let Some(traces) = traces else {
        return Ok(None);
    };
    let Some(path) = &traces.path else {
        return Ok(Some(TraceFiles {
            template: DEFAULT_TRACE_PATH.into(),
        }));
    };
    let template = path.value.clone();
    let relative = Path::new(&template);
    let problem = if !template.contains("{case}") || !template.contains("{sample}") {
        Some("must contain `{case}` and `{sample}`, so every sample has its own file")
    } else if relative.is_absolute()
        || relative
            .components()
            .any(|c| matches!(c, Component::ParentDir))
    {
        Some("must be relative to the run folder, without `..`")
    } else {
        None
    };
    match problem {
        Some(problem) => Err(at
            .line(
                Position::of(&path.referenced),
                format!("`traces.path: {template}` {problem}"),
            )
            .with_help(format!("the default is `{DEFAULT_TRACE_PATH}`"))),
        None => Ok(Some(TraceFiles { template })),
    }
}

/// `budget.samples:`, at least 1.
pub fn budget(budget: Option<&BudgetFile>, at: &At) -> Result<Option<u64>, ConfigError> {
    match budget {
        None => Ok(None),
        Some(b) if b.samples.value >= 1 => Ok(Some(b.samples.value)),
        Some(b) => Err(at.line(
            Position::of(&b.samples.referenced),
            "`budget.samples` must be at least 1: it is the most samples one run may take for \
             adaptive sampling",
        )),
    }
}

/// `memory:`: the divergence and significance level, each strictly between 0 and 1.
pub fn memory(memory: Option<&MemoryFile>, at: &At) -> Result<MemoryPolicy, ConfigError> {
    let mut policy = MemoryPolicy::default();
    let Some(m) = memory else {
        return Ok(policy);
    };
    for (value, into, name, what) in [
        (
            &m.divergence,
            &mut policy.divergence,
            "divergence",
            "a Jaccard divergence",
        ),
        (&m.alpha, &mut policy.alpha, "alpha", "a significance level"),
    ] {
        match value {
            None => {}
            Some(v) if v.value > 0.0 && v.value < 1.0 => *into = v.value,
            Some(v) => {
                return Err(at.line(
                    Position::of(&v.referenced),
                    format!(
                        "`memory.{name}` is {what}, between 0 and 1 (exclusive); got {}",
                        v.value
                    ),
                ));
            }
        }
    }
    Ok(policy)
}

/// `load:`: the provider the fault proxy forwards to and at least one named condition.
pub fn load(load: Option<LoadFile>, at: &At) -> Result<Option<LoadPolicy>, ConfigError> {
    let Some(load) = load else {
        return Ok(None);
    };
    let mut conditions = BTreeMap::new();
    for (name, condition) in &load.conditions {
        let condition = crate::config::conditions::validate(name, condition).map_err(|m| {
            at.file(format!("load: {m}"))
                .with_help("see docs/src/tiers-and-load-conditions.md")
        })?;
        conditions.insert(name.clone(), condition);
    }
    if conditions.is_empty() {
        return Err(at.file(
            "`load` declares no `conditions`; name at least one (e.g. `peak_hours: {latency: \
             400ms}`)",
        ));
    }
    if load.upstream.trim().is_empty() {
        return Err(at.file(
            "`load.upstream` is empty; it is the model provider's base URL the proxy forwards to",
        ));
    }
    Ok(Some(LoadPolicy {
        upstream: load.upstream,
        env: load.env,
        timeout: load.timeout.map_or(Duration::from_secs(30), |t| t.0),
        conditions,
    }))
}

/// Every tier and load condition a gate names is declared by the suite: a misspelt one
/// would otherwise measure nothing, forever.
pub fn gate_references(
    gates: &[Gate],
    tiers: &[String],
    load: Option<&LoadPolicy>,
    at: &At,
) -> Result<(), ConfigError> {
    for gate in gates {
        let unknown = match &gate.metric {
            Metric::Signal(SignalMetric::TierShare(_)) if tiers.is_empty() => Some(format!(
                "gate `{}` needs the suite's `tiers:` (e.g. `tiers: [primary, secondary, \
                 canned]`): a misspelt tier would otherwise be a share of 0 forever",
                gate.name
            )),
            Metric::Signal(SignalMetric::TierShare(tier)) if !tiers.contains(tier) => {
                Some(format!(
                    "gate `{}` names tier `{tier}`, which is not in the suite's `tiers:` ({})",
                    gate.name,
                    tiers.join(", ")
                ))
            }
            Metric::Signal(SignalMetric::ConditionPassRate(c))
                if c != NO_CONDITION && !load.is_some_and(|l| l.conditions.contains_key(c)) =>
            {
                Some(format!(
                    "gate `{}` names load condition `{c}`, which the suite's `load:` does not \
                     declare (`{NO_CONDITION}` is the run under no condition)",
                    gate.name
                ))
            }
            _ => None,
        };
        if let Some(message) = unknown {
            return Err(at.file(message));
        }
    }
    Ok(())
}

/// The suite's name when `name:` is not written: the folder holding the evals folder
/// (the project's), else `evals`.
pub fn default_name(dir: &Path) -> String {
    dir.canonicalize()
        .ok()
        .as_deref()
        .and_then(Path::parent)
        .and_then(Path::file_name)
        .map_or_else(|| "evals".into(), |n| n.to_string_lossy().into_owned())
}
