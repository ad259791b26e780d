//! The weighted set cover behind `evalgate select`: the cheapest set of cases reaching every
//! branch, the fewest cases among equally cheap ones.
//!
//! Set cover is NP-hard, but suites are small and cases overlap a lot. First every case
//! another case dominates (reaches all its branches for no more cost) is dropped: swapping
//! it for its dominator never makes a cover dearer or larger. Then a weighted greedy cover
//! (each step the case with the least cost per branch not yet reached), pruned so that no
//! case in it is removable (the dearest tried first), is the bound an exact branch-and-bound
//! search has to beat. The search is exhaustive when at most [`ALWAYS_EXACT`] cases remain —
//! it then visits at most 2^20 nodes — and above that it stops after [`WORK_BUDGET`] steps
//! and keeps the best cover found, which is then not proven the cheapest. Costs are integers
//! (pico-dollars or microseconds), so equal costs compare equal and the same input always
//! gives the same cover.

use std::cmp::Ordering;

/// At most this many cases left after dropping dominated ones, the search always finishes.
pub(crate) const ALWAYS_EXACT: usize = 20;

/// Above [`ALWAYS_EXACT`], the search stops after this many steps (a step: one case or one
/// branch looked at in a node).
const WORK_BUDGET: u64 = 20_000_000;

/// A set of branches, by index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Branches(Vec<u64>);

impl Branches {
    pub(crate) fn empty(universe: usize) -> Branches {
        Branches(vec![0; universe.div_ceil(64)])
    }

    pub(crate) fn insert(&mut self, branch: usize) {
        self.0[branch / 64] |= 1 << (branch % 64);
    }

    fn contains(&self, branch: usize) -> bool {
        self.0[branch / 64] & (1 << (branch % 64)) != 0
    }

    fn len(&self) -> usize {
        self.0.iter().map(|w| w.count_ones() as usize).sum()
    }

    fn is_empty(&self) -> bool {
        self.0.iter().all(|w| *w == 0)
    }

    fn is_subset(&self, of: &Branches) -> bool {
        self.0.iter().zip(&of.0).all(|(a, b)| a & !b == 0)
    }

    /// How many of `self` are in `other`.
    fn common(&self, other: &Branches) -> usize {
        self.0
            .iter()
            .zip(&other.0)
            .map(|(a, b)| (a & b).count_ones() as usize)
            .sum()
    }

    fn remove_all(&mut self, other: &Branches) {
        for (a, b) in self.0.iter_mut().zip(&other.0) {
            *a &= !b;
        }
    }

    fn add_all(&mut self, other: &Branches) {
        for (a, b) in self.0.iter_mut().zip(&other.0) {
            *a |= b;
        }
    }

    fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.0.len() * 64).filter(|b| self.contains(*b))
    }
}

/// A case as the cover sees it: what it costs and which branches it reaches.
#[derive(Debug, Clone)]
pub(crate) struct Candidate {
    pub cost: u64,
    pub branches: Branches,
}

/// The cases picked, by index into the candidates.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Picked {
    /// Ascending.
    pub cases: Vec<usize>,
    pub cost: u64,
    /// Proven the cheapest cover, and the fewest cases among the cheapest.
    pub optimal: bool,
}

/// The cheapest cover of every branch some candidate reaches; see the module documentation.
pub(crate) fn cheapest(candidates: &[Candidate]) -> Picked {
    let kept = undominated(candidates);
    let budget = (kept.len() > ALWAYS_EXACT).then_some(WORK_BUDGET);
    search(candidates, &kept, budget)
}

