//! Snapshot decay, the envelope and the history store end to end, through the real
//! `evalgate` binary and a real HTTP agent on loopback: findings with their lines, the
//! silent model bump from response headers, retired cases counted, decay gates and exit
//! codes, `decay.json` and the `evalgate.decay` JUnit testsuite, history import/export
//! between machines, concurrent ingestion, and the bad input around them.

use crate::support::mock_agent;
use crate::support::reports;
use crate::support::suite;

use mock_agent::{Behaviour, runtime, serve};
use reports::{gate, read_json};
use serde_json::{Value, json};
use suite::TempSuite;

fn suite_yaml(url: &str, extra: &str) -> String {
    format!(
        "target:\n  http: {{url: \"{url}/v1/agent\"}}\n\
         envelope: {{model: m-pinned, prompt: p1}}\n\
         pins: {{policy: refunds-v4, tools: tools-3}}\n{extra}"
    )
}

fn answer() -> Value {
    json!({"output": "Refund issued for A1002.", "decisions": ["route.refund"]})
}

const RUBRIC: &str = "version: 2\nchanged: 2026-09-01\n";

fn case(reviewed: &str, extra: &str) -> String {
    format!(
        "description: a refund\nreviewed: {reviewed}\n{extra}input:\n  messages:\n    - {{role: user, content: \"Refund order A1002 please\"}}\nexpect:\n  - contains: Refund\n"
    )
}

fn today() -> String {
    jiff::Zoned::now()
        .with_time_zone(jiff::tz::TimeZone::UTC)
        .date()
        .to_string()
}

fn by_detector(decay: &Value) -> Vec<(String, String, u64)> {
    let mut found: Vec<(String, String, u64)> = decay["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["case"].as_str().unwrap().to_string(),
                f["detector"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
            )
        })
        .collect();
    found.sort();
    found
}

