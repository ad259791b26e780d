//! Bad input never runs and never reports "0 tests passed": a clear error naming
//! `file:line:column` with the snippet, and exit code 2.

use crate::support::suite;

use std::time::{Duration, Instant};

use suite::{Run, TempSuite, simple_case};

const SUITE: &str = "target:\n  http: {url: \"http://127.0.0.1:9/v1/agent\"}\n";

fn run_bad(rel: &str, yaml: &str) -> Run {
    let s = TempSuite::new(SUITE);
    s.case(rel, yaml);
    run_suite(&s)
}

fn run_suite(s: &TempSuite) -> Run {
    let started = Instant::now();
    let run = s.run(&[]);
    // A hang guard, not a benchmark: parsing is bounded, so even hostile files end fast.
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(run.code, 2, "exit code for a config error:\n{}", run.all());
    assert!(
        !run.all().contains("test result"),
        "no tests may run:\n{}",
        run.all()
    );
    assert!(
        !s.out().join("junit.xml").exists(),
        "no report for a config error"
    );
    run
}

/// Asserts the error names `path:line:column`, shows the line, and says `what`.
fn assert_points_at(run: &Run, location: &str, snippet: &str, what: &str) {
    let err = &run.stderr;
    assert!(err.contains(location), "expected {location} in:\n{err}");
    assert!(
        err.contains(&format!("| {snippet}")),
        "expected snippet {snippet:?} in:\n{err}"
    );
    assert!(err.contains(what), "expected {what:?} in:\n{err}");
}

#[test]
fn malformed_yaml() {
    let run = run_bad(
        "a.yaml",
        "input:\n  messages: [{role: user, content: hi}\nexpect: [{contains: x}]\n",
    );
    assert_points_at(
        &run,
        "evals/cases/a.yaml:3:",
        "expect: [{contains: x}]",
        "error",
    );
}

#[test]
fn unknown_key_in_a_case_and_in_an_expectation() {
    let run = run_bad(
        "a.yaml",
        "input:\n  messages: [{role: user, content: hi}]\nexpect:\n  - contans: refund\n",
    );
    assert_points_at(
        &run,
        "evals/cases/a.yaml:4:5",
        "  - contans: refund",
        "unknown variant `contans`",
    );
    let run = run_bad(
        "b.yaml",
        "input:\n  messages: [{role: user, content: hi}]\nsampels: 3\nexpect: [{contains: x}]\n",
    );
    assert_points_at(
        &run,
        "evals/cases/b.yaml:3:1",
        "sampels: 3",
        "unknown field `sampels`",
    );
}

#[test]
fn unknown_key_in_the_suite_file() {
    let s = TempSuite::new("target:\n  http: {url: \"http://127.0.0.1:9\"}\nconcurency: 4\n");
    s.case("a.yaml", &simple_case("hi", "  - contains: x"));
    let run = run_suite(&s);
    assert_points_at(
        &run,
        "evals/evalgate.yaml:3:1",
        "concurency: 4",
        "unknown field `concurency`",
    );
}

#[test]
fn an_unknown_junit_schema_names_the_ones_there_are() {
    let s = TempSuite::new(
        "target:\n  http: {url: \"http://127.0.0.1:9\"}\njunit: {schema: junit-11}\n",
    );
    s.case("a.yaml", &simple_case("hi", "  - contains: x"));
    let run = run_suite(&s);
    assert_points_at(
        &run,
        "evals/evalgate.yaml:3:17",
        "junit: {schema: junit-11}",
        "unknown variant `junit-11`, expected one of junit-10, extended",
    );
}

#[test]
fn wrong_type() {
    let run = run_bad(
        "a.yaml",
        "input:\n  messages: [{role: user, content: hi}]\nsamples: three\nexpect: [{contains: x}]\n",
    );
    assert_points_at(
        &run,
        "evals/cases/a.yaml:3:10",
        "samples: three",
        "whole number",
    );
}

#[test]
fn duplicate_key() {
    let run = run_bad(
        "a.yaml",
        "input:\n  messages: [{role: user, content: hi}]\nexpect: [{contains: x}]\nexpect: [{contains: y}]\n",
    );
    assert_points_at(
        &run,
        "evals/cases/a.yaml:4:1",
        "expect: [{contains: y}]",
        "duplicate mapping key",
    );
}

