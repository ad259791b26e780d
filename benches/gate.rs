//! The pull-request gate's error rates, measured: run-level false alarms with the agent
//! unchanged, power against a 15-point drop on one case and on every case, and the samples
//! each case took — for the default setup and the README's recommended one, at pass rates
//! 0.95, 0.8 and 0.5, by seeded simulation through the real (release) binary over loopback.
//! See `benches/support/gate_sim.rs` for the simulation and `benches/README.md` for the
//! figures.
//!
//! `cargo bench --bench gate [-- default|default-file|recommended|fixed]`;
//! `EVALGATE_BENCH_REPLICATES`
//! (default 200) sets the replicates per rate. Each figure prints with its 95 % interval.

#[path = "../tests/support/mock_agent.rs"]
mod mock_agent;

#[path = "support/build.rs"]
mod build;
#[path = "support/gate_sim.rs"]
mod gate_sim;
#[path = "support/scenarios.rs"]
mod scenarios;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use gate_sim::{Change, Outcome, Setup, mean, share};

const RATES: [f64; 3] = [0.95, 0.8, 0.5];
const DROP: f64 = 0.15;
const CHANGES: [Change; 3] = [Change::None, Change::DropOne(DROP), Change::DropAll(DROP)];
/// The default setup is built to see a case that stops passing: that too.
const DEFAULT_CHANGES: [Change; 4] = [
    Change::None,
    Change::DropOne(DROP),
    Change::DropAll(DROP),
    Change::BreakOne,
];

struct Bench {
    bin: PathBuf,
    agent: mock_agent::MockAgent,
    replicates: usize,
    /// The recommended setup's measured power against one dropped case, per rate, once it
    /// ran: what the fixed-size setup is sized to match.
    adaptive_power: std::cell::RefCell<[Option<f64>; 3]>,
    _runtime: tokio::runtime::Runtime,
}

fn main() -> ExitCode {
    let setup = || -> Result<Bench, String> {
        let replicates = match std::env::var("EVALGATE_BENCH_REPLICATES") {
            Ok(v) => v
                .parse()
                .map_err(|_| format!("EVALGATE_BENCH_REPLICATES={v:?} is not a number"))?,
            Err(_) => 200,
        };
        let bin = build::release_binary()?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        let agent = gate_sim::agent(&runtime);
        Ok(Bench {
            bin,
            agent,
            replicates,
            adaptive_power: Default::default(),
            _runtime: runtime,
        })
    };
    let known = ["default", "default-file", "recommended", "fixed"];
    let (bench, wanted) = match scenarios::prepare("gate", &known, setup) {
        Ok(prepared) => prepared,
        Err(code) => return code,
    };
    println!(
        "evalgate gate simulation: {} replicates per rate, 20 cases, α 0.05 over the run, binary {}",
        bench.replicates,
        bench.bin.display()
    );
    let scenarios: [(&str, scenarios::Scenario<Bench>); 4] = [
        ("default", |b| {
            measure(b, &|_| Setup::Default, &DEFAULT_CHANGES)
        }),
        ("default-file", |b| {
            measure(b, &|_| Setup::DefaultFile, &DEFAULT_CHANGES)
        }),
        ("recommended", |b| {
            measure(b, &|_| Setup::Recommended, &CHANGES)
        }),
        ("fixed", fixed),
    ];
    scenarios::run_selected(&bench, &scenarios, |name| {
        scenarios::is_wanted(&wanted, name)
    })
}

/// The fixed-size setup of the adaptive one's power (measured, when `recommended` ran in
/// this invocation; else 0.8), sized per rate by the exact power of Fisher's test at α/20
/// against a baseline of five such runs, then measured like the others: how many samples
/// adaptive sampling saves at equal power.
fn fixed(bench: &Bench) -> Result<(), String> {
    let sizes: Vec<u32> = RATES
        .iter()
        .enumerate()
        .map(|(i, &rate)| {
            let target = bench.adaptive_power.borrow()[i].unwrap_or(0.8);
            let n = equal_power_size(rate, target);
            println!(
                "fixed size at rate {rate}: {n} samples per case and run (exact power ≥ {:.1} %, \
                 the recommended setup's)",
                100.0 * target
            );
            n
        })
        .collect();
    measure(bench, &|i| Setup::Fixed(sizes[i]), &CHANGES[..2])
}

/// The fewest samples per run at which a fixed-size run against five such runs of `main`
/// calls a 15-point drop at α/20 with probability at least `power` (exact).
fn equal_power_size(rate: f64, power: f64) -> u32 {
    let threshold = 0.05 / gate_sim::CASES as f64;
    let power_at = |n: u32| {
        let baseline_n = 5 * n;
        let baseline = ((rate * f64::from(baseline_n)).round() as u32, baseline_n);
        evalgate::stats::LookDesign::fixed(n)
            .operating(baseline, rate - DROP, threshold, DROP)
            .power
    };
    let mut n = 10;
    while power_at(n) < power && n < 5000 {
        n += 5;
    }
    n
}

fn measure(
    bench: &Bench,
    setup_for: &dyn Fn(usize) -> Setup,
    changes: &[Change],
) -> Result<(), String> {
    let setup = setup_for(0);
    println!(
        "\n{} setup ({} runs of main, then one pull request per change):",
        setup.name(),
        setup.main_runs()
    );
    for (i, rate) in RATES.into_iter().enumerate() {
        let setup = setup_for(i);
        let started = Instant::now();
        let outcomes = gate_sim::replicates(
            &bench.bin,
            &bench.agent.url,
            gate_sim::Batch {
                setup,
                rate,
                first_seed: 1_000_000 * (i as u64 + 1),
                replicates: bench.replicates,
                changes,
                threads: 2,
            },
        )?;
        let n = outcomes.len();
        for (k, change) in changes.iter().enumerate() {
            let of = |f: fn(&Outcome) -> bool| outcomes.iter().filter(|o| f(&o[k])).count();
            let samples: Vec<f64> = outcomes.iter().map(|o| o[k].samples_per_case).collect();
            let figure = match change {
                Change::None => format!(
                    "false alarm (a regression called) {}; red for any reason {}",
                    share(of(|o| o.gate), n),
                    share(of(|o| o.red), n)
                ),
                Change::DropOne(_) => format!(
                    "power (the dropped case called) {}; another case called {}",
                    share(of(|o| o.dropped_called), n),
                    share(of(|o| o.wrong_call), n)
                ),
                Change::BreakOne | Change::DropAll(_) => format!(
                    "power ({}) {}; red {}",
                    if *change == Change::BreakOne {
                        "the broken case called"
                    } else {
                        "any case called"
                    },
                    share(of(|o| o.dropped_called), n),
                    share(of(|o| o.red), n)
                ),
            };
            println!(
                "  rate {rate:<4} {:<16} {figure}; samples per case {}",
                change.name(),
                mean(&samples)
            );
            if setup == Setup::Recommended && *change == Change::DropOne(DROP) {
                bench.adaptive_power.borrow_mut()[i] =
                    Some(of(|o| o.dropped_called) as f64 / n as f64);
            }
        }
        println!(
            "  (rate {rate}: {n} replicates in {:.0} s)",
            started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}
