//! The book (`docs/`) and the README are real: every example of a case or a suite file in
//! them loads, and every relative link in them leads to a file and a heading that exist.
//! The documents are read when the tests run, so a chapter added to `docs/src/SUMMARY.md`
//! is checked without touching this file.

use crate::support::suite;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use suite::TempSuite;

pub(super) fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

pub(super) fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The lines of `text` outside fenced code blocks, with their line numbers (from 1).
fn prose_lines(text: &str) -> Vec<(usize, &str)> {
    let mut fence: Option<&str> = None;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        match fence {
            None if trimmed.starts_with("```") || trimmed.starts_with("~~~") => {
                fence = Some(&trimmed[..3]);
            }
            None => out.push((i + 1, line)),
            Some(f) if trimmed.starts_with(f) => fence = None,
            Some(_) => {}
        }
    }
    out
}

/// A line with its inline code spans left out: a `](` inside backticks is no link.
fn without_code_spans(line: &str) -> String {
    line.split('`').step_by(2).collect::<Vec<_>>().join(" ")
}

/// The targets of the Markdown links (and images) on the prose lines of `text`, with their
/// line numbers: `[text](target)` and reference definitions `[label]: target`.
fn links(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (n, line) in prose_lines(text) {
        let line = without_code_spans(line);
        let mut rest = line.as_str();
        while let Some(at) = rest.find("](") {
            rest = &rest[at + 2..];
            let end = rest.find(')').unwrap_or(rest.len());
            let target = rest[..end].split_whitespace().next().unwrap_or("");
            out.push((n, target.trim_matches(|c| c == '<' || c == '>').to_string()));
            rest = &rest[end..];
        }
        let trimmed = line.trim_start();
        if let Some(def) = trimmed.strip_prefix('[')
            && let Some((_, target)) = def.split_once("]:")
        {
            out.push((
                n,
                target.split_whitespace().next().unwrap_or("").to_string(),
            ));
        }
    }
    out
}

/// The chapters `docs/src/SUMMARY.md` lists, in its order.
fn chapters() -> Vec<PathBuf> {
    let summary = read(&root().join("docs/src/SUMMARY.md"));
    let chapters: Vec<PathBuf> = links(&summary)
        .into_iter()
        .map(|(_, target)| root().join("docs/src").join(target))
        .collect();
    assert!(
        chapters.len() >= 20,
        "docs/src/SUMMARY.md lists {} chapters",
        chapters.len()
    );
    chapters
}

/// The documents whose examples and links are checked: the book's chapters in
/// SUMMARY order, then the README, each with its path relative to the repository root.
fn documents() -> Vec<(String, String)> {
    let mut docs: Vec<PathBuf> = chapters();
    docs.push(root().join("README.md"));
    docs.into_iter()
        .map(|path| {
            let text = read(&path);
            let rel = path.strip_prefix(root()).unwrap().display().to_string();
            (rel, text)
        })
        .collect()
}

/// One ```yaml block, with where it is.
struct Block {
    file: String,
    line: usize,
    text: String,
}

impl Block {
    fn at(&self) -> String {
        format!("{}:{}", self.file, self.line)
    }

    fn is_case(&self) -> bool {
        self.text.contains("input:") && self.text.contains("expect:")
    }

    fn is_suite(&self) -> bool {
        self.text.starts_with("target:") || self.text.contains("\ntarget:")
    }

    /// The case file a block names in its first comment line (`# evals/cases/<path> …`).
    fn case_path(&self) -> Option<&str> {
        let first = self.text.lines().next()?;
        let path = first.strip_prefix("# evals/cases/")?;
        path.split_whitespace().next()
    }
}