#[test]
fn duplicate_case_id_names_both_files() {
    let s = TempSuite::new(SUITE);
    let case = "id: refunds/one\ninput:\n  messages: [{role: user, content: hi}]\nexpect: [{contains: x}]\n";
    s.case("a.yaml", case).case("nested/b.yaml", case);
    let run = run_suite(&s);
    assert!(
        run.stderr.contains("duplicate case id `refunds/one`"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("evals/cases/a.yaml:1"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("evals/cases/nested/b.yaml:1"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_case_folder_without_cases() {
    let s = TempSuite::new(SUITE);
    std::fs::write(s.evals().join("cases/README.txt"), "not a case").unwrap();
    let run = run_suite(&s);
    assert!(run.stderr.contains("no case files"), "{}", run.stderr);
    assert!(
        run.stderr.contains("0 tests passed"),
        "it says why it refuses: {}",
        run.stderr
    );
}

#[test]
fn an_unreadable_case_file() {
    let s = TempSuite::new(SUITE);
    s.case("ok.yaml", &simple_case("hi", "  - contains: x"));
    std::os::unix::fs::symlink(
        "/nonexistent/evalgate-case",
        s.evals().join("cases/gone.yaml"),
    )
    .unwrap();
    let run = run_suite(&s);
    assert!(
        run.stderr.contains("evals/cases/gone.yaml"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("cannot read file"), "{}", run.stderr);
}

#[test]
fn an_alias_bomb_is_stopped() {
    let mut yaml = String::from("input:\n  messages: [{role: user, content: hi}]\n  vars:\n");
    yaml.push_str(
        "    a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    for i in 1..10u8 {
        let (prev, cur) = ((b'a' + i - 1) as char, (b'a' + i) as char);
        let refs = vec![format!("*{prev}"); 9].join(",");
        yaml.push_str(&format!("    {cur}: &{cur} [{refs}]\n"));
    }
    yaml.push_str("expect: [{contains: x}]\n");
    let run = run_bad("bomb.yaml", &yaml);
    assert!(
        run.stderr.contains("evals/cases/bomb.yaml:"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("anchors and aliases"), "{}", run.stderr);
}

#[test]
fn thousand_deep_nesting() {
    let flow = format!(
        "input:\n  messages: [{{role: user, content: hi}}]\n  vars:\n    deep: {}{}\nexpect: [{{contains: x}}]\n",
        "[".repeat(1000),
        "]".repeat(1000)
    );
    let run = run_bad("flow.yaml", &flow);
    assert!(
        run.stderr.contains("evals/cases/flow.yaml:4:"),
        "{}",
        run.stderr
    );
    let mut block = String::from("input:\n  messages: [{role: user, content: hi}]\n  vars:\n");
    for i in 0..1000 {
        block.push_str(&format!("{}k{i}:\n", "  ".repeat(i + 2)));
    }
    block.push_str("expect: [{contains: x}]\n");
    let run = run_bad("block.yaml", &block);
    assert!(
        run.stderr.contains("nesting deeper than 64 levels"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("evals/cases/block.yaml:"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_fifty_megabyte_case_file() {
    let s = TempSuite::new(SUITE);
    let big = format!("description: \"{}\"\n", "x".repeat(50 * 1024 * 1024));
    s.case("huge.yaml", &big);
    let run = run_suite(&s);
    assert!(
        run.stderr.contains("evals/cases/huge.yaml:1:1"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("at most 1048576 bytes"),
        "{}",
        run.stderr
    );
}

#[test]
fn invalid_regex_schema_and_unreachable_rules_are_load_errors() {
    let run = run_bad("re.yaml", &simple_case("hi", "  - regex: \"(unclosed\""));
    assert_points_at(
        &run,
        "evals/cases/re.yaml:6:5",
        "  - regex: \"(unclosed\"",
        "invalid regex: unclosed group",
    );
    let run = run_bad(
        "schema.yaml",
        &simple_case("hi", "  - json_schema: {type: 12}"),
    );
    assert_points_at(
        &run,
        "evals/cases/schema.yaml:6:5",
        "  - json_schema: {type: 12}",
        "invalid JSON Schema",
    );
    let rule = "input:\n  messages: [{role: user, content: hi}]\nsamples: 5\npass: {min_rate: 0.8}\nexpect: [{contains: x}]\n";
    let run = run_bad("rule.yaml", rule);
    assert_points_at(
        &run,
        "evals/cases/rule.yaml:4:7",
        "pass: {min_rate: 0.8}",
        "can never pass",
    );
    assert!(
        run.stderr.contains("use at least 16 samples"),
        "{}",
        run.stderr
    );
    let none = "input:\n  messages: [{role: user, content: hi}]\n";
    let run = run_bad("none.yaml", none);
    assert!(
        run.stderr.contains("no `expect:` entries"),
        "{}",
        run.stderr
    );
}

#[test]
fn every_broken_file_is_reported_at_once() {
    let s = TempSuite::new(SUITE);
    s.case("a.yaml", "inptu: {}\n").case("b.yaml", "id: [\n");
    let run = run_suite(&s);
    assert!(run.stderr.contains("evals/cases/a.yaml"), "{}", run.stderr);
    assert!(run.stderr.contains("evals/cases/b.yaml"), "{}", run.stderr);
}

#[test]
fn bad_command_line_and_environment_are_usage_errors() {
    let s = TempSuite::new(SUITE);
    s.case("a.yaml", &simple_case("hi", "  - contains: x"));
    let run = s.run(&["--no-such-flag"]);
    assert_eq!(run.code, 2, "{}", run.all());
    let run = s.evalgate_env(&["run", "evals"], &[("EVALGATE_CONCURRENCY", "lots")]);
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(
        run.stderr.contains("EVALGATE_CONCURRENCY"),
        "{}",
        run.stderr
    );
    let run = s.evalgate(&["run", "no-such-folder"]);
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(
        run.stderr.contains("evals folder not found"),
        "{}",
        run.stderr
    );
}

/// Sampling and the pull-request gate: an impossible budget, an error rate outside (0, 1),
/// a rule or a stopping rule that cannot go with adaptive sampling — each named at its
/// line before anything runs.
#[test]
fn impossible_budgets_and_error_rates_are_refused_at_their_line() {
    let case = |extra: &str| {
        format!(
            "input:\n  messages: [{{role: user, content: hi}}]\n{extra}expect: [{{contains: x}}]\n"
        )
    };
    for (extra, location, snippet, what) in [
        (
            "samples: {min: 20, max: 10}\n",
            "evals/cases/a.yaml:3:10",
            "samples: {min: 20, max: 10}",
            "the maximum is below the minimum",
        ),
        (
            "samples: {min: 0, max: 10}\n",
            "evals/cases/a.yaml:3:10",
            "samples: {min: 0, max: 10}",
            "must stay between 1 and 10000",
        ),
        (
            "samples: {min: 5, max: 20}\npass: {at_least: 4}\n",
            "evals/cases/a.yaml:4:7",
            "pass: {at_least: 4}",
            "counts passes out of a fixed number of samples",
        ),
        (
            "samples: {min: 5, max: 20}\nsequential: true\n",
            "evals/cases/a.yaml:4:13",
            "sequential: true",
            "already stops as soon as the comparison with the baseline is clear",
        ),
    ] {
        let run = run_bad("a.yaml", &case(extra));
        assert_points_at(&run, location, snippet, what);
    }
    for (suite, location, snippet, what) in [
        (
            "baseline: {path: b.json, alpha: 1.5}\n",
            "evals/evalgate.yaml:3:",
            "baseline: {path: b.json, alpha: 1.5}",
            "is the run-level error rate, between 0 and 1",
        ),
        (
            "baseline: {path: b.json, window: 0}\n",
            "evals/evalgate.yaml:3:",
            "baseline: {path: b.json, window: 0}",
            "number of recent runs pooled, between 1 and 1000",
        ),
        (
            "baseline: {path: b.json, drop: 0}\n",
            "evals/evalgate.yaml:3:",
            "baseline: {path: b.json, drop: 0}",
            "is a drop in pass rate, in (0, 1]",
        ),
        (
            "baseline: {path: b.json, correction: bonferroni}\n",
            "evals/evalgate.yaml:3:",
            "baseline: {path: b.json, correction: bonferroni}",
            "bonferroni",
        ),
        (
            "budget: {samples: 0}\n",
            "evals/evalgate.yaml:3:",
            "budget: {samples: 0}",
            "`budget.samples` must be at least 1",
        ),
        (
            "defaults: {samples: {min: 9, max: 3}}\n",
            "evals/evalgate.yaml:3:",
            "defaults: {samples: {min: 9, max: 3}}",
            "the maximum is below the minimum",
        ),
    ] {
        let s = TempSuite::new(&format!("{SUITE}{suite}"));
        s.case("a.yaml", &case(""));
        let run = run_suite(&s);
        assert_points_at(&run, location, snippet, what);
    }
}

/// Errors a new user met that pointed at the wrong thing (issue: "Outputs CI tools and people
/// read"): each now says what is wrong, where.
#[test]
fn a_missing_suite_file_an_unset_variable_and_empty_messages_are_placed() {
    let s = TempSuite::new(SUITE);
    s.case("a.yaml", &simple_case("hi", "  - contains: hi"));
    std::fs::remove_file(s.evals().join("evalgate.yaml")).unwrap();
    let run = run_suite(&s);
    assert!(
        run.stderr
            .contains("evals/evalgate.yaml: there is no suite file"),
        "{}",
        run.stderr
    );

    let s = TempSuite::new(
        "name: s\ntarget:\n  http: {url: \"http://127.0.0.1:9/${EG_UNSET_VARIABLE}\"}\n",
    );
    s.case("a.yaml", &simple_case("hi", "  - contains: hi"));
    let run = run_suite(&s);
    assert_points_at(
        &run,
        "evals/evalgate.yaml:3:35",
        "  http: {url:",
        "environment variable `EG_UNSET_VARIABLE` is not set",
    );

    let run = run_bad(
        "empty.yaml",
        "description: x\ninput:\n  messages: []\nexpect: [{contains: hi}]\n",
    );
    assert_points_at(
        &run,
        "evals/cases/empty.yaml:3:3",
        "  messages: []",
        "`input.messages` is empty",
    );
}

/// `evalgate demo` where there is no suite is a usage error saying what the demo needs, not
/// an internal error with three messages on one line.
#[test]
fn the_demo_outside_a_clone_says_what_it_needs() {
    let dir = tempfile::tempdir().unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_evalgate"))
        .arg("demo")
        .current_dir(dir.path())
        .env("EVALGATE_OUT", dir.path().join("out"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.starts_with("error: evals: no evals folder here; `evalgate demo` runs a suite"),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}

/// A verbosity that is not one is refused — in the suite file at its line, in
/// `EVALGATE_VERBOSITY` by name — before anything runs.
#[test]
fn a_bad_verbosity_is_refused_in_the_suite_file_and_the_environment() {
    let s = TempSuite::new(&format!("{SUITE}output:\n  verbosity: loud\n"));
    s.case("a.yaml", &simple_case("hi", "  - contains: x"));
    let run = run_suite(&s);
    assert_points_at(
        &run,
        "evals/evalgate.yaml:4:14",
        "  verbosity: loud",
        "unknown variant `loud`",
    );

    let s = TempSuite::new(SUITE);
    s.case("a.yaml", &simple_case("hi", "  - contains: x"));
    let run = s.evalgate_env(&["run", "evals"], &[("EVALGATE_VERBOSITY", "loud")]);
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(
        run.stderr.contains(
            "EVALGATE_VERBOSITY=\"loud\" is not a verbosity; use quiet, normal or verbose"
        ),
        "{}",
        run.stderr
    );
    assert!(!run.all().contains("test result"), "{}", run.all());
    assert!(!s.out().join("junit.xml").exists());
}

/// What people read when a suite is broken, pinned: each error's `file:line:column`, the
/// snippet, the reason and the help, for one broken file of each kind. A change to any of
/// them is reviewed (`cargo insta review`), not discovered.
#[test]
fn config_errors_read_as_pinned() {
    let case = |rel: &str, yaml: &str| (SUITE.to_string(), rel.to_string(), yaml.to_string());
    let ok = simple_case("hi", "  - contains: x");
    let broken = [
        (
            "malformed YAML",
            case(
                "a.yaml",
                "input:\n  messages: [{role: user, content: hi}\nexpect: [{contains: x}]\n",
            ),
        ),
        (
            "unknown expectation",
            case(
                "a.yaml",
                "input:\n  messages: [{role: user, content: hi}]\nexpect:\n  - contans: refund\n",
            ),
        ),
        (
            "wrong type",
            case(
                "a.yaml",
                "input:\n  messages: [{role: user, content: hi}]\nsamples: three\nexpect: [{contains: x}]\n",
            ),
        ),
        (
            "invalid regex",
            case("a.yaml", &simple_case("hi", "  - regex: \"(unclosed\"")),
        ),
        (
            "a rule that can never pass",
            case(
                "a.yaml",
                "input:\n  messages: [{role: user, content: hi}]\nsamples: 5\npass: {min_rate: 0.8}\nexpect: [{contains: x}]\n",
            ),
        ),
        (
            "a case that checks nothing",
            case(
                "a.yaml",
                "input:\n  messages: [{role: user, content: hi}]\n",
            ),
        ),
        (
            "unknown key in the suite file",
            (
                "target:\n  http: {url: \"http://127.0.0.1:9\"}\nconcurency: 4\n".to_string(),
                "a.yaml".to_string(),
                ok.clone(),
            ),
        ),
    ];
    let mut pinned = String::new();
    for (what, (suite, rel, yaml)) in broken {
        let s = TempSuite::new(&suite);
        s.case(&rel, &yaml);
        let run = run_suite(&s);
        let root = s.path().display().to_string();
        pinned.push_str(&format!(
            "### {what} (exit {})\n{}\n",
            run.code,
            run.stderr.replace(&root, "[suite]").trim_end()
        ));
    }
    insta::assert_snapshot!(pinned);
}
