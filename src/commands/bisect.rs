//! `evalgate bisect --good A --bad B [CASES...]`: which axes of the version envelope, alone
//! or together, a regression needs. Every configuration is a run of the chosen cases by the
//! `evalgate` binary itself in a child process (`$EVALGATE_AXES` names its axis values, its
//! output is dropped); its records are kept under
//! `<out>/bisect/<key>/<configuration>/round-<k>` and ingested into the history store as
//! run `bisect-<key>-<configuration>-r<k>` of suite `<suite>#bisect` — apart from the
//! suite's own runs, so decay, baselines and memory never see them. A bisection run again
//! (here, or in a later CI job that carried the history over) reuses every round it finds on
//! disk or in history. Each configuration takes rounds (each round: every chosen case with
//! its own `samples:`) until the statistics decide, at most `--max-rounds`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

use evalgate::digest::Sha256;

use crate::bisect::{self, Budget, Config, Outcome, Outcomes, Probe, Tallies, Tally};
use crate::demo::DemoVersion;
use evalgate::case::TEST_PREFIX;
use evalgate::envelope::{AXES_ENV, check_axes};
use evalgate::errors::Error;
use evalgate::exit;
use evalgate::harness::default_out_dir;
use evalgate::history::HistoryStore;
use evalgate::layout::Layout;
use evalgate::record::RunData;
use evalgate::suite::Suite;
use evalgate::terminal::{printable, shown};
use evalgate::verdict::SampleVerdict;

#[derive(clap::Args, Debug)]
pub(crate) struct BisectArgs {
    /// The good envelope: a YAML or JSON file of axis values (`model: demo-support-1`), or
    /// the id of a run in the history store (its recorded envelope).
    #[arg(long)]
    good: PathBuf,
    /// The bad envelope (a file or a run id), naming the same axes.
    #[arg(long)]
    bad: PathBuf,
    /// Case ids to bisect on (default: the cases failing under the bad envelope and
    /// passing under the good one).
    cases: Vec<String>,
    /// The evals folder.
    #[arg(long, default_value = "evals")]
    dir: PathBuf,
    /// Where the configurations' records go (default: $EVALGATE_OUT, else target/evalgate).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Rounds of the cases per configuration at most, before "cannot tell".
    #[arg(long, default_value_t = 4)]
    max_rounds: u32,
    /// Configurations to run at most (besides the good and bad envelopes themselves).
    #[arg(long, default_value_t = 64)]
    budget: usize,
    /// Significance of the tests that decide "reproduces" and "does not".
    #[arg(long, default_value_t = 0.05)]
    alpha: f64,
    /// Serve the embedded demo agent (v1 or v2) for the suite's target, as `evalgate demo`.
    #[arg(long)]
    demo: Option<DemoVersion>,
    /// Measure every round again, reusing none kept on disk or in history (after the
    /// agent changed under the same envelopes).
    #[arg(long)]
    fresh: bool,
}

/// Runs configurations of the chosen cases in child processes, round by round.
struct Runner {
    dir: PathBuf,
    root: PathBuf,
    good: BTreeMap<String, String>,
    bad: BTreeMap<String, String>,
    cases: Vec<String>,
    all_cases: Vec<String>,
    agent_url: Option<String>,
    rounds: u32,
    /// The good and bad envelopes' tallies of each case, once measured.
    reference: Option<(Tallies, Tallies)>,
    /// Names the bisection's rounds (`<out>/bisect/<key>`, run ids `bisect-<key>-…`).
    key: String,
    /// The history store rounds are kept in and resumed from, unless history is off.
    history: Option<HistoryStore>,
    /// The suite name its rounds are kept under in history.
    history_suite: String,
    /// Reuse no round from history (`--fresh`).
    fresh: bool,
    alpha: f64,
    samples_spent: u64,
}

impl Runner {
    /// The axis values of a configuration: the good envelope with `bad_axes` from the bad.
    fn axes(&self, bad_axes: &Config) -> BTreeMap<String, String> {
        let mut axes = self.good.clone();
        for axis in bad_axes {
            axes.insert(axis.clone(), self.bad[axis].clone());
        }
        axes
    }

