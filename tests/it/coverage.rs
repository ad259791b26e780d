//! Planner branch coverage end to end, through the real `evalgate` binary: a catalog, cases
//! whose agent reports decisions (JSON answers, OTLP trace files), the coverage table, the
//! gates and their exit code, the `evalgate.coverage` / `evalgate.gates` JUnit testsuites,
//! `coverage.json`, the LCOV file read by a real `genhtml`, `catalog suggest` and `stamp`,
//! and the bad input around them.

use crate::support::junit_xml;
use crate::support::mock_agent;
use crate::support::reports;
use crate::support::suite;

use std::path::Path;
use std::process::Command;

use mock_agent::{Behaviour, runtime, serve};
use reports::{gate, read_json};
use suite::{TempSuite, python, scripted_agent};

const CATALOG: &str = "\
points:
  route:
    description: which workflow answers
    branches:
      refund: {risk: high}
      handoff: {risk: high, description: a human takes over}
      status: {risk: low}
  tool:
    branches:
      lookup_order: {}
      issue_refund: {risk: high}
transitions:
  - [route.refund, tool.lookup_order]
  - [tool.lookup_order, tool.issue_refund]
  - [route.status, tool.lookup_order]
";

/// A case whose loopback agent reports `decisions`, and that expects `expect`.
fn case(decisions: &str, expect: &str) -> String {
    format!(
        "input:\n  messages:\n    - {{role: user, content: hello}}\n  vars: {{decisions: {decisions}}}\nexpect:\n{expect}\n"
    )
}

fn http_suite(url: &str, gates: &str) -> TempSuite {
    let s = TempSuite::new(&format!(
        "name: shop\ntarget:\n  http: {{url: \"{url}/v1/agent\"}}\n{gates}"
    ));
    std::fs::write(s.evals().join("branches.yaml"), CATALOG).unwrap();
    s
}

