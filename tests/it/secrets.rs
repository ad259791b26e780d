//! Secrets handed to the agent — what `${NAME}` expands to in a target's URL, headers and a
//! command's environment, and the `openai` API key — appear in nothing evalgate prints or
//! writes, whatever goes wrong: a refused connection, a redirect to another origin, a
//! command that echoes its environment, a config error. Every run is under GitHub Actions,
//! so annotations and the step summary are written too; the whole output folder (records,
//! JUnit, the step summary, the history store and its export) and every line of stdout and
//! stderr are searched.

use crate::support::mock_agent;
use crate::support::suite;

use mock_agent::{Behaviour, closed_port, runtime, serve as mock};
use serde_json::Value;
use suite::{Run, TempSuite, all_files, contains_bytes, simple_case};

/// Each secret under the variable that holds it.
const SECRETS: [(&str, &str); 4] = [
    ("EG_URL_SECRET", "urlsecret-5b1e0c9d7a"),
    ("EG_HEADER_SECRET", "hdrsecret-3f8a2b6c4e"),
    ("EG_ENV_SECRET", "envsecret-9d2c7e1a0f"),
    ("EG_KEY_SECRET", "keysecret-6a4f0d3b8c"),
];

fn secret(name: &str) -> &'static str {
    SECRETS.iter().find(|(n, _)| *n == name).unwrap().1
}

/// An `http` target at `base` with a token in its URL's query and a key in a header.
fn http_target(base: &str) -> String {
    format!(
        "target:\n  http:\n    url: \"{base}/v1/agent?token=${{EG_URL_SECRET}}\"\n    headers: {{X-Api-Key: \"${{EG_HEADER_SECRET}}\"}}\nretries: {{max: 1, max_wait: 10ms}}\n"
    )
}

/// An `openai` target at `base` with a token in its URL's path, a key in a header and the
/// API key from the environment.
fn openai_target(base: &str) -> String {
    format!(
        "target:\n  openai:\n    base_url: \"{base}/gateway/${{EG_URL_SECRET}}/v1\"\n    model: m\n    api_key_env: EG_KEY_SECRET\n    headers: {{X-Api-Key: \"${{EG_HEADER_SECRET}}\"}}\nretries: {{max: 1, max_wait: 10ms}}\n"
    )
}

/// `evalgate run`, then `evalgate history export`, both under GitHub Actions with every
/// secret in the environment. The step summary is written into the output folder.
fn run_with_secrets(s: &TempSuite) -> (Run, Run) {
    std::fs::create_dir_all(s.out()).unwrap();
    let summary = s.out().join("step-summary.md");
    let mut env: Vec<(&str, &str)> = SECRETS.to_vec();
    let summary_text = summary.display().to_string();
    env.extend([
        ("GITHUB_ACTIONS", "true"),
        ("GITHUB_STEP_SUMMARY", summary_text.as_str()),
    ]);
    let run = s.evalgate_env(&["run", "evals"], &env);
    let export = s.out().join("history-export.jsonl").display().to_string();
    let exported = s.evalgate_env(&["history", "export", "--to", &export], &env);
    assert_eq!(exported.code, 0, "{}", exported.all());
    (run, exported)
}

/// No secret in any file of the output folder nor in any line either command printed; and
/// the run did write what is searched (records, JUnit, the step summary, history, its
/// export, annotations).
fn assert_no_secret(s: &TempSuite, runs: &[&Run]) {
    let mut files = Vec::new();
    all_files(&s.out(), &mut files);
    let names: Vec<String> = files
        .iter()
        .map(|(p, _)| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    for expected in [
        "junit.xml",
        "step-summary.md",
        "history.sqlite",
        "history-export.jsonl",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} was written: {names:?}"
        );
    }
    assert!(
        names
            .iter()
            .any(|n| n.ends_with(".jsonl") && n.starts_with("records-"))
    );
    assert!(
        runs[0].stdout.lines().any(|l| l.starts_with("::error ")),
        "annotations were printed:\n{}",
        runs[0].stdout
    );
    for (_, value) in SECRETS {
        for (path, bytes) in &files {
            assert!(
                !contains_bytes(bytes, value.as_bytes()),
                "{value} leaked into {}: {:?}",
                path.display(),
                String::from_utf8_lossy(bytes)
                    .lines()
                    .find(|l| l.contains(value))
            );
        }
        for run in runs {
            for line in run.all().lines() {
                assert!(
                    !line.contains(value),
                    "{value} leaked into the output: {line}"
                );
            }
        }
    }
}

