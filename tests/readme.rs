//! The README's YAML is real: every example of a case or a suite file in it loads.

#[path = "support/suite.rs"]
mod suite;

use suite::TempSuite;

/// The ```yaml blocks of the README, in order.
fn yaml_blocks() -> Vec<String> {
    let readme = include_str!("../README.md");
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in readme.lines() {
        match (&mut current, line.trim_end()) {
            (None, "```yaml") => current = Some(String::new()),
            (Some(block), "```") => {
                blocks.push(std::mem::take(block));
                current = None;
            }
            (Some(block), _) => {
                block.push_str(line);
                block.push('\n');
            }
            (None, _) => {}
        }
    }
    blocks
}

/// What the README's case and suite examples refer to: its rubric file, and a production
/// sample in the shape its `decay.production` reads.
fn add_rubric_and_production_sample(s: &TempSuite) {
    let rubric = yaml_blocks()
        .into_iter()
        .find(|b| b.starts_with("# evals/rubrics/support-quality.yaml"))
        .expect("the README shows a rubric");
    std::fs::create_dir_all(s.evals().join("rubrics")).unwrap();
    std::fs::write(s.evals().join("rubrics/support-quality.yaml"), rubric).unwrap();
    std::fs::create_dir_all(s.evals().join("production")).unwrap();
    std::fs::write(
        s.evals().join("production/sample.jsonl"),
        "{\"message\": \"Refund order A1003 please\"}\n",
    )
    .unwrap();
}

#[test]
fn every_yaml_example_in_the_readme_loads() {
    let blocks = yaml_blocks();
    let case = blocks
        .iter()
        .find(|b| b.contains("input:") && b.contains("expect:"))
        .expect("the README shows a case");
    let suites: Vec<&String> = blocks
        .iter()
        .filter(|b| b.starts_with("target:") || b.contains("\ntarget:"))
        .collect();
    assert!(
        suites.len() >= 4,
        "suite and target examples: {}",
        suites.len()
    );
    for suite_yaml in suites {
        let s = TempSuite::new(suite_yaml);
        add_rubric_and_production_sample(&s);
        s.case("refunds/over-limit.yaml", case);
        let run = s.evalgate_env(
            &["run", "evals", "--", "--list"],
            &[("AGENT_URL", "http://127.0.0.1:9"), ("AGENT_TOKEN", "t")],
        );
        assert_eq!(run.code, 0, "{suite_yaml}\n{}", run.all());
        assert!(
            run.stdout.contains("evals::refunds/over-limit: test"),
            "{}",
            run.stdout
        );
    }
}

/// The README's branch catalog and gates load together with its case (whose decisions must
/// be branches of the catalog), and the catalog's missing source file shows as stale.
#[test]
fn the_readme_catalog_and_gates_load_with_its_case() {
    let blocks = yaml_blocks();
    let find = |what: &str, test: &dyn Fn(&String) -> bool| {
        blocks
            .iter()
            .find(|b| test(b))
            .unwrap_or_else(|| panic!("the README shows {what}"))
            .clone()
    };
    let case = find("a case", &|b| b.contains("input:") && b.contains("expect:"));
    let catalog = find("a catalog", &|b| b.contains("\npoints:"));
    let gates = find("gates", &|b| b.starts_with("gates:"));
    let s = TempSuite::new(&format!(
        "target:\n  http: {{url: \"http://127.0.0.1:9/v1/agent\"}}\n{gates}"
    ));
    std::fs::write(s.evals().join("branches.yaml"), &catalog).unwrap();
    add_rubric_and_production_sample(&s);
    s.case("refunds/over-limit.yaml", &case);
    let run = s.evalgate(&["run", "evals", "--", "--list"]);
    assert_eq!(run.code, 0, "{}", run.all());
    // The catalog's `../prompts/planner.md` does not exist here: the run notes it as stale,
    // which proves the catalog and its gates were loaded (the case itself errors: no agent).
    let run = s.evalgate(&["run", "evals"]);
    assert!(
        run.stderr
            .contains("the catalog may be stale: ../prompts/planner.md is gone"),
        "{}",
        run.all()
    );
}

/// The README's imported draft is a case the suite lists as an ignored test, and its suite
/// tier runs the cases it names.
#[test]
fn the_readme_draft_and_suite_tier_load() {
    let blocks = yaml_blocks();
    let draft = blocks
        .iter()
        .find(|b| b.contains("status: draft") && b.contains("todo:"))
        .expect("the README shows an imported draft");
    let tier = blocks
        .iter()
        .find(|b| b.contains("evals/tiers/smoke.yaml"))
        .expect("the README shows a suite tier");
    let s = TempSuite::new("name: s\ntarget:\n  http: {url: \"http://127.0.0.1:9\"}\n");
    s.case("inbox/intercom-367.yaml", draft);
    for id in [
        "handoff/legal_threat",
        "exchanges/bigger_size",
        "refunds/other",
    ] {
        s.case(
            &format!("{id}.yaml"),
            &suite::simple_case("hello", "  - contains: hi"),
        );
    }
    std::fs::create_dir_all(s.evals().join("tiers")).unwrap();
    std::fs::write(s.evals().join("tiers/smoke.yaml"), tier).unwrap();
    let all = s.run(&["--list"]);
    assert_eq!(all.code, 0, "{}", all.all());
    assert!(
        all.stdout.contains("evals::inbox/intercom-367: test"),
        "{}",
        all.stdout
    );
    let smoke = s.evalgate_env(
        &["run", "evals", "--", "--list"],
        &[("EVALGATE_SUITE_TIER", "smoke")],
    );
    assert_eq!(smoke.code, 0, "{}", smoke.all());
    let listed = smoke.listed();
    assert_eq!(
        listed,
        [
            "evals::exchanges/bigger_size: test",
            "evals::handoff/legal_threat: test"
        ],
        "{}",
        smoke.stdout
    );
}
