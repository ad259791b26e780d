//! Planner coverage of a run: which catalog branches its samples reached, by which cases,
//! which branches were observed that the catalog does not list, and which consecutive
//! decision pairs (transitions) occurred. Computed from sample records alone, so merged
//! shards give the same coverage as one run.

use std::collections::HashMap;

use serde::Serialize;

use super::catalog::{BranchCatalog, Risk, StaleSource};
use crate::observation::Decision;

/// Coverage of one run.
#[derive(Debug, Clone, Default, Serialize)]
#[non_exhaustive]
pub struct Coverage {
    /// The catalog file; `None` when the suite has no catalog (then `points` lists what was
    /// observed and there is no denominator).
    pub catalog: Option<String>,
    /// Samples counted.
    pub samples: u64,
    /// Samples that reported at least one decision.
    pub samples_with_decisions: u64,
    /// Branches the catalog lists.
    pub branches_total: usize,
    /// Catalog branches at least one sample reached.
    pub branches_covered: usize,
    /// Each decision point, in catalog order (observed points without a catalog).
    pub points: Vec<PointCoverage>,
    /// Observed branches the catalog does not list.
    pub unknown: Vec<BranchCoverage>,
    /// Which consecutive decision pairs samples took.
    pub transitions: Transitions,
    /// Files the catalog was derived from whose content changed since it was reviewed.
    pub stale: Vec<StaleSource>,
}

/// Coverage of one decision point of the catalog.
#[derive(Debug, Clone, Serialize)]
pub struct PointCoverage {
    /// The point's name, e.g. `route`.
    pub name: String,
    /// The catalog's description of the point.
    pub description: Option<String>,
    /// The line of the point in the catalog file.
    pub line: Option<u32>,
    /// Samples that reached any branch of the point.
    pub samples: u64,
    /// Branches the catalog lists for the point.
    pub total: usize,
    /// Those of them at least one sample reached.
    pub covered: usize,
    /// Each branch of the point, in catalog order.
    pub branches: Vec<BranchCoverage>,
}

/// Coverage of one branch: how often it was reached and by which cases.
#[derive(Debug, Clone, Serialize)]
pub struct BranchCoverage {
    /// The branch, `point.branch`.
    pub decision: Decision,
    /// The catalog's description of the branch.
    pub description: Option<String>,
    /// `None` for branches not in the catalog.
    pub risk: Option<Risk>,
    /// The line of the branch in the catalog file; `None` for branches not in the catalog.
    pub line: Option<u32>,
    /// Samples that reached the branch (at least once).
    pub samples: u64,
    /// Cases with a sample that reached the branch.
    pub cases: Vec<String>,
    /// Cases that expect the branch (`expect.branches`, `path`).
    pub expected_by: Vec<String>,
}

impl BranchCoverage {
    /// `name (risk)`, or just `name` for a branch the catalog does not list.
    pub fn with_risk(&self, name: &impl std::fmt::Display) -> String {
        match self.risk {
            Some(risk) => format!("{name} ({risk})"),
            None => name.to_string(),
        }
    }
}

/// Consecutive decision pairs.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Transitions {
    /// Every pair seen, with how many samples took it, most frequent first.
    pub seen: Vec<TransitionSeen>,
    /// Pairs the catalog declares reachable (0 when it declares none).
    pub declared: usize,
    /// Declared pairs at least one sample took.
    pub declared_seen: usize,
    /// Declared pairs no sample took.
    pub unseen: Vec<(Decision, Decision)>,
}

/// One consecutive decision pair the samples took.
#[derive(Debug, Clone, Serialize)]
pub struct TransitionSeen {
    /// The earlier decision.
    pub from: Decision,
    /// The decision right after it.
    pub to: Decision,
    /// Samples that took the pair (at least once).
    pub samples: u64,
    /// Whether the catalog declares the pair (`None` when it declares no pairs).
    pub declared: Option<bool>,
}

impl Coverage {
    /// Covered over total catalog branches; `None` without a catalog.
    pub fn ratio(&self) -> Option<f64> {
        (self.catalog.is_some() && self.branches_total > 0)
            .then(|| self.branches_covered as f64 / self.branches_total as f64)
    }

    /// Catalog branches no sample reached, `high` risk first.
    pub fn uncovered(&self) -> impl Iterator<Item = &BranchCoverage> {
        let mut uncovered: Vec<&BranchCoverage> =
            self.points.iter().flat_map(|p| p.uncovered()).collect();
        uncovered.sort_by_key(|b| b.risk);
        uncovered.into_iter()
    }
}

