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
