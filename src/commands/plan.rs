//! `evalgate plan`: before paying for runs, how many samples each case needs for the pull
//! request gate to see a given drop with a given power, at the run-level error rate — and
//! what a run will cost — from what the history knows of each case (its rate on the
//! baseline branch, its tokens, the suite's prices).

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use serde::Serialize;

use evalgate::atomic_file::write_atomic;
use evalgate::baseline::plan::{ADAPTIVE_MIN, CasePlan, plan_case};
use evalgate::baseline::{ADAPTIVE_DROP, Baseline, BaselinePolicy, Resolved, Subject, resolve};
use evalgate::errors::Error;
use evalgate::exit;
use evalgate::harness::default_out_dir;
use evalgate::history::HistoryStore;
use evalgate::layout::Layout;
use evalgate::record::SampleRecord;
use evalgate::report::history_path;
use evalgate::signals::sample_cost;
use evalgate::suite::Suite;
use evalgate::terminal::{printable, shown};

#[derive(clap::Args, Debug)]
pub(crate) struct PlanArgs {
    /// The evals folder.
    #[arg(long, default_value = "evals")]
    dir: PathBuf,
    /// The drop in a case's pass rate to detect (default: the suite's `baseline.drop`
    /// when set below 1, else 0.15).
    #[arg(long)]
    drop: Option<f64>,
    /// The run-level error rate (default: the suite's `baseline.alpha`, else 0.05).
    #[arg(long)]
    alpha: Option<f64>,
    /// The chance of calling the drop a regression when one case dropped.
    #[arg(long, default_value_t = 0.8)]
    power: f64,
    /// The branch whose runs are the baseline (default: the suite's `baseline.branch`,
    /// else `main`).
    #[arg(long)]
    branch: Option<String>,
    /// Where `plan.json` goes (default: $EVALGATE_OUT, else target/evalgate).
    #[arg(long)]
    out: Option<PathBuf>,
}

/// What `plan.json` holds.
#[derive(Debug, Serialize)]
struct Plan {
    suite: String,
    drop: f64,
    alpha: f64,
    power: f64,
    cases_compared: usize,
    /// The level each case's p-value must reach (α over the cases compared).
    threshold: f64,
    baseline: String,
    cases: Vec<PlannedCase>,
    totals: Totals,
}

#[derive(Debug, Serialize)]
struct PlannedCase {
    case: String,
    /// The baseline's passes and answered samples, when it holds the case.
    baseline: Option<[u32; 2]>,
    /// Planned from an assumed baseline (a rate of 0.5, as many samples as the run).
    assumed: bool,
    #[serde(flatten)]
    plan: CasePlan,
    tokens_per_sample: Option<f64>,
    usd_per_sample: Option<f64>,
}

#[derive(Debug, Default, Serialize)]
struct Totals {
    fixed_samples: u64,
    fixed_usd: f64,
    adaptive_max_samples: u64,
    adaptive_samples_unchanged: f64,
    adaptive_usd_unchanged: f64,
    /// Cases without a price (or usage in history): their cost is not in the totals.
    unpriced_cases: usize,
    /// Cases no plan (or no adaptive plan) can serve.
    impossible_cases: usize,
}

/// An assumed baseline for a case the history does not hold: a rate of 0.5 (where a drop
/// is hardest to see) with many samples.
const ASSUMED: (u32, u32) = (500, 1000);