impl PointCoverage {
    /// Covered over total branches of the point; `None` when the point lists none.
    pub fn ratio(&self) -> Option<f64> {
        (self.total > 0).then(|| self.covered as f64 / self.total as f64)
    }

    /// The point's branches no sample reached, `high` risk first, then catalog order.
    pub fn uncovered(&self) -> Vec<&BranchCoverage> {
        let mut uncovered: Vec<&BranchCoverage> =
            self.branches.iter().filter(|b| b.samples == 0).collect();
        uncovered.sort_by_key(|b| b.risk);
        uncovered
    }

    /// `route 5/6: uncovered route.clarify (medium)`.
    pub fn uncovered_text(&self) -> String {
        let list: Vec<String> = self
            .uncovered()
            .iter()
            .map(|b| b.with_risk(&b.decision))
            .collect();
        if list.is_empty() {
            format!(
                "{} {}/{}: every branch reached",
                self.name, self.covered, self.total
            )
        } else {
            format!(
                "{} {}/{}: uncovered {}",
                self.name,
                self.covered,
                self.total,
                list.join(", ")
            )
        }
    }
}

/// Accumulates decisions sample by sample; [`CoverageBuilder::finish`] gives the coverage.
/// Branches are interned once, so a sample costs one hash lookup per decision.
pub struct CoverageBuilder<'c> {
    catalog: Option<&'c BranchCatalog>,
    index: HashMap<Decision, usize>,
    branches: Vec<Tally>,
    cases: HashMap<String, u32>,
    case_names: Vec<String>,
    pairs: HashMap<(usize, usize), u64>,
    samples: u64,
    samples_with_decisions: u64,
    points: HashMap<String, usize>,
    /// Samples that reached each decision point (any of its branches).
    point_samples: Vec<u64>,
    /// Reused per sample: the branches and points it reached, each counted once.
    reached: Vec<usize>,
    reached_points: Vec<usize>,
}

struct Tally {
    decision: Decision,
    point: usize,
    in_catalog: bool,
    samples: u64,
    cases: Vec<u32>,
    expected_by: Vec<u32>,
}

impl<'c> CoverageBuilder<'c> {
    /// A builder counting against `catalog` (or, without one, collecting what was observed).
    pub fn new(catalog: Option<&'c BranchCatalog>) -> Self {
        let mut builder = CoverageBuilder {
            catalog,
            index: HashMap::new(),
            branches: Vec::new(),
            cases: HashMap::new(),
            case_names: Vec::new(),
            pairs: HashMap::new(),
            samples: 0,
            samples_with_decisions: 0,
            points: HashMap::new(),
            point_samples: Vec::new(),
            reached: Vec::new(),
            reached_points: Vec::new(),
        };
        if let Some(catalog) = catalog {
            for (decision, _) in catalog.decisions() {
                builder.intern(&decision, true);
            }
        }
        builder
    }

    fn intern(&mut self, decision: &Decision, in_catalog: bool) -> usize {
        if let Some(&i) = self.index.get(decision) {
            return i;
        }
        let i = self.branches.len();
        self.index.insert(decision.clone(), i);
        let point = match self.points.get(&decision.point) {
            Some(&p) => p,
            None => {
                self.points
                    .insert(decision.point.clone(), self.point_samples.len());
                self.point_samples.push(0);
                self.point_samples.len() - 1
            }
        };
        self.branches.push(Tally {
            decision: decision.clone(),
            point,
            in_catalog,
            samples: 0,
            cases: Vec::new(),
            expected_by: Vec::new(),
        });
        i
    }

    fn case(&mut self, case: &str) -> u32 {
        if let Some(&i) = self.cases.get(case) {
            return i;
        }
        let i = self.case_names.len() as u32;
        self.cases.insert(case.to_string(), i);
        self.case_names.push(case.to_string());
        i
    }

    /// One sample of `case` and the decisions it made, in order.
    pub fn sample(&mut self, case: &str, decisions: &[Decision]) {
        self.samples += 1;
        if decisions.is_empty() {
            return;
        }
        self.samples_with_decisions += 1;
        let case = self.case(case);
        self.reached.clear();
        let mut previous: Option<usize> = None;
        for decision in decisions {
            let i = self.intern(decision, false);
            self.reached.push(i);
            if let Some(p) = previous {
                *self.pairs.entry((p, i)).or_default() += 1;
            }
            previous = Some(i);
        }
        self.reached.sort_unstable();
        self.reached.dedup();
        self.reached_points.clear();
        for &i in &self.reached {
            let tally = &mut self.branches[i];
            tally.samples += 1;
            if tally.cases.last() != Some(&case) {
                tally.cases.push(case);
            }
            self.reached_points.push(tally.point);
        }
        self.reached_points.sort_unstable();
        self.reached_points.dedup();
        for &p in &self.reached_points {
            self.point_samples[p] += 1;
        }
    }

