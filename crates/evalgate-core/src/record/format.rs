//! The record format: every kind of line a run folder holds, as Rust types (schema version
//! [`SCHEMA_VERSION`]). Nothing here reads or writes files.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::observation::{Decision, MemoryTurn, Usage};
use crate::verdict::{SampleVerdict, Verdict};

/// The record schema this build writes and reads.
pub const SCHEMA_VERSION: u32 = 1;

/// One line of a record file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Record {
    /// `kind: run`: a process started running cases.
    Run(Box<RunRecord>),
    /// `kind: sample`: one call of the agent and its checks.
    Sample(Box<SampleRecord>),
    /// `kind: case`: a case's verdict from all its samples.
    Case(Box<CaseRecord>),
    /// `kind: rerun`: an `evalgate rerun` of one case.
    Rerun(Box<RerunRecord>),
    /// `kind: outcome`: how a reported run ended (history exports only).
    Outcome(Box<OutcomeRecord>),
    /// `kind: end`: a process finished or was interrupted.
    End(Box<EndRecord>),
}

/// Written once per process after its last case finished (or when it was interrupted):
/// the end marker. A process whose run record has no end record was killed, and its run
/// is incomplete.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EndRecord {
    /// The record schema version it was written under ([`SCHEMA_VERSION`] by this build).
    pub schema: u32,
    /// The run the process belongs to (shared by every process of one run).
    pub run_id: String,
    /// The process, as its run record names it (pid and start).
    pub pid: u32,
    /// When the process started, as in its run record.
    pub started_at: jiff::Timestamp,
    /// When the process wrote this marker.
    pub finished_at: jiff::Timestamp,
    /// SIGINT or SIGTERM stopped it: cases it planned may not have run.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub interrupted: bool,
}

impl EndRecord {
    /// The end marker of the process that wrote `run`.
    pub fn of(run: &RunRecord, interrupted: bool) -> EndRecord {
        EndRecord {
            schema: SCHEMA_VERSION,
            run_id: run.run_id.clone(),
            pid: run.pid,
            started_at: run.started_at,
            finished_at: jiff::Timestamp::now(),
            interrupted,
        }
    }

    /// Whether this marks the end of the process that wrote `run`.
    pub fn ends(&self, run: &RunRecord) -> bool {
        self.run_id == run.run_id && self.pid == run.pid && self.started_at == run.started_at
    }
}

/// How a reported run ended, kept in the history store (never in a run folder) when its
/// reports are written: so that a green run of a commit after red attempts of the same
/// commit and envelope is seen, and counted by the `runs.reruns_to_green` gate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutcomeRecord {
    /// The record schema version it was written under ([`SCHEMA_VERSION`] by this build).
    pub schema: u32,
    /// The run it describes.
    pub run_id: String,
    /// The suite's name.
    pub suite: String,
    /// Whether the run failed: a failing case or a failing `fail` gate.
    pub red: bool,
    /// The cases whose test failed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failed_cases: Vec<String>,
    /// The `fail` gates that failed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failed_gates: Vec<String>,
    /// The run did not finish: never a baseline, decay or memory reference.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub incomplete: bool,
    /// When the run's reports were written.
    pub reported_at: jiff::Timestamp,
}

/// `evalgate rerun`: K more samples of one case, taken to test a hypothesis written down
/// before they ran. Kept in history and listed in later reports, so a case is never rerun
/// to green unseen; its samples never count as a run of the suite.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RerunRecord {
    /// The record schema version it was written under ([`SCHEMA_VERSION`] by this build).
    pub schema: u32,
    /// Names the rerun, as `run_id` names a run.
    pub rerun_id: String,
    /// The suite's name.
    pub suite: String,
    /// The case id.
    pub case: String,
    /// What the person running it expected to learn, as written before the samples ran.
    pub hypothesis: String,
    /// The pass rate the hypothesis predicts.
    pub expect_rate: f64,
    /// Samples asked for (K).
    pub runs: u32,
    /// Samples that passed.
    pub passes: u32,
    /// Samples that failed.
    pub failures: u32,
    /// Samples that errored (never counted as passes or failures).
    pub errors: u32,
    /// 95 % Clopper-Pearson interval of the pass rate over answered samples.
    pub interval: [f64; 2],
    /// Whether the predicted rate lies in the interval; `None` when errored samples leave
    /// the rerun unable to tell.
    pub consistent: Option<bool>,
    /// Input tokens of all its samples, as the agent reported them.
    pub input_tokens: u64,
    /// Output tokens of all its samples, as the agent reported them.
    pub output_tokens: u64,
    /// The branch of the repository it ran on, when it could be told.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    /// The commit it ran on, when it could be told.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// The envelope its samples ran under: with the commit, which run's attempts it adds to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub envelope_id: Option<String>,
    /// When the rerun started.
    pub started_at: jiff::Timestamp,
    /// When its last sample finished.
    pub finished_at: jiff::Timestamp,
}