pub(crate) fn run(args: PlanArgs) -> Result<ExitCode, Error> {
    let suite = Suite::load(&args.dir)?;
    let (drop, alpha) = drop_and_alpha(&args, &suite)?;
    let ids = super::active::active_case_ids(&suite)?;
    if ids.is_empty() {
        return Err(Error::Usage(format!(
            "{} holds no active case to plan",
            shown(&suite.cases_dir)
        )));
    }
    let out = match args.out.clone() {
        Some(out) => out,
        None => default_out_dir()?,
    };
    let policy = baseline_policy(&args, &suite);
    let history = history_path(suite.history.as_deref(), &out)?;
    if history.is_none() {
        return Err(Error::Usage(format!(
            "`evalgate plan` reads each case's rate on `{}` from the history store, but \
             history is off (EVALGATE_HISTORY=off)",
            policy.branch.as_deref().unwrap_or("main")
        )));
    }
    let store = match &history {
        Some(path) if path.exists() => Some(HistoryStore::open(path)?),
        _ => None,
    };
    let no_axes = Default::default();
    let subject = Subject {
        suite: &suite.name,
        run_ids: &[],
        branch: None,
        commit: None,
        axes: &no_axes,
        started: jiff::Timestamp::now(),
        cases: None,
    };
    let (baseline, source) = match resolve(&policy, &subject, store.as_ref()) {
        Ok(Resolved::Found(baseline, source)) => (Some(*baseline), source),
        Ok(Resolved::FirstOfBranch(why)) => (None, why),
        Err(e) => (None, format!("none ({e})")),
    };
    // What a run will use: α over the cases the baseline holds (else the suite's).
    let compared = baseline
        .as_ref()
        .map_or(ids.len(), |b| b.held_cases().max(ids.len()));
    let threshold = alpha / compared as f64;
    let samples = match (&baseline, &store) {
        (Some(b), Some(store)) => {
            let mut all = Vec::new();
            for run in &b.runs {
                all.extend(store.sample_records_of_run(run)?);
            }
            all
        }
        _ => Vec::new(),
    };
    let (planned, totals) = plan_cases(
        &ids,
        &suite,
        baseline.as_ref(),
        &samples,
        &Planning {
            drop,
            threshold,
            power: args.power,
        },
    );
    let plan = Plan {
        suite: suite.name.clone(),
        drop,
        alpha,
        power: args.power,
        cases_compared: compared,
        threshold,
        baseline: source,
        cases: planned,
        totals,
    };
    std::fs::create_dir_all(&out).map_err(|e| Error::write(&out, e))?;
    let path = Layout::new(&out).plan();
    let json = serde_json::to_vec_pretty(&plan)
        .map_err(|e| Error::Internal(format!("serializing the plan failed: {e}")))?;
    write_atomic(&path, &json)?;
    print!("{}", render(&plan));
    println!("evalgate: plan     {}", shown(&path));
    Ok(ExitCode::from(exit::PASS))
}

/// `--drop` and `--alpha`, else the suite's baseline policy's (else the defaults), and
/// `--power`, each in its range.
fn drop_and_alpha(args: &PlanArgs, suite: &Suite) -> Result<(f64, f64), Error> {
    let check = |flag: &str, value: f64, ok: bool, what: &str| {
        if ok {
            Ok(())
        } else {
            Err(Error::Usage(format!("--{flag} {value}: {what}")))
        }
    };
    let policy = suite.baseline.as_ref();
    let drop = args.drop.unwrap_or_else(|| {
        policy
            .and_then(|p| p.drop)
            .filter(|d| *d < 1.0)
            .unwrap_or(ADAPTIVE_DROP)
    });
    check(
        "drop",
        drop,
        drop > 0.0 && drop <= 1.0,
        "a drop in pass rate, in (0, 1]",
    )?;
    let alpha = args
        .alpha
        .unwrap_or_else(|| policy.map_or(0.05, |p| p.alpha));
    check(
        "alpha",
        alpha,
        alpha > 0.0 && alpha < 1.0,
        "the run-level error rate, in (0, 1)",
    )?;
    check(
        "power",
        args.power,
        args.power > 0.0 && args.power < 1.0,
        "the chance of calling the drop, in (0, 1)",
    )?;
    Ok((drop, alpha))
}

/// The suite's baseline policy, pooling the branch `--branch` names (else its own, else
/// `main`) from history.
fn baseline_policy(args: &PlanArgs, suite: &Suite) -> BaselinePolicy {
    let mut policy = suite
        .baseline
        .clone()
        .unwrap_or_else(|| BaselinePolicy::file(PathBuf::new()));
    if args.branch.is_some() || policy.branch.is_none() {
        policy.branch = Some(args.branch.clone().unwrap_or_else(|| "main".into()));
        if suite.baseline.as_ref().is_none_or(|b| b.path.is_none()) {
            policy.path = None;
        }
    }
    policy
}

/// What each case's plan is computed for.
struct Planning {
    drop: f64,
    threshold: f64,
    power: f64,
}

/// Each case's plan (its baseline's counts, else an assumed rate of 0.5), with what its
/// samples cost, and the totals.
fn plan_cases(
    ids: &[String],
    suite: &Suite,
    baseline: Option<&Baseline>,
    samples: &[SampleRecord],
    planning: &Planning,
) -> (Vec<PlannedCase>, Totals) {
    let pinned = suite
        .envelope
        .get(evalgate::envelope::MODEL)
        .map(String::as_str);
    let mut planned = Vec::with_capacity(ids.len());
    let mut totals = Totals::default();
    for id in ids {
        let evidence = baseline
            .and_then(|b| b.case(id))
            .map(|c| c.evidence())
            .filter(|e| e.1 > 0);
        let plan = plan_case(
            evidence.unwrap_or(ASSUMED),
            planning.drop,
            planning.threshold,
            planning.power,
        );
        let (tokens, usd) = per_sample(samples, id, pinned, suite);
        if let Some((n, _)) = plan.fixed {
            totals.fixed_samples += u64::from(n);
            totals.fixed_usd += usd.unwrap_or(0.0) * f64::from(n);
        }
        if let Some(a) = plan.adaptive {
            totals.adaptive_max_samples += u64::from(a.max);
            totals.adaptive_samples_unchanged += a.samples_unchanged;
            totals.adaptive_usd_unchanged += usd.unwrap_or(0.0) * a.samples_unchanged;
        }
        totals.unpriced_cases += usize::from(usd.is_none());
        totals.impossible_cases += usize::from(plan.impossible.is_some());
        planned.push(PlannedCase {
            case: id.clone(),
            baseline: evidence.map(|(p, n)| [p, n]),
            assumed: evidence.is_none(),
            plan,
            tokens_per_sample: tokens,
            usd_per_sample: usd,
        });
    }
    (planned, totals)
}

