//! What the terminal shows after the test lines, through the real `evalgate` binary and a
//! real HTTP agent on loopback: a new suite's green run is a few lines; a section appears
//! when the suite configures its feature, or when it has a finding the run must not hide;
//! `output.verbosity`, `EVALGATE_VERBOSITY` and libtest's `--quiet` choose how much.

use crate::support::mock_agent;
use crate::support::suite;

use mock_agent::{Behaviour, runtime, serve};
use suite::{Run, TempSuite, simple_case};

/// A suite as a new user writes it: a target and cases, nothing else.
fn new_suite(url: &str, extra: &str) -> TempSuite {
    let s = TempSuite::new(&format!(
        "target:\n  http: {{url: \"{url}/v1/agent\"}}\n{extra}"
    ));
    for id in ["greeting", "refund", "status"] {
        s.case(
            &format!("{id}.yaml"),
            &simple_case(&format!("about {id}"), "  - contains: about"),
        );
    }
    s
}

/// What varies from run to run, replaced: timings, run ids, dates.
fn redacted(text: &str) -> String {
    let timing = regex::Regex::new(r"\d+\.\d ms").unwrap();
    let run_id = regex::Regex::new(r"runs/\S+").unwrap();
    let date = regex::Regex::new(r"\d{4}-\d{2}-\d{2}").unwrap();
    let text = timing.replace_all(text, "[ms]");
    let text = run_id.replace_all(&text, "runs/[run id]");
    date.replace_all(&text, "[date]").into_owned()
}

fn lines_starting(run: &Run, prefix: &str) -> Vec<String> {
    run.stderr
        .lines()
        .filter(|l| l.starts_with(prefix))
        .map(str::to_string)
        .collect()
}

/// After a green run of a new suite: the verdicts, the samples and where the reports are —
/// no decay ("100 % stale" of cases nobody could have reviewed yet), no signals, tiers,
/// latency or cost the suite did not ask for, no price nagging, no empty envelope, no
/// default gate that did not fire. At verbose, all of it, with the hints.
#[test]
fn a_new_suites_green_run_says_little_after_its_test_lines() {
    let rt = runtime();
    let agent = serve(&rt, Behaviour::Echo);
    let s = new_suite(&agent.url, "");
    let run = s.run(&[]);
    assert_eq!(run.code, 0, "{}", run.all());
    insta::assert_snapshot!("new_suite_normal", redacted(&run.stderr));
    for absent in [
        "evalgate: decay —",
        "evalgate: signals:",
        "evalgate: tiers:",
        "evalgate: latency:",
        "evalgate: cost",
        "price",
        "envelope",
        "evalgate: gates",
        "catalog",
    ] {
        assert!(
            !run.stderr.contains(absent),
            "{absent:?} is not configured: {}",
            run.stderr
        );
    }

    let verbose = s.evalgate_env(&["run", "evals"], &[("EVALGATE_VERBOSITY", "verbose")]);
    assert_eq!(verbose.code, 0, "{}", verbose.all());
    insta::assert_snapshot!("new_suite_verbose", redacted(&verbose.stderr));

    // libtest's `--quiet`: terse test lines, and the line of verdicts.
    let quiet = s.run(&["--quiet"]);
    assert_eq!(quiet.code, 0, "{}", quiet.all());
    assert_eq!(
        quiet.stderr,
        "evalgate: 3 cases: 3 pass, 0 fail, 0 inconclusive, 0 error\n"
    );
    assert!(!quiet.stdout.contains("test evals::"), "{}", quiet.stdout);
}

/// What the suite configures gets its section; the gates it declares are listed, the
/// defaults are not until they fire.
/// The step summary follows the same rule: a new suite's green run shows no gates table of
/// default gates that did not fire, no decay line and no signals; at verbose, all of them.
#[test]
fn a_new_suites_step_summary_says_little_too() {
    let rt = runtime();
    let agent = serve(&rt, Behaviour::Echo);
    let s = new_suite(&agent.url, "");
    let summary = s.root.path().join("summary.md");
    let step = summary.to_str().unwrap();
    let run = s.evalgate_env(&["run", "evals"], &[("GITHUB_STEP_SUMMARY", step)]);
    assert_eq!(run.code, 0, "{}", run.all());
    let md = std::fs::read_to_string(&summary).unwrap();
    for absent in ["### Gates", "**Decay:**", "Operational signals"] {
        assert!(!md.contains(absent), "{absent:?} is not configured:\n{md}");
    }
    assert!(md.contains("✅ passed"), "{md}");

    std::fs::remove_file(&summary).unwrap();
    let run = s.evalgate_env(
        &["run", "evals"],
        &[
            ("GITHUB_STEP_SUMMARY", step),
            ("EVALGATE_VERBOSITY", "verbose"),
        ],
    );
    assert_eq!(run.code, 0, "{}", run.all());
    let md = std::fs::read_to_string(&summary).unwrap();
    for present in ["### Gates", "Operational signals"] {
        assert!(md.contains(present), "{present:?} at verbose:\n{md}");
    }
}