#[test]
fn an_uncovered_high_risk_branch_fails_a_green_suite_and_every_report_says_where() {
    let rt = runtime();
    let agent = serve(&rt, Behaviour::Echo);
    let s = http_suite(
        &agent.url,
        "gates:\n  - {metric: coverage.branches, min: 0.9, level: warn}\n",
    );
    s.case(
        "refunds/delivered.yaml",
        &case(
            "[route.refund, tool.lookup_order, tool.issue_refund]",
            "  - path: [route.refund, tool.issue_refund]",
        ),
    );
    s.case(
        "status/shipped.yaml",
        &case(
            "[route.status, tool.lookup_order, tool.track_parcel]",
            "  - branches: [route.status]",
        ),
    );
    let run = s.run(&[]);
    // Both cases pass; the catalog's default gate fails the run: route.handoff is `high`
    // and no sample reached it.
    assert!(run.all().contains("2 passed"), "{}", run.all());
    assert_eq!(run.code, 1, "{}", run.all());
    let err = &run.stderr;
    assert!(
        err.contains("planner coverage 4/5 branches (80.0 %)"),
        "{err}"
    );
    assert!(err.contains("handoff (high)"), "{err}");
    assert!(
        err.contains(
            "observed but not in the catalog (catalog drift): tool.track_parcel (1 samples)"
        ),
        "{err}"
    );
    assert!(
        err.contains("transitions: 4 pairs seen, 3 of 3 declared pairs"),
        "{err}"
    );
    assert!(
        err.lines().any(|l| l.contains("FAIL")
            && l.contains("coverage.high_risk_uncovered")
            && l.contains("route.handoff")),
        "{err}"
    );
    assert!(
        err.lines()
            .any(|l| l.contains("WARN") && l.contains("coverage.branches") && l.contains("0.800")),
        "{err}"
    );

    // coverage.json: per point, per branch, the cases that reached it and expect it.
    let json = read_json(&s.out().join("coverage.json"));
    let route = &json["coverage"]["points"][0];
    assert_eq!(route["name"], "route");
    assert_eq!(
        (route["covered"].as_u64(), route["total"].as_u64()),
        (Some(2), Some(3))
    );
    let refund = &route["branches"][0];
    assert_eq!(refund["decision"], "route.refund");
    assert_eq!(refund["cases"], serde_json::json!(["refunds/delivered"]));
    assert_eq!(
        refund["expected_by"],
        serde_json::json!(["refunds/delivered"])
    );
    assert_eq!(
        json["coverage"]["unknown"][0]["decision"],
        "tool.track_parcel"
    );
    assert_eq!(
        gate(&json, "coverage.unknown_branches")["outcome"],
        "failed"
    );
    assert_eq!(gate(&json, "coverage.unknown_branches")["level"], "warn");

    // JUnit: the route point fails (a `fail` gate blames it); tool passes, its gap warned.
    let junit = s.junit();
    let doc = roxmltree::Document::parse(&junit).unwrap();
    let testcase = |class: &str, name: &str| {
        doc.descendants()
            .find(|n| {
                n.has_tag_name("testcase")
                    && n.attribute("classname") == Some(class)
                    && n.attribute("name") == Some(name)
            })
            .unwrap_or_else(|| panic!("no {class} {name} in\n{junit}"))
    };
    let failure = |n: roxmltree::Node| {
        n.children()
            .find(|c| c.has_tag_name("failure"))
            .and_then(|f| f.attribute("message").map(str::to_string))
    };
    let route = testcase("evalgate.coverage", "route");
    assert_eq!(
        failure(route).as_deref(),
        Some("route 2/3: uncovered route.handoff (high)")
    );
    assert_eq!(
        junit_xml::location(route),
        (Some("evals/branches.yaml".into()), Some("2".into()))
    );
    assert_eq!(failure(testcase("evalgate.coverage", "tool")), None);
    assert!(failure(testcase("evalgate.gates", "coverage.high_risk_uncovered")).is_some());
    // A failing `warn` gate is neither red nor a green pass: `<skipped type="warn">`.
    let warned = |n: roxmltree::Node| {
        n.children()
            .find(|c| c.has_tag_name("skipped") && c.attribute("type") == Some("warn"))
            .and_then(|f| f.attribute("message").map(str::to_string))
    };
    let branches = testcase("evalgate.gates", "coverage.branches");
    assert_eq!(failure(branches), None, "warn");
    assert_eq!(
        warned(branches).as_deref(),
        Some("coverage.branches: WARN (value 0.8, required ≥ 0.9)")
    );
    if let Some((valid, words)) = junit_xml::xmllint(&s.out().join("junit.xml")) {
        assert!(valid, "{words}");
    }
    // As junit2html shows it: the outcome `Skipped`, with the WARN headline.
    if let Some(html) = junit_xml::junit2html(&s.out().join("junit.xml")) {
        let at = html
            .find("<td><b>coverage.branches</b></td>")
            .unwrap_or_else(|| panic!("{html}"));
        let shown = &html[at..(at + 800).min(html.len())];
        assert!(
            shown.contains("<td>Skipped</td>")
                && shown.contains("coverage.branches: WARN (value 0.8, required ≥ 0.9)"),
            "{shown}"
        );
    }
    assert_eq!(
        failure(testcase("refunds", "refunds/delivered")),
        None,
        "the case itself passed"
    );

    // LCOV: every branch on its catalog line, hit counts in samples; genhtml renders it.
    let lcov = std::fs::read_to_string(s.out().join("coverage.lcov")).unwrap();
    assert!(lcov.contains("SF:evals/branches.yaml\n"), "{lcov}");
    assert!(
        lcov.contains("BRDA:5,0,0,1\n"),
        "route.refund on line 5:\n{lcov}"
    );
    assert!(
        lcov.contains("BRDA:6,0,1,0\n"),
        "route.handoff on line 6:\n{lcov}"
    );
    assert!(lcov.contains("BRF:5\nBRH:4\n"), "{lcov}");
    genhtml_accepts(s.path(), &s.out().join("coverage.lcov"), 4, 5);
}