/// Written once per process when it starts running cases.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// The record schema version it was written under ([`SCHEMA_VERSION`] by this build).
    pub schema: u32,
    /// The run the process belongs to: every process of one `cargo test`, nextest run or CI shard
    /// set shares it, so their records merge.
    pub run_id: String,
    /// The suite's name.
    pub suite: String,
    /// How the agent was reached: `http`, `openai`, `command` or `in_process`.
    pub target: String,
    /// The evalgate version that wrote the records.
    pub evalgate_version: String,
    /// The process id: with `started_at`, names the process for its end record.
    pub pid: u32,
    /// When the process started running cases.
    pub started_at: jiff::Timestamp,
    /// How many samples the process ran at once.
    pub concurrency: usize,
    /// Versions declared in the suite for the agent under test.
    #[serde(default)]
    pub envelope: BTreeMap<String, String>,
    /// Versions in force (corpus, policy, tools).
    #[serde(default)]
    pub pins: BTreeMap<String, String>,
    /// The branch of the user's repository the run measured, when it could be told
    /// (`$EVALGATE_BRANCH`, CI variables, `.git`): runs of a branch are a baseline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    /// The commit it measured, likewise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// Whether the commit names the checkout exactly: it came from CI (`GITHUB_SHA`,
    /// `CI_COMMIT_SHA`) or `EVALGATE_COMMIT`, not from `.git`, whose working tree may hold
    /// changes. Only such runs of one commit are attempts of the same thing.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub commit_exact: bool,
    /// The suite tier the run was limited to (`$EVALGATE_SUITE_TIER`), if any: the run is
    /// whole when it ran every case of the tier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suite_tier: Option<String>,
    /// The envelope axes the run passed to the agent (`evalgate bisect`, `$EVALGATE_AXES`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub axes: BTreeMap<String, String>,
    /// The cases this process set out to run (after filters), so a run that stopped early
    /// is known by what it did not record. `None` in records of older versions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub planned: Option<Vec<String>>,
}

