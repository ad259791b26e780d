//! `evalgate rerun`: the honest version of clicking "run again". It refuses to run without
//! a hypothesis and the pass rate it predicts, takes K independent samples of one case,
//! says whether the outcome is consistent with the prediction, and keeps the rerun in the
//! history store, where every later report lists it — nobody rerolls a case to green
//! unseen. Its samples never count as a run of the suite.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::case::{Selection, discover};
use crate::errors::Error;
use crate::harness::{async_runtime, fresh_id};
use crate::history::HistoryStore;
use crate::provenance::Provenance;
use crate::record::{Record, Recorder, RerunRecord, RunData, SCHEMA_VERSION, SampleRecord};
use crate::report::{history_path, shown};
use crate::run::{Interrupt, RunSetup, Runner};
use crate::stats::clopper_pearson;
use crate::suite::Suite;
use crate::target::{Overrides, Secrets, Target};
use crate::verdict::{MAX_SAMPLES, PassRule, SampleVerdict};

/// The widest 95 % interval that can call a prediction consistent: wider, the runs cannot
/// tell it from its opposite (1 of 1 passing is "consistent" with anything above 0.025).
const MAX_CONSISTENT_WIDTH: f64 = 0.5;

/// What `evalgate rerun` was asked.
#[derive(Debug, Clone)]
pub struct RerunRequest {
    pub dir: PathBuf,
    pub out_dir: PathBuf,
    pub case: String,
    pub runs: u32,
    pub hypothesis: String,
    pub expect_rate: f64,
    pub overrides: Overrides,
}

impl RerunRequest {
    /// Refuses a rerun that could not test anything, before any agent call.
    fn check(&self) -> Result<(), Error> {
        if self.hypothesis.trim().chars().count() < 10 {
            return Err(Error::Usage(
                "a rerun needs a hypothesis written down before it runs: --hypothesis \"why \
                 the case should now pass (or fail), in a sentence\""
                    .into(),
            ));
        }
        if self.runs == 0 || self.runs > MAX_SAMPLES {
            return Err(Error::Usage(format!(
                "--runs {} must be between 1 and {MAX_SAMPLES}",
                self.runs
            )));
        }
        if !(0.0..=1.0).contains(&self.expect_rate) {
            return Err(Error::Usage(format!(
                "--expect-rate {} must be a pass rate between 0 and 1",
                self.expect_rate
            )));
        }
        Ok(())
    }
}

/// Runs the rerun, records it in history and returns its record.
pub fn rerun(request: &RerunRequest) -> Result<RerunRecord, Error> {
    request.check()?;
    let suite = Suite::load(&request.dir)?;
    let history = history_path(suite.history.as_deref(), &request.out_dir)?.ok_or_else(|| {
        Error::Usage(format!(
            "a rerun is kept in the history store so later reports list it, but {}",
            crate::history::OFF_BECAUSE
        ))
    })?;
    // Opened before any agent call: a broken store is found now, not after K samples.
    let mut store = HistoryStore::open(&history)?;
    let (cases, _) = discover(&suite, Selection::Exact(&request.case))?;
    let mut case = cases
        .into_iter()
        .find(|c| c.id == request.case)
        .ok_or_else(|| {
            Error::Usage(format!(
                "no case `{}` in {}",
                request.case,
                shown(&suite.cases_dir)
            ))
        })?;
    // K samples, all taken: the outcome is the pass rate, not the case's own verdict.
    case.samples = request.runs;
    case.sampling = crate::case::Sampling::Fixed;
    case.rule = PassRule::AtLeast(1);
    case.sequential = None;

    let started_at = jiff::Timestamp::now();
    let rerun_id = format!("rerun-{}", fresh_id());
    let dir = request.out_dir.join("reruns").join(&rerun_id);
    let provenance = Provenance::detect(&suite.dir)?;
    let secrets = Secrets::of_suite(&suite, &request.overrides);
    crate::target::secrets::install(&secrets);
    let recorder = Arc::new(Recorder::create(&dir)?.redacting(secrets));
    let samples = run_samples(
        &suite,
        case,
        &rerun_id,
        &dir,
        &recorder,
        request,
        provenance.clone(),
    )?;

    let mut record = outcome(request, &suite.name, rerun_id, &samples, started_at);
    record.branch = provenance.branch;
    record.commit = provenance.commit;
    // Which envelope its samples ran under: with the commit, the attempts it adds to.
    record.envelope_id = Some(
        crate::envelope::RunEnvelope::of_run(
            &[crate::record::run_record_of_process(
                &suite,
                String::new(),
                "",
                1,
                Provenance::default(),
            )],
            &samples,
        )
        .id,
    );
    recorder.append(&Record::Rerun(Box::new(record.clone())));
    if let Some(e) = recorder.take_error() {
        return Err(e);
    }
    store.ingest(&RunData {
        reruns: vec![record.clone()],
        ..RunData::default()
    })?;
    Ok(record)
}

