//! `evalgate bisect` end to end on the project's own suite and the demo agent, whose planted
//! regression needs two axes together: the new model (`demo-support-2`) reading the new
//! tool descriptions (`support-tools-4`) stops calling the refund tool; neither alone does.

use std::path::Path;
use std::process::Command;

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

fn bisect(args: &[&str], out: &Path) -> Out {
    bisect_env(args, out, &[])
}

fn bisect_env(args: &[&str], out: &Path, env: &[(&str, &str)]) -> Out {
    let output = Command::new(env!("CARGO_BIN_EXE_evalgate"))
        .envs(env.iter().copied())
        .arg("bisect")
        .args(args)
        .args(["--demo", "v1", "--out"])
        .arg(out)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("EVALGATE_AXES")
        .env_remove("GITHUB_ACTIONS")
        .env_remove("NEXTEST_RUN_ID")
        .env_remove("EVALGATE_RUN_ID")
        .output()
        .unwrap();
    Out {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// The round folders under `dir` marked `finished`, sorted.
fn finished_rounds(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.join("finished").is_file() {
                found.push(path);
            } else if path.is_dir() {
                stack.push(path);
            }
        }
    }
    found.sort();
    found
}

const GOOD: &str = "evals/envelopes/good.yaml";
const BAD: &str = "evals/envelopes/bad.yaml";

#[test]
fn the_demo_regression_is_found_as_an_interaction_of_model_and_tools() {
    let out = tempfile::tempdir().unwrap();
    let run = bisect(&["--good", GOOD, "--bad", BAD], out.path());
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains("fails only when model=bad AND tools=bad: interaction model×tools"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("roll back: model "), "{}", run.stdout);
    // All bad (the reference), 5 single axes, 10 pairs: 1 + 5 + 10.
    assert!(
        run.stdout
            .contains("configurations run: 15 besides the good and bad envelopes"),
        "{}",
        run.stdout
    );
    let rounds = || finished_rounds(&out.path().join("bisect"));
    let measured = rounds();
    assert!(measured.len() >= 17, "{measured:?}");
    let again = bisect(&["--good", GOOD, "--bad", BAD], out.path());
    assert_eq!(again.code, 0);
    assert_eq!(
        again.stdout, run.stdout,
        "a resumed bisection reuses its records"
    );
    assert_eq!(rounds(), measured);

    // A round cut short (no `finished` mark; history off, so it is nowhere else) is
    // measured again, never taken as whole.
    let cut = &measured[0];
    std::fs::remove_file(cut.join("finished")).unwrap();
    let off = [("EVALGATE_HISTORY", "off")];
    let remeasured = bisect_env(&["--good", GOOD, "--bad", BAD], out.path(), &off);
    assert_eq!(remeasured.stdout, run.stdout);
    assert!(cut.join("finished").is_file());

    // `--fresh` reuses nothing: every round folder is made again.
    let planted = measured[1].join("planted");
    std::fs::write(&planted, b"").unwrap();
    let fresh = bisect(&["--good", GOOD, "--bad", BAD, "--fresh"], out.path());
    assert_eq!(fresh.stdout, run.stdout);
    assert!(!planted.exists());
    assert_eq!(rounds(), measured);

    // The rounds are in the history store too, under the suite's own `#bisect` name: a
    // later job with the history but not the folders runs nothing again.
    std::fs::remove_dir_all(out.path().join("bisect")).unwrap();
    let resumed = bisect(&["--good", GOOD, "--bad", BAD], out.path());
    assert_eq!(resumed.code, 0, "{}", resumed.stderr);
    assert_eq!(resumed.stdout, run.stdout);
    assert!(
        !out.path().join("bisect").exists(),
        "every round came from the history store"
    );
    let listed = Command::new(env!("CARGO_BIN_EXE_evalgate"))
        .args(["history", "runs", "--db"])
        .arg(out.path().join("history.sqlite"))
        .output()
        .unwrap();
    let listed = String::from_utf8_lossy(&listed.stdout);
    assert!(listed.contains("demo-support#bisect"), "{listed}");
    assert!(
        !listed.contains(" demo-support "),
        "no run of the suite itself: {listed}"
    );
}

