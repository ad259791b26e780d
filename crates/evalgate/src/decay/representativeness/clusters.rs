//! The uncovered traffic, grouped into clusters in bounded memory, so a report can say
//! "these 4 % of inputs are all like this one" however large the sample.
//!
//! The method: each cluster is led by its first input, and holds the inputs that meet the
//! coverage threshold with that leader, as they would with a case: a cluster is about what
//! one more case, written like its first example, would cover. A new uncovered input joins
//! the cluster whose leader it resembles most, if any meets the threshold; the leaders are
//! found through the LSH band keys of their sketches, as cases are, and measured exactly.
//! Otherwise the input leads a new cluster. Clusters do not chain: every member is
//! measured against the leader, not against the member before. When the table holds
//! [`CAPACITY`] clusters, the new one replaces the smallest and inherits its size, as in the
//! Space-Saving heavy-hitters algorithm (Metwally et al., 2005): a cluster larger than
//! (uncovered inputs / capacity) is never lost, and a size overcounts by at most what it
//! inherited, which is reported. The inputs must come in file order: the result depends
//! on that order, never on thread timing.

use std::collections::{BTreeSet, HashMap};

use super::findings::UncoveredCluster;
use super::jaccard::{Jaccard, ShingleTable, Threshold};
use super::minhash::{BANDS, BandKeyHasher, Sketch};
use super::text::Shingle;

/// Clusters kept at most: about 1 KB each (a sketch, a shingle set, a few excerpts), a few
/// MB in all.
pub(crate) const CAPACITY: usize = 4096;

/// An input no case resembles, as the clustering needs it.
#[derive(Debug)]
pub(crate) struct UncoveredInput {
    pub(crate) line: u64,
    pub(crate) excerpt: String,
    /// Its sorted shingle set.
    pub(crate) set: Vec<Shingle>,
    pub(crate) sketch: Sketch,
}

/// The bounded table of clusters of uncovered inputs.
#[derive(Debug)]
pub(crate) struct UncoveredClusters {
    capacity: usize,
    examples_per_cluster: usize,
    threshold: Threshold,
    clusters: Vec<Cluster>,
    /// Band key → the first cluster whose leader has it. A later leader with the same key
    /// is found through its other bands.
    leaders_by_band: HashMap<u64, u32, BandKeyHasher>,
    /// Every cluster as (size, first line, position): the smallest is the first.
    by_size: BTreeSet<(u64, u64, u32)>,
    /// The shingles of the input being placed, measured against the leaders.
    placing: ShingleTable,
}

#[derive(Debug)]
struct Cluster {
    leader: UncoveredInput,
    size: u64,
    overcount: u64,
    /// The first distinct excerpts, the leader's first.
    examples: Vec<String>,
}

impl UncoveredClusters {
    pub(crate) fn new(threshold: Threshold, examples_per_cluster: usize) -> UncoveredClusters {
        UncoveredClusters::with_capacity(CAPACITY, threshold, examples_per_cluster)
    }

    /// A table that never replaces a cluster, for callers that must know every input's
    /// cluster (memory then grows with the number of clusters).
    pub(crate) fn unbounded(threshold: Threshold) -> UncoveredClusters {
        UncoveredClusters::with_capacity(usize::MAX, threshold, 0)
    }

    fn with_capacity(
        capacity: usize,
        threshold: Threshold,
        examples_per_cluster: usize,
    ) -> UncoveredClusters {
        UncoveredClusters {
            capacity: capacity.max(1),
            examples_per_cluster,
            threshold,
            clusters: Vec::new(),
            leaders_by_band: HashMap::default(),
            by_size: BTreeSet::new(),
            placing: ShingleTable::default(),
        }
    }

    /// Adds the next uncovered input, in file order; returns the position of the cluster
    /// it joined or now leads.
    pub(crate) fn add(&mut self, input: UncoveredInput) -> u32 {
        if let Some(position) = self.nearest_leader(&input) {
            self.grow(position, input.excerpt);
            return position;
        }
        let (position, inherited) = if self.clusters.len() < self.capacity {
            self.clusters.push(Cluster {
                leader: input,
                size: 0,
                overcount: 0,
                examples: Vec::new(),
            });
            (self.clusters.len() as u32 - 1, 0)
        } else {
            let (smallest, _, position) = self.by_size.pop_first().expect("the table is full");
            for key in &self.clusters[position as usize].leader.sketch.band_keys {
                if self.leaders_by_band.get(key) == Some(&position) {
                    self.leaders_by_band.remove(key);
                }
            }
            self.clusters[position as usize].leader = input;
            (position, smallest)
        };
        let cluster = &mut self.clusters[position as usize];
        cluster.size = inherited + 1;
        cluster.overcount = inherited;
        cluster.examples.clear();
        if self.examples_per_cluster > 0 {
            cluster.examples.push(cluster.leader.excerpt.clone());
        }
        for &key in &cluster.leader.sketch.band_keys {
            self.leaders_by_band.entry(key).or_insert(position);
        }
        self.by_size
            .insert((cluster.size, cluster.leader.line, position));
        position
    }

    /// The line of the input that leads the cluster at `position`.
    pub(crate) fn leader_line(&self, position: u32) -> u64 {
        self.clusters[position as usize].leader.line
    }

    /// The `n` largest clusters, largest first (then the earliest).
    pub(crate) fn largest(self, n: usize) -> Vec<UncoveredCluster> {
        let mut clusters = self.clusters;
        clusters.sort_by_key(|c| (std::cmp::Reverse(c.size), c.leader.line));
        clusters.truncate(n);
        clusters
            .into_iter()
            .map(|c| UncoveredCluster {
                size: c.size,
                overcount: c.overcount,
                examples: c.examples,
            })
            .collect()
    }