/// The candidates, cheapest first, without those another one dominates. Order: cost, then
/// more branches, then index; a case is dominated when one before it in this order reaches
/// every branch it reaches.
fn undominated(candidates: &[Candidate]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..candidates.len())
        .filter(|i| !candidates[*i].branches.is_empty())
        .collect();
    order.sort_by(|a, b| {
        let (x, y) = (&candidates[*a], &candidates[*b]);
        x.cost
            .cmp(&y.cost)
            .then(y.branches.len().cmp(&x.branches.len()))
            .then(a.cmp(b))
    });
    let mut kept: Vec<usize> = Vec::new();
    for i in order {
        if !kept
            .iter()
            .any(|k| candidates[i].branches.is_subset(&candidates[*k].branches))
        {
            kept.push(i);
        }
    }
    kept
}

/// Whether `a` costs less per new branch than `b` (`new_*` > 0), exactly.
fn cheaper_per_branch(a: (u64, usize), b: (u64, usize)) -> Ordering {
    (u128::from(a.0) * b.1 as u128).cmp(&(u128::from(b.0) * a.1 as u128))
}

fn universe_of(candidates: &[Candidate], among: &[usize]) -> Branches {
    let mut all = Branches::empty(candidates.first().map_or(0, |c| c.branches.0.len() * 64));
    for i in among {
        all.add_all(&candidates[*i].branches);
    }
    all
}

/// The weighted greedy cover over `among` (cheapest per new branch; ties: more new
/// branches, then the order of `among`), in the order picked.
pub(crate) fn greedy(candidates: &[Candidate], among: &[usize]) -> Vec<usize> {
    let mut uncovered = universe_of(candidates, among);
    let mut picked = Vec::new();
    while !uncovered.is_empty() {
        let best = among
            .iter()
            .filter_map(|i| {
                let new = candidates[*i].branches.common(&uncovered);
                (new > 0).then_some((*i, candidates[*i].cost, new))
            })
            .min_by(|a, b| cheaper_per_branch((a.1, a.2), (b.1, b.2)).then(b.2.cmp(&a.2)))
            .expect("an uncovered branch is reached by a candidate");
        uncovered.remove_all(&candidates[best.0].branches);
        picked.push(best.0);
    }
    picked
}

/// Drops picked cases whose branches the others still reach, the dearest tried first (ties:
/// the later picked first), until none can go.
pub(crate) fn prune(candidates: &[Candidate], picked: &[usize]) -> Vec<usize> {
    let mut kept: Vec<usize> = picked.to_vec();
    let mut order: Vec<usize> = (0..picked.len()).collect();
    order.sort_by(|a, b| {
        candidates[picked[*b]]
            .cost
            .cmp(&candidates[picked[*a]].cost)
            .then(b.cmp(a))
    });
    for at in order {
        let case = picked[at];
        let others: Vec<usize> = kept.iter().copied().filter(|k| *k != case).collect();
        if candidates[case]
            .branches
            .is_subset(&universe_of(candidates, &others))
        {
            kept = others;
        }
    }
    kept
}

fn cost_of(candidates: &[Candidate], cases: &[usize]) -> u64 {
    cases
        .iter()
        .fold(0u64, |sum, i| sum.saturating_add(candidates[*i].cost))
}

/// Branch and bound over `kept` (see [`undominated`]), from the pruned greedy cover;
/// `budget`: the steps allowed, `None` for an exhaustive search.
pub(crate) fn search(candidates: &[Candidate], kept: &[usize], budget: Option<u64>) -> Picked {
    let start = prune(candidates, &greedy(candidates, kept));
    let universe = universe_of(candidates, kept);
    let branches: Vec<usize> = universe.iter().collect();
    let mut search = Search {
        candidates,
        kept,
        reaching: branches
            .iter()
            .map(|b| {
                (0..kept.len())
                    .filter(|k| candidates[kept[*k]].branches.contains(*b))
                    .collect()
            })
            .collect(),
        branches,
        best: (cost_of(candidates, &start), start.len()),
        best_cases: start,
        excluded: vec![false; kept.len()],
        chosen: Vec::new(),
        work: 0,
        budget,
        stopped: false,
    };
    search.visit(&universe, 0);
    let finished = !search.stopped;
    let mut cases = prune(candidates, &search.best_cases);
    cases.sort_unstable();
    Picked {
        cost: cost_of(candidates, &cases),
        cases,
        optimal: finished,
    }
}