/// The ```yaml blocks of every document (the chapters in SUMMARY order, then the README),
/// in order.
fn yaml_blocks() -> Vec<Block> {
    let mut blocks = Vec::new();
    for (file, text) in documents() {
        let mut current: Option<(usize, String)> = None;
        for (i, line) in text.lines().enumerate() {
            match (&mut current, line.trim_end()) {
                (None, "```yaml") => current = Some((i + 2, String::new())),
                (Some((line, block)), "```") => {
                    blocks.push(Block {
                        file: file.clone(),
                        line: *line,
                        text: std::mem::take(block),
                    });
                    current = None;
                }
                (Some((_, block)), _) => {
                    block.push_str(line);
                    block.push('\n');
                }
                (None, _) => {}
            }
        }
        assert!(current.is_none(), "{file}: a ```yaml block is not closed");
    }
    blocks
}

/// What the book's case and suite examples refer to: its rubric file, and a production
/// sample in the shape its `decay.production` reads.
fn add_rubric_and_production_sample(s: &TempSuite) {
    let rubric = yaml_blocks()
        .into_iter()
        .find(|b| b.text.starts_with("# evals/rubrics/support-quality.yaml"))
        .expect("the book shows a rubric");
    std::fs::create_dir_all(s.evals().join("rubrics")).unwrap();
    std::fs::write(s.evals().join("rubrics/support-quality.yaml"), rubric.text).unwrap();
    std::fs::create_dir_all(s.evals().join("production")).unwrap();
    std::fs::write(
        s.evals().join("production/sample.jsonl"),
        "{\"message\": \"Refund order A1003 please\"}\n",
    )
    .unwrap();
}

/// Every case example loads under every suite example, and is listed as its test.
#[test]
fn every_yaml_example_in_the_book_and_the_readme_loads() {
    let blocks = yaml_blocks();
    let cases: Vec<&Block> = blocks.iter().filter(|b| b.is_case()).collect();
    let suites: Vec<&Block> = blocks.iter().filter(|b| b.is_suite()).collect();
    let in_book = |b: &Block| b.file.starts_with("docs/");
    let book_suites = suites.iter().filter(|b| in_book(b)).count();
    assert!(
        book_suites >= 4,
        "suite and target examples in the book: {book_suites}"
    );
    assert!(cases.iter().any(|b| in_book(b)), "the book shows a case");
    assert!(
        cases.iter().any(|b| b.file == "README.md") && suites.iter().any(|b| b.file == "README.md"),
        "the README's tour shows a case and a suite file"
    );
    for suite_block in &suites {
        for case in &cases {
            let s = TempSuite::new(&suite_block.text);
            add_rubric_and_production_sample(&s);
            let path = case.case_path().unwrap_or("refunds/over-limit.yaml");
            s.case(path, &case.text);
            let run = s.evalgate_env(
                &["run", "evals", "--", "--list"],
                &[("AGENT_URL", "http://127.0.0.1:9"), ("AGENT_TOKEN", "t")],
            );
            let (suite_at, case_at) = (suite_block.at(), case.at());
            assert_eq!(
                run.code,
                0,
                "the suite of {suite_at} with the case of {case_at}:\n{}",
                run.all()
            );
            let id = path.trim_end_matches(".yaml");
            assert!(
                run.stdout.contains(&format!("evals::{id}: test")),
                "the suite of {suite_at} with the case of {case_at}:\n{}",
                run.stdout
            );
        }
    }
}