#[test]
fn a_spent_budget_says_what_remains_and_bad_envelopes_are_refused() {
    let out = tempfile::tempdir().unwrap();
    let run = bisect(&["--good", GOOD, "--bad", BAD, "--budget", "7"], out.path());
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains(
            "no answer yet: the budget of 7 configurations is spent; 8 configuration(s) remain"
        ),
        "{}",
        run.stdout
    );

    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    };
    let fewer = write(
        "fewer.yaml",
        "model: demo-support-2\ntools: support-tools-4\n",
    );
    let run = bisect(&["--good", GOOD, "--bad", &fewer], out.path());
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("the envelopes name different axes"),
        "{}",
        run.stderr
    );
    let run = bisect(&["--good", GOOD, "--bad", GOOD], out.path());
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("no axis to bisect"), "{}", run.stderr);
    // Only the index moved: nothing regresses.
    let harmless = write(
        "harmless.yaml",
        "model: demo-support-1\nprompt: support-prompt-11\ntools: support-tools-3\nindex: kb-2026-12\nsampling: temperature-0.2\n",
    );
    let run = bisect(&["--good", GOOD, "--bad", &harmless], out.path());
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("no regression to bisect"),
        "{}",
        run.stderr
    );
    let badname = write("badname.yaml", "model name: x\n");
    let run = bisect(&["--good", &badname, "--bad", &badname], out.path());
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("cannot be passed to an agent"),
        "{}",
        run.stderr
    );
}

