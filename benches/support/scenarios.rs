//! Running a bench's selected scenarios: each prints its figures, and an incorrect result
//! makes the bench exit non-zero, so a benchmark cannot look fast by doing nothing.

use std::process::ExitCode;

/// A scenario prints its figures; an error means a result was incorrect.
pub type Scenario<B> = fn(&B) -> Result<(), String>;

/// The scenarios named on the command line (`cargo bench --bench <bench> -- a b`; none means
/// all). cargo bench passes `--bench`; flags are ignored. An unknown name is a usage error.
pub fn wanted(bench: &str, args: &[String], known: &[&str]) -> Result<Vec<String>, ExitCode> {
    let wanted: Vec<String> = args
        .iter()
        .filter(|a| !a.starts_with('-'))
        .cloned()
        .collect();
    if let Some(unknown) = wanted.iter().find(|w| !known.contains(&w.as_str())) {
        eprintln!(
            "unknown scenario `{unknown}`; usage: cargo bench --bench {bench} [-- {}]",
            known.join("|")
        );
        return Err(ExitCode::from(2));
    }
    Ok(wanted)
}

/// The scenarios wanted (from the command line) and the bench built by `new`; on a usage
/// error or a failed setup, the exit code to return.
#[allow(dead_code)] // the harness bench builds its setup in steps of its own
pub fn prepare<B>(
    bench: &str,
    known: &[&str],
    new: impl FnOnce() -> Result<B, String>,
) -> Result<(B, Vec<String>), ExitCode> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let wanted = wanted(bench, &args, known)?;
    match new() {
        Ok(built) => Ok((built, wanted)),
        Err(e) => {
            println!("{bench}: setup failed: {e}");
            Err(ExitCode::FAILURE)
        }
    }
}

/// Whether `name` is among `wanted` (all are, when none was named).
pub fn is_wanted(wanted: &[String], name: &str) -> bool {
    wanted.is_empty() || wanted.iter().any(|w| w == name)
}

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
