//! The threads of an analysis: one reader hands batches of lines to a worker per core, and
//! the calling thread puts the workers' outcomes back in file order for the clustering.
//! At most a fixed window of batches is between the reader and the clustering at any time
//! (the reader needs a credit per batch, which comes back once that batch is clustered),
//! so memory does not grow with the file, and a slow batch holds the reader back instead
//! of letting finished ones pile up. The results do not depend on which worker took which
//! batch: the tallies merge by a total order, and the clustering sees file order.

use std::collections::BTreeMap;
use std::num::NonZeroUsize;
use std::panic::AssertUnwindSafe;
use std::sync::{Mutex, PoisonError, mpsc};

use super::case_tally::CaseTally;
use super::clusters::UncoveredClusters;
use super::matcher::{BatchOutcome, MatchSetup, Matcher};
use super::production::{Batch, BatchReader};
use crate::errors::Error;

/// Batches in flight per worker: enough to keep every worker busy while one batch is slow.
const BATCHES_IN_FLIGHT_PER_WORKER: usize = 4;

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
    clusters: UncoveredClusters,
) -> Result<Streamed, Error> {
    let mut reader = BatchReader::open(setup.path)?;
    let workers = std::thread::available_parallelism().map_or(1, NonZeroUsize::get);
    let window = BATCHES_IN_FLIGHT_PER_WORKER * workers;
    let (batch_tx, batch_rx) = mpsc::sync_channel::<Batch>(window);
    let (outcome_tx, outcome_rx) = mpsc::channel::<BatchOutcome>();
    let (credit_tx, credit_rx) = mpsc::sync_channel::<()>(window);
    for _ in 0..window {
        credit_tx
            .send(())
            .expect("the credit channel holds the window");
    }
    let work = Mutex::new(batch_rx);
    std::thread::scope(|scope| {
        // Owned here, so that returning early (a bad line) drops them: the reader then
        // finds no credit and stops, and the workers find no batch.
        let (credit_tx, outcome_rx) = (credit_tx, outcome_rx);
        let reader_outcomes = outcome_tx.clone();
        let read = scope.spawn(move || {
            while credit_rx.recv().is_ok() {
                match reader.next_batch() {
                    Ok(Some(batch)) => {
                        if batch_tx.send(batch).is_err() {
                            return;
                        }
                    }
                    Ok(None) => return,
                    Err(e) => {
                        let _ = reader_outcomes.send(BatchOutcome::failed(reader.next_seq(), e));
                        return;
                    }
                }
            }
        });
        let matchers: Vec<_> = (0..workers)
            .map(|_| {
                let outcomes = outcome_tx.clone();
                let work = &work;
                scope.spawn(move || {
                    let mut matcher = Matcher::new(setup);
                    loop {
                        let batch = work.lock().unwrap_or_else(PoisonError::into_inner).recv();
                        let Ok(batch) = batch else { break };
                        // A panic must come back as this batch's outcome: a batch that never
                        // comes back would hold the reader and the clustering forever.
                        let outcome =
                            std::panic::catch_unwind(AssertUnwindSafe(|| matcher.process(&batch)))
                                .unwrap_or_else(|_| {
                                    BatchOutcome::failed(
                                        batch.seq,
                                        Error::Internal(format!(
                                            "matching batch {} of the production sample panicked",
                                            batch.seq
                                        )),
                                    )
                                });
                        if outcomes.send(outcome).is_err() {
                            break;
                        }
                    }
                    matcher.into_tallies()
                })
            })
            .collect();
        drop(outcome_tx);

        let mut streamed = Streamed {
            inputs: 0,
            uncovered: 0,
            tallies: Vec::new(),
            clusters,
        };
        let mut pending: BTreeMap<u64, BatchOutcome> = BTreeMap::new();
        let mut next_seq = 0;
        for outcome in &outcome_rx {
            pending.insert(outcome.seq, outcome);
            while let Some(outcome) = pending.remove(&next_seq) {
                if let Some(problem) = outcome.problem {
                    return Err(problem);
                }
                streamed.inputs += outcome.inputs;
                for input in outcome.uncovered {
                    streamed.uncovered += 1;
                    streamed.clusters.add(input);
                }
                next_seq += 1;
                // The reader may be gone (end of file); the credit is then not needed.
                let _ = credit_tx.send(());
            }
        }
        let panicked = || Error::Internal("a representativeness thread panicked".into());
        read.join().map_err(|_| panicked())?;
        for matcher in matchers {
            let tallies = matcher.join().map_err(|_| panicked())?;
            if streamed.tallies.is_empty() {
                streamed.tallies = tallies;
            } else {
                for (mine, theirs) in streamed.tallies.iter_mut().zip(tallies) {
                    mine.merge(theirs, setup.nearest_per_case);
                }
            }
        }
        if !pending.is_empty() {
            return Err(Error::Internal(format!(
                "batch {next_seq} of the production sample was never matched"
            )));
        }
        Ok(streamed)
    })
}