/// The book's branch catalog and gates load together with its cases (whose decisions must
/// be branches of the catalog), and the catalog's missing source file shows as stale.
#[test]
fn the_book_catalog_and_gates_load_with_its_cases() {
    let blocks = yaml_blocks();
    let find = |what: &str, test: &dyn Fn(&Block) -> bool| {
        blocks
            .iter()
            .find(|b| test(b))
            .unwrap_or_else(|| panic!("the book shows {what}"))
    };
    let catalog = find("a catalog", &|b| b.text.contains("\npoints:"));
    let gates = find("gates", &|b| b.text.starts_with("gates:"));
    // A case that names decisions, so that the catalog's check of them is not vacuous.
    let with_decisions = find("a case naming branches", &|b| {
        b.is_case() && b.text.contains("branches: [")
    });
    let suite_yaml = format!(
        "target:\n  http: {{url: \"http://127.0.0.1:9/v1/agent\"}}\n{}",
        gates.text
    );
    for case in blocks.iter().filter(|b| b.is_case()) {
        let s = TempSuite::new(&suite_yaml);
        std::fs::write(s.evals().join("branches.yaml"), &catalog.text).unwrap();
        add_rubric_and_production_sample(&s);
        s.case("refunds/over-limit.yaml", &case.text);
        let run = s.evalgate(&["run", "evals", "--", "--list"]);
        assert_eq!(
            run.code,
            0,
            "the catalog of {} with the case of {}:\n{}",
            catalog.at(),
            case.at(),
            run.all()
        );
        if std::ptr::eq(case, with_decisions) {
            // The catalog's `../prompts/planner.md` does not exist here: the run notes it as
            // stale, which proves the catalog and its gates were loaded (the case itself
            // errors: no agent).
            let run = s.evalgate(&["run", "evals"]);
            assert!(
                run.stderr
                    .contains("the catalog may be stale: ../prompts/planner.md is gone"),
                "{}",
                run.all()
            );
        }
    }
}

