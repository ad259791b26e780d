//! A user's project, for real: a throw-away cargo project with evalgate as a dev-dependency,
//! a `harness = false` test target whose `main` is `evalgate::main()`, and cases against a
//! loopback agent. Runs real `cargo test` (filters included) and real `cargo nextest run`
//! with `--partition hash:1/2` and `hash:2/2`, whose records must be disjoint and complete
//! and merge into the same report as the unsharded run.
//!
//! It builds evalgate once more in `target/user-project` (cached across runs).

use crate::support::mock_agent;
use crate::support::reports;
use crate::support::user_crate;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use reports::{gate, read_json};

const CASES: [&str; 8] = [
    "refunds/delivered",
    "refunds/late",
    "refunds/eu/vat",
    "status/shipped",
    "status/lost",
    "handoff/angry",
    "policy/returns",
    "top-level",
];

/// The decisions the loopback agent reports for a case (it echoes `vars.decisions`).
fn decisions_of(id: &str) -> &'static str {
    match id.split('/').next().unwrap() {
        "refunds" => "[route.refund, tool.lookup_order, tool.issue_refund]",
        "status" => "[route.status, tool.lookup_order]",
        "handoff" => "[route.handoff]",
        "policy" => "[route.policy]",
        _ => "[route.echo]",
    }
}

/// Every branch but `route.clarify` is reached: coverage 7/8.
const CATALOG: &str = "\
points:
  route:
    branches:
      refund: {risk: high}
      status: {}
      handoff: {risk: high}
      policy: {}
      echo: {risk: low}
      clarify: {risk: low}
  tool:
    branches:
      lookup_order: {}
      issue_refund: {risk: high}
";

struct Project {
    dir: tempfile::TempDir,
    target_dir: PathBuf,
}

impl Project {
    fn new(agent_url: &str) -> Project {
        Project::with(agent_url, true)
    }

    /// The project, with evalgate's default features or (`false`) without them.
    fn with(agent_url: &str, default_features: bool) -> Project {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        user_crate::write(
            root,
            &user_crate::UserCrate {
                name: "user-agent",
                evalgate: &user_crate::evalgate_crate(),
                features: &[],
                default_features,
                lock: Some(&user_crate::our_lock()),
            },
            "fn main() -> std::process::ExitCode { evalgate::main() }\n",
        );
        std::fs::write(
            root.join("evals/evalgate.yaml").tap_dir(),
            format!(
                "target:\n  http: {{url: \"{agent_url}/v1/agent\"}}\n\
                 gates:\n  - {{metric: coverage.branches, min: 0.8}}\n"
            ),
        )
        .unwrap();
        std::fs::write(root.join("evals/branches.yaml"), CATALOG).unwrap();
        for id in CASES {
            let path = root.join("evals/cases").join(format!("{id}.yaml"));
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(
                path,
                format!(
                    "tags: [{tag}]\ninput:\n  messages:\n    - {{role: user, content: \"about {id}\"}}\n  \
                     vars: {{decisions: {decisions}}}\nexpect:\n  - contains: \"{id}\"\n  \
                     - path: {decisions}\n",
                    decisions = decisions_of(id),
                    tag = id.split('/').next().unwrap()
                ),
            )
            .unwrap();
        }
        Project {
            dir,
            target_dir: user_crate::shared_target_dir(),
        }
    }

    fn cargo(&self, args: &[&str], out: &Path) -> std::process::Output {
        self.cargo_env(args, out, &[])
    }

    fn cargo_env(&self, args: &[&str], out: &Path, env: &[(&str, &str)]) -> std::process::Output {
        let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
        cmd.args(args)
            .current_dir(self.dir.path())
            .env("CARGO_TARGET_DIR", &self.target_dir)
            .env("EVALGATE_OUT", out);
        for (key, _) in std::env::vars_os() {
            let key = key.to_string_lossy();
            if key.starts_with("NEXTEST") || key.starts_with("EVALGATE_") && key != "EVALGATE_OUT" {
                cmd.env_remove(key.as_ref());
            }
        }
        for (key, value) in env {
            cmd.env(key, value);
        }
        cmd.output().expect("cargo runs")
    }
}

