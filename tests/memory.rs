//! Memory divergence end to end: the demo agent (real HTTP on 127.0.0.1) reports what its
//! memory retained after each turn; cases probe recall; a later run under another model
//! is compared with the history, and the `memory.changed_cases` gate fails the run whose
//! effective past changed — also when every case passes.

#[path = "support/reports.rs"]
mod reports;
#[path = "support/suite.rs"]
mod suite;

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

fn demo(s: &TempSuite, version: &str, env: &[(&str, &str)]) -> Run {
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

#[test]
fn an_upgrade_that_changes_a_salience_memory_is_flagged_and_lru_is_not() {
    let s = TempSuite::new(SUITE);
    s.case("lru.yaml", &shipped("lru_keeps_order.yaml"))
        .case("salience.yaml", &shipped("salience_keeps_order.yaml"))
        .case("no_probe.yaml", NO_PROBE);
    let first = demo(&s, "v1", &[]);
    assert_eq!(first.code, 0, "{}", first.all());
    assert!(
        first
            .stderr
            .contains("evalgate: memory: 3 case(s) report memory or probe recall; not compared:")
            || first.stdout.contains(
                "evalgate: memory: 3 case(s) report memory or probe recall; not compared:"
            ),
        "{}",
        first.all()
    );
    let coverage = read_json(&s.out().join("coverage.json"));
    assert_eq!(
        gate(&coverage, "memory.changed_cases")["outcome"],
        "skipped"
    );

    let upgraded = demo(&s, "v2", &[]);
    assert_eq!(upgraded.code, 1, "{}", upgraded.all());
    let all = upgraded.all();
    assert!(
        all.contains("model demo-support-1 → demo-support-2"),
        "{all}"
    );
    assert!(
        all.contains("salience: effective past changed after upgrade — divergence 0.80 at turn 5 (retained {note@3, note@5, order:A1005} → {mood@2, mood@4, note@5}"),
        "{all}"
    );
    assert!(all.contains("recall 1/1 → 0/1"), "{all}");
    assert!(
        all.contains("lru: divergence 0.00 over 5 turn(s); recall 1/1 → 1/1"),
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
    assert_eq!(case(&memory, "lru")["changed"], false);
    assert_eq!(case(&memory, "lru")["divergence"]["value"], 0.0);
    let change = &memory["reference"]["changes"];
    assert!(
        change
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["axis"] == "model"
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
    let junit = s.junit();
    assert!(junit.contains("no_probe"), "{junit}");
    let records = s.records_of("case");
    let no_probe_now = records.iter().rfind(|r| r["case"] == "no_probe").unwrap();
    assert_eq!(no_probe_now["verdict"], "pass");

    // Any two runs of the history compare the same way.
    let ids: Vec<String> = s
        .run_dirs()
        .iter()
        .map(|d| d.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
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
            "evalgate: memory: 3 case(s) report memory or probe recall; compared with run {} (given",
            ids[0]
        )),
        "{}",
        diff.stdout
    );
    assert!(diff.stdout.contains("; 2 changed"), "{}", diff.stdout);
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
            pr.all().contains("(the latest run of `main`"),
            "{attempt}: {}",
            pr.all()
        );
    }
    // Merged: main runs the new model (compared with main's last run, so red once), and
    // from then on the pull request compares with a main that has accepted the change.
    assert_eq!(on("main", "v2").code, 1);
    let pr = on("pr", "v2");
    assert_eq!(pr.code, 0, "{}", pr.all());
    assert!(
        pr.all().contains("the same envelope; 0 changed"),
        "{}",
        pr.all()
    );
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
    for (messages, fact, why) in [
        (
            "[{role: user, content: \"Where is my order?\"}]",
            "A1005",
            "the input needs an earlier user message giving the fact",
        ),
        (
            "[{role: user, content: \"Order A1005.\"}, {role: user, content: \"Is A1005 late?\"}]",
            "A1005",
            "the last user message itself says \"A1005\"",
        ),
        (
            "[{role: user, content: \"Hello.\"}, {role: user, content: \"Where is it?\"}]",
            "A1005",
            "no user message before the last says \"A1005\"",
        ),
    ] {
        let s = TempSuite::new(SUITE);
        s.case(
            "probe.yaml",
            &format!("input:\n  messages: {messages}\nexpect:\n  - recalled: {fact}\n"),
        );
        let run = s.run(&[]);
        assert_eq!(run.code, 2, "{}", run.all());
        assert!(run.stderr.contains("probe.yaml:4:5"), "{}", run.stderr);
        assert!(run.stderr.contains(why), "{why}: {}", run.stderr);
    }
}