    /// The cluster whose leader `input` resembles most, among those it meets the
    /// threshold with; of equally close leaders, the oldest cluster's.
    fn nearest_leader(&mut self, input: &UncoveredInput) -> Option<u32> {
        self.placing.fill(&input.set);
        // All the lookups first, so that their cache misses overlap.
        let found: [Option<&u32>; BANDS] =
            std::array::from_fn(|band| self.leaders_by_band.get(&input.sketch.band_keys[band]));
        let mut measured = [u32::MAX; BANDS];
        let mut best: Option<(Jaccard, u64, u32)> = None;
        for (slot, &position) in found.into_iter().flatten().enumerate() {
            if measured[..slot].contains(&position) {
                continue;
            }
            measured[slot] = position;
            let leader = &self.clusters[position as usize].leader;
            let Some(similarity) = self.resemblance(leader, input) else {
                continue;
            };
            let closer = best.is_none_or(|(best, line, _)| {
                similarity > best || (similarity == best && leader.line < line)
            });
            if closer {
                best = Some((similarity, leader.line, position));
            }
        }
        best.map(|(_, _, position)| position)
    }

    /// The similarity of `input` to `leader` if it meets the threshold. Inputs without
    /// words (empty, or punctuation only) all resemble one another, and form one cluster.
    fn resemblance(&self, leader: &UncoveredInput, input: &UncoveredInput) -> Option<Jaccard> {
        if leader.set.is_empty() || input.set.is_empty() {
            return (leader.set.is_empty() && input.set.is_empty()).then_some(Jaccard::IDENTICAL);
        }
        let estimate = leader
            .sketch
            .fingerprint
            .similarity(&input.sketch.fingerprint);
        if !self
            .threshold
            .allows_sizes(leader.set.len(), input.set.len())
            || !self.threshold.worth_measuring(estimate)
        {
            return None;
        }
        let similarity = self.placing.jaccard(&leader.set);
        self.threshold.is_met_by(similarity).then_some(similarity)
    }

    fn grow(&mut self, position: u32, excerpt: String) {
        let cluster = &mut self.clusters[position as usize];
        let line = cluster.leader.line;
        self.by_size.remove(&(cluster.size, line, position));
        cluster.size += 1;
        self.by_size.insert((cluster.size, line, position));
        if cluster.examples.len() < self.examples_per_cluster
            && !cluster.examples.contains(&excerpt)
        {
            cluster.examples.push(excerpt);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::jaccard::into_set;
    use super::super::minhash::MinHasher;
    use super::super::text::{Shingler, excerpt};
    use super::*;

    fn input(line: u64, text: &str) -> UncoveredInput {
        let mut set = Vec::new();
        Shingler::default().shingles(text, &mut set);
        into_set(&mut set);
        UncoveredInput {
            line,
            excerpt: excerpt(text),
            sketch: MinHasher::new().sketch(&set),
            set,
        }
    }

    fn clusters(capacity: usize, examples: usize, texts: &[&str]) -> Vec<UncoveredCluster> {
        let threshold = Threshold::new(0.3).unwrap();
        let mut clusters = UncoveredClusters::with_capacity(capacity, threshold, examples);
        for (line, text) in texts.iter().enumerate() {
            clusters.add(input(line as u64 + 1, text));
        }
        clusters.largest(10)
    }

    fn sizes(clusters: &[UncoveredCluster]) -> Vec<(u64, u64)> {
        clusters.iter().map(|c| (c.size, c.overcount)).collect()
    }

    #[test]
    fn near_identical_inputs_share_a_cluster_and_the_largest_comes_first() {
        let texts = [
            "how do I export my invoices to a spreadsheet",
            "where can I find the dark mode setting in the mobile app",
            "how do I export my invoices to a spreadsheet?",
            "How do I export all my invoices to a spreadsheet",
            "where can I find the dark mode setting in the app",
            "what is the weather in Lisbon",
            "how do i export my invoices to a spreadsheet",
        ];
        let largest = clusters(CAPACITY, 2, &texts);
        assert_eq!(sizes(&largest), [(4, 0), (2, 0), (1, 0)]);
        // Distinct excerpts only, the leader's first.
        assert_eq!(
            largest[0].examples,
            [texts[0], "how do I export my invoices to a spreadsheet?"]
        );
        assert_eq!(largest[2].examples, [texts[5]]);
    }

    #[test]
    fn members_are_measured_against_the_leader_so_clusters_do_not_chain() {
        // Each message shares most words with the one before, little with the first.
        let texts = [
            "alpha beta gamma delta",
            "beta gamma delta epsilon",
            "gamma delta epsilon zeta",
            "delta epsilon zeta eta",
        ];
        assert_eq!(sizes(&clusters(CAPACITY, 1, &texts)), [(2, 0), (2, 0)]);
    }

    #[test]
    fn a_full_table_replaces_its_smallest_cluster_and_says_by_how_much_sizes_may_be_off() {
        let texts = [
            "refund for a damaged blender",
            "refund for a damaged blender",
            "refund for a damaged blender",
            "gift card balance check",
            "translate this page to Welsh",
        ];
        let largest = clusters(2, 1, &texts);
        // The gift card cluster (size 1) made way for the Welsh one, which inherits it.
        assert_eq!(sizes(&largest), [(3, 0), (2, 1)]);
        assert_eq!(largest[1].examples, ["translate this page to Welsh"]);
    }

    #[test]
    fn inputs_without_words_form_one_cluster() {
        let texts = ["", "?!", "refund please now", "..."];
        assert_eq!(sizes(&clusters(CAPACITY, 1, &texts)), [(3, 0), (1, 0)]);
    }
}