/// Runs Debian's `genhtml` (package `lcov`) on the tracefile and checks the branch totals
/// it read. `.ci/run` installs it; elsewhere the check is skipped with a note.
fn genhtml_accepts(cwd: &Path, lcov: &Path, hit: usize, found: usize) {
    let html = cwd.join("lcov-html");
    let output = match Command::new("genhtml")
        .arg("--branch-coverage")
        .arg("--output-directory")
        .arg(&html)
        .arg(lcov)
        .current_dir(cwd)
        .output()
    {
        Ok(output) => output,
        Err(_) => {
            assert!(
                std::env::var_os("CI").is_none(),
                "genhtml must be installed in CI (.ci/run installs lcov)"
            );
            eprintln!("note: genhtml is not installed; skipping the LCOV rendering check");
            return;
        }
    };
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "genhtml rejected the file:\n{log}");
    let percent = hit as f64 * 100.0 / found as f64;
    assert!(
        log.contains(&format!("({hit} of {found} branches)")),
        "genhtml read other totals ({percent:.1} % expected):\n{log}"
    );
    assert!(html.join("index.html").exists());
}

#[test]
fn catalog_gate_and_case_mistakes_are_config_errors_naming_file_and_line() {
    let rt = runtime();
    let agent = serve(&rt, Behaviour::Echo);
    let check = |catalog: &str, gates: &str, case_yaml: &str, wanted: &[&str]| {
        let s = http_suite(&agent.url, gates);
        std::fs::write(s.evals().join("branches.yaml"), catalog).unwrap();
        s.case("a.yaml", case_yaml);
        let run = s.run(&[]);
        assert_eq!(run.code, 2, "{}", run.all());
        for want in wanted {
            assert!(
                run.stderr.contains(want),
                "missing {want:?} in:\n{}",
                run.stderr
            );
        }
        assert!(!run.all().contains("test result"), "nothing ran");
    };
    let ok_case = case("[route.refund]", "  - branches: [route.refund]");
    check(
        "points:\n  route:\n    branches:\n      refund: {}\n      refund: {}\n",
        "",
        &ok_case,
        &["evals/branches.yaml:5", "duplicate"],
    );
    check(
        "points:\n  route:\n    branches:\n      refund: {risk: severe}\n",
        "",
        &ok_case,
        &["evals/branches.yaml:4", "severe"],
    );
    check(
        CATALOG,
        "",
        &case(
            "[route.refund]",
            "  - contains: hello\n  - not_branches: [route.hadnoff]",
        ),
        &[
            "evals/cases/a.yaml:7",
            "`not_branches` names `route.hadnoff`, which is not in the branch catalog",
            "the branches of `route` are: refund, handoff, status",
        ],
    );
    check(
        CATALOG,
        "gates:\n  - {metric: coverage.brnaches, min: 0.8}\n",
        &ok_case,
        &[
            "evals/evalgate.yaml:5",
            "unknown metric `coverage.brnaches`",
            "coverage.branches",
        ],
    );
    check(
        CATALOG,
        "gates:\n  - {metric: coverage.branches, min: 80}\n",
        &ok_case,
        &["evals/evalgate.yaml:5", "between 0 and 1"],
    );
    check(
        CATALOG,
        "gates:\n  - {metric: coverage.point.routing, min: 0.5}\n",
        &ok_case,
        &["decision point the catalog does not list"],
    );
    // Without a catalog, coverage gates cannot mean anything.
    let s = TempSuite::new(&format!(
        "target:\n  http: {{url: \"{}/v1/agent\"}}\ngates:\n  - {{metric: coverage.branches, min: 0.5}}\n",
        agent.url
    ));
    s.case("a.yaml", &ok_case);
    let run = s.run(&[]);
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(
        run.stderr.contains("needs a branch catalog"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_changed_planner_prompt_makes_the_catalog_stale_until_it_is_stamped() {
    let rt = runtime();
    let agent = serve(&rt, Behaviour::Echo);
    let s = http_suite(
        &agent.url,
        "gates:\n  - {metric: catalog.stale_sources, max: 0}\n  - {metric: coverage.high_risk_uncovered, max: 0, level: warn}\n",
    );
    let prompt = s.path().join("planner.md");
    std::fs::write(&prompt, "Route refunds to the refund flow.\n").unwrap();
    let hash = {
        let suggest = s.evalgate(&["catalog", "suggest", "--tools", "tools.json"]);
        assert_eq!(suggest.code, 2, "no tools file yet: {}", suggest.all());
        sha256(&prompt)
    };
    let catalog = format!("sources:\n  - path: ../planner.md\n    sha256: {hash}\n{CATALOG}");
    std::fs::write(s.evals().join("branches.yaml"), &catalog).unwrap();
    s.case(
        "a.yaml",
        &case("[route.refund]", "  - branches: [route.refund]"),
    );
    assert_eq!(s.run(&[]).code, 0);

    std::fs::write(&prompt, "Route refunds to a human when over $500.\n").unwrap();
    let run = s.run(&[]);
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(
        run.stderr
            .contains("the planner changed; the catalog may be stale: ../planner.md changed"),
        "{}",
        run.stderr
    );
    let stamp = s.evalgate(&["catalog", "stamp", "evals"]);
    assert_eq!(stamp.code, 0, "{}", stamp.all());
    let stamped = std::fs::read_to_string(s.evals().join("branches.yaml")).unwrap();
    assert!(stamped.contains(&sha256(&prompt)), "{stamped}");
    assert!(stamped.starts_with("reviewed: "), "{stamped}");
    assert_eq!(s.run(&[]).code, 0);
}

fn sha256(path: &Path) -> String {
    let out = Command::new("sha256sum").arg(path).output().unwrap();
    String::from_utf8(out.stdout).unwrap()[..64].to_string()
}

#[test]
fn catalog_suggest_proposes_tools_and_observed_decisions_as_a_loadable_catalog() {
    let rt = runtime();
    let agent = serve(&rt, Behaviour::Echo);
    let s = TempSuite::new(&format!(
        "target:\n  http: {{url: \"{}/v1/agent\"}}\n",
        agent.url
    ));
    s.case(
        "a.yaml",
        &case(
            "[route.refund, tool.lookup_order]",
            "  - branches: [route.refund]",
        ),
    );
    assert_eq!(s.run(&[]).code, 0);
    std::fs::write(
        s.path().join("tools.json"),
        r#"[{"type": "function", "function": {"name": "lookup_order", "description": "Find an order by id"}},
            {"type": "function", "function": {"name": "issue_refund", "description": "Refund an order"}}]"#,
    )
    .unwrap();
    let run = s.evalgate(&["catalog", "suggest", "--tools", "tools.json", "--latest"]);
    assert_eq!(run.code, 0, "{}", run.all());
    let yaml = run.stdout;
    assert!(yaml.contains("path: \"../tools.json\""), "{yaml}");
    assert!(yaml.contains("issue_refund: {risk: medium, description: \"Refund an order\"}  # a tool in the tools file; never seen in the run"), "{yaml}");
    assert!(
        yaml.contains("refund: {risk: medium}  # seen in 1 sample(s) of 1 case(s)"),
        "{yaml}"
    );
    // The proposal is a catalog the suite loads as it is.
    std::fs::write(s.evals().join("branches.yaml"), &yaml).unwrap();
    let run = s.run(&[]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(
        run.stderr.contains("planner coverage 2/3 branches"),
        "{}",
        run.stderr
    );
}

/// An agent that writes an OTLP trace file per sample (the sample traces of a GenAI agent
/// from the OpenTelemetry conventions): its `execute_tool` spans are the decisions.
#[test]
fn decisions_come_from_each_samples_otlp_trace_file() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/traces");
    let s = TempSuite::new(&format!(
        "target:\n  command:\n    program: {:?}\n    args: [{:?}]\ntraces: {{}}\n",
        python(),
        scripted_agent().display().to_string()
    ));
    let with_trace = |name: &str, trace: &str, expect: &str| {
        s.case(
            &format!("{name}.yaml"),
            &format!(
                "input:\n  messages: [{{role: user, content: refund my invoice}}]\n  vars: {{mode: trace, trace: {trace:?}}}\nexpect:\n{expect}\n"
            ),
        );
    };
    let json = fixtures.join("otlp_genai_agent_trace.json");
    let jsonl = fixtures.join("otlp_genai_agent_trace.jsonl");
    with_trace(
        "json",
        json.to_str().unwrap(),
        "  - path: [tool.lookup_invoice, tool.issue_refund]",
    );
    with_trace(
        "jsonl",
        jsonl.to_str().unwrap(),
        "  - path: [tool.lookup_invoice, tool.issue_refund]",
    );
    with_trace(
        "wrong_order",
        json.to_str().unwrap(),
        "  - path: [tool.issue_refund, tool.lookup_invoice]",
    );
    with_trace("missing", "", "  - branches: [tool.lookup_invoice]");
    let truncated = s.path().join("truncated.jsonl");
    let text = std::fs::read_to_string(&jsonl).unwrap();
    std::fs::write(&truncated, &text[..text.len() / 2]).unwrap();
    with_trace(
        "truncated",
        truncated.to_str().unwrap(),
        "  - branches: [tool.lookup_invoice]",
    );
    let not_otlp = s.path().join("not_otlp.json");
    std::fs::write(&not_otlp, r#"{"spans": []}"#).unwrap();
    with_trace(
        "not_otlp",
        not_otlp.to_str().unwrap(),
        "  - branches: [tool.lookup_invoice]",
    );
    // A span that names a decision point but no branch: not a decision, and not silently
    // dropped either — a warning in the sample's record and on the terminal.
    let half = s.path().join("half.json");
    std::fs::write(
        &half,
        std::fs::read_to_string(&json).unwrap().replacen(
            r#""key": "gen_ai.tool.name""#,
            r#""key": "evalgate.decision", "value": {"stringValue": "route"}}, {"key": "x""#,
            1,
        ),
    )
    .unwrap();
    with_trace(
        "half",
        half.to_str().unwrap(),
        "  - branches: [tool.issue_refund]",
    );
    let run = s.run(&[]);
    assert_eq!(run.code, 1, "{}", run.all());
    let half_sample = s
        .records_of("sample")
        .into_iter()
        .find(|r| r["case"] == "half")
        .unwrap();
    let warnings = half_sample["warnings"]
        .as_array()
        .expect("warnings recorded");
    assert!(
        warnings
            .iter()
            .any(|w| w.as_str().unwrap().contains("evalgate.branch")),
        "{half_sample:#}"
    );
    assert!(
        run.stderr.contains("evalgate: warning: half (sample 0): "),
        "{}",
        run.stderr
    );
    let verdict = |id: &str| {
        s.records_of("case")
            .into_iter()
            .find(|c| c["case"] == id)
            .unwrap_or_else(|| panic!("no case {id}"))
    };
    assert_eq!(verdict("json")["verdict"], "pass", "{:#}", verdict("json"));
    assert_eq!(verdict("jsonl")["verdict"], "pass");
    let wrong = verdict("wrong_order");
    assert_eq!(wrong["verdict"], "fail");
    assert!(
        wrong["message"]
            .as_str()
            .unwrap()
            .contains("no tool.lookup_invoice after tool.issue_refund; observed tool.lookup_invoice → tool.issue_refund"),
        "{wrong:#}"
    );
    for (id, why) in [
        ("missing", "the agent wrote no trace file at"),
        ("truncated", "the line is cut short"),
        ("not_otlp", "resourceSpans"),
    ] {
        let case = verdict(id);
        assert_eq!(case["verdict"], "error", "{case:#}");
        assert!(
            case["message"].as_str().unwrap().contains(why),
            "{id}: {case:#}"
        );
    }
    // The trace files live in the run folder, one per sample.
    let run_dir = &s.run_dirs()[0];
    assert!(run_dir.join("traces/json/0.otlp.jsonl").exists());
}
