//! Gates: named policies on a run's metrics, each `warn` or `fail` with a threshold, as
//! the suite declares them. Coverage, decay, SLO and cost metrics all register here as
//! [`Metric`]s; the report evaluates them on records (`report::gates`), so identically
//! after `cargo test`, nextest and merged shards, and a failing `fail` gate fails the run.

mod metric;

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_saphyr::Spanned;

pub use metric::{Metric, SignalMetric};

use super::catalog::BranchCatalog;
use crate::errors::{ConfigError, Position};

/// A gate as written in the suite file's `gates:` list.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GateFile {
    /// Defaults to the metric.
    pub name: Option<String>,
    pub metric: Spanned<String>,
    pub min: Option<Spanned<f64>>,
    pub max: Option<Spanned<f64>>,
    #[serde(default)]
    pub level: GateLevel,
}

/// What a failing gate does.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GateLevel {
    /// Reported, and the run still passes.
    Warn,
    /// The run fails.
    #[default]
    Fail,
}

impl fmt::Display for GateLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            GateLevel::Warn => "warn",
            GateLevel::Fail => "fail",
        })
    }
}

/// The bound a metric's value must respect.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Bound {
    Min(f64),
    Max(f64),
}

impl Bound {
    pub fn holds(self, value: f64) -> bool {
        match self {
            Bound::Min(min) => value >= min,
            Bound::Max(max) => value <= max,
        }
    }
}

impl fmt::Display for Bound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Bound::Min(v) => write!(f, "≥ {}", number(*v)),
            Bound::Max(v) => write!(f, "≤ {}", number(*v)),
        }
    }
}

fn number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        format!("{v}")
    }
}

/// A validated gate, recorded with each run so reports rebuilt from records apply the
/// policy the run was made under.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Gate {
    pub name: String,
    pub metric: Metric,
    pub bound: Bound,
    pub level: GateLevel,
    /// Whether the suite declared it (`false`: one of the defaults a catalog brings).
    #[serde(default)]
    pub declared: bool,
}

impl Gate {
    /// A gate the suite declares on `metric`, named after it.
    pub fn declared(metric: Metric, bound: Bound, level: GateLevel) -> Gate {
        Gate {
            name: metric.to_string(),
            metric,
            bound,
            level,
            declared: true,
        }
    }

    pub fn from_file(
        file: &GateFile,
        path: &std::path::Path,
        source: &str,
        catalog: Option<&BranchCatalog>,
    ) -> Result<Gate, ConfigError> {
        let err = |at: &serde_saphyr::Location, message: String| {
            ConfigError::new(path, message).at(Position::of(at), source)
        };
        let metric = Metric::parse(&file.metric.value).map_err(|help| {
            err(
                &file.metric.referenced,
                format!("gate names an unknown metric `{}`", file.metric.value),
            )
            .with_help(help)
        })?;
        if metric.needs_catalog() && catalog.is_none() {
            return Err(err(
                &file.metric.referenced,
                format!("gate `{metric}` needs a branch catalog"),
            )
            .with_help("write evals/branches.yaml (see `evalgate catalog suggest`)"));
        }
        if let (Metric::PointCoverageOf(point), Some(catalog)) = (&metric, catalog)
            && catalog.point(point).is_none()
        {
            return Err(err(
                &file.metric.referenced,
                format!("gate `{metric}` names a decision point the catalog does not list"),
            ));
        }
        let bound = match (&file.min, &file.max) {
            (Some(min), None) => (Bound::Min(min.value), &min.referenced),
            (None, Some(max)) => (Bound::Max(max.value), &max.referenced),
            _ => {
                return Err(err(
                    &file.metric.referenced,
                    format!("gate `{metric}` needs exactly one of `min:` or `max:`"),
                )
                .with_help(metric.threshold_help()));
            }
        };
        let (bound, at) = bound;
        metric
            .check_bound(bound)
            .map_err(|message| err(at, message).with_help(metric.threshold_help()))?;
        Ok(Gate {
            name: file.name.clone().unwrap_or_else(|| metric.to_string()),
            metric,
            bound,
            level: file.level,
            declared: true,
        })
    }