    /// `case` expects these branches (from its `branches` and `path` expectations).
    pub fn expects(&mut self, case: &str, decisions: &[Decision]) {
        let case = self.case(case);
        for decision in decisions {
            if let Some(&i) = self.index.get(decision) {
                self.branches[i].expected_by.push(case);
            }
        }
    }

    /// The coverage of everything added.
    pub fn finish(self) -> Coverage {
        // Samples of concurrent cases interleave in the records, so a branch's list holds
        // each case many times: drop repeats on the ids before making names of them.
        let names = |ids: &[u32]| {
            let mut ids = ids.to_vec();
            ids.sort_unstable();
            ids.dedup();
            let mut list: Vec<String> = ids
                .iter()
                .map(|&i| self.case_names[i as usize].clone())
                .collect();
            list.sort();
            list
        };
        let mut covered_of: HashMap<usize, BranchCoverage> = HashMap::new();
        let mut unknown = Vec::new();
        for (i, tally) in self.branches.iter().enumerate() {
            let branch = BranchCoverage {
                decision: tally.decision.clone(),
                description: None,
                risk: None,
                line: None,
                samples: tally.samples,
                cases: names(&tally.cases),
                expected_by: names(&tally.expected_by),
            };
            if tally.in_catalog {
                covered_of.insert(i, branch);
            } else if self.catalog.is_some() {
                unknown.push(branch);
            } else {
                covered_of.insert(i, branch);
            }
        }
        let points = match self.catalog {
            Some(catalog) => catalog
                .points
                .iter()
                .map(|point| {
                    let branches: Vec<BranchCoverage> = point
                        .branches
                        .iter()
                        .map(|b| {
                            let i = self.index[&Decision::new(&point.name, &b.name)];
                            let mut coverage = covered_of.remove(&i).expect("interned");
                            coverage.description = b.description.clone();
                            coverage.risk = Some(b.risk);
                            coverage.line = Some(b.line);
                            coverage
                        })
                        .collect();
                    PointCoverage {
                        name: point.name.clone(),
                        description: point.description.clone(),
                        line: Some(point.line),
                        samples: self.point_samples[self.points[&point.name]],
                        total: branches.len(),
                        covered: branches.iter().filter(|b| b.samples > 0).count(),
                        branches,
                    }
                })
                .collect(),
            None => {
                let mut points = observed_points(covered_of.into_values().collect());
                for point in &mut points {
                    point.samples = self.point_samples[self.points[&point.name]];
                }
                points
            }
        };
        unknown.sort_by(|a, b| a.decision.cmp(&b.decision));
        let (branches_total, branches_covered) = match self.catalog {
            Some(_) => (
                points.iter().map(|p| p.total).sum(),
                points.iter().map(|p| p.covered).sum(),
            ),
            None => (0, 0),
        };
        Coverage {
            catalog: self.catalog.map(|c| c.file.clone()),
            samples: self.samples,
            samples_with_decisions: self.samples_with_decisions,
            branches_total,
            branches_covered,
            points,
            unknown,
            transitions: transitions(self.catalog, &self.branches, self.pairs),
            stale: self.catalog.map(|c| c.stale.clone()).unwrap_or_default(),
        }
    }
}

/// Without a catalog: what was observed, grouped by point, in name order.
fn observed_points(mut branches: Vec<BranchCoverage>) -> Vec<PointCoverage> {
    branches.sort_by(|a, b| a.decision.cmp(&b.decision));
    let mut points: Vec<PointCoverage> = Vec::new();
    for branch in branches {
        match points.last_mut() {
            Some(point) if point.name == branch.decision.point => point.branches.push(branch),
            _ => points.push(PointCoverage {
                name: branch.decision.point.clone(),
                description: None,
                line: None,
                samples: 0,
                total: 0,
                covered: 0,
                branches: vec![branch],
            }),
        }
    }
    points
}

