//! `evalgate history memory BEFORE AFTER`: the memory divergence of any two runs of the
//! history store, as a run's report measures it against its reference runs.

use std::process::ExitCode;

use evalgate::errors::Error;
use evalgate::exit;
use evalgate::history::{HistoryStore, RunRow};
use evalgate::memory::{self, MemoryPolicy, ReferenceRun};

fn run_of(store: &HistoryStore, id: &str) -> Result<RunRow, Error> {
    store.run(id)?.ok_or_else(|| {
        Error::Usage(format!(
            "no run `{id}` in {}; `evalgate history runs` lists them",
            store.path().display()
        ))
    })
}

/// Prints the comparison of every case of `after` with `before`; exit 1 when a case's
/// effective past changed, 0 when none did.
pub(crate) fn compare_runs(
    store: &HistoryStore,
    before: &str,
    after: &str,
    policy: MemoryPolicy,
) -> Result<ExitCode, Error> {
    let (then, now) = (run_of(store, before)?, run_of(store, after)?);
    if then.run_id == now.run_id {
        return Err(Error::Usage(format!(
            "`{before}` is compared with itself; name two runs"
        )));
    }
    if then.suite != now.suite {
        return Err(Error::Usage(format!(
            "run `{before}` is of suite `{}` and run `{after}` of suite `{}`: their cases \
             are not the same cases",
            then.suite, now.suite
        )));
    }
    let reference = ReferenceRun {
        samples: store.sample_records_of_run(&then.run_id)?,
        run_id: then.run_id,
        started_at: then.started_at,
        envelope: then.envelope,
    };
    let samples = store.sample_records_of_run(&now.run_id)?;
    let report = memory::compare(
        policy,
        &samples,
        &now.envelope,
        &[reference],
        Some(format!("run {before}")),
        None,
    )
    .ok_or_else(|| {
        Error::Usage(format!(
            "neither run reported memory or probed recall (`recalled:`) for a case of run \
             `{after}`"
        ))
    })?;
    let mut text = String::new();
    memory::render(&report, &mut text);
    println!("{}", text.trim_start());
    Ok(ExitCode::from(if report.changed.is_empty() {
        exit::PASS
    } else {
        exit::FAILED
    }))
}