/// The mean tokens and USD of one sample of case `id` in the baseline's runs.
fn per_sample(
    samples: &[SampleRecord],
    id: &str,
    pinned: Option<&str>,
    suite: &Suite,
) -> (Option<f64>, Option<f64>) {
    let of_case: Vec<&SampleRecord> = samples
        .iter()
        .filter(|s| s.case == id && s.usage.is_some())
        .collect();
    if of_case.is_empty() {
        return (None, None);
    }
    let n = of_case.len() as f64;
    let tokens: u64 = of_case
        .iter()
        .filter_map(|s| s.usage)
        .map(|u| u.total())
        .sum();
    let costs: Option<Vec<f64>> = of_case
        .iter()
        .map(|s| sample_cost(s, pinned, &suite.signals.prices))
        .collect();
    (
        Some(tokens as f64 / n),
        costs.map(|c| c.iter().sum::<f64>() / n),
    )
}

fn render(plan: &Plan) -> String {
    let mut text = String::new();
    let _ = writeln!(
        text,
        "evalgate: plan for suite {}: a drop of {} in one case's pass rate, called a \
         regression with power {}, at α {} over the run ({} cases: each one-sided at {:.2e})",
        printable(&plan.suite),
        plan.drop,
        plan.power,
        plan.alpha,
        plan.cases_compared,
        plan.threshold
    );
    let _ = writeln!(text, "  baseline: {}", plan.baseline);
    let _ = writeln!(
        text,
        "  {:<32} {:>13} {:>8} {:>13} {:>17} {:>11}",
        "case", "baseline", "fixed n", "adaptive max", "mean, unchanged", "$ / sample"
    );
    for case in &plan.cases {
        let baseline = match (case.baseline, case.assumed) {
            (Some([p, n]), _) => format!("{p}/{n}"),
            (None, _) => "assumed 0.5".to_string(),
        };
        let fixed = case
            .plan
            .fixed
            .map_or("-".to_string(), |(n, _)| n.to_string());
        let (max, mean) = case
            .plan
            .adaptive
            .map_or(("-".to_string(), "-".to_string()), |a| {
                (a.max.to_string(), format!("{:.1}", a.samples_unchanged))
            });
        let usd = case
            .usd_per_sample
            .map_or("-".to_string(), |u| format!("{u:.6}"));
        let _ = write!(
            text,
            "  {:<32} {baseline:>13} {fixed:>8} {max:>13} {mean:>17} {usd:>11}",
            printable(&case.case)
        );
        if let Some(why) = &case.plan.impossible {
            let _ = write!(text, "  ({why})");
        }
        text.push('\n');
    }
    let t = &plan.totals;
    let _ = writeln!(
        text,
        "  a run: fixed {} samples (${:.4}); adaptive (`samples: {{min: {ADAPTIVE_MIN}, max}}` \
         per case) at most {}, about {:.0} when nothing changed (${:.4})",
        t.fixed_samples,
        t.fixed_usd,
        t.adaptive_max_samples,
        t.adaptive_samples_unchanged,
        t.adaptive_usd_unchanged
    );
    if t.unpriced_cases > 0 {
        let _ = writeln!(
            text,
            "  {} case(s) without usage in history or a price in `prices:`: not in the cost",
            t.unpriced_cases
        );
    }
    if plan.cases.iter().any(|c| c.assumed) {
        let _ = writeln!(
            text,
            "  \"assumed 0.5\": no samples on the baseline branch yet; planned at a rate of 0.5 \
             (where a drop is hardest to see) against a large baseline — run the suite on it first"
        );
    }
    if let Some(max) = plan
        .cases
        .iter()
        .filter_map(|c| c.plan.adaptive.map(|a| a.max))
        .max()
    {
        let _ = writeln!(
            text,
            "  to use it: `defaults: {{samples: {{min: {ADAPTIVE_MIN}, max: {max}}}}}` and \
             `baseline: {{drop: {}}}` (or each case its own max)",
            plan.drop
        );
    }
    text
}