trait TapDir {
    fn tap_dir(self) -> Self;
}

impl TapDir for PathBuf {
    /// Creates the parent folder of this path.
    fn tap_dir(self) -> Self {
        std::fs::create_dir_all(self.parent().unwrap()).unwrap();
        self
    }
}

fn text(output: &std::process::Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Case ids with a case record under `out/runs/*`.
fn recorded_cases(out: &Path) -> Vec<String> {
    let mut ids = Vec::new();
    let Ok(runs) = std::fs::read_dir(out.join("runs")) else {
        return ids;
    };
    for run in runs {
        for file in std::fs::read_dir(run.unwrap().path()).unwrap() {
            let path = file.unwrap().path();
            if path.extension().is_none_or(|e| e != "jsonl") {
                continue;
            }
            let text = std::fs::read_to_string(path).unwrap();
            for line in text.lines() {
                let v: serde_json::Value = serde_json::from_str(line).unwrap();
                if v["kind"] == "case" {
                    ids.push(v["case"].as_str().unwrap().to_string());
                }
            }
        }
    }
    ids.sort();
    ids
}

fn coverage_json(out: &Path) -> serde_json::Value {
    read_json(&out.join("coverage.json"))
}

fn nextest_available() -> bool {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["nextest", "--version"])
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn a_users_project_under_cargo_test_and_nextest_partitions() {
    let runtime = mock_agent::runtime();
    let agent = mock_agent::serve(&runtime, mock_agent::Behaviour::Echo);
    let project = Project::new(&agent.url);
    let all: BTreeSet<String> = CASES.iter().map(|c| c.to_string()).collect();

    // cargo test: every case is a test named evals::<id>; reports are written.
    let out = project.dir.path().join("out-test");
    let run = project.cargo(&["test", "--test", "evals"], &out);
    let log = text(&run);
    assert!(run.status.success(), "{log}");
    for id in CASES {
        assert!(
            log.contains(&format!("evals::{id}")),
            "{id} missing:\n{log}"
        );
    }
    assert!(log.contains("8 passed"), "{log}");
    assert!(out.join("junit.xml").exists());
    let unsharded = coverage_json(&out);
    assert_eq!(
        unsharded["coverage"]["branches_covered"], 7,
        "{unsharded:#}"
    );
    assert_eq!(unsharded["coverage"]["branches_total"], 8);
    assert_eq!(unsharded["partial"], serde_json::Value::Null);
    assert_eq!(gate(&unsharded, "coverage.branches")["outcome"], "passed");
    // gates.json holds the same gates, and whether one failed the run.
    let gates = read_json(&out.join("gates.json"));
    assert_eq!(gates["gates"], unsharded["gates"], "{gates:#}");
    assert_eq!(gates["failed"], false, "{gates:#}");
    assert!(
        log.contains("planner coverage 7/8 branches"),
        "the terminal shows coverage:\n{log}"
    );
    assert_eq!(
        recorded_cases(&out).into_iter().collect::<BTreeSet<_>>(),
        all
    );

    // cargo test <filter>: only matching cases run.
    let out = project.dir.path().join("out-filter");
    let run = project.cargo(&["test", "--test", "evals", "--", "refunds"], &out);
    assert!(run.status.success(), "{}", text(&run));
    assert_eq!(
        recorded_cases(&out),
        ["refunds/delivered", "refunds/eu/vat", "refunds/late"]
    );
    // A filtered run reaches fewer branches; its coverage gates are not applied.
    let filtered = coverage_json(&out);
    assert_eq!(filtered["coverage"]["branches_covered"], 3);
    assert!(
        filtered["partial"]
            .as_str()
            .unwrap()
            .contains("3 of the suite's 8 cases"),
        "{filtered:#}"
    );
    assert_eq!(gate(&filtered, "coverage.branches")["outcome"], "skipped");

    // cargo test <filter> matching no case: other test binaries share the filter, so this is
    // not an error, as libtest has it — but one line says so, and nothing is recorded.
    let out = project.dir.path().join("out-nomatch");
    let run = project.cargo(&["test", "--test", "evals", "--", "no-such-case"], &out);
    let log = text(&run);
    assert!(run.status.success(), "{log}");
    assert!(
        log.contains("evalgate: no case matched filter `no-such-case` (8 case(s) in "),
        "{log}"
    );
    assert!(!out.join("junit.xml").exists(), "{log}");

    // cargo test -- tag:<name>: the cases with that tag.
    let out = project.dir.path().join("out-tag");
    let run = project.cargo(&["test", "--test", "evals", "--", "tag:status"], &out);
    assert!(run.status.success(), "{}", text(&run));
    assert_eq!(recorded_cases(&out), ["status/lost", "status/shipped"]);

    if !nextest_available() {
        assert!(
            std::env::var_os("CI").is_none(),
            "cargo-nextest must be installed in CI (.ci/run installs it)"
        );
        eprintln!("note: cargo-nextest is not installed; skipping the nextest half of this test");
        return;
    }
    // nextest matches filters against names itself: EVALGATE_TAGS, which its `--list` sees.
    let out = project.dir.path().join("out-nextest-tag");
    let run = project.cargo_env(
        &["nextest", "run", "--test", "evals", "--no-fail-fast"],
        &out,
        &[("EVALGATE_TAGS", "policy,handoff")],
    );
    assert!(run.status.success(), "{}", text(&run));
    assert_eq!(recorded_cases(&out), ["handoff/angry", "policy/returns"]);

    // nextest: one process per case; two partitions are disjoint and complete.
    let mut shards = Vec::new();
    for part in ["hash:1/2", "hash:2/2"] {
        let out = project
            .dir
            .path()
            .join(format!("out-{}", part.replace([':', '/'], "-")));
        let run = project.cargo(
            &[
                "nextest",
                "run",
                "--test",
                "evals",
                "--partition",
                part,
                "--no-fail-fast",
            ],
            &out,
        );
        assert!(run.status.success(), "{}", text(&run));
        assert!(
            !out.join("junit.xml").exists(),
            "lone nextest processes write no report"
        );
        shards.push((out.clone(), recorded_cases(&out)));
    }
    let (first, second) = (&shards[0].1, &shards[1].1);
    assert!(
        !first.is_empty() && !second.is_empty(),
        "both shards ran cases: {first:?} {second:?}"
    );
    let union: BTreeSet<String> = first.iter().chain(second).cloned().collect();
    assert_eq!(
        union.len(),
        first.len() + second.len(),
        "disjoint: {first:?} {second:?}"
    );
    assert_eq!(union, all, "complete");

    // The shards merge into the same report as one run.
    let merged = project.dir.path().join("out-merged");
    let mut args = vec![
        "report".to_string(),
        "--out".into(),
        merged.display().to_string(),
    ];
    for (out, _) in &shards {
        for run in std::fs::read_dir(out.join("runs")).unwrap() {
            args.push(run.unwrap().path().display().to_string());
        }
    }
    // Every nextest process ran one case with --exact, so none knew the suite's cases:
    // the report learns them from the project's evals folder.
    let report = Command::new(env!("CARGO_BIN_EXE_evalgate"))
        .args(&args)
        .current_dir(project.dir.path())
        .output()
        .unwrap();
    assert!(report.status.success(), "{}", text(&report));
    let merged_coverage = coverage_json(&merged);
    assert_eq!(
        merged_coverage, unsharded,
        "merged shards give the coverage and gates of one run"
    );
    // One shard alone is not the run: the suite's other cases never started there, as in a
    // cancelled nextest run, and it is incomplete...
    let lone = project.dir.path().join("out-lone");
    let lone_report = Command::new(env!("CARGO_BIN_EXE_evalgate"))
        .args(["report", "--out", lone.to_str().unwrap(), &args[3]])
        .current_dir(project.dir.path())
        .output()
        .unwrap();
    assert_eq!(lone_report.status.code(), Some(1), "{}", text(&lone_report));
    assert!(
        text(&lone_report).contains("case(s) of the suite never started"),
        "{}",
        text(&lone_report)
    );
    // ...unless it is said to be partial on purpose: then coverage gates are not applied.
    let lone_report = Command::new(env!("CARGO_BIN_EXE_evalgate"))
        .args([
            "report",
            "--partial",
            "--out",
            lone.to_str().unwrap(),
            &args[3],
        ])
        .current_dir(project.dir.path())
        .output()
        .unwrap();
    assert!(lone_report.status.success(), "{}", text(&lone_report));
    assert_eq!(
        gate(&coverage_json(&lone), "coverage.branches")["outcome"],
        "skipped"
    );
    assert!(
        text(&report).contains("8 cases: 8 pass"),
        "{}",
        text(&report)
    );
    let junit = std::fs::read_to_string(merged.join("junit.xml")).unwrap();
    let doc = roxmltree::Document::parse(&junit).unwrap();
    let names: BTreeSet<String> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .filter(|n| {
            !n.attribute("classname")
                .is_some_and(|c| c.starts_with("evalgate."))
        })
        .map(|n| n.attribute("name").unwrap().to_string())
        .collect();
    assert_eq!(names, all);

    // The user's crate builds evalgate with its default features: an expectation that needs
    // an optional feature is refused at its line (exit 2), never skipped into a green.
    for (file, yaml, at, feature) in [
        (
            "evals/cases/schema.yaml",
            "input:\n  messages: [{role: user, content: hi}]\nexpect:\n  - contains: hi\n  - json_schema: {type: object}\n",
            "evals/cases/schema.yaml:5:",
            "`json-schema` feature",
        ),
        (
            "evals/cases/snap.yaml",
            "input:\n  messages: [{role: user, content: hi}]\nsnapshot: true\nexpect: [{contains: hi}]\n",
            "evals/cases/snap.yaml:3:",
            "`snapshots` feature",
        ),
    ] {
        let path = project.dir.path().join(file);
        std::fs::write(&path, yaml).unwrap();
        let out = project.dir.path().join("out-feature");
        let run = project.cargo(&["test", "--test", "evals"], &out);
        let log = text(&run);
        assert_eq!(run.status.code(), Some(2), "{log}");
        assert!(log.contains(at) && log.contains(feature), "{log}");
        assert!(!out.join("junit.xml").exists(), "{log}");
        std::fs::remove_file(&path).unwrap();
    }
}

/// A user who turns the run history off (`default-features = false`) gets a run that works
/// and says, where it reports on history, that it is off and why; asking for a store by
/// name is refused rather than ignored.
#[test]
fn a_users_project_without_the_history_feature() {
    let runtime = mock_agent::runtime();
    let agent = mock_agent::serve(&runtime, mock_agent::Behaviour::Echo);
    let project = Project::with(&agent.url, false);
    let out = project.dir.path().join("out-no-history");
    let run = project.cargo_env(
        &["test", "--test", "evals"],
        &out,
        &[("EVALGATE_VERBOSITY", "verbose")],
    );
    let log = text(&run);
    assert!(run.status.success(), "{log}");
    assert!(log.contains("8 passed"), "{log}");
    assert!(
        log.contains("built without its `history` feature"),
        "the report says history is off and why:\n{log}"
    );
    assert!(!out.join("history.sqlite").exists(), "{log}");
    assert!(out.join("junit.xml").exists(), "{log}");

    let named = project.dir.path().join("named.sqlite");
    let run = project.cargo_env(
        &["test", "--test", "evals"],
        &out,
        &[("EVALGATE_HISTORY", named.to_str().unwrap())],
    );
    let log = text(&run);
    assert_eq!(run.status.code(), Some(2), "{log}");
    assert!(log.contains("names a history store"), "{log}");
    assert!(!named.exists(), "{log}");
}
