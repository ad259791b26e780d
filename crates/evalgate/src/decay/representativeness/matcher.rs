//! One worker's share of the matching: each input of a batch against the case index. The
//! matches are tallied per case in the worker; the inputs no case resembles go back to
//! the clustering, which must see them in file order.

use std::path::Path;

use super::case_index::{CaseHit, CaseIndex, SearchScratch};
use super::case_tally::CaseTally;
use super::clusters::{UncoveredClusters, UncoveredInput};
use super::field::TextField;
use super::jaccard::{ShingleTable, Threshold, into_set};
use super::minhash::MinHasher;
use super::pipeline::{BatchWorker, fan_out, one_per_core};
use super::production::{Batch, BatchReader, bad_line, is_blank};
use super::text::{Shingle, Shingler, excerpt};
use crate::errors::Error;

/// What a worker made of one batch.
#[derive(Debug)]
pub(crate) struct BatchOutcome {
    /// The inputs read (blank lines are not inputs).
    pub(crate) inputs: u64,
    /// In file order.
    pub(crate) uncovered: Vec<UncoveredInput>,
}

/// What every worker shares: the cases and how to read and compare inputs.
#[derive(Debug)]
pub(crate) struct MatchSetup<'a> {
    pub(crate) index: &'a CaseIndex,
    pub(crate) hasher: &'a MinHasher,
    pub(crate) path: &'a Path,
    pub(crate) field: &'a TextField,
    /// An input matches a case at this similarity or more.
    pub(crate) threshold: Threshold,
    pub(crate) nearest_per_case: usize,
}

/// One worker's buffers and tallies.
#[derive(Debug)]
pub(crate) struct Matcher<'a> {
    setup: &'a MatchSetup<'a>,
    shingler: Shingler,
    shingles: Vec<Shingle>,
    table: ShingleTable,
    search: SearchScratch,
    hits: Vec<CaseHit>,
    tallies: Vec<CaseTally>,
}

impl<'a> Matcher<'a> {
    pub(crate) fn new(setup: &'a MatchSetup<'a>) -> Matcher<'a> {
        Matcher {
            setup,
            shingler: Shingler::default(),
            shingles: Vec::new(),
            table: ShingleTable::default(),
            search: SearchScratch::for_index(setup.index),
            hits: Vec::new(),
            tallies: vec![CaseTally::default(); setup.index.len()],
        }
    }
}

impl BatchWorker for Matcher<'_> {
    type Outcome = BatchOutcome;
    type Tallies = Vec<CaseTally>;

    /// The batch's outcome, or the error of its first bad line.
    fn process(&mut self, batch: &Batch) -> Result<BatchOutcome, Error> {
        let setup = self.setup;
        let mut outcome = BatchOutcome {
            inputs: 0,
            uncovered: Vec::new(),
        };
        for (line, bytes) in batch.lines() {
            if is_blank(bytes) {
                continue;
            }
            let text = match setup.field.text(bytes) {
                Ok(text) => text,
                Err(problem) => return Err(bad_line(setup.path, line, setup.field, problem)),
            };
            outcome.inputs += 1;
            self.shingler.shingles(&text, &mut self.shingles);
            into_set(&mut self.shingles);
            let sketch = setup.hasher.sketch(&self.shingles);
            self.table.fill(&self.shingles);
            setup.index.resembling(
                &self.table,
                &sketch,
                setup.threshold,
                &mut self.search,
                &mut self.hits,
            );
            if self.hits.is_empty() {
                outcome.uncovered.push(UncoveredInput {
                    line,
                    excerpt: excerpt(&text),
                    set: self.shingles.clone(),
                    sketch,
                });
            }
            for hit in &self.hits {
                self.tallies[hit.case].offer(hit.similarity, line, setup.nearest_per_case, || {
                    excerpt(&text)
                });
            }
        }
        Ok(outcome)
    }

    fn into_tallies(self) -> Vec<CaseTally> {
        self.tallies
    }
}

/// Everything the stream of inputs adds up to.
#[derive(Debug)]
pub(crate) struct Streamed {
    pub(crate) inputs: u64,
    pub(crate) uncovered: u64,
    /// Per case, in the index's order.
    pub(crate) tallies: Vec<CaseTally>,
    pub(crate) clusters: UncoveredClusters,
}

/// Reads the sample at `setup.path` and matches every input; the first bad line (in file
/// order, whichever worker met it) stops the analysis with its error.
pub(crate) fn stream(
    setup: &MatchSetup<'_>,
    mut clusters: UncoveredClusters,
) -> Result<Streamed, Error> {
    let reader = BatchReader::open(setup.path)?;
    let (mut inputs, mut uncovered) = (0, 0);
    let per_worker = fan_out(
        reader,
        one_per_core(),
        || Matcher::new(setup),
        |outcome: BatchOutcome| {
            inputs += outcome.inputs;
            for input in outcome.uncovered {
                uncovered += 1;
                clusters.add(input);
            }
            Ok(())
        },
    )?;
    let mut tallies: Vec<CaseTally> = Vec::new();
    for theirs in per_worker {
        if tallies.is_empty() {
            tallies = theirs;
        } else {
            for (mine, theirs) in tallies.iter_mut().zip(theirs) {
                mine.merge(theirs, setup.nearest_per_case);
            }
        }
    }
    Ok(Streamed {
        inputs,
        uncovered,
        tallies,
        clusters,
    })
}