    /// The gates a branch catalog brings unless the suite gates the same metric itself:
    /// `high` branches must be covered; unknown branches and a stale catalog warn.
    pub fn catalog_defaults() -> Vec<Gate> {
        [
            (Metric::HighRiskUncovered, GateLevel::Fail),
            (Metric::UnknownBranches, GateLevel::Warn),
            (Metric::StaleSources, GateLevel::Warn),
        ]
        .into_iter()
        .map(|(metric, level)| Gate {
            name: metric.to_string(),
            metric,
            bound: Bound::Max(0.0),
            level,
            declared: false,
        })
        .collect()
    }
}

/// Loads the suite's `gates:`, adding the catalog's default gates, the regressions gate of a
/// suite with a baseline, and a `warn` on reruns to green, for metrics it does not gate
/// itself.
pub fn load(
    files: &[GateFile],
    path: &std::path::Path,
    source: &str,
    catalog: Option<&BranchCatalog>,
    has_baseline: bool,
) -> Result<Vec<Gate>, ConfigError> {
    let mut gates: Vec<Gate> = Vec::with_capacity(files.len() + 3);
    for file in files {
        let gate = Gate::from_file(file, path, source, catalog)?;
        if gate.metric == Metric::Regressions && !has_baseline {
            return Err(ConfigError::new(
                path,
                format!("gate `{}` needs a baseline", gate.metric),
            )
            .at(Position::of(&file.metric.referenced), source)
            .with_help("add `baseline: {path: baseline.json}` and save one with `evalgate baseline save`"));
        }
        if gates.iter().any(|g| g.name == gate.name) {
            return Err(
                ConfigError::new(path, format!("two gates are named `{}`", gate.name))
                    .at(Position::of(&file.metric.referenced), source)
                    .with_help("give one of them a `name:`"),
            );
        }
        gates.push(gate);
    }
    if catalog.is_some() {
        for default in Gate::catalog_defaults() {
            if !gates.iter().any(|g| g.metric == default.metric) {
                gates.push(default);
            }
        }
    }
    // A suite that names a baseline is gated on it: every regression the run-level
    // comparison calls fails the run, not only those a case's own test already failed on.
    if has_baseline && !gates.iter().any(|g| g.metric == Metric::Regressions) {
        gates.push(Gate {
            name: Metric::Regressions.to_string(),
            metric: Metric::Regressions,
            bound: Bound::Max(0.0),
            level: GateLevel::Fail,
            declared: false,
        });
    }
    if !gates.iter().any(|g| g.metric == Metric::RerunsToGreen) {
        gates.push(Gate {
            name: Metric::RerunsToGreen.to_string(),
            metric: Metric::RerunsToGreen,
            bound: Bound::Max(0.0),
            level: GateLevel::Warn,
            declared: false,
        });
    }
    Ok(gates)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_suite_with_a_baseline_is_gated_on_it_and_every_suite_warns_on_reruns_to_green() {
        let path = std::path::Path::new("evals/evalgate.yaml");
        let gates = load(&[], path, "", None, true).unwrap();
        let of = |metric: Metric| gates.iter().find(|g| g.metric == metric).cloned();
        let regressions = of(Metric::Regressions).unwrap();
        assert_eq!(
            (regressions.bound, regressions.level, regressions.declared),
            (Bound::Max(0.0), GateLevel::Fail, false)
        );
        assert_eq!(of(Metric::RerunsToGreen).unwrap().level, GateLevel::Warn);
        let gates = load(&[], path, "", None, false).unwrap();
        assert!(gates.iter().all(|g| g.metric != Metric::Regressions));
    }
}