    /// One round of the chosen cases under `bad_axes`: reuses a finished round on disk.
    fn round(&mut self, bad_axes: &Config, round: u32) -> Result<RunData, Error> {
        let name = if bad_axes.is_empty() {
            "all-good".to_string()
        } else {
            bad_axes.iter().cloned().collect::<Vec<_>>().join("+")
        };
        let out = self.root.join(&name).join(format!("round-{round}"));
        let runs = evalgate::layout::Layout::new(&out).runs();
        // Written once the child finished: a folder without it is a round cut short (the
        // bisection was killed), never reused as if it were whole.
        let finished = out.join("finished");
        let run_id = format!("bisect-{}-{name}-r{round}", self.key);
        let measured = !finished.is_file();
        if measured && let Some(data) = self.round_in_history(&run_id)? {
            return Ok(data);
        }
        if measured {
            if out.exists() {
                std::fs::remove_dir_all(&out).map_err(|e| Error::write(&out, e))?;
            }
            let axes = serde_json::to_string(&self.axes(bad_axes)).expect("axes serialize");
            let exe = std::env::current_exe()
                .map_err(|e| Error::Internal(format!("cannot find the evalgate binary: {e}")))?;
            let mut command = Command::new(exe);
            command
                .arg("run")
                .arg(&self.dir)
                .arg("--out")
                .arg(&out)
                .args(["--", "--exact", "--quiet"]);
            for case in self.all_cases.iter().filter(|c| !self.cases.contains(c)) {
                command.args(["--skip", &format!("{TEST_PREFIX}{case}")]);
            }
            command
                .env(AXES_ENV, axes)
                .env("EVALGATE_HISTORY", "off")
                .env("EVALGATE_RUN_ID", &run_id)
                .env_remove("NEXTEST_RUN_ID")
                .env_remove("GITHUB_ACTIONS")
                .env_remove("GITHUB_STEP_SUMMARY")
                .stdout(Stdio::null())
                .stderr(Stdio::piped());
            if let Some(url) = &self.agent_url {
                command.env("EVALGATE_AGENT_URL", url);
            }
            let output = command
                .output()
                .map_err(|e| Error::Internal(format!("cannot run evalgate: {e}")))?;
            let code = output.status.code();
            if code != Some(i32::from(exit::PASS)) && code != Some(i32::from(exit::FAILED)) {
                let _ = std::fs::remove_dir_all(&out);
                return Err(Error::Usage(format!(
                    "running the cases under {}: {}",
                    shown(&out),
                    String::from_utf8_lossy(&output.stderr).trim()
                )));
            }
        }
        let dirs: Vec<PathBuf> = std::fs::read_dir(&runs)
            .map_err(|e| Error::read(&runs, e))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        let data = RunData::read(&dirs)?;
        // A round with errored samples (the agent down, a timeout) says less than it
        // should: used now, but neither kept nor reused, so a later bisection measures it
        // again.
        let errored = data
            .samples
            .iter()
            .any(|s| s.verdict == SampleVerdict::Error);
        if !errored && measured {
            std::fs::write(&finished, b"").map_err(|e| Error::write(&finished, e))?;
        }
        // A round reused from disk is ingested only when history lacks it (history moved,
        // or kept none before): the store holds each round once, written once.
        if !errored && (measured || self.history_lacks(&run_id)?) {
            self.keep_in_history(&data)?;
        }
        Ok(data)
    }

    fn history_lacks(&self, run_id: &str) -> Result<bool, Error> {
        match &self.history {
            Some(store) => Ok(store.run(run_id)?.is_none()),
            None => Ok(false),
        }
    }

    /// A finished round found in the history store (only finished rounds are kept there).
    fn round_in_history(&self, run_id: &str) -> Result<Option<RunData>, Error> {
        let Some(store) = self.history.as_ref().filter(|_| !self.fresh) else {
            return Ok(None);
        };
        if store
            .run(run_id)?
            .is_none_or(|run| run.suite != self.history_suite)
        {
            return Ok(None);
        }
        let cases = store.case_records_of_run(run_id)?;
        if cases.is_empty() {
            return Ok(None);
        }
        Ok(Some(RunData {
            samples: store.sample_records_of_run(run_id)?,
            cases,
            ..RunData::default()
        }))
    }