/// Takes the samples with the suite's target, recording them under `dir` with `recorder`.
fn run_samples(
    suite: &Suite,
    case: crate::case::Case,
    rerun_id: &str,
    dir: &Path,
    recorder: &Arc<Recorder>,
    request: &RerunRequest,
    provenance: Provenance,
) -> Result<Vec<SampleRecord>, Error> {
    let runtime = async_runtime()?;
    let target = {
        let _guard = runtime.enter();
        Target::build(suite, None, &request.overrides)?
    };
    recorder.append(&Record::Run(Box::new(
        crate::record::run_record_of_process(
            suite,
            rerun_id.to_string(),
            target.kind(),
            suite.concurrency,
            provenance,
        ),
    )));
    let runner = Runner::new(
        runtime.handle().clone(),
        target,
        RunSetup {
            baseline: None,
            suite,
            concurrency: suite.concurrency,
            recorder: Arc::clone(recorder),
            run_id: rerun_id.to_string(),
            run_dir: dir,
            overrides: &request.overrides,
            axes: &std::collections::BTreeMap::new(),
            interrupt: Arc::new(Interrupt::new()),
        },
    );
    let id = case.id.clone();
    runner
        .wait(runner.spawn(Arc::new(case)))
        .map_err(Error::Internal)?;
    drop(runner);
    runtime.shutdown_background();
    let data = RunData::read(&[dir.to_path_buf()])?;
    let samples: Vec<SampleRecord> = data.samples.into_iter().filter(|s| s.case == id).collect();
    Ok(samples)
}

/// The rerun's record: the pass rate over answered samples with its exact interval, and
/// whether the predicted rate is inside it. Errored samples are never passes, and leave
/// the rerun unable to tell.
fn outcome(
    request: &RerunRequest,
    suite: &str,
    rerun_id: String,
    samples: &[SampleRecord],
    started_at: jiff::Timestamp,
) -> RerunRecord {
    let count = |v: SampleVerdict| samples.iter().filter(|s| s.verdict == v).count() as u32;
    let (passes, failures, errors) = (
        count(SampleVerdict::Pass),
        count(SampleVerdict::Fail),
        count(SampleVerdict::Error),
    );
    let (low, high) = clopper_pearson(passes, passes + failures, 0.95);
    let inside = low <= request.expect_rate && request.expect_rate <= high;
    // Outside the interval, the data rules the prediction out whatever K; inside a wide
    // interval, it rules out nothing — "consistent" would be a reroll to green.
    let consistent = if errors > 0 || passes + failures == 0 {
        None
    } else if !inside {
        Some(false)
    } else if high - low > MAX_CONSISTENT_WIDTH {
        None
    } else {
        Some(true)
    };
    let tokens = |f: fn(&crate::observation::Usage) -> u64| {
        samples
            .iter()
            .filter_map(|s| s.usage.as_ref())
            .map(f)
            .sum::<u64>()
    };
    RerunRecord {
        schema: SCHEMA_VERSION,
        rerun_id,
        suite: suite.to_string(),
        case: request.case.clone(),
        hypothesis: request.hypothesis.trim().to_string(),
        expect_rate: request.expect_rate,
        runs: request.runs,
        passes,
        failures,
        errors,
        interval: [low, high],
        consistent,
        input_tokens: tokens(|u| u.input_tokens),
        output_tokens: tokens(|u| u.output_tokens),
        envelope_id: None,
        branch: None,
        commit: None,
        started_at,
        finished_at: jiff::Timestamp::now(),
    }
}

/// The terminal lines of a rerun.
pub fn render(record: &RerunRecord) -> String {
    let answered = record.passes + record.failures;
    let verdict = match record.consistent {
        Some(true) => "consistent with the hypothesis".to_string(),
        Some(false) => "NOT consistent with the hypothesis".to_string(),
        None if record.errors > 0 => format!(
            "cannot tell: {} sample(s) errored (an error is never a pass)",
            record.errors
        ),
        None => format!(
            "cannot tell: the interval is wider than {MAX_CONSISTENT_WIDTH}; take more runs \
             (17 or more always narrow it enough)"
        ),
    };
    format!(
        "evalgate: rerun {} of {}: {} run(s), {}/{answered} passed, {} error(s)\n\
         evalgate:   pass rate 95 % interval [{:.3}, {:.3}] (Clopper-Pearson); predicted {} → {verdict}\n\
         evalgate:   hypothesis: {}\n\
         evalgate:   tokens {} in / {} out; kept in history, listed in every report",
        record.rerun_id,
        record.case,
        record.runs,
        record.passes,
        record.errors,
        record.interval[0],
        record.interval[1],
        record.expect_rate,
        record.hypothesis,
        record.input_tokens,
        record.output_tokens,
    )
}
