//! How many samples a case takes against a baseline: `sequential` and adaptive sampling
//! stop early without ever making a regression of truncated counts, within the run's
//! budget; `evalgate plan` says how many each case needs and what a run costs.

use crate::support::mock_agent;
use crate::support::reports;
use crate::support::suite;

use mock_agent::{Behaviour, Responder, runtime, serve};
use reports::read_json;
use serde_json::{Value, json};
use suite::TempSuite;

use super::baseline::{
    answer, case, case_record, gate_of, on, rewrite_suite, scripted, suite_yaml,
};

/// The issue's deterministic example: baseline 10/10; samples 1–2 fail, 3–10 pass. A test
/// on all ten says "not enough samples"; `sequential` stopping and adaptive sampling must
/// say the same — never a regression of the first two samples' counts (p = 0.015).
#[test]
fn stopping_early_never_makes_a_regression_of_truncated_counts() {
    let rt = runtime();
    let good = serve(&rt, Behaviour::Fixed(answer("Refund issued")));
    let example = serve(&rt, scripted(|_, sample| sample >= 2));
    for samples in [
        "samples: 10\nsequential: {group: 2}\n",
        "samples: 10\npass: {at_least: 9}\nsequential: {group: 2}\n",
        "samples: {min: 2, max: 10}\npass: {min_rate: 0.5}\n",
    ] {
        let s = TempSuite::new(&suite_yaml(&good.url, "{path: baseline.json}"));
        s.case("c.yaml", &case(samples));
        let run = s.run(&[]);
        assert_eq!(run.code, 2, "no baseline yet\n{}", run.all());
        // The saved baseline: 10/10 (an adaptive case with no baseline takes its minimum,
        // so save ten of them by hand).
        let saved = json!({"schema": 1, "suite": "shop", "saved_at": "2026-11-28T00:00:00Z",
            "envelope": "e", "cases": [{"case": "c", "verdict": "pass", "samples": 10, "passes": 10}]});
        std::fs::write(s.evals().join("baseline.json"), saved.to_string()).unwrap();
        rewrite_suite(&s, &suite_yaml(&example.url, "{path: baseline.json}"));
        let run = s.run(&[]);
        assert!(
            run.stderr
                .contains("not enough samples to tell  c (10/10 → ")
                || run.stderr.contains("1 unchanged")
                || run.stderr.contains("1 flaky"),
            "{samples}\n{}",
            run.stderr
        );
        assert!(
            !run.stderr.contains("regression  "),
            "{samples}\n{}",
            run.stderr
        );
        let g = gate_of(&s, "baseline.regressions");
        assert_eq!(g["value"], 0.0, "{samples}: {g}");
        let record = case_record(&s, "c");
        let taken = record["samples"].as_u64().unwrap();
        assert!(taken > 2, "{samples}: stopped on two failures\n{record}");
    }
}

/// `samples: {min, max}`: a case whose samples agree with its baseline stops early; the
/// run's budget stops the rest.
#[test]
fn adaptive_sampling_stops_when_the_samples_agree_and_within_the_budget() {
    let rt = runtime();
    let good = serve(&rt, Behaviour::Fixed(answer("Refund issued")));
    let yaml = |budget: &str| {
        format!(
            "{}{budget}",
            suite_yaml(&good.url, "{path: baseline.json, drop: 0.15}")
        )
    };
    let s = TempSuite::new(&yaml(""));
    s.case(
        "a.yaml",
        &case("samples: {min: 10, max: 200}\npass: {min_rate: 0.8}\n"),
    );
    s.case(
        "b.yaml",
        &case("samples: {min: 10, max: 200}\npass: {min_rate: 0.8}\n"),
    );
    // A case the baseline does not hold: its rule decides, on up to its maximum.
    s.case(
        "new.yaml",
        &case("samples: {min: 10, max: 200}\npass: {min_rate: 0.8}\n"),
    );
    let saved = json!({"schema": 1, "suite": "shop", "saved_at": "2026-11-28T00:00:00Z",
        "envelope": "e", "cases": [
            {"case": "a", "verdict": "pass", "samples": 100, "passes": 95},
            {"case": "b", "verdict": "pass", "samples": 100, "passes": 95}]});
    std::fs::write(s.evals().join("baseline.json"), saved.to_string()).unwrap();
    let run = s.run(&[]);
    assert_eq!(run.code, 0, "{}", run.all());
    let a = case_record(&s, "a");
    assert_eq!(a["stopped"], "agreed", "{a}");
    assert_eq!(a["looks"], json!([10, 200]));
    let taken = a["samples"].as_u64().unwrap();
    // All passing against 95/100, a 15-point drop is implausible after a few looks.
    assert!((15..=60).contains(&taken), "{a}");
    // The new case: all passing, its verdict of 200 samples is settled once 180 passed
    // (even 20 failures more would leave a 95 % lower bound above 0.8).
    let new = case_record(&s, "new");
    assert_eq!(
        (new["verdict"].as_str(), new["samples"].as_u64()),
        (Some("pass"), Some(180)),
        "{new}"
    );
    assert_eq!(new["samples_planned"], 200);
    assert!(
        new["comparison"].is_null() && new["looks"].is_null(),
        "{new}"
    );

    // A budget of 30 samples: each case takes its first look (10), then looks on while the
    // budget lasts.
    std::fs::write(
        s.evals().join("evalgate.yaml"),
        yaml("budget: {samples: 30}\n"),
    )
    .unwrap();
    let run = s.run(&[]);
    assert_eq!(run.code, 0, "{}", run.all());
    let total: u64 = ["a", "b"]
        .iter()
        .map(|c| case_record(&s, c)["samples"].as_u64().unwrap())
        .sum();
    assert!(total <= 30, "{total}");
    assert!(
        ["a", "b"]
            .iter()
            .any(|c| case_record(&s, c)["stopped"] == "budget"),
        "{}",
        run.all()
    );
    // Fewer samples than its rate rule needs: inconclusive, saying how many would decide it
    // (15/15 has a 95 % lower bound of 0.796, just under 0.8).
    let inconclusive: Vec<Value> = ["a", "b"]
        .iter()
        .map(|c| case_record(&s, c))
        .filter(|r| r["verdict"] == "inconclusive")
        .collect();
    assert!(!inconclusive.is_empty(), "{}", run.all());
    for record in inconclusive {
        let needed = record["samples_to_decide"].as_u64().unwrap();
        let taken = record["samples"].as_u64().unwrap();
        assert!(needed > taken, "{record}");
        assert!(
            record["message"].as_str().unwrap().contains(&format!(
                "about {} more samples ({needed} in all) would decide it",
                needed - taken
            )),
            "{record}"
        );
    }
}

