//! Targets against real faults: every test runs the real `evalgate` binary against a real
//! loopback server (the mock agent, or the demo agent) or a real process (command target).
//!
//! For every fault: the case verdict is `error` (never pass), the reason is in the case
//! record's `message` and in the sample record's `error`, the other cases of the run still
//! get their records, the exit code is 1 and JUnit marks the case `<error>`.

use crate::support::junit_xml;
use crate::support::mock_agent;
use crate::support::suite;

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mock_agent::{Behaviour, closed_port, runtime, serve as mock};
use serde_json::{Value, json};
use suite::{Run, TempSuite, all_files, contains_bytes, simple_case};

// ---------------------------------------------------------------------------------------
// helpers

/// A suite whose target is the http agent at `base` (`http://127.0.0.1:PORT`).
pub(super) fn http_suite(base: &str, extra: &str) -> TempSuite {
    TempSuite::new(&format!(
        "target:\n  http:\n    url: \"{base}/v1/agent\"\n{extra}"
    ))
}

/// Two plain cases, `a` and `b`, that would pass against an echoing agent.
pub(super) fn two_cases(s: &TempSuite, extra: &str) {
    s.case(
        "a.yaml",
        &format!("{}{extra}", simple_case("hello a", "  - contains: hello")),
    );
    s.case(
        "b.yaml",
        &format!("{}{extra}", simple_case("hello b", "  - contains: hello")),
    );
}

pub(super) fn case_record(s: &TempSuite, id: &str) -> Value {
    let found: Vec<Value> = s
        .records_of("case")
        .into_iter()
        .filter(|r| r["case"] == id)
        .collect();
    assert_eq!(
        found.len(),
        1,
        "exactly one case record for `{id}`; records: {:#?}",
        s.records()
    );
    found.into_iter().next().unwrap()
}

pub(super) fn sample_records(s: &TempSuite, id: &str) -> Vec<Value> {
    let found: Vec<Value> = s
        .records_of("sample")
        .into_iter()
        .filter(|r| r["case"] == id)
        .collect();
    assert!(
        !found.is_empty(),
        "no sample record for `{id}`; records: {:#?}",
        s.records()
    );
    found
}

/// The JUnit status of testcase `name`: (`"error"`, `"failure"` or `"success"`, the status
/// element's message attribute and text).
pub(super) fn junit_status(xml: &str, name: &str) -> (String, String) {
    let doc = roxmltree::Document::parse(xml)
        .unwrap_or_else(|e| panic!("junit.xml is not well-formed XML: {e}\n{xml}"));
    let cases: Vec<roxmltree::Node> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase") && n.attribute("name") == Some(name))
        .collect();
    assert_eq!(cases.len(), 1, "one testcase named `{name}` in\n{xml}");
    let status = cases[0]
        .children()
        .find(|c| c.has_tag_name("error") || c.has_tag_name("failure"));
    match status {
        None => ("success".into(), String::new()),
        Some(node) => (
            node.tag_name().name().to_string(),
            format!(
                "{}\n{}",
                node.attribute("message").unwrap_or_default(),
                node.text().unwrap_or_default()
            ),
        ),
    }
}

/// Everything the brief promises for a fault: every case in `ids` errored with `needle` in
/// its case message, its samples' `error` and its JUnit `<error>`; the run exited 1.
pub(super) fn assert_fault(s: &TempSuite, run: &Run, ids: &[&str], needle: &str) {
    assert_eq!(
        run.code,
        1,
        "a run with errored cases exits 1\n{}",
        run.all()
    );
    let xml = s.junit();
    for id in ids {
        let case = case_record(s, id);
        assert_eq!(case["verdict"], "error", "case `{id}`: {case:#}");
        assert_eq!(case["failed"], true, "case `{id}`: {case:#}");
        assert_eq!(case["passes"], 0, "case `{id}`: {case:#}");
        let message = case["message"].as_str().unwrap_or_default();
        assert!(
            message.contains(needle),
            "case `{id}` message lacks {needle:?}: {message}"
        );
        for sample in sample_records(s, id) {
            assert_eq!(sample["verdict"], "error", "{sample:#}");
            let error = sample["error"].as_str().unwrap_or_default();
            assert!(
                error.contains(needle),
                "sample error of `{id}` lacks {needle:?}: {sample:#}"
            );
        }
        let (kind, text) = junit_status(&xml, id);
        assert_eq!(kind, "error", "JUnit status of `{id}`:\n{xml}");
        assert!(
            text.contains(needle),
            "JUnit <error> of `{id}` lacks {needle:?}: {text}"
        );
    }
}