    /// Ingests a round into the history store under the bisection's own suite name.
    fn keep_in_history(&mut self, data: &RunData) -> Result<(), Error> {
        let Some(store) = &mut self.history else {
            return Ok(());
        };
        let mut kept = data.clone();
        for run in &mut kept.runs {
            run.suite = self.history_suite.clone();
        }
        store.ingest(&kept).map(|_| ())
    }

    /// Failures among each chosen case's answered samples (errors are neither).
    fn tallies(&self, data: &RunData) -> Tallies {
        let mut tallies: Tallies = (self.cases.iter())
            .map(|case| (case.clone(), Tally::default()))
            .collect();
        for sample in &data.samples {
            let Some(tally) = tallies.get_mut(&sample.case) else {
                continue;
            };
            match sample.verdict {
                SampleVerdict::Pass => tally.samples += 1,
                SampleVerdict::Fail => {
                    tally.samples += 1;
                    tally.failures += 1;
                }
                SampleVerdict::Error => {}
            }
        }
        tallies
    }

    /// Rounds of `bad_axes`, one after the other, until `enough` says the tallies so far
    /// are (or the rounds run out): each case's tally of the rounds taken.
    fn measure(
        &mut self,
        bad_axes: &Config,
        mut enough: impl FnMut(&Tallies) -> bool,
    ) -> Result<Tallies, Error> {
        let mut total = Tallies::new();
        for round in 1..=self.rounds {
            let data = self.round(bad_axes, round)?;
            for (case, tally) in self.tallies(&data) {
                self.samples_spent += tally.samples;
                *total.entry(case).or_default() += tally;
            }
            if enough(&total) {
                break;
            }
        }
        Ok(total)
    }
}

/// The sum of the cases' tallies.
fn sum(tallies: &Tallies) -> Tally {
    let mut sum = Tally::default();
    for tally in tallies.values() {
        sum += *tally;
    }
    sum
}

impl Probe for Runner {
    type Error = Error;

    /// Rounds until every case of `alike` is decided (or the rounds run out), each look at
    /// the significance the level and the rounds leave it.
    fn probe(
        &mut self,
        bad_axes: &Config,
        alike: &[Vec<String>],
        family: usize,
    ) -> Result<Outcomes, Error> {
        let (good, bad) = self
            .reference
            .clone()
            .expect("the reference runs come first");
        let significance = bisect::Significance::per_look(self.alpha, family, self.rounds);
        let decided =
            |tallies: &Tallies| bisect::decide_cases(alike, tallies, &good, &bad, significance);
        let total = self.measure(bad_axes, |tallies| {
            !decided(tallies).values().any(|o| *o == Outcome::CannotTell)
        })?;
        Ok(decided(&total))
    }
}

/// An envelope: a file of axis values, else the id of a run in the history store, whose
/// recorded envelope (the versions it declared and the agent reported) it takes.
fn envelope_of(given: &Path, suite: &Suite, out: &Path) -> Result<BTreeMap<String, String>, Error> {
    if given.is_file() {
        return envelope(given);
    }
    let id = given.to_string_lossy();
    let history = evalgate::report::history_path(suite.history.as_deref(), out)?;
    let run = match &history {
        Some(path) if path.is_file() => HistoryStore::open(path)?.run(&id)?,
        _ => None,
    };
    match run {
        Some(run) => Ok(run.envelope.0),
        None => Err(Error::Usage(format!(
            "`{id}` is neither an envelope file nor the id of a run in the history store ({}); \
             `evalgate history runs` lists the runs",
            history.map_or("history is off".to_string(), |p| shown(&p))
        ))),
    }
}

/// Feeds every file under `dir` (its path relative to `root`, then its bytes) to `hasher`,
/// in path order.
fn hash_folder(root: &Path, dir: &Path, hasher: &mut Sha256) -> Result<(), Error> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| Error::read(dir, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            hash_folder(root, &path, hasher)?;
        } else {
            let rel = path.strip_prefix(root).unwrap_or(&path);
            hasher.update(rel.to_string_lossy().as_bytes());
            hasher.update(&[0]);
            hasher.update(&std::fs::read(&path).map_err(|e| Error::read(&path, e))?);
            hasher.update(&[0]);
        }
    }
    Ok(())
}

