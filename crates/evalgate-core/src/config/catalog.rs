//! The branch catalog: the decision points of the agent's planner and their branches, with
//! risk levels and the hashes of the files (planner prompt, tool schema) it was derived
//! from. Written by people in `evals/branches.yaml` (or the suite file's `catalog:`), it is
//! the denominator of planner coverage.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_saphyr::Spanned;

use crate::digest::sha256_file;
use crate::errors::{At, ConfigError, Position};
use crate::observation::Decision;

/// The catalog file looked for next to the suite file.
pub const CATALOG_FILE: &str = "branches.yaml";

/// The catalog as written (in `branches.yaml`, or under `catalog:` in the suite file).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogFile {
    /// The date of the last human review of the catalog.
    pub reviewed: Option<Spanned<jiff::civil::Date>>,
    /// The files the catalog was derived from.
    #[serde(default)]
    pub sources: Vec<SourceFile>,
    pub points: BTreeMap<String, Spanned<PointFile>>,
    /// Pairs of decisions the planner can take one after the other.
    #[serde(default)]
    pub transitions: Vec<Spanned<(Decision, Decision)>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceFile {
    /// Relative to the folder of the file the catalog is written in.
    pub path: Spanned<String>,
    /// The SHA-256 of the file when the catalog was last reviewed against it.
    pub sha256: Spanned<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PointFile {
    pub description: Option<String>,
    pub branches: BTreeMap<String, Spanned<Option<BranchFile>>>,
    /// Branches the planner no longer has: a case that still names one is decayed (a
    /// finding), not a typo (an error).
    #[serde(default)]
    pub removed: Vec<Spanned<String>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BranchFile {
    pub description: Option<String>,
    #[serde(default)]
    pub risk: Risk,
}

/// How bad it is when a branch misbehaves unseen. `high` branches must be covered.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Risk {
    /// Must be covered: counted by the `coverage.high_risk_uncovered` gate, and listed first when
    /// unreached.
    High,
    /// The default.
    #[default]
    Medium,
    /// Listed last when unreached.
    Low,
}

impl fmt::Display for Risk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Risk::High => "high",
            Risk::Medium => "medium",
            Risk::Low => "low",
        })
    }
}

/// A validated catalog, as recorded with each run (`suite.json` in the run folder), so
/// reports rebuilt from records use the catalog the run was checked against.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BranchCatalog {
    /// The YAML file the catalog is written in, as shown to users.
    pub file: String,
    /// When a person last reviewed the catalog against the planner's sources (`reviewed:`).
    pub reviewed: Option<jiff::civil::Date>,
    /// Decision points, in the order of the file.
    pub points: Vec<CatalogPoint>,
    /// Declared reachable pairs; empty when the catalog declares none.
    #[serde(default)]
    pub transitions: Vec<(Decision, Decision)>,
    /// Source files whose content changed since the catalog was reviewed.
    #[serde(default)]
    pub stale: Vec<StaleSource>,
}

/// One decision point of the catalog, e.g. `route`, and its branches.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CatalogPoint {
    /// The point's name.
    pub name: String,
    /// What the point decides, as the catalog describes it.
    pub description: Option<String>,
    /// The line of the point in the catalog file.
    pub line: u32,
    /// The branches the planner has, in the order of the file.
    pub branches: Vec<CatalogBranch>,
    /// Branches the planner no longer has.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub removed: Vec<String>,
}

/// One branch of a decision point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CatalogBranch {
    /// The branch's name, e.g. `handoff` (the decision `route.handoff`).
    pub name: String,
    /// What taking the branch means, as the catalog describes it.
    pub description: Option<String>,
    /// How bad it is when the branch misbehaves unseen.
    pub risk: Risk,
    /// The line of the branch in the catalog file (what LCOV points at).
    pub line: u32,
}

/// A file the catalog was derived from that no longer has the reviewed content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StaleSource {
    /// The source file (a prompt, a tool schema), relative to the catalog file's folder.
    pub path: String,
    /// Its SHA-256 when the catalog was last reviewed against it.
    pub reviewed_sha256: String,
    /// `None` when the file is gone.
    pub current_sha256: Option<String>,
}

