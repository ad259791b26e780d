//! Paths written for people and tools start at the repository root: a suite in a workspace
//! member (`crates/agent/evals`) run from that member's folder (as `cargo test` runs it) is
//! named `crates/agent/evals/…` in GitHub annotations, JUnit, step-summary links and the
//! LCOV `SF:` — the root from `GITHUB_WORKSPACE`, else the git work tree, else the working
//! directory.

use crate::support::mock_agent;

use std::path::{Path, PathBuf};
use std::process::Command;

use mock_agent::{Behaviour, runtime, serve};

const CATALOG: &str =
    "points:\n  route:\n    branches:\n      echo: {}\n      handoff: {risk: low}\n";

/// A repository at `root` whose member crate `crates/agent` holds an evals folder with a
/// catalog and one failing case.
fn workspace(root: &Path, url: &str) -> PathBuf {
    let member = root.join("crates/agent");
    let evals = member.join("evals");
    std::fs::create_dir_all(evals.join("cases/refunds")).unwrap();
    std::fs::write(
        evals.join("evalgate.yaml"),
        format!("name: agent\ntarget:\n  http: {{url: \"{url}/v1/agent\"}}\n"),
    )
    .unwrap();
    std::fs::write(evals.join("branches.yaml"), CATALOG).unwrap();
    std::fs::write(
        evals.join("cases/refunds/late.yaml"),
        "input:\n  messages: [{role: user, content: hello}]\nexpect:\n  - contains: goodbye\n",
    )
    .unwrap();
    member
}

struct Outputs {
    stdout: String,
    junit: String,
    summary: String,
    lcov: String,
}

/// `evalgate run evals` from `member` under GitHub Actions, with `env` added.
fn run(root: &Path, member: &Path, env: &[(&str, &Path)]) -> Outputs {
    let out = root.join("out");
    let _ = std::fs::remove_dir_all(&out);
    let summary = root.join("summary.md");
    let _ = std::fs::remove_file(&summary);
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_evalgate"));
    cmd.args(["run", "evals"])
        .current_dir(member)
        .env("EVALGATE_OUT", &out)
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env("GITHUB_SERVER_URL", "https://github.com")
        .env("GITHUB_REPOSITORY", "acme/agent")
        .env("GITHUB_SHA", "0123abcd")
        .env_remove("GITHUB_WORKSPACE")
        .env_remove("NEXTEST_RUN_ID")
        .env_remove("EVALGATE_RUN_ID");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let output = cmd.output().expect("evalgate runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert_eq!(
        output.status.code(),
        Some(1),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let read = |p: PathBuf| std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{p:?}: {e}"));
    Outputs {
        stdout,
        junit: read(out.join("junit.xml")),
        summary: read(summary),
        lcov: read(out.join("coverage.lcov")),
    }
}

fn assert_paths_from(outputs: &Outputs, prefix: &str) {
    let case = format!("{prefix}evals/cases/refunds/late.yaml");
    let annotation = format!("::error file={case},line=4,");
    assert!(
        outputs.stdout.contains(&annotation),
        "no `{annotation}` in:\n{}",
        outputs.stdout
    );
    let located = format!("at {case}:4\n");
    assert!(
        outputs.junit.contains(&located),
        "no `{located}` in:\n{}",
        outputs.junit
    );
    let link = format!("https://github.com/acme/agent/blob/0123abcd/{case}#L4");
    assert!(
        outputs.summary.contains(&link),
        "no `{link}` in:\n{}",
        outputs.summary
    );
    let sf = format!("SF:{prefix}evals/branches.yaml\n");
    assert!(
        outputs.lcov.contains(&sf),
        "no `{sf}` in:\n{}",
        outputs.lcov
    );
}

#[test]
fn a_workspace_members_suite_is_named_from_the_repository_root() {
    let rt = runtime();
    let agent = serve(&rt, Behaviour::Echo);
    let dir = tempfile::tempdir().unwrap();
    // Resolved, as a CI checkout path is: the temp dir may sit behind a symlink.
    let root = dir.path().canonicalize().unwrap();
    let member = workspace(&root, &agent.url);

    // The git work tree's root.
    std::fs::create_dir(root.join(".git")).unwrap();
    assert_paths_from(&run(&root, &member, &[]), "crates/agent/");

    // GITHUB_WORKSPACE when the suite is in it, even without a `.git` (a source tarball).
    std::fs::remove_dir(root.join(".git")).unwrap();
    assert_paths_from(
        &run(&root, &member, &[("GITHUB_WORKSPACE", &root)]),
        "crates/agent/",
    );

    // A GITHUB_WORKSPACE the suite is not in is no root of it; outside any repository,
    // paths are as seen from the working directory.
    let elsewhere = tempfile::tempdir().unwrap();
    assert_paths_from(
        &run(&root, &member, &[("GITHUB_WORKSPACE", elsewhere.path())]),
        "",
    );
}
