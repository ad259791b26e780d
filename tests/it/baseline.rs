//! Baseline comparison end to end, through the real `evalgate` binary and HTTP agents on
//! loopback: a committed baseline file and a baseline pooled from the recent runs of a
//! branch in the history store; regressions called over the whole run (adjusted p-values);
//! a case failing as it does on the baseline that does not turn a pull request red, and
//! one the comparison cannot judge that does; adaptive sampling and `sequential` stopping
//! that never make a regression of truncated counts; and a baseline of another suite or
//! schema, or a missing one, a usage error — never a silent pass.

use crate::support::mock_agent;
use crate::support::reports;
use crate::support::suite;
use crate::support::test_lines;

use mock_agent::{Behaviour, Responder, runtime, serve};
use reports::{gate, read_json};
use serde_json::{Value, json};
use suite::{Run, TempSuite};

pub(super) fn suite_yaml(url: &str, baseline: &str) -> String {
    format!(
        "name: shop\ntarget:\n  http: {{url: \"{url}/v1/agent\"}}\n\
         baseline: {baseline}\n\
         gates:\n  - {{metric: baseline.regressions, max: 0}}\n"
    )
}

pub(super) fn case(samples: &str) -> String {
    format!(
        "{samples}input:\n  messages: [{{role: user, content: \"Refund A1002\"}}]\nexpect:\n  - contains: Refund\n"
    )
}

pub(super) fn answer(text: &str) -> Value {
    json!({"output": text})
}

/// Replaces `s`'s suite file with `yaml`.
pub(super) fn rewrite_suite(s: &TempSuite, yaml: &str) {
    std::fs::write(s.evals().join("evalgate.yaml"), yaml).unwrap();
}

/// An agent answering "Refund issued" (passing) when `passes(case, sample)`, else "Sorry".
pub(super) fn scripted(passes: impl Fn(&str, u64) -> bool + Send + Sync + 'static) -> Behaviour {
    Behaviour::Respond(Responder::new(move |request| {
        let case = request["case"].as_str().unwrap_or_default();
        let sample = request["sample"].as_u64().unwrap_or_default();
        if passes(case, sample) {
            answer("Refund issued")
        } else {
            answer("Sorry, no")
        }
    }))
}

/// `evalgate run` of `s` on `branch` at `commit`.
pub(super) fn on(s: &TempSuite, branch: &str, commit: &str) -> Run {
    s.evalgate_env(
        &["run", "evals", "--"],
        &[("EVALGATE_BRANCH", branch), ("EVALGATE_COMMIT", commit)],
    )
}

/// What libtest printed for case `id` (`ok`, `FAILED`), whatever its padding.
fn outcome_of<'a>(run: &'a Run, id: &str) -> &'a str {
    test_lines::test_line(&run.stdout, &format!("evals::{id}"))
        .unwrap_or_else(|| panic!("no test line for {id}\n{}", run.stdout))
        .0
}

/// The gate `name` of the latest report, as JSON.
pub(super) fn gate_of(s: &TempSuite, name: &str) -> Value {
    gate(&read_json(&s.out().join("coverage.json")), name).clone()
}

/// The lines of `text` from the one starting with `start` up to the next `evalgate: ` line.
pub(super) fn section(text: &str, start: &str) -> String {
    let mut lines = text.lines().skip_while(|l| !l.starts_with(start));
    let mut out: Vec<&str> = lines.next().into_iter().collect();
    out.extend(lines.take_while(|l| !l.starts_with("evalgate: ")));
    out.join("\n")
}

pub(super) fn case_record(s: &TempSuite, case: &str) -> Value {
    s.records_of("case")
        .into_iter()
        .rfind(|r| r["case"] == case)
        .unwrap_or_else(|| panic!("no record of case {case}"))
}