impl BranchCatalog {
    /// Validates a parsed catalog written in `display` (whose text is `source`); source file
    /// paths are relative to `base`, the folder of that file.
    pub fn from_file(
        file: CatalogFile,
        display: &Path,
        source: &str,
        base: &Path,
    ) -> Result<BranchCatalog, ConfigError> {
        let at = At {
            path: display,
            source,
        };
        let lines: Vec<&str> = source.lines().collect();
        let mut ordered: Vec<(&String, &Spanned<PointFile>)> = file.points.iter().collect();
        ordered.sort_by_key(|(_, p)| (p.referenced.line(), p.referenced.column()));
        let points = ordered
            .into_iter()
            .map(|(name, point)| catalog_point(name, point, &lines, &at))
            .collect::<Result<Vec<_>, _>>()?;
        let mut catalog = BranchCatalog {
            file: display.display().to_string(),
            reviewed: file.reviewed.map(|r| r.value),
            points,
            transitions: Vec::new(),
            stale: Vec::new(),
        };
        for pair in &file.transitions {
            for decision in [&pair.value.0, &pair.value.1] {
                if !catalog.contains(decision) {
                    return Err(at.line(
                        Position::of(&pair.referenced),
                        format!("transition names `{decision}`, which is not in the catalog"),
                    ));
                }
            }
            catalog.transitions.push(pair.value.clone());
        }
        catalog.stale = stale_sources(&file.sources, base, &at)?;
        Ok(catalog)
    }

    /// Whether `decision` is a branch of the catalog.
    pub fn contains(&self, decision: &Decision) -> bool {
        self.point(&decision.point)
            .is_some_and(|p| p.branches.iter().any(|b| b.name == decision.branch))
    }

    /// Whether the catalog lists `decision` as a branch the planner no longer has.
    pub fn is_removed(&self, decision: &Decision) -> bool {
        self.point(&decision.point)
            .is_some_and(|p| p.removed.contains(&decision.branch))
    }

    /// The decision point named `name`.
    pub fn point(&self, name: &str) -> Option<&CatalogPoint> {
        self.points.iter().find(|p| p.name == name)
    }

    /// Every branch, as decisions, in catalog order.
    pub fn decisions(&self) -> impl Iterator<Item = (Decision, &CatalogBranch)> {
        self.points.iter().flat_map(|p| {
            p.branches
                .iter()
                .map(move |b| (Decision::new(&p.name, &b.name), b))
        })
    }
}

/// The line a mapping key is written on: saphyr spans point at the value, which for a
/// block mapping starts on a later line than its key.
/// A decision point of the catalog: a valid name, at least one branch, and no branch both
/// listed and removed.
fn catalog_point(
    name: &str,
    point: &Spanned<PointFile>,
    lines: &[&str],
    at: &At,
) -> Result<CatalogPoint, ConfigError> {
    let line = key_line(lines, name, Position::of(&point.referenced).line);
    if let Some(problem) = invalid_name(name, false) {
        return Err(at.line(
            Position::new(line, 1),
            format!("decision point `{name}` {problem}"),
        ));
    }
    if point.value.branches.is_empty() {
        return Err(at.line(
            Position::new(line, 1),
            format!("decision point `{name}` lists no branches"),
        ));
    }
    let mut branches: Vec<CatalogBranch> = Vec::new();
    for (branch, spec) in &point.value.branches {
        let line = key_line(lines, branch, Position::of(&spec.referenced).line);
        if let Some(problem) = invalid_name(branch, true) {
            return Err(at.line(
                Position::new(line, 1),
                format!("branch `{name}.{branch}` {problem}"),
            ));
        }
        let spec = spec.value.clone().unwrap_or_default();
        branches.push(CatalogBranch {
            name: branch.clone(),
            description: spec.description,
            risk: spec.risk,
            line,
        });
    }
    branches.sort_by_key(|b| b.line);
    let mut removed = Vec::new();
    for gone in &point.value.removed {
        if branches.iter().any(|b| b.name == gone.value) {
            return Err(at.line(
                Position::of(&gone.referenced),
                format!(
                    "branch `{name}.{}` is listed as removed and as a branch; keep one",
                    gone.value
                ),
            ));
        }
        removed.push(gone.value.clone());
    }
    Ok(CatalogPoint {
        name: name.to_string(),
        description: point.value.description.clone(),
        line,
        branches,
        removed,
    })
}

/// The source files whose SHA-256 differs from the one the catalog was reviewed against
/// (or that are gone); a hash that is not one is an error.
fn stale_sources(
    sources: &[SourceFile],
    base: &Path,
    at: &At,
) -> Result<Vec<StaleSource>, ConfigError> {
    let mut stale = Vec::new();
    for source_file in sources {
        let reviewed = source_file.sha256.value.trim().to_ascii_lowercase();
        let reviewed = reviewed.strip_prefix("sha256:").unwrap_or(&reviewed);
        if reviewed.len() != 64 || !reviewed.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(at
                .line(
                    Position::of(&source_file.sha256.referenced),
                    format!(
                        "`sha256: {}` is not a SHA-256 (64 hex digits)",
                        source_file.sha256.value
                    ),
                )
                .with_help("`evalgate catalog stamp` writes the current hashes"));
        }
        let path = base.join(&source_file.path.value);
        let current = sha256_file(&path).ok();
        if current.as_deref() != Some(reviewed) {
            stale.push(StaleSource {
                path: source_file.path.value.clone(),
                reviewed_sha256: reviewed.to_string(),
                current_sha256: current,
            });
        }
    }
    Ok(stale)
}

