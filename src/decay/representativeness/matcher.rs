//! One worker's share of the matching: each input of a batch against the case index. The
//! matches are tallied per case in the worker; the inputs no case resembles go back to
//! the clustering, which must see them in file order.

use std::path::Path;

use super::case_index::{CaseHit, CaseIndex, SearchScratch};
use super::case_tally::CaseTally;
use super::clusters::UncoveredInput;
use super::field::TextField;
use super::jaccard::{ShingleTable, Threshold, into_set};
use super::minhash::MinHasher;
use super::production::{Batch, bad_line, is_blank};
use super::text::{Shingle, Shingler, excerpt};
use crate::errors::Error;

/// What a worker made of one batch.
#[derive(Debug)]
pub(crate) struct BatchOutcome {
    pub(crate) seq: u64,
    /// The inputs read (blank lines are not inputs).
    pub(crate) inputs: u64,
    /// In file order.
    pub(crate) uncovered: Vec<UncoveredInput>,
    /// The first bad line of the batch, or a read error; the batch stops there.
    pub(crate) problem: Option<Error>,
}

impl BatchOutcome {
    pub(crate) fn failed(seq: u64, problem: Error) -> BatchOutcome {
        BatchOutcome {
            seq,
            inputs: 0,
            uncovered: Vec::new(),
            problem: Some(problem),
        }
    }
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

    pub(crate) fn process(&mut self, batch: &Batch) -> BatchOutcome {
        let setup = self.setup;
        let mut outcome = BatchOutcome {
            seq: batch.seq,
            inputs: 0,
            uncovered: Vec::new(),
            problem: None,
        };
        for (line, bytes) in batch.lines() {
            if is_blank(bytes) {
                continue;
            }
            let text = match setup.field.text(bytes) {
                Ok(text) => text,
                Err(problem) => {
                    outcome.problem = Some(bad_line(setup.path, line, setup.field, problem));
                    return outcome;
                }
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
        outcome
    }

    pub(crate) fn into_tallies(self) -> Vec<CaseTally> {
        self.tallies
    }
}