#[test]
fn agent_down_is_an_error_after_counted_retries() {
    let closed = closed_port();
    let port = closed.port;
    let s = http_suite(
        &format!("http://127.0.0.1:{port}"),
        "retries: {max: 2, max_wait: 1s}\n",
    );
    two_cases(&s, "");
    let run = s.run(&[]);
    assert_fault(&s, &run, &["a", "b"], "connection failed");
    for id in ["a", "b"] {
        for sample in sample_records(&s, id) {
            assert_eq!(sample["attempts"], 3, "1 attempt + 2 retries: {sample:#}");
            let retries = sample["retries"].as_array().expect("retries is a list");
            assert_eq!(retries.len(), 2, "{sample:#}");
            for retry in retries {
                assert!(
                    retry.as_str().unwrap().contains("connection failed"),
                    "each retry says why: {sample:#}"
                );
            }
        }
    }
    // The counted retries reach JUnit too.
    let xml = s.junit();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let retries: Vec<String> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .filter_map(|n| junit_xml::fact(n, "retries"))
        .collect();
    assert_eq!(retries, ["2", "2"], "{xml}");
}

// 2. slow agent

#[test]
fn slow_agent_times_out_at_the_case_timeout() {
    let rt = runtime();
    let agent = mock(&rt, Behaviour::Delay(Duration::from_secs(3)));
    let s = http_suite(&agent.url, "");
    two_cases(&s, "timeout: 300ms\n");
    let clock = Instant::now();
    let run = s.run(&[]);
    let took = clock.elapsed();
    assert_fault(&s, &run, &["a", "b"], "timed out after 300ms");
    assert!(
        took < Duration::from_millis(2500),
        "two cases with a 300ms timeout took {took:?}: the 3 s agent was awaited"
    );
    assert!(agent.hits() >= 2, "both cases called the agent");
    for id in ["a", "b"] {
        for sample in sample_records(&s, id) {
            let latency = sample["latency_ms"].as_f64().unwrap();
            assert!(
                (250.0..2000.0).contains(&latency),
                "the sample ended at its timeout: {sample:#}"
            );
        }
    }
}

// 3. HTTP 500, and a 4xx that must not be retried

#[test]
fn http_500_is_an_error_after_the_configured_retries() {
    let rt = runtime();
    let agent = mock(&rt, Behaviour::Status(500));
    let s = http_suite(&agent.url, "retries: {max: 3, max_wait: 50ms}\n");
    two_cases(&s, "");
    let run = s.run(&[]);
    assert_fault(&s, &run, &["a", "b"], "HTTP 500");
    assert_eq!(
        agent.hits(),
        2 * (1 + 3),
        "each case: 1 attempt + 3 retries"
    );
    for id in ["a", "b"] {
        for sample in sample_records(&s, id) {
            assert_eq!(sample["attempts"], 4, "{sample:#}");
            assert_eq!(sample["retries"].as_array().unwrap().len(), 3, "{sample:#}");
            assert!(
                sample["error"]
                    .as_str()
                    .unwrap()
                    .contains("gave up after 4 attempts"),
                "{sample:#}"
            );
        }
    }
}

#[test]
fn http_4xx_is_an_error_without_retries() {
    let rt = runtime();
    let agent = mock(&rt, Behaviour::Status(404));
    let s = http_suite(&agent.url, "retries: {max: 3, max_wait: 50ms}\n");
    two_cases(&s, "");
    let run = s.run(&[]);
    assert_fault(&s, &run, &["a", "b"], "HTTP 404");
    assert_eq!(
        agent.hits(),
        2,
        "a 404 is not a transport failure: no retry"
    );
    for id in ["a", "b"] {
        for sample in sample_records(&s, id) {
            assert_eq!(sample["attempts"], 1, "{sample:#}");
            assert_eq!(sample["retries"], json!([]), "{sample:#}");
        }
    }
}

// 4. 429 with Retry-After

