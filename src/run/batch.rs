//! A run's cases started together and reported one by one as each finishes, in whatever
//! order that is: the order in which their lines are written.

use std::collections::HashMap;
use std::sync::Arc;

use super::{CaseOutcome, Runner, run_case};
use crate::case::Case;

impl Runner {
    /// Runs `cases` together and calls `finished`, on this thread, with each one's index
    /// and outcome the moment it finishes — whatever order they were given in. When the
    /// grace after an interruption is over, the cases still running are given up (as
    /// interrupted).
    pub(crate) fn run_all(
        &self,
        cases: Vec<Arc<Case>>,
        mut finished: impl FnMut(usize, Result<CaseOutcome, String>),
    ) {
        let shared = &self.inner;
        self.runtime.block_on(async {
            let mut running = tokio::task::JoinSet::new();
            let mut index_of = HashMap::with_capacity(cases.len());
            for (index, case) in cases.into_iter().enumerate() {
                let task = running.spawn(run_case(Arc::clone(shared), case));
                index_of.insert(task.id(), index);
            }
            let grace_over = shared.interrupt.grace_over();
            tokio::pin!(grace_over);
            let mut given_up = false;
            loop {
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
                        finished(index_of[&id], outcome);
                    }
                    () = &mut grace_over, if !given_up => {
                        given_up = true;
                        running.abort_all();
                    }
                }
            }
        });
    }
}