#[test]
fn a_regression_against_a_committed_baseline_is_called_over_the_whole_run() {
    let rt = runtime();
    let good = serve(&rt, Behaviour::Fixed(answer("Refund issued")));
    let s = TempSuite::new(&suite_yaml(&good.url, "{path: baseline.json}"));
    s.case("single.yaml", &case("samples: 1\n"));
    s.case("five.yaml", &case("samples: 5\n"));
    s.case("three.yaml", &case("samples: 3\n"));

    // No baseline yet: a usage error naming the file and what to do, after the reports.
    let run = s.run(&[]);
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(
        run.stderr.contains("evalgate baseline save"),
        "{}",
        run.stderr
    );
    assert!(
        s.out().join("junit.xml").exists(),
        "the reports are written first"
    );

    let save = s.evalgate(&["baseline", "save", "--dir", "evals"]);
    assert_eq!(save.code, 0, "{}", save.all());
    let saved = read_json(&s.evals().join("baseline.json"));
    assert_eq!(saved["suite"], "shop");
    assert_eq!(saved["cases"].as_array().unwrap().len(), 3);

    let run = s.run(&[]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(run.stderr.contains("3 unchanged"), "{}", run.stderr);

    // The agent changes its answer: every sample now fails.
    let bad = serve(&rt, Behaviour::Fixed(answer("Sorry, no")));
    rewrite_suite(&s, &suite_yaml(&bad.url, "{path: baseline.json}"));
    let run = s.run(&[]);
    assert_eq!(run.code, 1, "{}", run.all());
    // 5/5 → 0/5: one-sided p = 0.0040, adjusted over the 3 cases compared (Holm) 0.0119 —
    // a regression. 3/3 → 0/3: p = 0.05, adjusted 0.1: not enough samples to tell. `single`
    // (one sample, the default) failed where its baseline passed, so it took more, up to 32,
    // all failing: against one baseline sample even that is p = 0.09, no regression.
    for line in [
        "regression                  five (5/5 → 0/5, p = 0.0040, adjusted 0.0119)",
        "not enough samples to tell  three (3/3 → 0/3, p = 0.0500, adjusted 0.1000)",
        "not enough samples to tell  single (1/1 → 0/32, p = 0.0903, adjusted 0.1000)",
        "3 case(s) compared, α 0.05 over the run (Holm)",
    ] {
        assert!(run.stderr.contains(line), "{line}\n{}", run.stderr);
    }
    insta::assert_snapshot!(
        "file_baseline_terminal",
        section(&run.stderr, "evalgate: baseline ")
    );
    // The same run under GitHub Actions: the step summary's section, and the annotation of
    // the failing gate.
    let summary_file = s.path().join("summary.md");
    let actions = s.evalgate_env(
        &["run", "evals", "--"],
        &[
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_STEP_SUMMARY", summary_file.to_str().unwrap()),
        ],
    );
    assert_eq!(actions.code, 1, "{}", actions.all());
    let summary = std::fs::read_to_string(&summary_file).unwrap();
    let against: String = summary
        .split("### ")
        .find(|part| part.starts_with("Against the baseline"))
        .unwrap()
        .split("<details>")
        .next()
        .unwrap()
        .trim_end()
        .to_string();
    insta::assert_snapshot!("file_baseline_step_summary", against);
    assert!(
        actions
            .stdout
            .contains("::error title=gate baseline.regressions"),
        "{}",
        actions.stdout
    );
    // The two the comparison cannot judge (against one baseline sample, or three against
    // three: even all failing is no regression) fail their tests by their rule: never a
    // silent pass.
    assert_eq!(outcome_of(&run, "single"), "FAILED");
    assert_eq!(outcome_of(&run, "three"), "FAILED");
    let single = case_record(&s, "single");
    assert_eq!(single["comparison"]["can_call_a_break"], false);
    assert!(
        single["message"]
            .as_str()
            .unwrap()
            .contains("cannot tell a broken case from noise here"),
        "{single}"
    );
    let coverage = read_json(&s.out().join("coverage.json"));
    let g = gate(&coverage, "baseline.regressions");
    assert_eq!(g["outcome"], "failed");
    assert_eq!(g["value"], 1.0);
    // comparison.json carries every p-value and adjusted p-value; JUnit the same per case.
    let comparison = read_json(&s.out().join("comparison.json"));
    assert_eq!(comparison["compared"], 3);
    assert_eq!(comparison["correction"], "holm");
    let five = comparison["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["case"] == "five")
        .unwrap();
    assert_eq!(five["change"], "regression");
    assert!(
        (five["adjusted_p"].as_f64().unwrap() - 0.011_905).abs() < 1e-5,
        "{five}"
    );
    let junit = s.junit();
    assert!(junit.contains("\nbaseline.change: regression\n"), "{junit}");
    assert!(
        junit.contains("\nbaseline.adjusted_p: 0.011905\n"),
        "{junit}"
    );
}

#[test]
fn a_baseline_of_another_suite_or_schema_is_refused() {
    let rt = runtime();
    let agent = serve(&rt, Behaviour::Fixed(answer("Refund issued")));
    let s = TempSuite::new(&suite_yaml(&agent.url, "{path: baseline.json}"));
    s.case("single.yaml", &case("samples: 1\n"));
    for (baseline, problem) in [
        (
            json!({"schema": 1, "suite": "other", "saved_at": "2026-11-28T00:00:00Z", "envelope": "e", "cases": []}),
            "the baseline is of suite `other`, this run of suite `shop`",
        ),
        (
            json!({"schema": 0, "suite": "shop", "cases": []}),
            "baseline schema 0 is not the schema of this evalgate",
        ),
        (
            json!({"schema": 1, "suite": "shop", "saved_at": "2026-11-28T00:00:00Z", "envelope": "e",
                   "axes": {"model": "gpt-x"}, "cases": []}),
            "baseline.json: the baseline was saved from a run under envelope axes model=gpt-x",
        ),
    ] {
        std::fs::write(s.evals().join("baseline.json"), baseline.to_string()).unwrap();
        let run = s.run(&[]);
        assert_eq!(run.code, 2, "{}", run.all());
        assert!(run.stderr.contains(problem), "{problem}\n{}", run.stderr);
    }

    // A regressions gate without a baseline is a config error at its line.
    let s = TempSuite::new(&format!(
        "target:\n  http: {{url: \"{}/v1/agent\"}}\ngates:\n  - {{metric: baseline.regressions, max: 0}}\n",
        agent.url
    ));
    s.case("single.yaml", &case("samples: 1\n"));
    let run = s.run(&[]);
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(
        run.stderr
            .contains("evalgate.yaml:4:14: gate `baseline.regressions` needs a baseline"),
        "{}",
        run.stderr
    );
}

/// A cheap one-sample suite accumulates evidence on main; a pull request is compared with
/// it. A case declaring no `samples` takes one — and when it fails where main passes, more,
/// until the comparison is clear: a case that stopped passing is called a regression.
#[test]
fn a_pull_request_is_compared_with_the_pooled_runs_of_its_base_branch() {
    let rt = runtime();
    let good = serve(&rt, Behaviour::Fixed(answer("Refund issued")));
    let bad = serve(&rt, Behaviour::Fixed(answer("Sorry, no")));
    let s = TempSuite::new(&suite_yaml(&good.url, "{branch: main}"));
    s.case("plain.yaml", &case(""));
    s.case("five.yaml", &case("samples: 5\n"));

    // A pull request before main ever ran: no baseline, a usage error, never a pass.
    let run = on(&s, "feature/refunds", "pr-1");
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(
        run.stderr
            .contains("holds no finished run of suite `shop` on branch `main`"),
        "{}",
        run.stderr
    );

    // The first run of main has nothing earlier to compare with: the gate is skipped, said.
    let run = on(&s, "main", "m-1");
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(
        run.stderr.contains("baseline: the first run of `main` in"),
        "{}",
        run.stderr
    );
    let g = gate_of(&s, "baseline.regressions");
    assert_eq!(g["outcome"], "skipped", "{g}");
    for commit in ["m-2", "m-3"] {
        let run = on(&s, "main", commit);
        assert_eq!(run.code, 0, "{}", run.all());
    }
    // Main pooled three runs: plain 3/3 (one sample each: it agreed at once), five 15/15.
    assert_eq!(case_record(&s, "plain")["samples"], 1);

    // The pull request breaks the agent.
    rewrite_suite(&s, &suite_yaml(&bad.url, "{branch: main}"));
    let run = on(&s, "feature/refunds", "pr-2");
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(
        run.stderr.contains(
            "evalgate: baseline the 3 latest runs of `main` in history (window 10; latest "
        ),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("regression                  five (15/15 → 0/5, p = 0.0001"),
        "{}",
        run.stderr
    );
    // `plain` failed its first sample where main never failed: it took more, look by
    // look, and stopped once the drop was certain to be called.
    let plain = case_record(&s, "plain");
    assert_eq!(plain["looks"], json!([1, 32]));
    assert_eq!(plain["stopped"], "regression");
    let taken = plain["samples"].as_u64().unwrap();
    assert!((2..32).contains(&taken), "{plain}");
    assert!(
        run.stderr
            .contains("regression                  plain (3/3 → 0/"),
        "{}",
        run.stderr
    );
    let g = gate_of(&s, "baseline.regressions");
    assert_eq!(
        (g["outcome"].as_str(), g["value"].as_f64()),
        (Some("failed"), Some(2.0))
    );

    // The failing pull request run is not a run of main: main is still the baseline, and a
    // fixed pull request passes against it, one sample per case again.
    rewrite_suite(&s, &suite_yaml(&good.url, "{branch: main}"));
    let run = on(&s, "feature/refunds", "pr-3");
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(run.stderr.contains("2 unchanged"), "{}", run.stderr);
    assert_eq!(case_record(&s, "plain")["samples"], 1);

    // With history off the branch's runs cannot be pooled: refused before any agent call,
    // naming the setting and the variable.
    let hits = good.hits();
    let run = s.evalgate_env(
        &["run", "evals", "--"],
        &[
            ("EVALGATE_BRANCH", "feature/refunds"),
            ("EVALGATE_HISTORY", "off"),
        ],
    );
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(
        run.stderr
            .contains("`baseline.branch: main` (evals/evalgate.yaml:4:"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("EVALGATE_HISTORY=off"),
        "{}",
        run.stderr
    );
    assert_eq!(good.hits(), hits, "nothing ran");
}

/// A case that fails on main as often as it does now is no reason to stop a pull request:
/// its test passes (the verdict stays `fail`, and says why). One whose failures the
/// comparison cannot judge is decided by its rule — red.
#[test]
fn a_case_failing_as_it_does_on_the_baseline_does_not_turn_a_pull_request_red() {
    let rt = runtime();
    // `flaky` fails its first sample and passes its second, on main and in the pull
    // request alike; `steady` always passes.
    let flaky = serve(
        &rt,
        scripted(|case, sample| case != "flaky" || sample % 2 == 1),
    );
    let s = TempSuite::new(&suite_yaml(&flaky.url, "{branch: main}"));
    s.case("flaky.yaml", &case("samples: 2\n"));
    s.case("steady.yaml", &case("samples: 2\n"));
    // On main's first run there is no baseline: the rule decides, and `flaky` is red there.
    let run = on(&s, "main", "m-1");
    assert_eq!(run.code, 1, "{}", run.all());
    for commit in ["m-2", "m-3"] {
        let run = on(&s, "main", commit);
        assert_eq!(run.code, 0, "{}", run.all());
    }
    let run = on(&s, "feature/x", "pr-1");
    assert_eq!(run.code, 0, "{}", run.all());
    assert_eq!(outcome_of(&run, "flaky"), "ok");
    let record = case_record(&s, "flaky");
    assert_eq!(
        (record["verdict"].as_str(), record["failed"].as_bool()),
        (Some("fail"), Some(false))
    );
    insta::assert_snapshot!("relieved_case_message", record["message"].as_str().unwrap());
    assert!(
        record["message"].as_str().unwrap().contains(
            "no regression — it does not pass its rule, no worse than on the baseline: not red"
        ),
        "{record}"
    );
    assert!(
        run.stderr
            .contains("still failing               flaky (3/6 → 1/2"),
        "{}",
        run.stderr
    );
    // In JUnit the case passes, with the comparison in its facts.
    let junit = s.junit();
    let flaky_case = junit
        .split("<testcase")
        .find(|t| t.contains("name=\"flaky\""))
        .unwrap();
    assert!(!flaky_case.contains("<failure"), "{flaky_case}");
    assert!(flaky_case.contains("\nverdict: fail\n"), "{flaky_case}");
    assert!(
        flaky_case.contains("\nbaseline.samples: 3/6\n"),
        "{flaky_case}"
    );

    // Now `flaky` never passes: two samples against 3/6 cannot call it a regression, and
    // did not agree with the baseline either — the comparison cannot judge, the rule does.
    let broken = serve(&rt, scripted(|case, _| case != "flaky"));
    rewrite_suite(&s, &suite_yaml(&broken.url, "{branch: main}"));
    let run = on(&s, "feature/x", "pr-2");
    assert_eq!(run.code, 1, "{}", run.all());
    assert_eq!(outcome_of(&run, "flaky"), "FAILED");

    // `baseline.judge: rule` judges every case by its rule, as without a baseline.
    rewrite_suite(&s, &suite_yaml(&flaky.url, "{branch: main, judge: rule}"));
    let run = on(&s, "feature/x", "pr-3");
    assert_eq!(run.code, 1, "{}", run.all());
}