#[test]
fn http_429_honours_retry_after_then_passes() {
    let rt = runtime();
    let agent = mock(
        &rt,
        Behaviour::RetryAfter {
            status: 429,
            seconds: 1,
            then_ok_after: 1,
        },
    );
    let s = http_suite(&agent.url, "retries: {max: 2, max_wait: 5s}\n");
    s.case("a.yaml", &simple_case("hello a", "  - contains: hello a"));
    let run = s.run(&[]);
    assert_eq!(run.code, 0, "the retry succeeded\n{}", run.all());
    assert_eq!(case_record(&s, "a")["verdict"], "pass");
    assert_eq!(agent.hits(), 2);
    let samples = sample_records(&s, "a");
    assert_eq!(samples.len(), 1);
    let sample = &samples[0];
    assert_eq!(sample["verdict"], "pass", "{sample:#}");
    assert_eq!(sample["attempts"], 2, "{sample:#}");
    assert_eq!(sample["error"], Value::Null, "{sample:#}");
    let retries = sample["retries"].as_array().unwrap();
    assert_eq!(retries.len(), 1, "{sample:#}");
    let reason = retries[0].as_str().unwrap();
    assert!(
        reason.contains("429") && reason.contains("Retry-After"),
        "the retry reason names the 429 and the Retry-After: {reason}"
    );
    assert!(
        sample["latency_ms"].as_f64().unwrap() >= 950.0,
        "Retry-After: 1 was waited for: {sample:#}"
    );
    let xml = s.junit();
    let (kind, _) = junit_status(&xml, "a");
    assert_eq!(kind, "success");
    assert!(
        xml.contains("\nretries: 1\n"),
        "the retry is counted in JUnit: {xml}"
    );
}

#[test]
fn http_429_asking_longer_than_max_wait_is_an_error() {
    let rt = runtime();
    let agent = mock(
        &rt,
        Behaviour::RetryAfter {
            status: 429,
            seconds: 1,
            then_ok_after: 1000,
        },
    );
    let s = http_suite(&agent.url, "retries: {max: 2, max_wait: 0s}\n");
    two_cases(&s, "");
    let clock = Instant::now();
    let run = s.run(&[]);
    assert_fault(&s, &run, &["a", "b"], "Retry-After");
    assert_fault(&s, &run, &["a", "b"], "429");
    assert_eq!(
        agent.hits(),
        2,
        "no retry when Retry-After exceeds max_wait"
    );
    for id in ["a", "b"] {
        let sample = &sample_records(&s, id)[0];
        assert!(
            sample["error"].as_str().unwrap().contains("max_wait"),
            "{sample:#}"
        );
        assert_eq!(sample["attempts"], 1, "{sample:#}");
    }
    assert!(clock.elapsed() < Duration::from_secs(5), "no long wait");
}

// 5. malformed answers

#[test]
fn invalid_json_is_an_error() {
    let rt = runtime();
    let agent = mock(&rt, Behaviour::InvalidJson);
    let s = http_suite(&agent.url, "");
    two_cases(&s, "");
    let run = s.run(&[]);
    assert_fault(&s, &run, &["a", "b"], "invalid JSON");
    assert_eq!(agent.hits(), 2, "a malformed answer is not retried");
}

#[test]
fn answer_without_output_names_the_json_pointer() {
    let rt = runtime();
    let agent = mock(
        &rt,
        Behaviour::Fixed(json!({"text": "hello", "decisions": ["route.echo"]})),
    );
    let s = http_suite(&agent.url, "");
    two_cases(&s, "");
    let run = s.run(&[]);
    assert_fault(&s, &run, &["a", "b"], "JSON pointer `/output`");
}

// 6. a 100 MB answer

#[test]
fn huge_response_is_cut_at_response_bytes_with_bounded_memory() {
    let rt = runtime();
    let agent = mock(
        &rt,
        Behaviour::Huge {
            bytes: 100 * 1024 * 1024,
        },
    );
    let s = http_suite(&agent.url, "");
    two_cases(&s, "");
    let time = Path::new("/usr/bin/time");
    let rss_file = s.path().join("peak-rss-kb");
    let mut cmd = if time.exists() {
        let mut cmd = Command::new(time);
        cmd.arg("-o")
            .arg(&rss_file)
            .args(["-f", "%M", env!("CARGO_BIN_EXE_evalgate")]);
        cmd
    } else {
        Command::new(env!("CARGO_BIN_EXE_evalgate"))
    };
    cmd.args(["run", "evals", "--"])
        .current_dir(s.path())
        .env("EVALGATE_OUT", s.out())
        .env_remove("NEXTEST_RUN_ID")
        .env_remove("EVALGATE_RUN_ID")
        .env_remove("EVALGATE_CONCURRENCY")
        .env_remove("GITHUB_ACTIONS");
    let output = cmd.output().expect("evalgate runs");
    let run = Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    };
    assert_fault(&s, &run, &["a", "b"], "response_bytes");
    if time.exists() {
        let text = std::fs::read_to_string(&rss_file).expect("/usr/bin/time wrote the peak RSS");
        let kb: u64 = text
            .lines()
            .rev()
            .find_map(|l| l.trim().parse().ok())
            .unwrap_or_else(|| panic!("no peak RSS in {text:?}"));
        eprintln!("evalgate's peak RSS: {kb} KiB");
        assert!(
            kb < 100 * 1024,
            "evalgate's peak RSS was {kb} KiB reading two 100 MB answers: not bounded"
        );
    } else {
        eprintln!("note: /usr/bin/time not found; peak RSS not checked");
    }
}

