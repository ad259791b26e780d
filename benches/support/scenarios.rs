//! Running a bench's selected scenarios: each prints its figures, and an incorrect result
//! makes the bench exit non-zero, so a benchmark cannot look fast by doing nothing.

use std::process::ExitCode;

/// A scenario prints its figures; an error means a result was incorrect.
pub type Scenario<B> = fn(&B) -> Result<(), String>;

/// Runs every scenario that `selected` names.
pub fn run_selected<B>(
    bench: &B,
    scenarios: &[(&str, Scenario<B>)],
    selected: impl Fn(&str) -> bool,
) -> ExitCode {
    let mut failed = false;
    for (name, scenario) in scenarios {
        if !selected(name) {
            continue;
        }
        if let Err(e) = scenario(bench) {
            println!("{name}: INCORRECT RUN: {e}");
            failed = true;
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