/// One sample: one call of the agent and its checks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SampleRecord {
    /// The record schema version it was written under ([`SCHEMA_VERSION`] by this build).
    pub schema: u32,
    /// The run it belongs to.
    pub run_id: String,
    /// The case id.
    pub case: String,
    /// The case file, as shown to users.
    pub file: String,
    /// Which sample of the case, from 0.
    pub sample: u32,
    /// Whether the sample passed its checks, failed one, or errored.
    pub verdict: SampleVerdict,
    /// Each expectation's result, in the order the case declares them.
    #[serde(default)]
    pub checks: Vec<CheckResult>,
    /// The output, cut to `limits.record_output_bytes`.
    pub output: String,
    /// The length of the whole output in bytes, before any cut.
    pub output_bytes: usize,
    /// Whether `output` was cut to the limit.
    pub output_truncated: bool,
    /// The planner decisions the sample made, in order.
    #[serde(default)]
    pub decisions: Vec<Decision>,
    /// How long the agent took to answer, retries included.
    pub latency_ms: f64,
    /// Tokens used, when the agent reported them.
    pub usage: Option<Usage>,
    /// The serving tier that answered, as the agent reported it.
    pub tier: Option<String>,
    /// The model that answered, as the agent reported it.
    pub model: Option<String>,
    /// Why generation stopped, as the agent reported it (`stop`, `length`, `tool_calls`...).
    pub finish_reason: Option<String>,
    /// Whether the sample refused: the agent's own statement, else what the refusal
    /// detector found in the output; `None` for a sample without an answer.
    pub refusal: Option<bool>,
    /// Versions the agent reported for this sample.
    #[serde(default)]
    pub envelope: BTreeMap<String, String>,
    /// Calls made: 1 plus retries.
    pub attempts: u32,
    /// Why each retry happened (429, 5xx, connection), in order.
    #[serde(default)]
    pub retries: Vec<String>,
    /// Why the sample errored, when it did.
    pub error: Option<String>,
    /// Problems that did not stop the sample (a trace span missing an attribute...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// When the call started.
    pub started_at: jiff::Timestamp,
    /// When the sample's checks were done.
    pub finished_at: jiff::Timestamp,
    /// The customer the case speaks for (`customer:`), for cost per customer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer: Option<String>,
    /// The serving tier the case forced (`tier:` / `tiers:`), sent to the agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forced_tier: Option<String>,
    /// The named load condition the sample ran under (`conditions:`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
    /// Time to the first token of a streamed answer (the `openai` target with `stream: true`,
    /// or what the agent reports as `ttft_ms`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttft_ms: Option<f64>,
    /// What the agent's memory retained after each turn, when it reports it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub memory: Vec<MemoryTurn>,
}

/// The expectation name of recall probes in check results.
pub const RECALLED: &str = "recalled";

impl SampleRecord {
    /// Whether the sample says anything about memory: it reported memory or ran a recall
    /// probe (what the history indexes to find a case's reference run).
    pub fn concerns_memory(&self) -> bool {
        !self.memory.is_empty() || self.checks.iter().any(|c| c.expectation == RECALLED)
    }
}

/// One case: its verdict from all its samples.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseRecord {
    /// The record schema version it was written under ([`SCHEMA_VERSION`] by this build).
    pub schema: u32,
    /// The run it belongs to.
    pub run_id: String,
    /// The case id (the test name after `evals::`).
    pub case: String,
    /// The case file, as shown to users.
    pub file: String,
    /// The line the case starts at: its `id:` when set, else 1.
    pub line: u32,
    /// The folder under `cases/`, dotted (`refunds.eu`), or `evals` at the top level: JUnit's
    /// classname.
    pub classname: String,
    /// The case's `description:`.
    pub description: Option<String>,
    /// The case's `tags:`.
    #[serde(default)]
    pub tags: Vec<String>,
    /// The case's verdict: pass, fail, inconclusive or error.
    pub verdict: Verdict,
    /// Whether the verdict fails the test (`inconclusive` under `inconclusive: warn` does not).
    pub failed: bool,
    /// Samples taken.
    pub samples: u32,
    /// Samples that passed.
    pub passes: u32,
    /// Samples that failed.
    pub failures: u32,
    /// Samples that errored (never counted as passes or failures).
    pub errors: u32,
    /// The pass rule, as declared (`at_least 3`, `min_rate 0.9`).
    pub rule: String,
    /// 95 % Wilson interval of the pass rate.
    pub interval: [f64; 2],
    /// How long the case took, from its start to its verdict.
    pub duration_ms: f64,
    /// What went wrong, for people (expected vs actual with file:line).
    pub message: Option<String>,
    /// When a person last reviewed the case (`reviewed:`).
    pub reviewed: Option<jiff::civil::Date>,
    /// `rubric-id@version` the case's labels and expectations were written under.
    pub rubric: Option<String>,
    /// The versions the case was written against (`pins:`), compared with the suite's pins in
    /// force.
    #[serde(default)]
    pub pins: BTreeMap<String, String>,
    /// Where the case came from (`source:`): a ticket, an incident, a trace.
    pub source: Option<Source>,
    /// Branches the case expects to reach (`branches`, `path`), for coverage.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub expects: Vec<Decision>,
    /// When the case started.
    pub started_at: jiff::Timestamp,
    /// When its verdict was reached.
    pub finished_at: jiff::Timestamp,
    /// The samples the case declared, when sequential sampling stopped before taking them
    /// all (`samples` is what was taken): the verdict was already decided.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub samples_planned: Option<u32>,
    /// `[min, max]` when the samples were taken look by look against the baseline
    /// (`samples: {min, max}`, or a case declaring none whose samples disagreed with it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub looks: Option<[u32; 2]>,
    /// Why sampling stopped before the most samples the case may take, when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped: Option<Stop>,
    /// How the case was compared with its baseline while it ran, when it had one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comparison: Option<CaseJudgement>,
    /// About how many samples in all would decide an `inconclusive` verdict, if the pass
    /// rate stayed the same.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub samples_to_decide: Option<u32>,
    /// The process that ran it: a case retried by another process (nextest after a
    /// timeout) makes up for the attempt that was cut short.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<u32>,
}