/// `evalgate plan`: from what `main`'s runs hold (each case's rate, tokens, the prices), the
/// samples each case needs for the gate to see a 15-point drop with power 0.8, and what a
/// run costs.
#[test]
fn plan_says_how_many_samples_each_case_needs_and_what_a_run_costs() {
    let rt = runtime();
    // `steady` always passes; `half` passes its even samples.
    let agent = serve(
        &rt,
        Behaviour::Respond(Responder::new(|request| {
            let passes = request["case"] == "steady"
                || request["sample"].as_u64() == Some(0)
                || request["sample"].as_u64().is_some_and(|s| s % 2 == 0);
            json!({
                "output": if passes { "Refund issued" } else { "Sorry" },
                "usage": {"input_tokens": 100, "output_tokens": 20},
                "model": "m-1",
            })
        })),
    );
    let suite = format!(
        "{}defaults: {{samples: 20, pass: {{min_rate: 0.2}}}}\nprices: {{m-1: {{input: 1.0, output: 4.0}}}}\n",
        suite_yaml(&agent.url, "{branch: main, drop: 0.15}")
    );
    let s = TempSuite::new(&suite);
    s.case("steady.yaml", &case(""));
    s.case("half.yaml", &case(""));
    for commit in ["m-1", "m-2", "m-3"] {
        let run = on(&s, "main", commit);
        assert_eq!(run.code, 0, "{}", run.all());
    }
    let plan = s.evalgate(&["plan"]);
    assert_eq!(plan.code, 0, "{}", plan.all());
    let redacted = regex::Regex::new(r"latest [^ ,]+, \d{4}-\d\d-\d\d \d\d:\d\d UTC")
        .unwrap()
        .replace(&plan.stdout, "latest [run], [date]");
    insta::assert_snapshot!("plan", redacted);
    let json = read_json(&s.out().join("plan.json"));
    let half = json["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["case"] == "half")
        .unwrap();
    assert_eq!(half["baseline"], json!([30, 60]));
    assert!(half["fixed"][0].as_u64().unwrap() > 20, "{half}");

    // Flags out of range, or history off, are usage errors naming them.
    for (args, env, what) in [
        (
            vec!["plan", "--alpha", "1.5"],
            vec![],
            "--alpha 1.5: the run-level error rate, in (0, 1)",
        ),
        (
            vec!["plan", "--power", "1"],
            vec![],
            "--power 1: the chance of calling the drop, in (0, 1)",
        ),
        (
            vec!["plan", "--drop", "0"],
            vec![],
            "--drop 0: a drop in pass rate, in (0, 1]",
        ),
        (
            vec!["plan"],
            vec![("EVALGATE_HISTORY", "off")],
            "history is off (EVALGATE_HISTORY=off)",
        ),
    ] {
        let run = s.evalgate_env(&args, &env);
        assert_eq!(run.code, 2, "{}", run.all());
        assert!(run.stderr.contains(what), "{what}\n{}", run.stderr);
    }
}
