//! A run's cases started together and reported one by one as each finishes, in whatever
//! order that is: the order in which their lines are written.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use super::case::run_case;
use super::{CaseOutcome, Runner};
use crate::case::Case;

/// What [`Runner::run_all`] reports as it goes.
pub(crate) enum RunEvent {
    /// The case at this index finished (or could not: why).
    Finished(usize, Box<Result<CaseOutcome, String>>),
    /// Time passed.
    Tick,
}

impl Runner {
    /// Runs `cases` together and calls `event`, on this thread, with each one's index and
    /// outcome the moment it finishes — whatever order they were given in — and, every
    /// `tick` when there is one, meanwhile. When the grace after an interruption is over,
    /// the cases still running are given up (as interrupted).
    pub(crate) fn run_all(
        &self,
        cases: Vec<Arc<Case>>,
        tick: Option<Duration>,
        mut event: impl FnMut(RunEvent),
    ) {
        let shared = &self.inner;
        self.runtime.block_on(async {
            let mut running = tokio::task::JoinSet::new();
            let mut index_of = HashMap::with_capacity(cases.len());
            for (index, case) in cases.into_iter().enumerate() {
                let task = running.spawn(run_case(Arc::clone(shared), case));
                index_of.insert(task.id(), index);
            }
            let mut ticks = tick.map(|every| {
                let mut ticks =
                    tokio::time::interval_at(tokio::time::Instant::now() + every, every);
                ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
                ticks
            });
            let grace_over = shared.interrupt.grace_over();
            tokio::pin!(grace_over);
            let mut given_up = false;
            loop {
                let tick = async {
                    match &mut ticks {
                        Some(ticks) => {
                            ticks.tick().await;
                        }
                        None => std::future::pending().await,
                    }
                };
                tokio::select! {
                    joined = running.join_next_with_id() => {
                        let Some(joined) = joined else { break };
                        let (id, outcome) = match joined {
                            Ok((id, outcome)) => (id, Ok(outcome)),
                            Err(e) if e.is_cancelled() => (e.id(), Ok(CaseOutcome::INTERRUPTED)),
                            Err(e) => (
                                e.id(),
                                Err(format!("internal error: the case task failed: {e}")),
                            ),
                        };
                        event(RunEvent::Finished(index_of[&id], Box::new(outcome)));
                    }
                    () = &mut grace_over, if !given_up => {
                        given_up = true;
                        running.abort_all();
                    }
                    () = tick => event(RunEvent::Tick),
                }
            }
        });
    }
}
