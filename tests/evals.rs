//! The project's own eval suite (`evals/`), run against the demo support agent in-process.
//! `EVALGATE_DEMO_VERSION=v2` evaluates the other version.

use evalgate_cli::demo::{DemoAgent, DemoVersion};

fn main() -> std::process::ExitCode {
    let version = std::env::var("EVALGATE_DEMO_VERSION")
        .ok()
        .and_then(|v| v.parse::<DemoVersion>().ok())
        .unwrap_or(DemoVersion::V1);
    evalgate::Harness::new()
        .agent(DemoAgent::new(version))
        .run()
}