/// The `error` of each sample of the run, which must all have errored.
fn sample_errors(s: &TempSuite) -> Vec<String> {
    let samples = s.records_of("sample");
    assert!(!samples.is_empty(), "samples were recorded");
    samples
        .iter()
        .map(|sample| {
            assert_eq!(sample["verdict"], "error", "{sample:#}");
            sample["error"].as_str().unwrap_or_default().to_string()
        })
        .collect()
}

#[test]
fn a_refused_connection_names_the_target_without_its_secrets() {
    let closed = closed_port();
    let port = closed.port;
    for target in [
        http_target(&format!("http://127.0.0.1:{port}")),
        openai_target(&format!("http://127.0.0.1:{port}")),
    ] {
        let s = TempSuite::new(&target);
        s.case("a.yaml", &simple_case("hello", "  - contains: hello"));
        let (run, exported) = run_with_secrets(&s);
        assert_eq!(run.code, 1, "{}", run.all());
        for error in sample_errors(&s) {
            assert!(error.contains("connection failed"), "{error}");
            assert!(
                error.contains(&format!("http://127.0.0.1:{port}/")),
                "the error names the target: {error}"
            );
        }
        assert_no_secret(&s, &[&run, &exported]);
    }
}

#[test]
fn a_redirect_to_another_origin_is_an_error_and_sends_it_nothing() {
    let rt = runtime();
    // Another port of the same host is another origin.
    let elsewhere = mock(&rt, Behaviour::Echo);
    let redirecting = mock(
        &rt,
        Behaviour::Redirect {
            status: 307,
            location: format!("{}/landing", elsewhere.url),
        },
    );
    for target in [
        http_target(&redirecting.url),
        openai_target(&redirecting.url),
    ] {
        let s = TempSuite::new(&target);
        s.case("a.yaml", &simple_case("hello", "  - contains: hello"));
        let (run, exported) = run_with_secrets(&s);
        assert_eq!(run.code, 1, "{}", run.all());
        for error in sample_errors(&s) {
            assert!(error.contains("redirect"), "{error}");
            assert!(
                error.contains(&format!("{}/", redirecting.url)),
                "the error names the target: {error}"
            );
            assert!(!error.contains("token="), "{error}");
        }
        assert_no_secret(&s, &[&run, &exported]);
    }
    assert!(redirecting.hits() >= 2, "both targets were called");
    assert_eq!(
        elsewhere.heads(),
        Vec::<String>::new(),
        "nothing was sent to the other origin"
    );
}

#[test]
fn a_redirect_within_the_origin_is_followed_without_a_referer() {
    let rt = runtime();
    let agent = mock(
        &rt,
        Behaviour::Redirect {
            status: 307,
            location: "/landing".into(),
        },
    );
    let s = TempSuite::new(&http_target(&agent.url));
    s.case("a.yaml", &simple_case("hello", "  - contains: hello"));
    let run = s.evalgate_env(&["run", "evals"], &SECRETS);
    assert_eq!(run.code, 0, "{}", run.all());
    let heads = agent.heads();
    assert_eq!(heads.len(), 2, "{heads:#?}");
    assert!(heads[1].starts_with("POST /landing"), "{heads:#?}");
    assert!(
        !heads[1].to_ascii_lowercase().contains("\nreferer:"),
        "no Referer: {heads:#?}"
    );
}

#[test]
fn a_command_agent_echoing_its_environment_leaks_nothing() {
    // Case `crash` prints its token to stderr and exits 3 (its stderr is quoted in the
    // error); case `echo` answers with its token, which then fails an expectation (its
    // output is quoted as the actual value).
    let script = r#"request=$(cat)
case "$request" in
  *'"case":"crash"'*) echo "token=$AGENT_TOKEN" >&2; exit 3;;
  *) printf '{"output": "my token is %s"}' "$AGENT_TOKEN";;