#[test]
fn findings_name_the_line_retired_cases_count_and_gates_decide() {
    let rt = runtime();
    let agent = serve(&rt, Behaviour::Fixed(answer()));
    let s = TempSuite::new(&suite_yaml(
        &agent.url,
        "gates:\n  - {metric: decay.stale_share, max: 0.5}\n  - {metric: decay.green_but_stale, max: 0, level: warn}\n",
    ));
    std::fs::create_dir_all(s.evals().join("rubrics")).unwrap();
    std::fs::write(s.evals().join("rubrics/tone.yaml"), RUBRIC).unwrap();
    let today = today();
    s.case("fresh.yaml", &case(&today, "rubric: tone@2\n"));
    // Line 2: reviewed; line 3: pins; line 4: rubric.
    s.case(
        "old.yaml",
        &case("2025-01-02", "pins: {policy: refunds-v3}\nrubric: tone@1\n"),
    );
    s.case(
        "gone.yaml",
        "status: {retired: {reason: \"store credit is gone\", date: 2026-06-01}}\ninput:\n  messages: [{role: user, content: old}]\nexpect: [{contains: old}]\n",
    );
    let run = s.run(&[]);
    // Half the active cases are stale: the `max: 0.5` gate holds, the warn gate warns.
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(
        run.stderr
            .contains("evalgate: decay — green but stale: 1 of 2 passing cases"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("1 retired"), "{}", run.stderr);
    let decay = read_json(&s.out().join("decay.json"));
    assert_eq!(
        by_detector(&decay),
        [
            ("old".into(), "pin_drift".into(), 3),
            ("old".into(), "review_age".into(), 2),
            ("old".into(), "rubric_drift".into(), 4),
        ]
    );
    assert_eq!(decay["retired"][0]["case"], "gone");
    assert_eq!(decay["retired"][0]["reason"], "store credit is gone");
    assert_eq!(decay["green_but_stale_cases"], json!(["old"]));
    let coverage = read_json(&s.out().join("coverage.json"));
    assert_eq!(gate(&coverage, "decay.stale_share")["outcome"], "passed");
    assert_eq!(
        gate(&coverage, "decay.green_but_stale")["outcome"],
        "failed"
    );

    // The JUnit: a testsuite `evalgate.decay`, the retired case skipped with its reason.
    let junit = s.junit();
    let doc = roxmltree::Document::parse(&junit).unwrap();
    let decay_suite = doc
        .descendants()
        .find(|n| n.has_tag_name("testsuite") && n.attribute("name") == Some("evalgate.decay"))
        .expect("an evalgate.decay testsuite");
    let testcase = |name: &str| {
        decay_suite
            .children()
            .find(|n| n.has_tag_name("testcase") && n.attribute("name") == Some(name))
            .unwrap_or_else(|| panic!("testcase {name}"))
    };
    let review = testcase("review_age");
    let out = review
        .children()
        .find(|n| n.has_tag_name("system-out"))
        .and_then(|n| n.text())
        .unwrap();
    assert!(
        out.contains("old.yaml:2 old: last reviewed 2025-01-02"),
        "{out}"
    );
    let retired = testcase("gone");
    let skipped = retired
        .children()
        .find(|n| n.has_tag_name("skipped"))
        .expect("a retired case is a skipped testcase");
    assert!(
        skipped
            .attribute("message")
            .unwrap()
            .contains("retired 2026-06-01: store credit is gone")
    );

    // A stricter gate fails the run: exit 1.
    std::fs::write(
        s.evals().join("evalgate.yaml"),
        suite_yaml(
            &agent.url,
            "gates:\n  - {metric: decay.stale_share, max: 0.2}\n",
        ),
    )
    .unwrap();
    let run = s.run(&[]);
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(
        run.stderr.contains("FAIL    decay.stale_share"),
        "{}",
        run.stderr
    );
}

#[test]
fn the_envelope_comes_from_response_headers_and_a_silent_model_bump_is_flagged() {
    let rt = runtime();
    let agent = serve(
        &rt,
        Behaviour::FixedWithHeaders(
            answer(),
            vec![
                ("x-evalgate-model", "m-new"),
                ("x-evalgate-envelope-prompt", "p2"),
            ],
        ),
    );
    let s = TempSuite::new(&suite_yaml(
        &agent.url,
        "gates:\n  - {metric: envelope.model_bumps, max: 0}\n",
    ));
    s.case("a.yaml", &case(&today(), ""));
    let run = s.run(&[]);
    assert_eq!(run.code, 1, "a model bump fails the gate: {}", run.all());
    assert!(
        run.stderr.contains(
            "WARNING silent model bump: the suite pins model \"m-pinned\", the agent reported \"m-new\" in 1 sample(s)"
        ),
        "{}",
        run.stderr
    );
    let sample = &s.records_of("sample")[0];
    assert_eq!(sample["model"], "m-new");
    assert_eq!(sample["envelope"]["prompt"], "p2");
    let decay = read_json(&s.out().join("decay.json"));
    assert_eq!(decay["envelope"]["envelope"]["model"], "m-new");
    assert_eq!(decay["envelope"]["envelope"]["prompt"], "p2");
    assert_eq!(decay["envelope"]["model_bumps"][0]["pinned"], "m-pinned");
}

/// Three envelopes in history; the case passes under each: saturated. The discrimination
/// rate compares the two latest envelopes.
#[test]
fn history_shows_saturation_and_discrimination_across_envelopes() {
    let rt = runtime();
    let agent = serve(&rt, Behaviour::Fixed(answer()));
    let s = TempSuite::new(&suite_yaml(&agent.url, ""));
    s.case("steady.yaml", &case(&today(), ""));
    run_under_prompts(&s, &agent.url, 0);
    let decay = read_json(&s.out().join("decay.json"));
    assert_eq!(
        by_detector(&decay),
        [("steady".into(), "saturation".into(), 6)]
    );
    assert_eq!(decay["history"]["envelopes"], 3);
    assert_eq!(decay["discrimination"]["compared"], 1);
    assert_eq!(decay["discrimination"]["rate"], 0.0);
    let runs = s.evalgate(&["history", "runs"]);
    assert_eq!(runs.code, 0, "{}", runs.all());
    assert_eq!(runs.stdout.lines().count(), 3, "{}", runs.stdout);
}

/// Runs `s` once under each of the prompts p1, p2, p3 (three envelopes), each run exiting
/// with `code`.
fn run_under_prompts(s: &TempSuite, agent_url: &str, code: i32) {
    for prompt in ["p1", "p2", "p3"] {
        std::fs::write(
            s.evals().join("evalgate.yaml"),
            suite_yaml(agent_url, "").replace("prompt: p1", &format!("prompt: {prompt}")),
        )
        .unwrap();
        let run = s.run(&[]);
        assert_eq!(run.code, code, "under prompt {prompt}: {}", run.all());
    }
}

/// A case failing under every envelope is a known failure, not a saturated case: retiring
/// it would hide the bug it shows. Its passing neighbour is still saturated.
#[test]
fn a_case_failing_under_every_envelope_is_not_saturated() {
    let rt = runtime();
    let agent = serve(&rt, Behaviour::Fixed(answer()));
    let s = TempSuite::new(&suite_yaml(&agent.url, ""));
    s.case("steady.yaml", &case(&today(), ""));
    s.case(
        "broken.yaml",
        &case(&today(), "").replace("contains: Refund", "contains: Replacement"),
    );
    // `broken` fails every time.
    run_under_prompts(&s, &agent.url, 1);
    let decay = read_json(&s.out().join("decay.json"));
    assert_eq!(decay["history"]["envelopes"], 3);
    assert_eq!(
        by_detector(&decay),
        [("steady".into(), "saturation".into(), 6)]
    );
}

/// History moves between machines as JSON Lines; importing twice changes nothing.
#[test]
fn history_exports_and_imports_between_machines() {
    let rt = runtime();
    let agent = serve(&rt, Behaviour::Fixed(answer()));
    let a = TempSuite::new(&suite_yaml(&agent.url, ""));
    a.case("x.yaml", &case(&today(), ""));
    assert_eq!(a.run(&[]).code, 0);
    let exported = a.root.path().join("history.jsonl");
    let export = a.evalgate(&["history", "export", "--to", exported.to_str().unwrap()]);
    assert_eq!(export.code, 0, "{}", export.all());
    let lines = std::fs::read_to_string(&exported).unwrap();
    assert_eq!(
        lines.lines().count(),
        5,
        "run, sample, case, how the run ended and its end marker: {lines}"
    );

    let b = TempSuite::new(&suite_yaml(&agent.url, ""));
    for _ in 0..2 {
        let import = b.evalgate(&["history", "import", exported.to_str().unwrap()]);
        assert_eq!(import.code, 0, "{}", import.all());
    }
    let runs = b.evalgate(&["history", "runs"]);
    assert_eq!(runs.stdout.lines().count(), 1, "{}", runs.stdout);
    let again = b.root.path().join("again.jsonl");
    b.evalgate(&["history", "export", "--to", again.to_str().unwrap()]);
    assert_eq!(std::fs::read_to_string(&again).unwrap(), lines);
}

/// Two `evalgate report` processes ingest different runs into one store at the same
/// moment: both runs are there.
#[test]
fn two_processes_ingesting_at_once_lose_nothing() {
    let rt = runtime();
    let agent = serve(&rt, Behaviour::Fixed(answer()));
    let s = TempSuite::new(&suite_yaml(&agent.url, ""));
    for i in 0..20 {
        s.case(&format!("c{i}.yaml"), &case(&today(), ""));
    }
    let store = s.root.path().join("shared.sqlite");
    let store = store.to_str().unwrap();
    for id in ["run-a", "run-b"] {
        let run = s.evalgate_env(
            &["run", "evals"],
            &[("EVALGATE_RUN_ID", id), ("EVALGATE_HISTORY", "off")],
        );
        assert_eq!(run.code, 0, "{}", run.all());
    }
    let children: Vec<_> = ["run-a", "run-b"]
        .iter()
        .map(|id| {
            std::process::Command::new(env!("CARGO_BIN_EXE_evalgate"))
                .args(["report", s.out().join("runs").join(id).to_str().unwrap()])
                .current_dir(s.root.path())
                .env("EVALGATE_OUT", s.root.path().join(format!("out-{id}")))
                .env("EVALGATE_HISTORY", store)
                .output()
                .unwrap()
        })
        .collect();
    for child in children {
        assert_eq!(child.status.code(), Some(0), "{child:?}");
    }
    let runs = s.evalgate(&["history", "runs", "--db", store]);
    assert_eq!(runs.stdout.lines().count(), 2, "{}", runs.all());
    let export = s.evalgate(&["history", "export", "--db", store]);
    // Two runs of twenty cases: a run line, an outcome and an end marker each, a sample and
    // a case line per case.
    assert_eq!(
        export.stdout.lines().count(),
        2 * 3 + 2 * 20 * 2,
        "{}",
        export.stderr
    );
}

#[test]
fn bad_decay_input_is_a_clear_error_naming_file_and_line() {
    let rt = runtime();
    let agent = serve(&rt, Behaviour::Fixed(answer()));

    // A rubric reference to a missing rubric.
    let s = TempSuite::new(&suite_yaml(&agent.url, ""));
    s.case("a.yaml", &case(&today(), "rubric: tone@1\n"));
    let run = s.run(&[]);
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(
        run.stderr
            .contains("evals/cases/a.yaml:3:9: `rubric: tone@1` names no rubric in the suite"),
        "{}",
        run.stderr
    );

    // A date that is not a date.
    let s = TempSuite::new(&suite_yaml(&agent.url, ""));
    s.case("a.yaml", &case("last week", ""));
    let run = s.run(&[]);
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(
        run.stderr.contains("evals/cases/a.yaml:2"),
        "{}",
        run.stderr
    );

    // A rubric whose `changed:` is not a date.
    let s = TempSuite::new(&suite_yaml(&agent.url, ""));
    std::fs::create_dir_all(s.evals().join("rubrics")).unwrap();
    std::fs::write(
        s.evals().join("rubrics/tone.yaml"),
        "version: 2\nchanged: yesterday\n",
    )
    .unwrap();
    s.case("a.yaml", &case(&today(), ""));
    let run = s.run(&[]);
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(
        run.stderr.contains("evals/rubrics/tone.yaml:2:10"),
        "{}",
        run.stderr
    );

    // Production sample lines that are not JSON, or lack the field.
    for (line, problem) in [
        ("{\"message\": \"ok\"}\nnot json\n", ":2"),
        ("{\"message\": \"ok\"}\n{\"text\": \"no message\"}\n", ":2"),
    ] {
        let s = TempSuite::new(&suite_yaml(
            &agent.url,
            "decay:\n  production: {path: prod.jsonl, field: message}\n",
        ));
        std::fs::write(s.evals().join("prod.jsonl"), line).unwrap();
        s.case("a.yaml", &case(&today(), ""));
        let run = s.run(&[]);
        assert_eq!(run.code, 2, "{}", run.all());
        assert!(
            run.stderr.contains(&format!("prod.jsonl{problem}")),
            "{}",
            run.stderr
        );
        // The run finished: its JUnit is written all the same.
        assert!(s.junit().contains("testcase name=\"a\""), "{}", s.junit());
    }

    // A corrupt history file: refused, named, left as it was.
    let s = TempSuite::new(&suite_yaml(&agent.url, ""));
    s.case("a.yaml", &case(&today(), ""));
    let store = s.root.path().join("corrupt.sqlite");
    let garbage: Vec<u8> = (0..4096u32).map(|i| (i * 7919 % 251) as u8).collect();
    std::fs::write(&store, &garbage).unwrap();
    let run = s.evalgate_env(
        &["run", "evals"],
        &[("EVALGATE_HISTORY", store.to_str().unwrap())],
    );
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(run.stderr.contains("corrupt.sqlite"), "{}", run.stderr);
    assert_eq!(std::fs::read(&store).unwrap(), garbage, "left untouched");
    assert!(
        !run.stdout.contains("test evals::a"),
        "refused before any agent call: {}",
        run.stdout
    );

    // A production sample that does not exist: refused before any agent call.
    let s = TempSuite::new(&suite_yaml(
        &agent.url,
        "decay:\n  production: {path: missing.jsonl}\n",
    ));
    s.case("a.yaml", &case(&today(), ""));
    let run = s.run(&[]);
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(
        run.stderr.contains("missing.jsonl: the production sample"),
        "{}",
        run.stderr
    );
    assert!(!run.stdout.contains("test evals::a"), "{}", run.stdout);
}

/// Two suites share one store: each judges saturation on its own runs only.
#[test]
fn another_suite_in_the_same_store_is_not_this_suites_history() {
    let rt = runtime();
    let agent = serve(&rt, Behaviour::Fixed(answer()));
    let shared = tempfile::tempdir().unwrap();
    let store = shared.path().join("shared.sqlite");
    let env = [("EVALGATE_HISTORY", store.to_str().unwrap())];
    let ours = TempSuite::new(&format!("name: ours\n{}", suite_yaml(&agent.url, "")));
    ours.case("a.yaml", &case(&today(), ""));
    let theirs = TempSuite::new(&format!(
        "name: theirs\n{}",
        suite_yaml(&agent.url, "").replace("prompt: p1", "prompt: p9")
    ));
    theirs.case("a.yaml", &case(&today(), ""));
    assert_eq!(ours.evalgate_env(&["run", "evals"], &env).code, 0);
    assert_eq!(theirs.evalgate_env(&["run", "evals"], &env).code, 0);
    let run = ours.evalgate_env(&["run", "evals"], &env);
    assert_eq!(run.code, 0, "{}", run.all());
    let decay = read_json(&ours.out().join("decay.json"));
    assert_eq!(decay["history"]["envelopes"], 1, "{}", decay["history"]);
    assert!(decay["discrimination"].is_null());
}

/// Shifts every timestamp in a JSON value `days` into the past.
fn backdate(value: &mut Value, days: i64) {
    match value {
        Value::String(text) => {
            if let Ok(at) = text.parse::<jiff::Timestamp>() {
                *text = (at - jiff::SignedDuration::from_hours(24 * days)).to_string();
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| backdate(v, days)),
        Value::Object(map) => map.values_mut().for_each(|v| backdate(v, days)),
        _ => {}
    }
}

/// A case without `reviewed:` is its own low-severity finding while it is new: a new suite
/// is not "100 % stale". Once its first run in history is older than `review_max_age` it
/// counts; with history off its age is unknown, and it counts.
#[test]
fn a_case_never_reviewed_counts_as_stale_only_once_it_is_older_than_the_policy() {
    let rt = runtime();
    let agent = serve(&rt, Behaviour::Fixed(answer()));
    let s = TempSuite::new(&suite_yaml(
        &agent.url,
        "gates:\n  - {metric: decay.stale_share, max: 0}\n",
    ));
    s.case(
        "new.yaml",
        "input:\n  messages: [{role: user, content: \"Refund order A1002 please\"}]\nexpect: [{contains: Refund}]\n",
    );
    let run = s.run(&[]);
    assert_eq!(run.code, 0, "a new case is not stale: {}", run.all());
    let decay = read_json(&s.out().join("decay.json"));
    let finding = &decay["findings"][0];
    assert_eq!(finding["detector"], "never_reviewed");
    assert_eq!(finding["severity"], "low");
    assert_eq!(decay["stale_cases"], 0);
    assert_eq!(decay["stale_share"], 0.0);
    assert_eq!(decay["green_but_stale"], 0);
    assert_eq!(decay["low_findings"], 1);
    assert_eq!(decay["by_detector"]["never_reviewed"], 1);
    let junit = s.junit();
    let doc = roxmltree::Document::parse(&junit).unwrap();
    let decay_suite = doc
        .descendants()
        .find(|n| n.has_tag_name("testsuite") && n.attribute("name") == Some("evalgate.decay"))
        .unwrap();
    let property = |name: &str| {
        decay_suite
            .descendants()
            .find(|n| n.has_tag_name("property") && n.attribute("name") == Some(name))
            .and_then(|n| n.attribute("value"))
            .map(str::to_string)
    };
    assert_eq!(property("stale_cases").as_deref(), Some("0"));
    assert_eq!(property("low_findings").as_deref(), Some("1"));
    let out = decay_suite
        .children()
        .find(|n| n.has_tag_name("testcase") && n.attribute("name") == Some("never_reviewed"))
        .and_then(|n| n.children().find(|c| c.has_tag_name("system-out")))
        .and_then(|n| n.text())
        .unwrap()
        .to_string();
    assert!(
        out.contains(&format!(
            "new: (low, not counted) never reviewed (no `reviewed:` date); first run {}",
            today()
        )),
        "{out}"
    );

    // The same history, 100 days older: the case's first run is past the 90 days.
    let exported = s.root.path().join("history.jsonl");
    let export = s.evalgate(&["history", "export", "--to", exported.to_str().unwrap()]);
    assert_eq!(export.code, 0, "{}", export.all());
    let older: Vec<String> = std::fs::read_to_string(&exported)
        .unwrap()
        .lines()
        .map(|line| {
            let mut record: Value = serde_json::from_str(line).unwrap();
            backdate(&mut record, 100);
            record.to_string()
        })
        .collect();
    std::fs::write(&exported, older.join("\n") + "\n").unwrap();
    std::fs::remove_file(s.out().join("history.sqlite")).unwrap();
    let import = s.evalgate(&["history", "import", exported.to_str().unwrap()]);
    assert_eq!(import.code, 0, "{}", import.all());
    let run = s.run(&[]);
    assert_eq!(run.code, 1, "the case now counts: {}", run.all());
    let decay = read_json(&s.out().join("decay.json"));
    assert_eq!(decay["findings"][0]["severity"], "stale");
    assert!(
        decay["findings"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("100 days ago (policy: 90 days)"),
        "{}",
        decay["findings"][0]
    );
    assert_eq!(decay["stale_cases"], 1);
    assert!(
        run.stderr.contains("FAIL    decay.stale_share"),
        "{}",
        run.stderr
    );

    // History off: how long the case has existed is unknown, so it counts.
    let off = TempSuite::new(&suite_yaml(&agent.url, ""));
    off.case(
        "new.yaml",
        "input:\n  messages: [{role: user, content: \"Refund order A1002 please\"}]\nexpect: [{contains: Refund}]\n",
    );
    let run = off.evalgate_env(&["run", "evals"], &[("EVALGATE_HISTORY", "off")]);
    assert_eq!(run.code, 0, "{}", run.all());
    let decay = read_json(&off.out().join("decay.json"));
    assert_eq!(decay["findings"][0]["severity"], "stale");
    assert_eq!(decay["stale_cases"], 1);
}

/// A suite that declares no versions, against an agent that reports none, has no envelope:
/// neither the terminal nor the JUnit shows the id of nothing.
#[test]
fn no_envelope_is_not_shown_as_the_hash_of_nothing() {
    let rt = runtime();
    let agent = serve(&rt, Behaviour::Fixed(answer()));
    let s = TempSuite::new(&format!(
        "target:\n  http: {{url: \"{}/v1/agent\"}}\ndecay: {{review_max_age: 30d}}\n",
        agent.url
    ));
    s.case("a.yaml", &case(&today(), ""));
    let run = s.run(&[]);
    assert_eq!(run.code, 0, "{}", run.all());
    let decay = read_json(&s.out().join("decay.json"));
    let nothing = decay["envelope"]["id"].as_str().unwrap();
    assert!(
        run.stderr.contains("evalgate: decay — "),
        "the configured section is shown: {}",
        run.stderr
    );
    assert!(!run.stderr.contains(nothing), "{}", run.stderr);
    assert!(!run.stderr.contains("  envelope "), "{}", run.stderr);
    let junit = s.junit();
    assert!(!junit.contains(nothing), "{junit}");
    assert!(
        junit.contains(
            "no envelope: the suite declares no versions (`envelope:`) and the agent reported none"
        ),
        "{junit}"
    );
}
