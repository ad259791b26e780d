//! The cases, as shingle sets and MinHash sketches in an LSH table: which cases an input
//! resembles, found by looking up its [`BANDS`] band keys instead of comparing it with
//! every case, then measured exactly.

use std::collections::HashMap;
use std::ops::Range;

use super::jaccard::{Jaccard, ShingleTable, Threshold, into_set};
use super::minhash::{BANDS, BandKeyHasher, Fingerprint, MinHasher, Sketch};
use super::text::{Shingle, Shingler};

/// The shingle sets and fingerprints of the cases and, per band key, the cases that have it.
#[derive(Debug)]
pub(crate) struct CaseIndex {
    /// Every case's sorted shingle set, one after the other.
    shingles: Vec<Shingle>,
    cases: Vec<IndexedCase>,
    /// Band key → a range of `members`.
    buckets: HashMap<u64, Range<u32>, BandKeyHasher>,
    /// Case positions, grouped by band key, each group in case order.
    members: Vec<u32>,
}

/// What comparing an input with a case reads first, in two cache lines: whether the
/// sizes allow a match, the estimate, and where the shingles are to measure it.
#[derive(Debug)]
#[repr(align(64))]
struct IndexedCase {
    /// The shingle set is `shingles[start..start + size]`; first, so that a case whose
    /// size rules it out costs one cache line.
    start: u32,
    size: u32,
    fingerprint: Fingerprint,
}

/// A case that an input resembles at least as much as asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CaseHit {
    /// The case's position in the list the index was built from.
    pub(crate) case: usize,
    pub(crate) similarity: Jaccard,
}

/// One worker's buffers for searching the index, kept from one input to the next.
#[derive(Debug)]
pub(crate) struct SearchScratch {
    /// Per case, the query that last found it, so a case found through several bands is
    /// compared once.
    stamps: Vec<u32>,
    query: u32,
    /// The distinct cases found for the current input.
    candidates: Vec<u32>,
    /// Those whose estimate is worth measuring exactly.
    worth_measuring: Vec<u32>,
}

impl SearchScratch {
    pub(crate) fn for_index(index: &CaseIndex) -> SearchScratch {
        SearchScratch {
            stamps: vec![0; index.cases.len()],
            query: 0,
            candidates: Vec::new(),
            worth_measuring: Vec::new(),
        }
    }

    /// Starts a new query: every case is unseen again.
    fn next_query(&mut self) {
        self.query = self.query.wrapping_add(1);
        if self.query == 0 {
            self.stamps.fill(0);
            self.query = 1;
        }
        self.candidates.clear();
        self.worth_measuring.clear();
    }
}