/// The book's imported draft is a case the suite lists as an ignored test, and its suite
/// tier runs the cases it names.
#[test]
fn the_book_draft_and_suite_tier_load() {
    let blocks = yaml_blocks();
    let draft = blocks
        .iter()
        .find(|b| b.text.contains("status: draft") && b.text.contains("todo:"))
        .expect("the book shows an imported draft");
    let tier = blocks
        .iter()
        .find(|b| b.text.contains("evals/tiers/smoke.yaml"))
        .expect("the book shows a suite tier");
    let s = TempSuite::new("name: s\ntarget:\n  http: {url: \"http://127.0.0.1:9\"}\n");
    s.case("inbox/intercom-367.yaml", &draft.text);
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
    std::fs::write(s.evals().join("tiers/smoke.yaml"), &tier.text).unwrap();
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

/// What a ```yaml block of the book shows, and so how it is checked.
#[derive(Debug, PartialEq)]
enum Kind {
    /// A case (a draft too): loaded under every suite example.
    Case,
    /// A suite file, or a suite's `target:`: loaded with every case example.
    Suite,
    /// The branch catalog, the gates, a rubric, a suite tier: loaded with the cases.
    CatalogGatesRubricOrTier,
    /// A bisection envelope: the demo's `evals/envelopes/bad.yaml`.
    Envelope,
    /// Steps of a GitHub Actions job.
    WorkflowSteps,
    /// Settings of a suite file shown apart: loaded over the full suite example.
    SuiteSettings,
}

fn kind(b: &Block) -> Kind {
    let first = b.text.lines().next().unwrap_or("");
    if b.is_case() {
        Kind::Case
    } else if b.is_suite() {
        Kind::Suite
    } else if b.text.contains("\npoints:")
        || b.text.starts_with("gates:")
        || first.starts_with("# evals/rubrics/")
        || first.starts_with("# evals/tiers/")
    {
        Kind::CatalogGatesRubricOrTier
    } else if first.starts_with("# evals/envelopes/") {
        Kind::Envelope
    } else if b.text.starts_with("- uses:") || b.text.starts_with("- run:") {
        Kind::WorkflowSteps
    } else {
        Kind::SuiteSettings
    }
}

/// A YAML text as JSON (whose text evalgate reads as YAML too).
fn yaml_value(b: &Block) -> serde_json::Value {
    serde_saphyr::from_str(&b.text).unwrap_or_else(|e| panic!("{}: {e}", b.at()))
}

/// The examples that are neither cases nor suites nor what the tests above load with them
/// are checked too: suite settings shown apart load over the full suite example (so a
/// gate may name its conditions and tiers), the bisection envelope is the demo's, and the
/// workflow steps are steps.
#[test]
fn every_other_yaml_example_loads_or_is_what_it_says() {
    let blocks = yaml_blocks();
    let full = blocks
        .iter()
        .filter(|b| kind(b) == Kind::Suite)
        .max_by_key(|b| yaml_value(b).as_object().map_or(0, |o| o.len()))
        .expect("the book shows a suite file");
    let case = blocks
        .iter()
        .find(|b| kind(b) == Kind::Case)
        .expect("the book shows a case");
    let mut checked = BTreeMap::new();
    for block in &blocks {
        let k = kind(block);
        match k {
            Kind::SuiteSettings => {
                let mut suite = yaml_value(full);
                let settings = yaml_value(block);
                let settings = settings
                    .as_object()
                    .unwrap_or_else(|| panic!("{}: not suite settings", block.at()));
                for (key, value) in settings {
                    suite[key] = value.clone();
                }
                let s = TempSuite::new(&serde_json::to_string_pretty(&suite).unwrap());
                add_rubric_and_production_sample(&s);
                s.case("refunds/over-limit.yaml", &case.text);
                let run = s.evalgate_env(
                    &["run", "evals", "--", "--list"],
                    &[("AGENT_URL", "http://127.0.0.1:9"), ("AGENT_TOKEN", "t")],
                );
                assert_eq!(
                    run.code,
                    0,
                    "the settings of {} over the suite of {}:\n{}",
                    block.at(),
                    full.at(),
                    run.all()
                );
            }
            Kind::Envelope => {
                let axes = |text: &str| -> BTreeMap<String, String> {
                    serde_saphyr::from_str(text).unwrap_or_else(|e| panic!("{}: {e}", block.at()))
                };
                let shown = axes(&block.text);
                let bad = axes(&read(&root().join("evals/envelopes/bad.yaml")));
                let good = axes(&read(&root().join("evals/envelopes/good.yaml")));
                assert_eq!(shown, bad, "{}: not evals/envelopes/bad.yaml", block.at());
                assert!(
                    shown.keys().eq(good.keys()),
                    "{}: the good envelope names other axes",
                    block.at()
                );
            }
            Kind::WorkflowSteps => {
                let steps = yaml_value(block);
                let steps = steps
                    .as_array()
                    .unwrap_or_else(|| panic!("{}: not a list of steps", block.at()));
                for step in steps {
                    assert!(
                        step.get("uses").is_some() != step.get("run").is_some(),
                        "{}: a step either uses an action or runs a command: {step}",
                        block.at()
                    );
                }
            }
            Kind::Case | Kind::Suite | Kind::CatalogGatesRubricOrTier => {}
        }
        *checked.entry(format!("{k:?}")).or_insert(0) += 1;
    }
    // Each kind is still shown: a check whose example went away checks nothing.
    for k in [
        "Case",
        "Suite",
        "CatalogGatesRubricOrTier",
        "Envelope",
        "WorkflowSteps",
        "SuiteSettings",
    ] {
        assert!(checked.contains_key(k), "no {k} example: {checked:?}");
    }
}

/// The id mdBook gives a heading (its `normalize_id`): the heading's text without markup,
/// lowercased, whitespace as `-`, every other character but letters, digits, `-` and `_`
/// dropped; a repeated id gets `-1`, `-2`… GitHub's anchors agree on these headings.
fn heading_ids(text: &str) -> BTreeSet<String> {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut ids = BTreeSet::new();
    for (_, line) in prose_lines(text) {
        let Some(heading) = line.strip_prefix('#') else {
            continue;
        };
        let heading = heading.trim_start_matches('#');
        if !heading.starts_with(' ') {
            continue;
        }
        // Link text stays, its target goes; code spans and emphasis lose their marks.
        let mut plain = String::new();
        let mut rest = heading.trim().trim_end_matches('#').trim();
        while let Some(at) = rest.find("](") {
            plain.push_str(&rest[..at]);
            rest = &rest[at + 2..];
            rest = &rest[rest.find(')').map_or(rest.len(), |e| e + 1)..];
        }
        plain.push_str(rest);
        let id: String = plain
            .chars()
            .filter_map(|c| {
                if c.is_alphanumeric() || c == '_' || c == '-' {
                    Some(c.to_ascii_lowercase())
                } else if c.is_whitespace() {
                    Some('-')
                } else {
                    None
                }
            })
            .collect();
        let n = seen.entry(id.clone()).or_insert(0);
        ids.insert(if *n == 0 {
            id.clone()
        } else {
            format!("{id}-{n}")
        });
        *n += 1;
    }
    ids
}

/// Every relative link of the README and of every page under `docs/src/` leads to a file
/// that exists, and a `#anchor` to a heading of that file (mdBook's ids).
#[test]
fn every_relative_link_leads_somewhere() {
    let mut pages: Vec<PathBuf> = std::fs::read_dir(root().join("docs/src"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    pages.sort();
    pages.push(root().join("README.md"));
    let mut broken = Vec::new();
    let mut checked = 0;
    for page in &pages {
        let text = read(page);
        let rel = page.strip_prefix(root()).unwrap().display().to_string();
        for (line, target) in links(&text) {
            if target.is_empty() {
                broken.push(format!("{rel}:{line}: a link without a target"));
                continue;
            }
            if target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            checked += 1;
            let (path, anchor) = match target.split_once('#') {
                Some((path, anchor)) => (path, Some(anchor)),
                None => (target.as_str(), None),
            };
            let file = if path.is_empty() {
                page.clone()
            } else {
                page.parent().unwrap().join(path)
            };
            if !file.exists() {
                broken.push(format!(
                    "{rel}:{line}: {target}: no file {}",
                    file.display()
                ));
                continue;
            }
            if let Some(anchor) = anchor {
                let is_markdown = file.extension().is_some_and(|e| e == "md");
                if !is_markdown || !heading_ids(&read(&file)).contains(anchor) {
                    broken.push(format!(
                        "{rel}:{line}: {target}: no heading #{anchor} there"
                    ));
                }
            }
        }
    }
    assert!(checked >= 50, "only {checked} relative links found");
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

/// Every page under `docs/src/` is a chapter of SUMMARY.md, listed once: none is left out
/// of the book (and of the YAML checks above).
#[test]
fn every_page_is_a_chapter_once() {
    let chapters = chapters();
    let listed: BTreeSet<&PathBuf> = chapters.iter().collect();
    assert_eq!(
        listed.len(),
        chapters.len(),
        "a chapter listed twice: {chapters:?}"
    );
    for entry in std::fs::read_dir(root().join("docs/src")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "md") && !path.ends_with("SUMMARY.md") {
            assert!(
                listed.contains(&path),
                "{} is not in docs/src/SUMMARY.md",
                path.display()
            );
        }
    }
}

/// The `## Quick start` section of a page, up to the next `## ` heading.
fn quick_start(text: &str) -> String {
    let start = text.find("\n## Quick start\n").expect("a Quick start") + 1;
    let rest = &text[start..];
    let end = rest[3..].find("\n## ").map_or(rest.len(), |e| e + 4);
    rest[..end].trim_end().to_string()
}

/// The README stays short, its quick start sets up with exactly the two commands CI runs
/// (`.ci/run`), and the book's introduction shows the same quick start.
#[test]
fn the_readme_is_a_quick_start_and_a_tour() {
    let readme = read(&root().join("README.md"));
    let lines = readme.lines().count();
    assert!(
        lines <= 300,
        "README.md has {lines} lines: the reference goes into a chapter under docs/src/"
    );
    let quick = quick_start(&readme);
    let commands = quick
        .split("```sh\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("the Quick start shows its commands");
    let commands: Vec<&str> = commands
        .lines()
        .map(|l| l.split('#').next().unwrap().trim())
        .collect();
    assert_eq!(commands, ["cargo run -- demo", "cargo test"]);
    let intro = read(&root().join("docs/src/introduction.md"));
    assert_eq!(
        quick_start(&intro),
        quick,
        "docs/src/introduction.md and README.md show different quick starts"
    );
}
