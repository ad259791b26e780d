//! The pull-request gate's run-level false-alarm rate, by seeded simulation through the
//! real binary over loopback (the same simulation as `cargo bench --bench gate`, with fewer
//! replicates): a 20-case suite, history on `main`, then a pull request with the agent
//! unchanged. A run may call a regression at most α = 5 % of the time; the test allows the
//! simulation's error, three standard errors at this many replicates.

#[path = "../../benches/support/gate_sim.rs"]
mod gate_sim;
use crate::support::mock_agent;

use std::path::Path;

use gate_sim::{Batch, Change, Setup};

const REPLICATES: usize = 30;
const ALPHA: f64 = 0.05;

fn slack() -> f64 {
    3.0 * (ALPHA * (1.0 - ALPHA) / REPLICATES as f64).sqrt()
}

#[test]
fn with_nothing_changed_the_default_setup_turns_a_pull_request_red_at_most_alpha_of_the_time() {
    let runtime = mock_agent::runtime();
    let agent = gate_sim::agent(&runtime);
    let bin = Path::new(env!("CARGO_BIN_EXE_evalgate"));
    for (i, rate) in [0.95, 0.8, 0.5].into_iter().enumerate() {
        let outcomes = gate_sim::replicates(
            bin,
            &agent.url,
            Batch {
                setup: Setup::Default,
                rate,
                first_seed: 1000 * (i as u64 + 1),
                replicates: REPLICATES,
                changes: &[Change::None],
                threads: 2,
            },
        )
        .unwrap_or_else(|e| panic!("rate {rate}: {e}"));
        let red = outcomes.iter().filter(|o| o[0].red).count();
        let share = red as f64 / REPLICATES as f64;
        assert!(
            share <= ALPHA + slack(),
            "rate {rate}: {red} of {REPLICATES} unchanged pull requests red"
        );
        // One sample per case while the samples agree with the baseline: at a pass rate
        // of 0.5 about two (a failure takes one more), at 0.95 barely more than one.
        let mean = outcomes.iter().map(|o| o[0].samples_per_case).sum::<f64>() / REPLICATES as f64;
        assert!(
            (1.0..3.0).contains(&mean),
            "rate {rate}: {mean} samples per case"
        );
    }
}

/// The recommended setup at a pass rate of 0.8, with nothing changed and with one case's
/// rate dropped by 15 points: few false alarms, and the drop is seen.
#[test]
fn the_recommended_setup_keeps_its_false_alarms_and_sees_a_fifteen_point_drop() {
    let runtime = mock_agent::runtime();
    let agent = gate_sim::agent(&runtime);
    let bin = Path::new(env!("CARGO_BIN_EXE_evalgate"));
    let replicates = 12;
    let outcomes = gate_sim::replicates(
        bin,
        &agent.url,
        Batch {
            setup: Setup::Recommended,
            rate: 0.8,
            first_seed: 7,
            replicates,
            changes: &[Change::None, Change::DropOne(0.15)],
            threads: 2,
        },
    )
    .unwrap();
    let red = outcomes.iter().filter(|o| o[0].red).count();
    assert!(
        red <= 2,
        "{red} of {replicates} unchanged pull requests red"
    );
    let seen = outcomes.iter().filter(|o| o[1].dropped_called).count();
    assert!(
        seen >= replicates / 2,
        "the drop was called in {seen} of {replicates}"
    );
    let mean = outcomes.iter().map(|o| o[0].samples_per_case).sum::<f64>() / replicates as f64;
    assert!(
        mean < 200.0,
        "{mean} samples per unchanged case, of at most 400"
    );
}