// 7. command target

#[test]
fn openai_target_against_the_demo_agent_and_the_key_never_leaks() {
    use evalgate_cli::demo::{DemoAgent, DemoServer, DemoVersion};

    const SECRET: &str = "sk-test-SECRET-123";
    let openai_suite = |base: &str| {
        TempSuite::new(&format!(
            "target:\n  openai:\n    base_url: \"{base}/v1\"\n    model: demo\n    api_key_env: EG_TEST_KEY\n    tools:\n      - {{type: function, function: {{name: lookup_order, parameters: {{type: object}}}}}}\n"
        ))
    };
    let rt = runtime();
    let server = rt
        .block_on(DemoServer::start(Arc::new(DemoAgent::new(DemoVersion::V1))))
        .expect("the demo agent starts");
    let s = openai_suite(&server.url());
    s.case(
        "where.yaml",
        &simple_case(
            "Where is my order A1001?",
            "  - branches: [tool.lookup_order]\n  - contains: shipped",
        ),
    );
    let run = s.evalgate_env(&["run", "evals"], &[("EG_TEST_KEY", SECRET)]);
    assert_eq!(run.code, 0, "{}", run.all());
    let case = case_record(&s, "where");
    assert_eq!(case["verdict"], "pass", "{case:#}");
    let sample = &sample_records(&s, "where")[0];
    assert_eq!(sample["model"], "demo-support-1", "{sample:#}");
    assert!(
        sample["decisions"]
            .as_array()
            .unwrap()
            .contains(&json!("tool.lookup_order"))
            || sample["decisions"]
                .as_array()
                .unwrap()
                .contains(&json!({"point": "tool", "branch": "lookup_order"})),
        "{sample:#}"
    );
    assert_eq!(junit_status(&s.junit(), "where").0, "success");

    // The same suite against an agent that is down: error paths must not leak it either.
    let closed = closed_port();
    let down = openai_suite(&format!("http://127.0.0.1:{}", closed.port));
    std::fs::write(
        down.evals().join("evalgate.yaml"),
        format!(
            "{}retries: {{max: 1, max_wait: 10ms}}\n",
            std::fs::read_to_string(down.evals().join("evalgate.yaml")).unwrap()
        ),
    )
    .unwrap();
    down.case(
        "where.yaml",
        &simple_case("Where is my order A1001?", "  - contains: shipped"),
    );
    let down_run = down.evalgate_env(&["run", "evals"], &[("EG_TEST_KEY", SECRET)]);
    assert_fault(&down, &down_run, &["where"], "connection failed");

    for (suite, run) in [(&s, &run), (&down, &down_run)] {
        let mut files = Vec::new();
        all_files(&suite.out(), &mut files);
        assert!(
            files.iter().any(|(p, _)| p.ends_with("junit.xml"))
                && files
                    .iter()
                    .any(|(p, _)| p.extension().is_some_and(|e| e == "jsonl")),
            "records and junit were written: {:?}",
            files.iter().map(|(p, _)| p).collect::<Vec<_>>()
        );
        for (path, bytes) in &files {
            assert!(
                !contains_bytes(bytes, SECRET.as_bytes()),
                "the API key leaked into {}",
                path.display()
            );
        }
        assert!(
            !run.all().contains(SECRET),
            "the API key leaked into the output"
        );
    }
}

#[test]
fn openai_api_key_env_unset_is_a_config_error_naming_the_variable() {
    const VAR: &str = "EG_TEST_UNSET_KEY_9F3A";
    assert!(std::env::var_os(VAR).is_none(), "{VAR} must not be set");
    let closed = closed_port();
    let s = TempSuite::new(&format!(
        "target:\n  openai:\n    base_url: \"http://127.0.0.1:{}/v1\"\n    model: demo\n    api_key_env: {VAR}\n",
        closed.port
    ));
    s.case("a.yaml", &simple_case("hello", "  - contains: hello"));
    let run = s.run(&[]);
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(
        run.stderr.contains(VAR),
        "the message names {VAR}: {}",
        run.all()
    );
    assert!(
        s.records_of("case").is_empty(),
        "nothing ran: {:#?}",
        s.records()
    );
}
