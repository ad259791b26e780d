//! The similarity representativeness judges by, for other callers: whether a new text
//! resembles one of a set of known texts (a support ticket and the suite's cases), and the
//! grouping of a stream of texts into near-duplicates (tickets about the same thing). The
//! same shingles, MinHash/LSH candidates, exact Jaccard measure and threshold semantics as
//! an input matching a case, and the same leader clustering as the uncovered traffic, so
//! "this ticket is already covered by a case" means what "this input is represented"
//! means.

use super::case_index::{CaseHit, CaseIndex, SearchScratch};
use super::clusters::{UncoveredClusters, UncoveredInput};
use super::jaccard::{ShingleTable, Threshold, into_set};
use super::minhash::{MinHasher, Sketch};
use super::text::{Shingle, Shingler};

/// How texts are compared: the threshold, the hash functions, and the buffer a text is
/// measured from.
#[derive(Debug)]
pub struct Similarity {
    hasher: MinHasher,
    threshold: Threshold,
    table: ShingleTable,
}

/// A text as the comparison sees it: its shingle set and MinHash sketch. Making one is most
/// of the cost of a comparison, and needs no state, so callers make them on every core.
#[derive(Debug, Clone)]
pub struct Fingerprinted {
    set: Vec<Shingle>,
    sketch: Sketch,
}

impl Fingerprinted {
    /// Whether the text has no word at all (punctuation, emoji): it resembles nothing.
    pub fn is_empty(&self) -> bool {
        self.set.is_empty()
    }
}

/// Known texts, indexed to be searched.
#[derive(Debug)]
pub struct KnownTexts {
    index: CaseIndex,
    scratch: SearchScratch,
    hits: Vec<CaseHit>,
}

/// Texts grouped as they come: each joins the group whose first text it resembles most,
/// or starts a group.
#[derive(Debug)]
pub struct Grouping {
    clusters: UncoveredClusters,
}

impl Similarity {
    /// Texts are alike when the Jaccard similarity of their shingles is at least
    /// `threshold`, in (0, 1].
    pub fn new(threshold: f64) -> Result<Similarity, String> {
        Ok(Similarity {
            hasher: MinHasher::new(),
            threshold: Threshold::new(threshold)?,
            table: ShingleTable::default(),
        })
    }

    /// The shingles and sketch of `text` (callable from any thread).
    pub fn fingerprint(&self, text: &str) -> Fingerprinted {
        let mut set = Vec::new();
        Shingler::default().shingles(text, &mut set);
        into_set(&mut set);
        Fingerprinted {
            sketch: self.hasher.sketch(&set),
            set,
        }
    }

    pub fn index<'t>(&self, texts: impl IntoIterator<Item = &'t str>) -> KnownTexts {
        let index = CaseIndex::build(texts, &self.hasher);
        KnownTexts {
            scratch: SearchScratch::for_index(&index),
            index,
            hits: Vec::new(),
        }
    }

    /// The known text `text` resembles most, at the threshold or above, with the
    /// similarity; of equally close ones, the first. A text without words resembles none.
    pub fn most_similar(
        &mut self,
        known: &mut KnownTexts,
        text: &Fingerprinted,
    ) -> Option<(usize, f64)> {
        self.table.fill(&text.set);
        known.index.resembling(
            &self.table,
            &text.sketch,
            self.threshold,
            &mut known.scratch,
            &mut known.hits,
        );
        known
            .hits
            .iter()
            .max_by(|a, b| a.similarity.cmp(&b.similarity).then(b.case.cmp(&a.case)))
            .map(|hit| (hit.case, hit.similarity.value()))
    }

    pub fn grouping(&self) -> Grouping {
        Grouping {
            clusters: UncoveredClusters::unbounded(self.threshold),
        }
    }

    /// Adds the next text, numbered `ordinal` (increasing): the ordinal of the text that
    /// leads the group it joined, or its own when it starts one.
    pub fn group(&self, grouping: &mut Grouping, ordinal: u64, text: Fingerprinted) -> u64 {
        let input = UncoveredInput {
            line: ordinal,
            excerpt: String::new(),
            sketch: text.sketch,
            set: text.set,
        };
        let position = grouping.clusters.add(input);
        grouping.clusters.leader_line(position)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_most_similar_known_text_above_the_threshold() {
        let mut similarity = Similarity::new(0.3).unwrap();
        let mut known = similarity.index([
            "change the billing address on my account",
            "my parcel never arrived, tracking says delivered",
            "parcel never arrived tracking says delivered yesterday",
        ]);
        let mut find = |text: &str| {
            let text = similarity.fingerprint(text);
            similarity.most_similar(&mut known, &text)
        };
        assert_eq!(
            find("Parcel never arrived! Tracking says delivered."),
            Some((1, 1.0))
        );
        assert_eq!(find("what is the weather in Lisbon"), None);
        assert_eq!(find("?!"), None);
    }

    #[test]
    fn groups_near_duplicates_under_their_first_text() {
        let similarity = Similarity::new(0.3).unwrap();
        let mut grouping = similarity.grouping();
        let texts = [
            "I was charged twice for my March invoice",
            "the app crashes when I open settings",
            "charged twice for the March invoice, please refund",
            "I was charged twice for my March invoice!",
        ];
        let leaders: Vec<u64> = texts
            .iter()
            .enumerate()
            .map(|(i, text)| {
                similarity.group(&mut grouping, i as u64, similarity.fingerprint(text))
            })
            .collect();
        assert_eq!(leaders, [0, 1, 0, 0]);
    }
}
