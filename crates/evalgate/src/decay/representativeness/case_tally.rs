//! What each case gathers from the traffic: how many inputs match it, and the nearest few.
//! Each worker keeps its own tallies for the inputs it saw; merging them gives the same
//! result whichever worker saw which input, because the nearest are ranked by a total
//! order (similarity, then line number).

use super::jaccard::Jaccard;

/// One case's matches so far.
#[derive(Debug, Clone, Default)]
pub(crate) struct CaseTally {
    pub(crate) matched_inputs: u64,
    /// Best first, at most the capacity given to [`CaseTally::offer`].
    pub(crate) nearest: Vec<NearestInput>,
}

/// A matching input kept as one of a case's nearest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NearestInput {
    pub(crate) similarity: Jaccard,
    /// 1-based line of the production file.
    pub(crate) line: u64,
    pub(crate) excerpt: String,
}

impl NearestInput {
    /// The ranking key: more similar first, then earlier in the file.
    fn rank(&self) -> (std::cmp::Reverse<Jaccard>, u64) {
        (std::cmp::Reverse(self.similarity), self.line)
    }
}

impl CaseTally {
    /// Counts a matching input, and keeps it among the `keep` nearest if it ranks there;
    /// `excerpt` is only called then, so most matches cost no allocation.
    pub(crate) fn offer(
        &mut self,
        similarity: Jaccard,
        line: u64,
        keep: usize,
        excerpt: impl FnOnce() -> String,
    ) {
        self.matched_inputs += 1;
        let rank = (std::cmp::Reverse(similarity), line);
        let at = self.nearest.partition_point(|kept| kept.rank() < rank);
        if at < keep {
            self.nearest.insert(
                at,
                NearestInput {
                    similarity,
                    line,
                    excerpt: excerpt(),
                },
            );
            self.nearest.truncate(keep);
        }
    }

    /// Adds another worker's tally of the same case (over other inputs).
    pub(crate) fn merge(&mut self, other: CaseTally, keep: usize) {
        self.matched_inputs += other.matched_inputs;
        self.nearest.extend(other.nearest);
        self.nearest.sort_by_key(NearestInput::rank);
        self.nearest.truncate(keep);
    }
}

#[cfg(test)]
mod tests {
    use super::super::jaccard::ShingleTable;
    use super::*;

    /// A similarity of `tenths` / 10.
    fn similarity(tenths: usize) -> Jaccard {
        let all: Vec<u32> = (1..=10).collect();
        let mut table = ShingleTable::default();
        table.fill(&all);
        table.jaccard(&all[..tenths])
    }

    fn lines(tally: &CaseTally) -> Vec<u64> {
        tally.nearest.iter().map(|n| n.line).collect()
    }

    #[test]
    fn keeps_the_most_similar_then_the_earliest() {
        let mut tally = CaseTally::default();
        for (line, estimate) in [(5, 5), (2, 9), (9, 5), (3, 5), (1, 4)] {
            tally.offer(similarity(estimate), line, 3, || format!("line {line}"));
        }
        assert_eq!(tally.matched_inputs, 5);
        assert_eq!(lines(&tally), [2, 3, 5]);
        assert_eq!(tally.nearest[0].excerpt, "line 2");
    }

    #[test]
    fn merging_gives_the_same_as_one_tally_over_all_inputs() {
        let offers = [(5, 5), (2, 9), (9, 5), (3, 5), (1, 4), (7, 9)];
        let mut whole = CaseTally::default();
        let (mut even, mut odd) = (CaseTally::default(), CaseTally::default());
        for (i, (line, estimate)) in offers.into_iter().enumerate() {
            whole.offer(similarity(estimate), line, 3, String::new);
            let part = if i % 2 == 0 { &mut even } else { &mut odd };
            part.offer(similarity(estimate), line, 3, String::new);
        }
        odd.merge(even, 3);
        assert_eq!(odd.matched_inputs, whole.matched_inputs);
        assert_eq!(odd.nearest, whole.nearest);
        assert_eq!(lines(&whole), [2, 7, 3]);
    }

    #[test]
    fn keeping_none_still_counts() {
        let mut tally = CaseTally::default();
        tally.offer(similarity(10), 1, 0, || unreachable!("nothing is kept"));
        assert_eq!(tally.matched_inputs, 1);
        assert!(tally.nearest.is_empty());
    }
}