fn transitions(
    catalog: Option<&BranchCatalog>,
    branches: &[Tally],
    pairs: HashMap<(usize, usize), u64>,
) -> Transitions {
    let declared: Vec<&(Decision, Decision)> = catalog
        .map(|c| c.transitions.iter().collect())
        .unwrap_or_default();
    let is_declared = |from: &Decision, to: &Decision| {
        (!declared.is_empty()).then(|| declared.iter().any(|(a, b)| a == from && b == to))
    };
    let mut seen: Vec<TransitionSeen> = pairs
        .into_iter()
        .map(|((a, b), samples)| {
            let (from, to) = (&branches[a].decision, &branches[b].decision);
            TransitionSeen {
                declared: is_declared(from, to),
                from: from.clone(),
                to: to.clone(),
                samples,
            }
        })
        .collect();
    seen.sort_by(|a, b| {
        b.samples
            .cmp(&a.samples)
            .then_with(|| (&a.from, &a.to).cmp(&(&b.from, &b.to)))
    });
    let unseen: Vec<(Decision, Decision)> = declared
        .iter()
        .filter(|(a, b)| !seen.iter().any(|s| &s.from == a && &s.to == b))
        .map(|pair| (*pair).clone())
        .collect();
    Transitions {
        declared: declared.len(),
        declared_seen: declared.len() - unseen.len(),
        unseen,
        seen,
    }
}

impl Transitions {
    /// Declared pairs seen over declared pairs; `None` when the catalog declares none.
    pub fn ratio(&self) -> Option<f64> {
        (self.declared > 0).then(|| self.declared_seen as f64 / self.declared as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn catalog() -> BranchCatalog {
        let yaml = "\
points:
  route:
    branches:
      refund: {risk: high}
      handoff: {risk: high}
      status: {risk: low}
  tool:
    branches:
      lookup_order: {}
      issue_refund: {risk: high}
transitions:
  - [route.refund, tool.lookup_order]
  - [route.handoff, tool.lookup_order]
";
        let path = Path::new("evals/branches.yaml");
        let file = crate::yaml::parse(path, yaml).unwrap();
        BranchCatalog::from_file(file, path, yaml, Path::new(".")).unwrap()
    }

    fn d(list: &[&str]) -> Vec<Decision> {
        list.iter().map(|s| Decision::parse(s).unwrap()).collect()
    }

    #[test]
    fn counts_samples_cases_unknown_branches_and_transitions() {
        let catalog = catalog();
        let mut b = CoverageBuilder::new(Some(&catalog));
        b.sample(
            "refund-1",
            &d(&["route.refund", "tool.lookup_order", "tool.issue_refund"]),
        );
        b.sample(
            "refund-1",
            &d(&["route.refund", "tool.lookup_order", "tool.lookup_order"]),
        );
        b.sample("status-1", &d(&["route.status", "tool.track_parcel"]));
        b.sample("broken", &[]);
        b.expects("refund-1", &d(&["route.refund", "tool.issue_refund"]));
        let c = b.finish();
        assert_eq!((c.samples, c.samples_with_decisions), (4, 3));
        assert_eq!((c.branches_covered, c.branches_total), (4, 5));
        let route = &c.points[0];
        assert_eq!((route.covered, route.total), (2, 3));
        assert_eq!(route.branches[0].samples, 2, "once per sample");
        assert_eq!(
            (route.samples, c.points[1].samples),
            (3, 3),
            "unknown branches count"
        );
        assert_eq!(route.branches[0].cases, ["refund-1"]);
        assert_eq!(route.branches[0].expected_by, ["refund-1"]);
        assert_eq!(
            route.uncovered_text(),
            "route 2/3: uncovered route.handoff (high)"
        );
        let uncovered: Vec<String> = c.uncovered().map(|b| b.decision.to_string()).collect();
        assert_eq!(uncovered, ["route.handoff"]);
        assert_eq!(c.unknown.len(), 1);
        assert_eq!(c.unknown[0].decision.to_string(), "tool.track_parcel");
        assert_eq!(c.transitions.declared_seen, 1);
        assert_eq!(c.transitions.ratio(), Some(0.5));
        let top = &c.transitions.seen[0];
        assert_eq!(
            (top.from.to_string(), top.to.to_string(), top.samples),
            ("route.refund".into(), "tool.lookup_order".into(), 2)
        );
        assert_eq!(top.declared, Some(true));
        assert!(
            c.transitions.seen.iter().any(|t| t.from == t.to),
            "self pair kept"
        );
    }

    #[test]
    fn without_a_catalog_it_lists_what_was_observed() {
        let mut b = CoverageBuilder::new(None);
        b.sample("a", &d(&["tool.x", "route.y"]));
        let c = b.finish();
        assert_eq!(c.ratio(), None);
        assert!(c.unknown.is_empty());
        let names: Vec<&str> = c.points.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["route", "tool"]);
    }
}