fn key_line(lines: &[&str], key: &str, value_line: u32) -> u32 {
    let plain = format!("{key}:");
    let quoted = [format!("\"{key}\":"), format!("'{key}':")];
    let mut line = value_line.min(lines.len() as u32);
    while line >= 1 {
        let text = lines[line as usize - 1].trim_start();
        let text = text.strip_prefix("- ").unwrap_or(text);
        if text.starts_with(&plain) || quoted.iter().any(|q| text.starts_with(q.as_str())) {
            return line;
        }
        line -= 1;
    }
    value_line
}

fn invalid_name(name: &str, dots_allowed: bool) -> Option<&'static str> {
    if name.is_empty() {
        Some("is empty")
    } else if name.chars().any(|c| c.is_whitespace() || c.is_control()) {
        Some("contains whitespace")
    } else if !dots_allowed && name.contains('.') {
        Some("contains a dot; decisions are written `point.branch`, so a point name has none")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(yaml: &str, base: &Path) -> Result<BranchCatalog, ConfigError> {
        let path = Path::new("evals/branches.yaml");
        let file: CatalogFile = crate::yaml::parse(path, yaml)?;
        BranchCatalog::from_file(file, path, yaml, base)
    }

    const CATALOG: &str = "\
points:
  route:
    description: which workflow answers
    branches:
      refund: {risk: high}
      handoff:
        risk: high
        description: a human takes over
      status:
  tool:
    branches:
      lookup_order: {}
transitions:
  - [route.refund, tool.lookup_order]
";

    #[test]
    fn branches_keep_file_order_and_their_lines() {
        let c = load(CATALOG, Path::new(".")).unwrap();
        let names: Vec<String> = c.decisions().map(|(d, _)| d.to_string()).collect();
        assert_eq!(
            names,
            [
                "route.refund",
                "route.handoff",
                "route.status",
                "tool.lookup_order"
            ]
        );
        let lines: Vec<u32> = c.decisions().map(|(_, b)| b.line).collect();
        assert_eq!(lines, [5, 6, 9, 12]);
        assert_eq!(c.points[0].line, 2);
        assert_eq!(c.point("route").unwrap().branches[1].risk, Risk::High);
        assert_eq!(c.point("route").unwrap().branches[2].risk, Risk::Medium);
        assert_eq!(c.transitions.len(), 1);
    }

    #[test]
    fn duplicate_branch_unknown_risk_and_bad_transition_are_errors_with_lines() {
        let dup = "points:\n  route:\n    branches:\n      refund: {}\n      refund: {}\n";
        let e = load(dup, Path::new(".")).unwrap_err();
        assert_eq!(e.position.line, 5, "{e:?}");
        assert!(e.message.contains("duplicate"), "{}", e.message);

        let risk = "points:\n  route:\n    branches:\n      refund: {risk: severe}\n";
        let e = load(risk, Path::new(".")).unwrap_err();
        assert_eq!(e.position.line, 4, "{e:?}");
        assert!(e.message.contains("severe"), "{}", e.message);

        let bad = "points:\n  route:\n    branches:\n      refund: {}\ntransitions:\n  - [route.refund, tool.x]\n";
        let e = load(bad, Path::new(".")).unwrap_err();
        assert!(e.message.contains("tool.x"), "{}", e.message);
        assert_eq!(e.position.line, 6);

        let dotted = "points:\n  route.x:\n    branches:\n      a: {}\n";
        assert!(
            load(dotted, Path::new("."))
                .unwrap_err()
                .message
                .contains("dot")
        );
    }

    #[test]
    fn a_changed_source_file_makes_the_catalog_stale() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("prompt.md"), "route to refund when asked\n").unwrap();
        let hash = sha256_file(&dir.path().join("prompt.md")).unwrap();
        let yaml = format!(
            "sources:\n  - path: prompt.md\n    sha256: {hash}\npoints:\n  route:\n    branches:\n      refund: {{}}\n"
        );
        assert!(load(&yaml, dir.path()).unwrap().stale.is_empty());
        std::fs::write(
            dir.path().join("prompt.md"),
            "route to handoff when angry\n",
        )
        .unwrap();
        let stale = load(&yaml, dir.path()).unwrap().stale;
        assert_eq!(stale.len(), 1);
        assert_eq!(stale[0].reviewed_sha256, hash);
        assert!(stale[0].current_sha256.is_some());
        std::fs::remove_file(dir.path().join("prompt.md")).unwrap();
        assert_eq!(
            load(&yaml, dir.path()).unwrap().stale[0].current_sha256,
            None
        );
        let e = load(
            "sources:\n  - path: p\n    sha256: abc\npoints: {}\n",
            dir.path(),
        )
        .unwrap_err();
        assert!(e.message.contains("not a SHA-256"));
    }
}