#[test]
fn configured_features_get_their_sections() {
    let rt = runtime();
    let agent = serve(&rt, Behaviour::Echo);
    let s = new_suite(
        &agent.url,
        "prices: {mock-1: {input: 2.5, output: 10}}\ntiers: [primary, canned]\n\
         decay: {review_max_age: 30d}\ngates:\n  - {metric: cases.pass_rate, min: 1}\n",
    );
    let run = s.run(&[]);
    assert_eq!(run.code, 0, "{}", run.all());
    let cost = lines_starting(&run, "evalgate: cost: ");
    assert_eq!(cost.len(), 1, "{}", run.stderr);
    assert!(
        cost[0].starts_with("evalgate: cost: $0.0000"),
        "{}",
        cost[0]
    );
    assert_eq!(
        lines_starting(&run, "evalgate: tiers: "),
        ["evalgate: tiers: primary 3/3 = 100.0 % [43.9–100.0 %]"]
    );
    assert_eq!(lines_starting(&run, "evalgate: decay — ").len(), 1);
    assert!(
        run.stderr
            .contains("evalgate: gates\n  pass    cases.pass_rate"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("reruns_to_green"), "{}", run.stderr);
    assert!(!run.stderr.contains("evalgate: signals:"), "{}", run.stderr);
    assert!(!run.stderr.contains("evalgate: latency:"), "{}", run.stderr);
}

/// What a user must know shows without being asked for: a case whose review is overdue, a
/// model other than the pinned one.
#[test]
fn findings_show_whatever_the_suite_configures() {
    let rt = runtime();
    let agent = serve(&rt, Behaviour::Echo);
    let s = new_suite(&agent.url, "envelope: {model: m-pinned}\n");
    s.case(
        "old.yaml",
        &format!(
            "reviewed: 2020-01-02\n{}",
            simple_case("about old", "  - contains: about")
        ),
    );
    let run = s.run(&[]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(
        run.stderr
            .contains("evalgate: decay — green but stale: 1 of 4 passing cases"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("old [review_age] last reviewed 2020-01-02"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("evalgate: WARNING silent model bump"),
        "{}",
        run.stderr
    );
}

/// Without `prices:` nothing asks for them, until a cost gate does: then one line says the
/// cost is unknown and what to add, and the gate fails (a bill that is not known is not
/// within budget).
#[test]
fn prices_are_asked_for_only_where_cost_is() {
    let rt = runtime();
    let agent = serve(&rt, Behaviour::Echo);
    let s = new_suite(&agent.url, "gates:\n  - {metric: cost.run_usd, max: 1}\n");
    let run = s.run(&[]);
    assert_eq!(run.code, 1, "{}", run.all());
    assert_eq!(
        lines_starting(&run, "evalgate: cost: "),
        [
            "evalgate: cost: unknown · tokens 3 in / 3 out · no price for mock-1 3: add it to `prices:`"
        ]
    );
    assert!(
        run.stderr.contains("FAIL    cost.run_usd"),
        "{}",
        run.stderr
    );
}

/// `output.verbosity` in the suite, `EVALGATE_VERBOSITY` over it, libtest's `--quiet` over
/// both; `evalgate report` follows the suite the run was made under.
#[test]
fn the_verbosity_comes_from_the_flag_the_environment_or_the_suite() {
    let rt = runtime();
    let agent = serve(&rt, Behaviour::Echo);
    let s = new_suite(
        &agent.url,
        "output: {verbosity: quiet}\ngates:\n  - {metric: cases.pass_rate, min: 1}\n",
    );
    s.case(
        "broken.yaml",
        &simple_case("about broken", "  - contains: something else"),
    );
    let run = s.run(&[]);
    assert_eq!(run.code, 1, "{}", run.all());
    // What failed, and nothing else: the failing case is in libtest's lines.
    assert!(
        run.stdout
            .lines()
            .any(|l| l.starts_with("test evals::broken ") && l.ends_with(" FAILED")),
        "{}",
        run.stdout
    );
    let gate_line = run
        .stderr
        .lines()
        .find(|l| l.contains("cases.pass_rate"))
        .unwrap()
        .to_string();
    assert!(
        gate_line.starts_with("  FAIL    cases.pass_rate"),
        "{gate_line}"
    );
    assert_eq!(
        run.stderr,
        format!(
            "evalgate: 4 cases: 3 pass, 1 fail, 0 inconclusive, 0 error\nevalgate: gates\n{gate_line}\n"
        )
    );

    let normal = s.evalgate_env(&["run", "evals"], &[("EVALGATE_VERBOSITY", "normal")]);
    assert_eq!(normal.code, 1);
    assert!(
        normal.stderr.contains("evalgate: junit "),
        "{}",
        normal.stderr
    );

    let flag = s.evalgate_env(
        &["run", "evals", "--", "--quiet"],
        &[("EVALGATE_VERBOSITY", "verbose")],
    );
    assert!(!flag.stderr.contains("evalgate: junit "), "{}", flag.stderr);

    let report = s.evalgate(&["report"]);
    assert_eq!(report.code, 1, "{}", report.all());
    assert!(
        !report.stderr.contains("evalgate: junit "),
        "{}",
        report.stderr
    );
    assert!(
        report.stderr.contains("FAIL    cases.pass_rate"),
        "{}",
        report.stderr
    );
    let report = s.evalgate_env(&["report"], &[("EVALGATE_VERBOSITY", "verbose")]);
    assert!(
        report.stderr.contains("skipped runs.reruns_to_green"),
        "{}",
        report.stderr
    );
}