impl CaseIndex {
    /// Indexes the texts of the cases, in order. A case without words is indexed under
    /// no key: it resembles no input.
    pub(crate) fn build<'t>(
        texts: impl IntoIterator<Item = &'t str>,
        hasher: &MinHasher,
    ) -> CaseIndex {
        let mut shingler = Shingler::default();
        let mut set = Vec::new();
        let mut shingles = Vec::new();
        let mut cases = Vec::new();
        let mut keyed: Vec<(u64, u32)> = Vec::new();
        for (case, text) in texts.into_iter().enumerate() {
            shingler.shingles(text, &mut set);
            into_set(&mut set);
            let start = u32::try_from(shingles.len()).expect("fewer than 2³² shingles in all");
            shingles.extend_from_slice(&set);
            let sketch = hasher.sketch(&set);
            if !set.is_empty() {
                let case = u32::try_from(case).expect("fewer than 2³² cases");
                keyed.extend(sketch.band_keys.iter().map(|&key| (key, case)));
            }
            cases.push(IndexedCase {
                start,
                size: set.len() as u32,
                fingerprint: sketch.fingerprint,
            });
        }
        keyed.sort_unstable();
        keyed.dedup();
        let mut buckets = HashMap::with_capacity_and_hasher(keyed.len(), BandKeyHasher::default());
        let members: Vec<u32> = keyed.iter().map(|&(_, case)| case).collect();
        let mut start = 0;
        for group in keyed.chunk_by(|a, b| a.0 == b.0) {
            let end = start + group.len() as u32;
            buckets.insert(group[0].0, start..end);
            start = end;
        }
        CaseIndex {
            shingles,
            cases,
            buckets,
            members,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.cases.len()
    }

    /// The shingle set of a case.
    fn set(&self, case: &IndexedCase) -> &[Shingle] {
        &self.shingles[case.start as usize..(case.start + case.size) as usize]
    }

    /// Every case that meets `threshold` with the input of shingles `input` and sketch
    /// `sketch`, among the cases sharing a band with it, in no particular order.
    pub(crate) fn resembling(
        &self,
        input: &ShingleTable,
        sketch: &Sketch,
        threshold: Threshold,
        scratch: &mut SearchScratch,
        hits: &mut Vec<CaseHit>,
    ) {
        hits.clear();
        if input.len() == 0 {
            return;
        }
        scratch.next_query();
        // Three passes, the lookups, the estimates, the measures, each a loop whose
        // iterations do not wait on one another, so the processor overlaps their cache
        // misses.
        let buckets: [Option<&Range<u32>>; BANDS] =
            std::array::from_fn(|band| self.buckets.get(&sketch.band_keys[band]));
        for range in buckets.into_iter().flatten() {
            for &case in &self.members[range.start as usize..range.end as usize] {
                let stamp = &mut scratch.stamps[case as usize];
                if *stamp != scratch.query {
                    *stamp = scratch.query;
                    scratch.candidates.push(case);
                }
            }
        }
        for &case in &scratch.candidates {
            let indexed = &self.cases[case as usize];
            if threshold.allows_sizes(indexed.size as usize, input.len())
                && threshold.worth_measuring(indexed.fingerprint.similarity(&sketch.fingerprint))
            {
                scratch.worth_measuring.push(case);
            }
        }
        for &case in &scratch.worth_measuring {
            let similarity = input.jaccard(self.set(&self.cases[case as usize]));
            if threshold.is_met_by(similarity) {
                hits.push(CaseHit {
                    case: case as usize,
                    similarity,
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set_and_sketch(text: &str, hasher: &MinHasher) -> (ShingleTable, Sketch) {
        let mut set = Vec::new();
        Shingler::default().shingles(text, &mut set);
        into_set(&mut set);
        let mut table = ShingleTable::default();
        table.fill(&set);
        (table, hasher.sketch(&set))
    }

    #[test]
    fn finds_each_resembling_case_once_and_skips_empty_cases() {
        let hasher = MinHasher::new();
        let cases = [
            "my parcel never arrived, tracking says delivered",
            "?!",
            "parcel never arrived tracking says delivered yesterday",
            "change the billing address on my account",
        ];
        let index = CaseIndex::build(cases, &hasher);
        assert!(index.set(&index.cases[1]).is_empty());
        let mut search = SearchScratch::for_index(&index);
        let mut hits = Vec::new();
        let threshold = Threshold::new(0.3).unwrap();
        let (set, sketch) =
            set_and_sketch("Parcel never arrived! Tracking says delivered.", &hasher);
        index.resembling(&set, &sketch, threshold, &mut search, &mut hits);
        hits.sort_by_key(|hit| hit.case);
        assert_eq!(hits.iter().map(|hit| hit.case).collect::<Vec<_>>(), [0, 2]);
        assert_eq!(hits[0].similarity.value(), 1.0);
        // 11 shingles of 13 in all: "yesterday" and "delivered yesterday" are extra.
        assert_eq!(hits[1].similarity.value(), 11.0 / 13.0);
        let (set, sketch) = set_and_sketch("", &hasher);
        let anything = Threshold::new(0.01).unwrap();
        index.resembling(&set, &sketch, anything, &mut search, &mut hits);
        assert!(hits.is_empty());
    }
}