/// An envelope file: a map of axis names to values (strings, or numbers written as such).
fn envelope(path: &Path) -> Result<BTreeMap<String, String>, Error> {
    let source = evalgate::yaml::read(path)?;
    let values: BTreeMap<String, serde_json::Value> = evalgate::yaml::parse(path, &source)?;
    values
        .into_iter()
        .map(|(axis, value)| match value {
            serde_json::Value::String(s) => Ok((axis, s)),
            serde_json::Value::Number(n) => Ok((axis, n.to_string())),
            other => Err(Error::Usage(format!(
                "{}: axis `{axis}` must be a string, not {other}",
                path.display()
            ))),
        })
        .collect()
}

pub(crate) fn run(args: BisectArgs) -> Result<ExitCode, Error> {
    let suite = Suite::load(&args.dir)?;
    let out = match &args.out {
        Some(out) => out.clone(),
        None => default_out_dir()?,
    };
    let good = envelope_of(&args.good, &suite, &out)?;
    let bad = envelope_of(&args.bad, &suite, &out)?;
    check_axes(&good).map_err(Error::Usage)?;
    check_axes(&bad).map_err(Error::Usage)?;
    let axes = bisect::differing_axes(&good, &bad).map_err(Error::Usage)?;
    if !(args.alpha > 0.0 && args.alpha < 1.0) || args.max_rounds == 0 {
        return Err(Error::Usage(
            "--alpha must be in (0, 1) and --max-rounds at least 1".into(),
        ));
    }
    let all_cases = active_cases(&suite, &args.cases)?;
    let served = args.demo.map(crate::demo::serve).transpose()?;
    let mut runner = start(
        &args,
        &suite,
        &out,
        [good, bad],
        all_cases,
        served.as_ref().map(|(_, server)| server.url()),
    )?;
    // The good and bad envelopes themselves, every round: the reference every
    // configuration is judged against, and (by default) which cases regressed.
    let all_bad: Config = axes.iter().cloned().collect();
    if args.cases.is_empty() {
        runner.cases = regressed_cases(&mut runner, &all_bad)?;
    }
    let good_tallies = runner.measure(&Config::new(), |_| false)?;
    let bad_tallies = runner.measure(&all_bad, |_| false)?;
    // A case with no answered sample under either envelope (every one errored) cannot be
    // judged: left out, and said so.
    let (measured, unmeasured): (Vec<String>, Vec<String>) =
        runner.cases.iter().cloned().partition(|case| {
            [&good_tallies, &bad_tallies]
                .iter()
                .all(|tallies| tallies.get(case).is_some_and(|t| t.samples > 0))
        });
    runner.cases = measured;
    if runner.cases.is_empty() {
        // The agent did not answer: no answer, not bad input.
        println!(
            "evalgate bisect: no answer: every sample of {} errored under the good or the bad \
             envelope",
            listed(&unmeasured)
        );
        return Ok(ExitCode::from(exit::FAILED));
    }
    let (good_tally, bad_tally) = (sum(&good_tallies), sum(&bad_tallies));
    let mut known = BTreeMap::new();
    known.insert(
        all_bad.clone(),
        bisect::decide_bad_envelope(
            &runner.cases,
            &good_tallies,
            &bad_tallies,
            bisect::Significance::of(args.alpha),
        ),
    );
    runner.reference = Some((good_tallies, bad_tallies));
    println!(
        "evalgate bisect: {} axes differ ({}); cases: {}",
        axes.len(),
        axes.join(", "),
        listed(&runner.cases)
    );
    if !unmeasured.is_empty() {
        println!(
            "  left out, no answered sample under the good or the bad envelope: {}",
            listed(&unmeasured)
        );
    }
    println!(
        "  good envelope: {}/{} samples failed; bad envelope: {}/{}",
        good_tally.failures, good_tally.samples, bad_tally.failures, bad_tally.samples
    );
    let cases = runner.cases.clone();
    let result = bisect::bisect(
        &axes,
        &cases,
        &known,
        Budget {
            configurations: args.budget,
        },
        &mut runner,
    )?;
    print!("{result}");
    println!(
        "configurations run: {} besides the good and bad envelopes; samples: {}",
        result.ran(),
        runner.samples_spent
    );
    println!("records: {}", shown(&runner.root));
    drop(served);
    Ok(ExitCode::from(match result.answer {
        bisect::Answer::Found { .. } => exit::PASS,
        bisect::Answer::NotReproduced | bisect::Answer::Partial { .. } => exit::FAILED,
    }))
}