struct Search<'a> {
    candidates: &'a [Candidate],
    kept: &'a [usize],
    /// Per branch of `branches`, the positions in `kept` of the cases reaching it.
    reaching: Vec<Vec<usize>>,
    branches: Vec<usize>,
    /// Cost and size of the best cover so far, and its cases.
    best: (u64, usize),
    best_cases: Vec<usize>,
    /// Positions in `kept` a sibling branch already tried: not picked again below it.
    excluded: Vec<bool>,
    chosen: Vec<usize>,
    work: u64,
    budget: Option<u64>,
    stopped: bool,
}

impl Search<'_> {
    fn visit(&mut self, uncovered: &Branches, cost: u64) {
        if self.stopped {
            return;
        }
        if uncovered.is_empty() {
            if (cost, self.chosen.len()) < self.best {
                self.best = (cost, self.chosen.len());
                self.best_cases = self.chosen.iter().map(|k| self.kept[*k]).collect();
            }
            return;
        }
        // New branches per allowed case.
        let new: Vec<usize> = (0..self.kept.len())
            .map(|k| {
                if self.excluded[k] {
                    0
                } else {
                    self.candidates[self.kept[k]].branches.common(uncovered)
                }
            })
            .collect();
        self.work += self.kept.len() as u64;
        // Lower bounds: every uncovered branch costs at least the least share of a case's
        // cost over its new branches (the shares of a cover's cases add up to its cost), and
        // at least |uncovered| / (the most new branches of one case) more cases.
        let mut share = 0.0;
        let mut branch_to_split = None;
        for (at, branch) in self.branches.iter().enumerate() {
            if !uncovered.contains(*branch) {
                continue;
            }
            let options = self.reaching[at].iter().filter(|k| new[**k] > 0);
            let mut least = f64::INFINITY;
            let mut count = 0;
            for k in options {
                count += 1;
                least = least.min(self.candidates[self.kept[*k]].cost as f64 / new[*k] as f64);
            }
            self.work += self.reaching[at].len() as u64;
            if count == 0 {
                return; // an uncovered branch no allowed case reaches
            }
            share += least;
            if branch_to_split.is_none_or(|(_, fewest)| count < fewest) {
                branch_to_split = Some((at, count));
            }
        }
        // Rounded down, and a little less, so float error never cuts the optimum off.
        let bound_cost = cost.saturating_add((share * (1.0 - 1e-9)).floor() as u64);
        let most = new.iter().copied().max().unwrap_or(1).max(1);
        let bound_size = self.chosen.len() + uncovered.len().div_ceil(most);
        if (bound_cost, bound_size) >= self.best {
            return;
        }
        if self.budget.is_some_and(|b| self.work > b) {
            self.stopped = true;
            return;
        }
        // Branch on the uncovered branch fewest cases reach: some case reaching it is in
        // every cover; try each, cheapest per new branch first, and exclude it afterwards so
        // no cover is visited twice.
        let (at, _) = branch_to_split.expect("an uncovered branch");
        let mut options: Vec<usize> = self.reaching[at]
            .iter()
            .copied()
            .filter(|k| new[*k] > 0)
            .collect();
        options.sort_by(|a, b| {
            let cost = |k: usize| self.candidates[self.kept[k]].cost;
            cheaper_per_branch((cost(*a), new[*a]), (cost(*b), new[*b]))
                .then(new[*b].cmp(&new[*a]))
                .then(a.cmp(b))
        });
        for k in &options {
            let case = &self.candidates[self.kept[*k]];
            let mut rest = uncovered.clone();
            rest.remove_all(&case.branches);
            self.chosen.push(*k);
            self.visit(&rest, cost.saturating_add(case.cost));
            self.chosen.pop();
            self.excluded[*k] = true;
        }
        for k in options {
            self.excluded[k] = false;
        }
    }
}

#[cfg(test)]
mod tests;
