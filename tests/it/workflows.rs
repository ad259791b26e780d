//! The GitHub Actions workflows are real: every file under `.github/workflows/` parses, each
//! job runs somewhere, has steps that either run or use something, and needs only jobs that
//! exist (no cycles); this repository's CI runs what `.ci/run` checks and uploads the reports.
//! (No workflow linter installs from a package registry here: actionlint's PyPI package
//! downloads its binary from GitHub at build time.)

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::Value;

/// This repository's workflows and the example for users (`examples/*.yml`).
fn workflows() -> Vec<(PathBuf, Value)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<PathBuf> = [".github/workflows", "examples"]
        .iter()
        .flat_map(|dir| std::fs::read_dir(root.join(dir)).unwrap())
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yml" || e == "yaml"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 2,
        "the CI workflow and the example: {files:?}"
    );
    files
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).unwrap();
            let value: Value =
                serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            (path, value)
        })
        .collect()
}

#[test]
fn every_workflow_has_a_sound_job_graph() {
    for (path, workflow) in workflows() {
        let name = path.display();
        assert!(workflow.get("on").is_some(), "{name}: no `on:` trigger");
        let jobs = workflow["jobs"]
            .as_object()
            .unwrap_or_else(|| panic!("{name}: no jobs"));
        let ids: BTreeSet<&str> = jobs.keys().map(String::as_str).collect();
        let mut needs: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for (id, job) in jobs {
            assert!(
                job.get("runs-on").is_some(),
                "{name}: job {id} has no runs-on"
            );
            let steps = job["steps"]
                .as_array()
                .unwrap_or_else(|| panic!("{name}: job {id} has no steps"));
            for (i, step) in steps.iter().enumerate() {
                assert!(
                    step.get("run").is_some() != step.get("uses").is_some(),
                    "{name}: job {id} step {i} must either run or use something: {step}"
                );
            }
            let wanted: Vec<&str> = match job.get("needs") {
                None => Vec::new(),
                Some(Value::String(one)) => vec![one.as_str()],
                Some(Value::Array(many)) => many.iter().map(|n| n.as_str().unwrap()).collect(),
                Some(other) => panic!("{name}: job {id} has needs: {other}"),
            };
            for need in &wanted {
                assert!(
                    ids.contains(need),
                    "{name}: job {id} needs unknown job {need}"
                );
            }
            needs.insert(id, wanted);
        }
        // No cycles: repeatedly remove jobs whose needs are all removed.
        let mut done: BTreeSet<&str> = BTreeSet::new();
        while done.len() < ids.len() {
            let ready: Vec<&str> = needs
                .iter()
                .filter(|(id, wanted)| {
                    !done.contains(*id) && wanted.iter().all(|n| done.contains(n))
                })
                .map(|(id, _)| *id)
                .collect();
            assert!(!ready.is_empty(), "{name}: the jobs' needs form a cycle");
            done.extend(ready);
        }
    }
}

/// The example shards the evals, merges every shard in one report job (whatever the shards'
/// outcome), and keeps the history in the cache.
#[test]
fn the_example_workflow_shards_merges_and_keeps_history() {
    let (_, example) = workflows()
        .into_iter()
        .find(|(p, _)| p.ends_with("examples/github-workflow.yml"))
        .expect("examples/github-workflow.yml");
    let jobs = &example["jobs"];
    let shards = jobs["evals"]["strategy"]["matrix"]["shard"]
        .as_array()
        .unwrap();
    let runs = |job: &str| -> Vec<String> {
        jobs[job]["steps"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|s| s["run"].as_str().map(String::from))
            .collect()
    };
    let partition = format!("--partition hash:${{{{ matrix.shard }}}}/{}", shards.len());
    assert!(
        runs("evals")
            .iter()
            .any(|r| r.contains("cargo nextest run") && r.contains(&partition)),
        "{:?}",
        runs("evals")
    );
    assert_eq!(jobs["report"]["needs"], "evals");
    assert_eq!(
        jobs["report"]["if"], "always()",
        "shards that failed are reported too"
    );
    let report = runs("report");
    for command in [
        "evalgate report --merge shards/*/*",
        "evalgate history import",
        "evalgate history export",
        "evalgate baseline save",
    ] {
        assert!(
            report.iter().any(|r| r.contains(command)),
            "{command} in {report:?}"
        );
    }
}

#[test]
fn this_repositorys_ci_runs_ci_run_and_uploads_the_reports() {
    let (_, ci) = workflows()
        .into_iter()
        .find(|(p, _)| p.ends_with("ci.yml"))
        .expect(".github/workflows/ci.yml");
    let steps: Vec<&Value> = ci["jobs"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|job| job["steps"].as_array().unwrap())
        .collect();
    assert!(
        steps.iter().any(|s| s["run"] == "bash .ci/run"),
        "CI runs what .ci/run checks (fmt, clippy, the book, cargo test, nextest, the demo)"
    );
    let upload = steps
        .iter()
        .find(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("actions/upload-artifact@"))
        })
        .expect("the reports are uploaded");
    assert_eq!(upload["if"], "always()", "uploaded even when the run fails");
    let paths = upload["with"]["path"].as_str().unwrap();
    for report in ["junit.xml", "coverage.json", "decay.json", "runs/"] {
        assert!(paths.contains(report), "{report} not uploaded: {paths}");
    }
    let run =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(".ci/run")).unwrap();
    for check in [
        "cargo fmt",
        "cargo clippy --all-targets",
        "cargo test",
        "cargo nextest run",
        "-- demo",
        "mdbook build docs",
    ] {
        assert!(run.contains(check), ".ci/run does not run {check}");
    }
}

/// Every `cargo install` in a workflow names its version and installs `--locked`: an
/// unpinned evalgate in CI may not read the records the project's own version wrote.
#[test]
fn every_cargo_install_is_pinned() {
    for (path, workflow) in workflows() {
        let text = serde_json::to_string(&workflow).unwrap();
        for install in text.split("cargo install ").skip(1) {
            let command: String = install.chars().take_while(|c| *c != '"').collect();
            assert!(
                command.contains("--version ") && command.contains("--locked"),
                "{}: `cargo install {command}` is not pinned",
                path.display()
            );
        }
    }
}

/// Each published package holds what users build from — the library (`evalgate`) or the
/// binary (`evalgate-cli`), the README, the texts of both licences the manifest offers — and
/// not this repository's tests, benches, eval suite or CI; and cargo finds the metadata
/// crates.io shows complete.
#[test]
fn the_packages_hold_what_users_build_from() {
    for (package, source) in [("evalgate", "src/lib.rs"), ("evalgate-cli", "src/main.rs")] {
        let output =
            std::process::Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
                .args([
                    "package",
                    "--list",
                    "--allow-dirty",
                    "--offline",
                    "-p",
                    package,
                ])
                .current_dir(env!("CARGO_MANIFEST_DIR"))
                .output()
                .unwrap();
        assert!(
            output.status.success(),
            "{package}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let files = String::from_utf8(output.stdout).unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            !stderr.contains("warning"),
            "cargo package -p {package} warns:\n{stderr}"
        );
        for needed in [
            source,
            "README.md",
            "Cargo.toml",
            "LICENSE-MIT",
            "LICENSE-APACHE",
        ] {
            assert!(
                files.lines().any(|f| f == needed),
                "{package}: {needed} missing:\n{files}"
            );
        }
        for left_out in [
            "tests/", "benches/", "evals/", ".github/", ".ci/", "crates/",
        ] {
            assert!(
                !files.lines().any(|f| f.starts_with(left_out)),
                "{package}: {left_out} is packaged:\n{files}"
            );
        }
    }
}
