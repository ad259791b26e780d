//! The threads of an analysis: one reader hands batches of lines to a worker per core, and
//! the calling thread puts the workers' outcomes back in file order (for the clustering).
//! At most a fixed window of batches is between the reader and the caller at any time
//! (the reader needs a credit per batch, which comes back once that batch's outcome is
//! taken), so memory does not grow with the file, and a slow batch holds the reader back
//! instead of letting finished ones pile up. The results do not depend on which worker
//! took which batch: the tallies merge by a total order, and the caller sees file order.
//! [`fan_out`] is the machinery for any per-line analysis of a JSON Lines file (the
//! representativeness matcher, the usage cost tally of `crate::usage`).

use std::collections::BTreeMap;
use std::num::NonZeroUsize;
use std::panic::AssertUnwindSafe;
use std::sync::{Mutex, PoisonError, mpsc};

use super::production::{Batch, BatchReader};
use crate::errors::Error;

/// Batches in flight per worker: enough to keep every worker busy while one batch is slow.
const BATCHES_IN_FLIGHT_PER_WORKER: usize = 4;

/// What one worker thread does with the batches it is handed.
pub trait BatchWorker {
    /// What a batch gives back, handed to the caller in file order.
    type Outcome: Send;
    /// What the worker has added up once the file is read.
    type Tallies: Send;
    fn process(&mut self, batch: &Batch) -> Result<Self::Outcome, Error>;
    fn into_tallies(self) -> Self::Tallies;
}

/// One worker per core, as the machine reports it (1 where it cannot tell).
pub fn one_per_core() -> usize {
    std::thread::available_parallelism().map_or(1, NonZeroUsize::get)
}

/// Streams `reader` through `workers` threads, each with its own worker from `new_worker`.
/// `in_order` gets every batch's outcome in file order; the first error in file order
/// (a worker's, the reader's or `in_order`'s) stops the stream and is returned. Returns
/// each worker's tallies, in no meaningful order: which batches a worker took depends on
/// thread timing, so they must be merged by an order of their own.
pub fn fan_out<W, N, F>(
    mut reader: BatchReader<'_>,
    workers: usize,
    new_worker: N,
    mut in_order: F,
) -> Result<Vec<W::Tallies>, Error>
where
    W: BatchWorker,
    N: Fn() -> W + Sync,
    F: FnMut(W::Outcome) -> Result<(), Error>,
{
    let path = reader.path();
    let workers = workers.max(1);
    let window = BATCHES_IN_FLIGHT_PER_WORKER * workers;
    let (batch_tx, batch_rx) = mpsc::sync_channel::<Batch>(window);
    let (outcome_tx, outcome_rx) = mpsc::channel::<(u64, Result<W::Outcome, Error>)>();
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
                        let _ = reader_outcomes.send((reader.next_seq(), Err(e)));
                        return;
                    }
                }
            }
        });
        let spawned: Vec<_> = (0..workers)
            .map(|_| {
                let outcomes = outcome_tx.clone();
                let (work, new_worker) = (&work, &new_worker);
                scope.spawn(move || {
                    let mut worker = new_worker();
                    loop {
                        let batch = work.lock().unwrap_or_else(PoisonError::into_inner).recv();
                        let Ok(batch) = batch else { break };
                        // A panic must come back as this batch's outcome: a batch that never
                        // comes back would hold the reader and the caller forever.
                        let outcome =
                            std::panic::catch_unwind(AssertUnwindSafe(|| worker.process(&batch)))
                                .unwrap_or_else(|_| {
                                    Err(Error::Internal(format!(
                                        "processing batch {} of {} panicked",
                                        batch.seq,
                                        path.display()
                                    )))
                                });
                        if outcomes.send((batch.seq, outcome)).is_err() {
                            break;
                        }
                    }
                    worker.into_tallies()
                })
            })
            .collect();
        drop(outcome_tx);

        let mut pending: BTreeMap<u64, Result<W::Outcome, Error>> = BTreeMap::new();
        let mut next_seq = 0;
        for (seq, outcome) in &outcome_rx {
            pending.insert(seq, outcome);
            while let Some(outcome) = pending.remove(&next_seq) {
                in_order(outcome?)?;
                next_seq += 1;
                // The reader may be gone (end of file); the credit is then not needed.
                let _ = credit_tx.send(());
            }
        }
        let panicked = || Error::Internal(format!("a thread reading {} panicked", path.display()));
        read.join().map_err(|_| panicked())?;
        let tallies = spawned
            .into_iter()
            .map(|worker| worker.join().map_err(|_| panicked()))
            .collect::<Result<Vec<_>, Error>>()?;
        if !pending.is_empty() {
            return Err(Error::Internal(format!(
                "batch {next_seq} of {} was never processed",
                path.display()
            )));
        }
        Ok(tallies)
    })
}
