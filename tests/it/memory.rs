//! Memory divergence end to end: the demo agent (real HTTP on 127.0.0.1) reports what its
//! memory retained after each turn; cases probe recall; a later run under another model
//! is compared with the history, and the `memory.changed_cases` gate fails the run whose
//! effective past changed — also when every case passes.

use crate::support::reports;
use crate::support::suite;

use reports::{gate, read_json};
use suite::{Run, TempSuite};

const SUITE: &str = "\
name: memory
target:
  http:
    url: \"${EVALGATE_AGENT_URL}/v1/agent\"
gates:
  - metric: memory.changed_cases
    max: 0
";

/// The demo suite's two memory cases, as shipped in `evals/cases/memory` (without the
/// rubric this suite does not have).
fn shipped(name: &str) -> String {
    let path = format!("{}/evals/cases/memory/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with("rubric:"))
        .map(|l| format!("{l}\n"))
        .collect()
}

/// A salience-memory case without a recall probe: it passes under both models.
const NO_PROBE: &str = "\
input:
  vars: {memory: salience}
  messages:
    - {role: user, content: \"Hi, I'm writing about order A1005.\"}
    - {role: user, content: \"Honestly this is ridiculous, third time I write.\"}
    - {role: user, content: \"The courier said Monday.\"}
    - {role: user, content: \"I'm fed up with waiting.\"}
    - {role: user, content: \"Is A1005 still on its way?\"}
expect:
  - branches: [route.order_status, tool.lookup_order]
";

/// `evalgate demo` against demo agent `version`, as a run of its own commit unless `env`
/// names one (`EVALGATE_COMMIT`): CI variables of the machine running the tests must not
/// make two runs look like a re-run of one.
fn demo(s: &TempSuite, version: &str, env: &[(&str, &str)]) -> Run {
    static RUNS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let commit = format!(
        "commit-{}",
        RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    );
    let mut env = env.to_vec();
    if !env.iter().any(|(k, _)| *k == "EVALGATE_COMMIT") {
        env.push(("EVALGATE_COMMIT", &commit));
    }
    let env = &env[..];
    s.evalgate_env(
        &[
            "demo",
            "evals",
            "--agent-version",
            version,
            "--compare-with",
            "none",
        ],
        env,
    )
}

fn case<'a>(memory: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    memory["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["case"] == id)
        .unwrap_or_else(|| panic!("no case {id}: {memory:#}"))
}

/// The run ids of the suite's runs, oldest first.
fn run_ids(s: &TempSuite) -> Vec<String> {
    s.run_dirs()
        .iter()
        .map(|d| d.file_name().unwrap().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn an_upgrade_that_changes_a_salience_memory_is_flagged_and_lru_is_not() {
    let s = TempSuite::new(SUITE);
    s.case("lru.yaml", &shipped("lru_keeps_order.yaml"))
        .case("salience.yaml", &shipped("salience_keeps_order.yaml"))
        .case("no_probe.yaml", NO_PROBE);
    let first = demo(&s, "v1", &[]);
    assert_eq!(first.code, 0, "{}", first.all());
    assert!(
        first.all().contains(
            "evalgate: memory: 3 case(s) report memory or probe recall, each compared with the \
             latest earlier run holding it: 0 changed, 3 not compared"
        ),
        "{}",
        first.all()
    );
    let coverage = read_json(&s.out().join("coverage.json"));
    let g = gate(&coverage, "memory.changed_cases");
    assert_eq!(g["outcome"], "skipped", "nothing earlier to compare with");

    let upgraded = demo(&s, "v2", &[]);
    assert_eq!(upgraded.code, 1, "{}", upgraded.all());
    let all = upgraded.all();
    let v1 = &run_ids(&s)[0];
    assert!(
        all.contains(&format!("  vs run {v1} ("))
            && all.contains("): model demo-support-1 → demo-support-2, prompt"),
        "{all}"
    );
    assert!(
        all.contains(
            "    salience: effective past changed after upgrade — divergence 0.80 at turn \
             5 (retained {note@3, note@5, order:A1005} → {mood@2, mood@4, note@5}; across \
             0.80, within unknown (one sample each)); recall 1/1 → 0/1"
        ),
        "{all}"
    );
    assert!(
        all.contains("    lru: divergence 0.00 over 5 turn(s); recall 1/1 → 1/1"),
        "{all}"
    );
    // The recall probe's failure says what the memory held.
    assert!(
        all.contains("memory after turn 5: {mood@2, mood@4, note@5}"),
        "{all}"
    );

    let memory = read_json(&s.out().join("memory.json"));
    assert_eq!(
        memory["changed"],
        serde_json::json!(["no_probe", "salience"])
    );
    let salience = case(&memory, "salience");
    assert_eq!(salience["divergence"]["turn"], 5);
    assert_eq!(salience["recall"]["before"], serde_json::json!([1, 1]));
    assert_eq!(salience["recall"]["now"], serde_json::json!([0, 1]));
    assert_eq!(salience["reference"]["run_id"], v1.as_str());
    assert_eq!(case(&memory, "lru")["changed"], false);
    assert_eq!(case(&memory, "lru")["divergence"]["value"], 0.0);
    let changes = salience["reference"]["changes"].as_array().unwrap();
    assert!(
        changes.iter().any(|c| c["axis"] == "model"
            && c["before"] == "demo-support-1"
            && c["now"] == "demo-support-2"),
        "{memory:#}"
    );
    let coverage = read_json(&s.out().join("coverage.json"));
    let g = gate(&coverage, "memory.changed_cases");
    assert_eq!(
        (g["outcome"].as_str(), g["value"].as_f64()),
        (Some("failed"), Some(2.0))
    );
    // The case without a probe passed: the gate alone caught its changed past.
    let records = s.records_of("case");
    let no_probe_now = records.iter().rfind(|r| r["case"] == "no_probe").unwrap();
    assert_eq!(no_probe_now["verdict"], "pass");

    // Any two runs of the history compare the same way.
    let ids = run_ids(&s);
    assert_eq!(ids.len(), 2, "{ids:?}");
    let db = s.out().join("history.sqlite");
    let db = db.to_str().unwrap();
    let history = |args: &[&str]| {
        let mut all = vec!["history", "--db", db, "memory"];
        all.extend_from_slice(args);
        s.evalgate(&all)
    };
    let diff = history(&[&ids[0], &ids[1]]);
    assert_eq!(diff.code, 1, "{}", diff.all());
    assert!(
        diff.stdout.starts_with(&format!(
            "evalgate: memory: 3 case(s) report memory or probe recall, each compared with run \
             {}: 2 changed, 0 not compared",
            ids[0]
        )),
        "{}",
        diff.stdout
    );
    let same = history(&[&ids[1], &ids[1]]);
    assert_eq!(same.code, 2, "{}", same.all());
    let unknown = history(&[&ids[0], "no-such-run"]);
    assert_eq!(unknown.code, 2, "{}", unknown.all());
    assert!(
        unknown.stderr.contains("no run `no-such-run`"),
        "{}",
        unknown.stderr
    );
}

#[test]
fn a_filtered_run_in_between_does_not_hide_a_case_from_its_reference() {
    let s = TempSuite::new(SUITE);
    s.case("lru.yaml", &shipped("lru_keeps_order.yaml"))
        .case("no_probe.yaml", NO_PROBE);
    assert_eq!(demo(&s, "v1", &[]).code, 0);
    // Only `lru` runs under the new model; then the whole suite does.
    let mut args = vec![
        "demo",
        "evals",
        "--agent-version",
        "v2",
        "--compare-with",
        "none",
    ];
    args.extend(["--", "lru"]);
    let filtered = s.evalgate_env(&args, &[("EVALGATE_COMMIT", "filtered")]);
    assert_eq!(filtered.code, 0, "{}", filtered.all());
    let whole = demo(&s, "v2", &[]);
    assert_eq!(whole.code, 1, "{}", whole.all());
    let ids = run_ids(&s);
    let memory = read_json(&s.out().join("memory.json"));
    // `no_probe` is compared with the first run, the latest that holds it.
    assert_eq!(
        case(&memory, "no_probe")["reference"]["run_id"],
        ids[0].as_str()
    );
    assert_eq!(case(&memory, "lru")["reference"]["run_id"], ids[1].as_str());
    assert_eq!(memory["changed"], serde_json::json!(["no_probe"]));
}

#[test]
fn re_running_a_commit_never_compares_it_with_itself() {
    let s = TempSuite::new(SUITE);
    s.case("no_probe.yaml", NO_PROBE);
    let at = |commit: &str, version: &str| demo(&s, version, &[("EVALGATE_COMMIT", commit)]);
    assert_eq!(at("c1", "v1").code, 0);
    // The commit that changes the model is red, and stays red when its job is re-run.
    assert_eq!(at("c2", "v2").code, 1);
    let rerun = at("c2", "v2");
    assert_eq!(rerun.code, 1, "{}", rerun.all());
    assert!(
        rerun
            .all()
            .contains("model demo-support-1 → demo-support-2")
    );
    // The next commit compares with it: the change is behind.
    let next = at("c3", "v2");
    assert_eq!(next.code, 0, "{}", next.all());
}

#[test]
fn with_a_baseline_branch_a_rerun_stays_red_until_the_branch_accepts_the_change() {
    let s = TempSuite::new(&format!("{SUITE}baseline: {{branch: main}}\n"));
    s.case("lru.yaml", &shipped("lru_keeps_order.yaml"))
        .case("no_probe.yaml", NO_PROBE);
    let on = |branch: &str, version: &str| demo(&s, version, &[("EVALGATE_BRANCH", branch)]);
    let main = on("main", "v1");
    assert_eq!(main.code, 0, "{}", main.all());
    for attempt in ["first", "rerun"] {
        let pr = on("pr", "v2");
        assert_eq!(pr.code, 1, "{attempt}: {}", pr.all());
        assert!(
            pr.all().contains(
                "each compared with the latest earlier run of `main` holding it: 1 changed"
            ),
            "{attempt}: {}",
            pr.all()
        );
    }
    // Merged: main runs the new model (compared with main's last run, so red once), and
    // from then on the pull request compares with a main that has accepted the change.
    assert_eq!(on("main", "v2").code, 1);
    let pr = on("pr", "v2");
    assert_eq!(pr.code, 0, "{}", pr.all());
    assert!(pr.all().contains("): the same envelope\n"), "{}", pr.all());
}

#[test]
fn memory_settings_out_of_range_are_config_errors() {
    let s = TempSuite::new(&format!("{SUITE}memory: {{divergence: 1.5}}\n"));
    s.case("lru.yaml", &shipped("lru_keeps_order.yaml"));
    let run = s.run(&[]);
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(
        run.stderr
            .contains("`memory.divergence` is a Jaccard divergence, between 0 and 1"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_recall_probe_must_ask_about_an_earlier_fact_without_giving_it_away() {
    let gave = "{role: user, content: \"Order A1005.\"}";
    let asks = "{role: user, content: \"Where is it?\"}";
    for (messages, vars, why) in [
        (
            "[{role: user, content: \"Where is my order?\"}]".to_string(),
            "{}",
            "the input needs an earlier user message giving the fact",
        ),
        (
            format!("[{gave}, {{role: user, content: \"Is A1005 late?\"}}]"),
            "{}",
            "the last user message itself says \"A1005\"",
        ),
        (
            format!("[{{role: user, content: \"Order A10050.\"}}, {asks}]"),
            "{}",
            "no user message before the last says \"A1005\" (as a word of its own)",
        ),
        (
            format!("[{{role: system, content: \"The order is A1005.\"}}, {gave}, {asks}]"),
            "{}",
            "a system message says \"A1005\"",
        ),
        (
            format!("[{gave}, {asks}]"),
            "{order_id: A1005}",
            "`vars.order_id` holds \"A1005\"",
        ),
    ] {
        let s = TempSuite::new(SUITE);
        s.case(
            "probe.yaml",
            &format!(
                "input:\n  messages: {messages}\n  vars: {vars}\nexpect:\n  - recalled: A1005\n"
            ),
        );
        let run = s.run(&[]);
        assert_eq!(run.code, 2, "{}", run.all());
        assert!(run.stderr.contains("probe.yaml:5:5"), "{}", run.stderr);
        assert!(run.stderr.contains(why), "{why}: {}", run.stderr);
    }
}