/// Why a case took fewer samples than it may.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stop {
    /// `sequential`: the verdict of all the samples (and the comparison) were settled.
    Settled,
    /// The samples agreed with the baseline: the drop the design is built to see had
    /// become implausible.
    Agreed,
    /// The drop was already certain to be called a regression.
    Regression,
    /// The run's `budget` of samples was spent.
    Budget,
}

/// The result of one expectation on one sample.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckResult {
    /// The expectation's key (`contains`, `branches`, ...).
    pub expectation: String,
    /// The line of the expectation in the case file.
    pub line: u32,
    /// Its column.
    pub column: u32,
    /// Whether the expectation held.
    pub passed: bool,
    /// What it expected, for people.
    pub expected: String,
    /// What the sample did instead, or what it matched.
    pub actual: String,
}

/// Where a case came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// e.g. `hand-written`, `ticket`, `incident`, `trace`.
    pub kind: String,
    /// e.g. a ticket id or URL.
    #[serde(rename = "ref", default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// When the ticket or incident happened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<jiff::civil::Date>,
    /// The helpdesk an imported ticket came from (`zendesk`, `intercom`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor: Option<String>,
    /// A link to the ticket or incident.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The near-duplicate tickets (their refs) this case also stands for.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub grouped: Vec<String>,
}

/// How a compared case that does not pass its own rule counts for the run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Judge {
    /// By the comparison: it fails its test only when it regressed against its baseline, or
    /// when the comparison could not have seen a regression (too thin a baseline); a case
    /// failing as it does on the baseline does not turn a pull request red.
    #[default]
    Comparison,
    /// By its own rule, as without a baseline: every failing case fails its test.
    Rule,
}

/// How a case was compared with its baseline while it ran: recorded with the case.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CaseJudgement {
    /// The baseline's passes and answered samples.
    pub baseline: [u32; 2],
    /// The one-sided p-value of a drop, valid for how the samples were taken.
    pub p_value: f64,
    /// The level it had to reach: α over the cases compared.
    pub threshold: f64,
    /// The samples agreed with the baseline: a drop of the size the design is built to see had
    /// become implausible.
    pub agreed: bool,
    /// Whether the comparison could call a regression at all: were every sample to fail, the
    /// p-value would reach `threshold`.
    pub can_call_a_break: bool,
    /// Whether the case's test was decided by the comparison or by its own rule.
    pub judged_by: Judge,
}

impl CaseJudgement {
    /// The comparison of a case with `baseline` (passes and answered samples): `p_value`
    /// against `threshold`, whether the samples `agreed`, whether the comparison
    /// `can_call_a_break`, and what `judged_by` decided the case's test.
    pub fn new(
        baseline: [u32; 2],
        p_value: f64,
        threshold: f64,
        agreed: bool,
        can_call_a_break: bool,
        judged_by: Judge,
    ) -> Self {
        CaseJudgement {
            baseline,
            p_value,
            threshold,
            agreed,
            can_call_a_break,
            judged_by,
        }
    }

    /// Whether the p-value reached the level on its own.
    pub fn regressed(&self) -> bool {
        self.p_value <= self.threshold
    }

    /// Whether the comparison may stand in for the rule: it could have seen a regression
    /// (the samples agreed with the baseline, or every failing sample would have been one).
    pub fn conclusive(&self) -> bool {
        self.agreed || self.can_call_a_break
    }
}