/// The runner of the rounds: its cache under `out/bisect/<key>` (emptied by `--fresh`),
/// the history store, and the cases to bisect (those asked for, else every active case).
fn start(
    args: &BisectArgs,
    suite: &Suite,
    out: &Path,
    [good, bad]: [BTreeMap<String, String>; 2],
    all_cases: Vec<String>,
    agent_url: Option<String>,
) -> Result<Runner, Error> {
    let key = cache_key(&good, &bad, args, suite)?;
    let history = match evalgate::report::history_path(suite.history.as_deref(), out)? {
        Some(path) => Some(HistoryStore::open(&path)?),
        None => None,
    };
    if args.fresh {
        let root = Layout::new(out).bisect(&key);
        if root.exists() {
            std::fs::remove_dir_all(&root).map_err(|e| Error::write(&root, e))?;
        }
    }
    Ok(Runner {
        fresh: args.fresh,
        dir: args.dir.clone(),
        root: Layout::new(out).bisect(&key),
        key,
        history,
        history_suite: format!("{}#bisect", suite.name),
        good,
        bad,
        cases: if args.cases.is_empty() {
            all_cases.clone()
        } else {
            args.cases.clone()
        },
        all_cases,
        agent_url,
        rounds: args.max_rounds,
        reference: None,
        alpha: args.alpha,
        samples_spent: 0,
    })
}

/// The ids of the suite's active cases; each of `asked` must be one.
fn active_cases(suite: &Suite, asked: &[String]) -> Result<Vec<String>, Error> {
    let all_cases = super::active::active_case_ids(suite)?;
    if let Some(case) = asked.iter().find(|case| !all_cases.contains(case)) {
        return Err(Error::Usage(format!(
            "`{case}` is no active case of the suite"
        )));
    }
    Ok(all_cases)
}

/// The key of the rounds' cache. What the rounds measured depend on: the envelopes, the
/// cases asked for, every file of the evals folder (suite, cases, samples, expectations),
/// the demo agent served and this evalgate. The agent's own code is what the envelopes
/// name; after changing it under the same envelopes, `--fresh`.
fn cache_key(
    good: &BTreeMap<String, String>,
    bad: &BTreeMap<String, String>,
    args: &BisectArgs,
    suite: &Suite,
) -> Result<String, Error> {
    let mut hasher = Sha256::new();
    let text = serde_json::to_string(&(
        good,
        bad,
        &args.cases,
        &suite.name,
        args.demo.map(|d| d.as_str()),
        env!("CARGO_PKG_VERSION"),
    ))
    .expect("envelopes serialize");
    hasher.update(text.as_bytes());
    hash_folder(&suite.dir, &suite.dir, &mut hasher)?;
    Ok(evalgate::digest::hex(&hasher.finish()[..6]))
}

/// The cases that fail under the bad envelope and not under the good one, from one round
/// of each; none is an error (there is nothing to bisect).
fn regressed_cases(runner: &mut Runner, all_bad: &Config) -> Result<Vec<String>, Error> {
    let good_data = runner.round(&Config::new(), 1)?;
    let bad_data = runner.round(all_bad, 1)?;
    let failing = |data: &RunData| -> Vec<String> {
        data.cases
            .iter()
            .filter(|c| c.verdict == evalgate::verdict::Verdict::Fail)
            .map(|c| c.case.clone())
            .collect()
    };
    let before = failing(&good_data);
    let mut regressed: Vec<String> = failing(&bad_data)
        .into_iter()
        .filter(|c| !before.contains(c))
        .collect();
    regressed.sort();
    if regressed.is_empty() {
        return Err(Error::Usage(
            "no case fails under the bad envelope and passes under the good one: there is \
             no regression to bisect (name the cases to bisect on to force it)"
                .into(),
        ));
    }
    Ok(regressed)
}

/// Case ids as the terminal shows them, comma-separated.
fn listed(cases: &[String]) -> String {
    cases
        .iter()
        .map(|c| printable(c))
        .collect::<Vec<_>>()
        .join(", ")
}
