//! The book's YAML is real: every example of a case or a suite file in its chapters
//! (`docs/src/`, in the order of `docs/src/SUMMARY.md`) and in the README loads.

#[path = "support/suite.rs"]
mod suite;

use suite::TempSuite;

/// The chapters `docs/src/SUMMARY.md` lists, in its order, then the README.
fn documents() -> Vec<String> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let read = |path: std::path::PathBuf| {
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    };
    let summary = read(root.join("docs/src/SUMMARY.md"));
    let mut documents: Vec<String> = summary
        .split("](")
        .skip(1)
        .map(|link| read(root.join("docs/src").join(&link[..link.find(')').unwrap()])))
        .collect();
    assert!(documents.len() >= 20, "chapters: {}", documents.len());
    documents.push(read(root.join("README.md")));
    documents
}

/// The ```yaml blocks of the book's chapters, then of the README, in order.
fn yaml_blocks() -> Vec<String> {
    let documents = documents();
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in documents.iter().flat_map(|d| d.lines()) {
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

/// What the book's case and suite examples refer to: its rubric file, and a production
/// sample in the shape its `decay.production` reads.
fn add_rubric_and_production_sample(s: &TempSuite) {
    let rubric = yaml_blocks()
        .into_iter()
        .find(|b| b.starts_with("# evals/rubrics/support-quality.yaml"))
        .expect("the book shows a rubric");
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
fn every_yaml_example_in_the_book_loads() {
    let blocks = yaml_blocks();
    let case = blocks
        .iter()
        .find(|b| b.contains("input:") && b.contains("expect:"))
        .expect("the book shows a case");
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

/// The book's branch catalog and gates load together with its case (whose decisions must
/// be branches of the catalog), and the catalog's missing source file shows as stale.
#[test]
fn the_book_catalog_and_gates_load_with_its_case() {
    let blocks = yaml_blocks();
    let find = |what: &str, test: &dyn Fn(&String) -> bool| {
        blocks
            .iter()
            .find(|b| test(b))
            .unwrap_or_else(|| panic!("the book shows {what}"))
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

/// The book's imported draft is a case the suite lists as an ignored test, and its suite
/// tier runs the cases it names.
#[test]
fn the_book_draft_and_suite_tier_load() {
    let blocks = yaml_blocks();
    let draft = blocks
        .iter()
        .find(|b| b.contains("status: draft") && b.contains("todo:"))
        .expect("the book shows an imported draft");
    let tier = blocks
        .iter()
        .find(|b| b.contains("evals/tiers/smoke.yaml"))
        .expect("the book shows a suite tier");
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