#[test]
fn envelopes_can_be_two_runs_of_the_history_store() {
    let out = tempfile::tempdir().unwrap();
    // `evalgate demo` records a run of the V2 agent, then one of V1.
    let demo = Command::new(env!("CARGO_BIN_EXE_evalgate"))
        .args(["demo", "evals", "--out"])
        .arg(out.path())
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("EVALGATE_HISTORY")
        .env_remove("GITHUB_ACTIONS")
        .env_remove("NEXTEST_RUN_ID")
        .env_remove("EVALGATE_RUN_ID")
        .output()
        .unwrap();
    assert!(
        demo.status.success(),
        "{}",
        String::from_utf8_lossy(&demo.stderr)
    );
    let runs = Command::new(env!("CARGO_BIN_EXE_evalgate"))
        .args(["history", "runs", "--out"])
        .arg(out.path())
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("EVALGATE_HISTORY")
        .env_remove("NEXTEST_RUN_ID")
        .output()
        .unwrap();
    let listing = String::from_utf8_lossy(&runs.stdout).into_owned();
    let ids: Vec<&str> = listing
        .lines()
        .filter_map(|l| l.split_whitespace().nth(1))
        .collect();
    assert_eq!(ids.len(), 2, "{listing}");
    // The two runs' envelopes differ in model and prompt; served to the V1 demo agent, the
    // V2 model's name alone breaks nothing: the envelopes were read, and there is no
    // regression to bisect.
    let run = bisect(&["--good", ids[0], "--bad", ids[1]], out.path());
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("no regression to bisect"),
        "{}",
        run.stderr
    );
    let run = bisect(&["--good", "no-such-run", "--bad", ids[1]], out.path());
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("neither an envelope file nor the id of a run"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_round_with_errored_samples_is_used_but_never_kept() {
    let dir = tempfile::tempdir().unwrap();
    let evals = dir.path().join("evals");
    std::fs::create_dir_all(evals.join("cases")).unwrap();
    std::fs::write(
        evals.join("evalgate.yaml"),
        "name: errors\nretries: {max: 0}\ntarget:\n  http:\n    url: \"${EVALGATE_AGENT_URL}/v1/agent\"\n",
    )
    .unwrap();
    std::fs::write(
        evals.join("cases/refund.yaml"),
        "samples: 12\ninput:\n  customer: erin\n  messages:\n    - {role: user, content: \
         \"Please refund A1009\"}\nexpect:\n  - branches: [tool.issue_refund]\n",
    )
    .unwrap();
    // The agent's upstream fails on every sample of this case.
    std::fs::write(
        evals.join("cases/down.yaml"),
        "input:\n  vars: {fail: error}\n  messages:\n    - {role: user, content: \"Where is \
         A1001?\"}\nexpect:\n  - contains: A1001\n",
    )
    .unwrap();
    let root = env!("CARGO_MANIFEST_DIR");
    let out = dir.path().join("out");
    let run = Command::new(env!("CARGO_BIN_EXE_evalgate"))
        .args(["bisect", "--good"])
        .arg(format!("{root}/{GOOD}"))
        .arg("--bad")
        .arg(format!("{root}/{BAD}"))
        .args(["refund", "down", "--demo", "v1", "--dir"])
        .arg(&evals)
        .arg("--out")
        .arg(&out)
        .env_remove("EVALGATE_AXES")
        .env_remove("NEXTEST_RUN_ID")
        .env_remove("EVALGATE_RUN_ID")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert_eq!(run.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("interaction model×tools"),
        "errors neither pass nor fail: {stdout}"
    );
    // A case with no answered sample under either envelope cannot be judged: it is said to
    // be left out, and the configurations run without it.
    assert!(
        stdout.contains("left out, no answered sample under the good or the bad envelope: down"),
        "{stdout}"
    );
    // The good and bad envelopes' rounds held its errors: used, never kept, on disk or in
    // history; the configurations' rounds, without it, are.
    let finished = finished_rounds(&out.join("bisect"));
    let all_bad = "index+model+prompt+sampling+tools";
    let reference = |path: &std::path::PathBuf| {
        let name = path
            .parent()
            .unwrap()
            .file_name()
            .unwrap()
            .to_string_lossy();
        name == "all-good" || name == all_bad
    };
    assert!(!finished.is_empty());
    assert!(
        !finished.iter().any(reference),
        "no round with errors is kept for reuse: {finished:?}"
    );
    let listed = Command::new(env!("CARGO_BIN_EXE_evalgate"))
        .args(["history", "runs", "--db"])
        .arg(out.join("history.sqlite"))
        .output()
        .unwrap();
    let listed = String::from_utf8_lossy(&listed.stdout);
    assert!(
        !listed.contains("-all-good-r") && !listed.contains(&format!("-{all_bad}-r")),
        "nor kept in history: {listed}"
    );
}

/// A suite of two cases with independent causes, answered by the scripted command agent:
/// `prompt` fails when the prompt is `p2` alone, `tools` when the model is `B` and the tools
/// `v2` together.
fn two_cause_suite(dir: &Path) -> std::path::PathBuf {
    let evals = dir.join("evals");
    std::fs::create_dir_all(evals.join("cases")).unwrap();
    let python = if Path::new("/usr/bin/python3").exists() {
        "/usr/bin/python3"
    } else {
        "python3"
    };
    let agent =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/agents/scripted_agent.py");
    std::fs::write(
        evals.join("evalgate.yaml"),
        format!(
            "name: two-causes\ntarget:\n  command:\n    program: {python}\n    args: [{:?}]\n",
            agent.display().to_string()
        ),
    )
    .unwrap();
    let case = |fails_when: &str| {
        format!(
            "samples: 3\ninput:\n  vars: {{mode: axes, fails_when: {fails_when}}}\n  \
             messages:\n    - {{role: user, content: \"Is it broken?\"}}\nexpect:\n  - contains: fine\n"
        )
    };
    std::fs::write(evals.join("cases/prompt.yaml"), case("{prompt: p2}")).unwrap();
    std::fs::write(
        evals.join("cases/tools.yaml"),
        case("{model: B, tools: v2}"),
    )
    .unwrap();
    std::fs::write(dir.join("good.yaml"), "model: A\nprompt: p1\ntools: v1\n").unwrap();
    std::fs::write(dir.join("bad.yaml"), "model: B\nprompt: p2\ntools: v2\n").unwrap();
    evals
}

#[test]
fn two_independent_causes_in_one_suite_are_each_named_with_their_cases() {
    let dir = tempfile::tempdir().unwrap();
    let evals = two_cause_suite(dir.path());
    let run = Command::new(env!("CARGO_BIN_EXE_evalgate"))
        .arg("bisect")
        .arg("--good")
        .arg(dir.path().join("good.yaml"))
        .arg("--bad")
        .arg(dir.path().join("bad.yaml"))
        .arg("--dir")
        .arg(&evals)
        .arg("--out")
        .arg(dir.path().join("out"))
        .env_remove("EVALGATE_AXES")
        .env_remove("GITHUB_ACTIONS")
        .env_remove("NEXTEST_RUN_ID")
        .env_remove("EVALGATE_RUN_ID")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(0), "{stdout}\n{stderr}");
    for line in [
        "cases: prompt, tools",
        "case prompt: main effect: prompt=bad alone reproduces",
        "case tools: fails only when model=bad AND tools=bad: interaction model×tools",
        "roll back: model, prompt (the fewest axes that stop every configuration that reproduces)",
    ] {
        assert!(stdout.contains(line), "{line:?} missing:\n{stdout}");
    }
    // The single axes settle `prompt`; the pairs are run for `tools` alone.
    assert!(
        stdout.contains(
            "prompt                                   reproduces for prompt; does not for tools"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("model + tools                            reproduces"),
        "{stdout}"
    );
}