esac"#;
    let s = TempSuite::new(&format!(
        "target:\n  command:\n    program: sh\n    args: [\"-c\", {script:?}]\n    env: {{AGENT_TOKEN: \"${{EG_ENV_SECRET}}\"}}\n"
    ));
    s.case("crash.yaml", &simple_case("hello", "  - contains: hello"));
    s.case("echo.yaml", &simple_case("hello", "  - contains: hello"));
    let (run, exported) = run_with_secrets(&s);
    assert_eq!(run.code, 1, "{}", run.all());
    let samples = s.records_of("sample");
    let of = |case: &str| -> Value {
        samples
            .iter()
            .find(|r| r["case"] == case)
            .unwrap_or_else(|| panic!("a sample of {case}: {samples:#?}"))
            .clone()
    };
    let crash = of("crash");
    assert_eq!(crash["verdict"], "error", "{crash:#}");
    assert!(
        crash["error"]
            .as_str()
            .unwrap()
            .contains("token=${EG_ENV_SECRET}"),
        "the stderr is quoted with the placeholder: {crash:#}"
    );
    let echo = of("echo");
    assert_eq!(echo["verdict"], "fail", "{echo:#}");
    assert!(
        echo["output"]
            .as_str()
            .unwrap()
            .contains("my token is ${EG_ENV_SECRET}"),
        "{echo:#}"
    );
    assert_no_secret(&s, &[&run, &exported]);
}

#[test]
fn a_config_error_shows_the_placeholder_not_the_value() {
    // Not a URL once expanded: the message quotes the URL as written.
    let s = TempSuite::new(
        "target:\n  http:\n    url: \"${EG_BASE}/v1/agent?token=${EG_URL_SECRET}\"\n",
    );
    s.case("a.yaml", &simple_case("hello", "  - contains: hello"));
    let mut env = SECRETS.to_vec();
    env.push(("EG_BASE", "127.0.0.1:9"));
    let run = s.evalgate_env(&["run", "evals"], &env);
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(
        run.stderr
            .contains("${EG_BASE}/v1/agent?token=${EG_URL_SECRET}"),
        "{}",
        run.all()
    );
    assert!(
        !run.all().contains(secret("EG_URL_SECRET")),
        "{}",
        run.all()
    );
}

/// A secret the agent echoes where evalgate cuts text (a failure's excerpt, a record's
/// output), quoted by Rust's debug format (`"` and `\` escaped), or reported as its model:
/// no part of it long enough to be recognised appears anywhere, and the model the agent
/// reported stays what it was (versions identify what ran).
#[test]
fn a_secret_cut_quoted_or_escaped_leaks_no_part_of_itself() {
    let rt = runtime();
    let tricky = "quote\"and\\back-0004-ZZ";
    let agent = mock(
        &rt,
        Behaviour::Respond(mock_agent::Responder::new(move |_| {
            let long = format!(
                "{}{} and {tricky}",
                "x".repeat(216),
                secret("EG_HEADER_SECRET")
            );
            serde_json::json!({"output": long, "model": "gpt-4o-mini-2024-07-18"})
        })),
    );
    let s = TempSuite::new(&format!(
        "target:\n  http:\n    url: \"{}/v1/agent\"\n    headers: {{X-Api-Key: \"${{EG_HEADER_SECRET}}\", X-Quoted: \"${{EG_TRICKY}}\", X-Model: \"${{EG_MODEL}}\"}}\nlimits:\n  record_output_bytes: 225\n",
        agent.url
    ));
    s.case("cut.yaml", &simple_case("hi", "  - contains: nope"));
    std::fs::create_dir_all(s.out()).unwrap();
    let summary = s.out().join("step-summary.md").display().to_string();
    let mut env: Vec<(&str, &str)> = SECRETS.to_vec();
    env.extend([
        ("EG_TRICKY", tricky),
        ("EG_MODEL", "gpt-4o-mini-2024-07-18"),
        ("GITHUB_ACTIONS", "true"),
        ("GITHUB_STEP_SUMMARY", summary.as_str()),
    ]);
    let run = s.evalgate_env(&["run", "evals"], &env);
    assert_eq!(run.code, 1, "{}", run.all());
    let mut files = Vec::new();
    all_files(&s.out(), &mut files);
    for part in [
        "hdrsecret-3f8",
        "and\\\\back-0004",
        "and\\back-0004",
        "back-0004-ZZ",
    ] {
        for (path, bytes) in &files {
            assert!(
                !contains_bytes(bytes, part.as_bytes()),
                "{part} leaked into {}",
                path.display()
            );
        }
        assert!(!run.all().contains(part), "{part} leaked:\n{}", run.all());
    }
    let sample = s.records_of("sample").remove(0);
    assert_eq!(sample["model"], "gpt-4o-mini-2024-07-18", "{sample}");
}
