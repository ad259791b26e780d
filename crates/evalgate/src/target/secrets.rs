//! The secrets of a run: what each `${NAME}` of the suite's target and load proxy expands
//! to (URLs, headers, a command's environment) and the API key an `openai` target reads —
//! the credentials evalgate hands the agent. Records are written through
//! [`Secrets::redact_json`], and so is every report built from them (JUnit, the step summary
//! and annotations, history and its export); a failing test's message and a snapshot go
//! through [`Secrets::redact`]. Each value is shown as its placeholder `${NAME}`, however it
//! comes back: an error quoting the URL, a command's stderr, an agent echoing its key.

use std::borrow::Cow;

use aho_corasick::{AhoCorasick, MatchKind};

use super::TargetConfig;
use super::expand::{Overrides, references};
use crate::suite::Suite;

/// Values shorter than this are not searched for in free text: scrubbing every `1` or
/// `true` would mangle it, and such values are not credentials. (A target is named by the
/// shown form of its URL, which hides every value whatever its length.)
const MIN_SECRET_CHARS: usize = 8;

/// The values to hide, each with the placeholder shown instead.
#[derive(Clone, Default)]
pub(crate) struct Secrets {
    /// Each value as it may appear in text: as is, and percent-encoded as a URL writes it.
    text: Option<Replacer>,
    /// The same, as written inside a JSON string.
    json: Option<Replacer>,
}

#[derive(Clone)]
struct Replacer {
    matcher: AhoCorasick,
    with: Vec<String>,
}

impl Replacer {
    fn new(patterns: Vec<(String, String)>) -> Option<Replacer> {
        if patterns.is_empty() {
            return None;
        }
        let (forms, with): (Vec<String>, Vec<String>) = patterns.into_iter().unzip();
        // Leftmost-longest: a secret that contains another is replaced whole.
        let matcher = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .build(&forms)
            .expect("plain strings make a matcher");
        Some(Replacer { matcher, with })
    }

    fn replace<'t>(&self, text: &'t str, with: &[String]) -> Cow<'t, str> {
        if self.matcher.is_match(text) {
            Cow::Owned(self.matcher.replace_all(text, with))
        } else {
            Cow::Borrowed(text)
        }
    }
}

/// The secrets of the run this process is taking samples for. Text is hidden before it is
/// cut (an excerpt, a record's output, the first bytes of an error body, a command's stderr
/// tail): a secret cut in two is matched by neither half.
static CURRENT: std::sync::RwLock<Option<Secrets>> = std::sync::RwLock::new(None);

/// Makes `secrets` the ones [`hidden`] hides.
pub(crate) fn install(secrets: &Secrets) {
    *CURRENT.write().unwrap_or_else(|p| p.into_inner()) = Some(secrets.clone());
}

/// `text` with the current run's secrets replaced by their placeholders.
pub(crate) fn hidden(text: &str) -> String {
    match &*CURRENT.read().unwrap_or_else(|p| p.into_inner()) {
        Some(secrets) => secrets.redact(text).into_owned(),
        None => text.to_string(),
    }
}

/// Never prints the values.
impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.text.as_ref().map_or(0, |r| r.with.len());
        write!(f, "Secrets({n} forms)")
    }
}

impl Secrets {
    /// The secrets of `suite` run with `overrides`: the variables its target and its load
    /// proxy's upstream refer to, and the `openai` target's API key.
    pub(crate) fn of_suite(suite: &Suite, overrides: &Overrides) -> Secrets {
        // The target's configuration as written: every `${NAME}` it expands is in there
        // (and a reference in a field that is not expanded only hides more).
        let mut written = suite
            .target
            .as_ref()
            .map(|t| format!("{t:?}"))
            .unwrap_or_default();
        if let Some(load) = &suite.load {
            written.push('\n');
            written.push_str(&load.upstream);
        }
        let mut values: Vec<(String, String)> = references(&written)
            .into_iter()
            .filter_map(|name| overrides.get(name).map(|value| (name.to_string(), value)))
            .collect();
        if let Some(TargetConfig::Openai(config)) = &suite.target
            && let Some(var) = &config.api_key_env
            && let Some(key) = overrides.get(var)
        {
            values.push((var.clone(), key));
        }
        // User info in the URL is sent as `Authorization: Basic base64(user:password)`: an
        // agent echoing its headers shows it in that form.
        let url = match &suite.target {
            Some(TargetConfig::Http(config)) => Some(&config.url),
            Some(TargetConfig::Openai(config)) => Some(&config.base_url),
            _ => None,
        };
        if let Some(Ok(url)) = url.map(|u| overrides.expand(u))
            && let Some((user, password)) = super::client::user_info(&url)
        {
            values.push((
                "the target URL's user info".into(),
                super::client::basic_credentials(user, password),
            ));
        }
        Secrets::new(values)
    }

    /// Secrets from `(name, value)` pairs.
    pub(crate) fn new(values: impl IntoIterator<Item = (String, String)>) -> Secrets {
        let mut text: Vec<(String, String)> = Vec::new();
        for (name, value) in values {
            if value.chars().count() < MIN_SECRET_CHARS {
                continue;
            }
            let placeholder = format!("${{{name}}}");
            for form in written_forms(&value) {
                if !text.iter().any(|(f, _)| *f == form) {
                    text.push((form, placeholder.clone()));
                }
            }
        }
        let json = text
            .iter()
            .map(|(form, placeholder)| (json_string(form), json_string(placeholder)))
            .collect();
        Secrets {
            text: Replacer::new(text),
            json: Replacer::new(json),
        }
    }

    /// `text` with every secret replaced by its placeholder.
    pub(crate) fn redact<'t>(&self, text: &'t str) -> Cow<'t, str> {
        match &self.text {
            Some(r) => r.replace(text, &r.with),
            None => Cow::Borrowed(text),
        }
    }

    /// `text` with every secret replaced by `marker` (snapshots, which must not change
    /// when a variable is renamed).
    pub(crate) fn redact_as<'t>(&self, text: &'t str, marker: &str) -> Cow<'t, str> {
        match &self.text {
            Some(r) => r.replace(text, &vec![marker.to_string(); r.with.len()]),
            None => Cow::Borrowed(text),
        }
    }

    /// A record (a JSON object) with every secret in its string values replaced by its
    /// placeholder: keys and numbers are left alone, so the record stays the record it was
    /// (and is not copied when it holds none). The versions that identify what ran — `model`,
    /// `tier`, `forced_tier`, `envelope`, `pins`, `axes` — are kept as written: hiding a
    /// `${MODEL}` there would make runs of two models one envelope, blind to the change.
    pub(crate) fn redact_json(&self, json: String) -> String {
        let (Some(r), Some(text)) = (&self.json, &self.text) else {
            return json;
        };
        if !r.matcher.is_match(&json) {
            return json;
        }
        let Ok(mut value) = serde_json::from_str::<serde_json::Value>(&json) else {
            return r.matcher.replace_all(&json, &r.with);
        };
        if let serde_json::Value::Object(fields) = &mut value {
            for (key, field) in fields.iter_mut() {
                if !IDENTITY_FIELDS.contains(&key.as_str()) {
                    redact_strings(field, text);
                }
            }
        } else {
            redact_strings(&mut value, text);
        }
        serde_json::to_string(&value).expect("a JSON value serializes")
    }
}

/// The fields of a record that identify what ran, never rewritten.
const IDENTITY_FIELDS: [&str; 6] = ["model", "tier", "forced_tier", "envelope", "pins", "axes"];

/// Every string in `value` (not its keys) with `text`'s forms replaced.
fn redact_strings(value: &mut serde_json::Value, text: &Replacer) {
    match value {
        serde_json::Value::String(s) => {
            if let Cow::Owned(hidden) = text.replace(s, &text.with) {
                *s = hidden;
            }
        }
        serde_json::Value::Array(items) => {
            for item in items {
                redact_strings(item, text);
            }
        }
        serde_json::Value::Object(fields) => {
            for (_, field) in fields.iter_mut() {
                redact_strings(field, text);
            }
        }
        _ => {}
    }
}

/// `value` as it is, as Rust's debug format and JSON quote it (a message quoting output,
/// an agent's JSON answer), and as a URL writes it in its path, query and user info
/// (percent-encoded): an error quoting the URL has it in that form.
fn written_forms(value: &str) -> Vec<String> {
    let mut forms = vec![value.to_string()];
    let debug = format!("{value:?}");
    for quoted in [debug[1..debug.len() - 1].to_string(), json_string(value)] {
        if !forms.contains(&quoted) {
            forms.push(quoted);
        }
    }
    // The percent-encode sets of the WHATWG URL standard, which URL libraries and
    // browsers follow: the path, the query (of an http URL) and the user info.
    let path = |b: u8| b" \"#<>?`{}".contains(&b);
    let query = |b: u8| b" \"#<>'".contains(&b);
    let user_info = |b: u8| path(b) || b"/:;=@[\\]^|".contains(&b);
    for form in [
        percent_encoded(value, path),
        percent_encoded(value, query),
        percent_encoded(value, user_info),
    ] {
        if !forms.contains(&form) {
            forms.push(form);
        }
    }
    forms
}

/// `value` with every byte `encode` names, every control and every non-ASCII byte written
/// as `%XX`.
fn percent_encoded(value: &str, encode: impl Fn(u8) -> bool) -> String {
    let mut out = String::with_capacity(value.len());
    for &b in value.as_bytes() {
        if !(0x20..0x7f).contains(&b) || encode(b) {
            out.push_str(&format!("%{b:02X}"));
        } else {
            out.push(b as char);
        }
    }
    out
}

/// `text` as the inside of a JSON string.
fn json_string(text: &str) -> String {
    let quoted = serde_json::to_string(text).expect("strings serialize");
    quoted[1..quoted.len() - 1].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secrets(pairs: &[(&str, &str)]) -> Secrets {
        Secrets::new(pairs.iter().map(|(n, v)| (n.to_string(), v.to_string())))
    }

    #[test]
    fn values_are_shown_as_their_placeholders_in_every_written_form() {
        let s = secrets(&[
            ("KEY", "sk-a b\"c/d"),
            ("PORT", "8080"),
            ("LONG", "sk-a b\"c/d-more"),
        ]);
        assert_eq!(
            s.redact("key sk-a b\"c/d, long sk-a b\"c/d-more, port 8080"),
            "key ${KEY}, long ${LONG}, port 8080",
            "short values are left alone; a longer secret is replaced whole"
        );
        assert_eq!(s.redact("http://h/?t=sk-a%20b%22c/d"), "http://h/?t=${KEY}");
        assert_eq!(s.redact("http://h/sk-a%20b%22c/d"), "http://h/${KEY}");
        assert_eq!(s.redact_as("sk-a b\"c/d", "[secret]"), "[secret]");
        let json = serde_json::json!({"error": "sk-a b\"c/d", "n": 8080}).to_string();
        let redacted = s.redact_json(json);
        let back: serde_json::Value = serde_json::from_str(&redacted).unwrap();
        assert_eq!(back, serde_json::json!({"error": "${KEY}", "n": 8080}));
        assert!(matches!(s.redact("nothing here"), Cow::Borrowed(_)));
        assert!(!format!("{s:?}").contains("sk-a"), "{s:?}");
    }

    #[test]
    fn a_suites_secrets_are_its_targets_variables_the_upstreams_and_the_api_key() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("cases")).unwrap();
        std::fs::write(
            dir.path().join("evalgate.yaml"),
            "target:\n  openai:\n    base_url: \"${EG_SECRETS_TEST_BASE:-http://127.0.0.1:9}/v1\"\n    model: m\n    api_key_env: EG_SECRETS_TEST_KEY\n    headers: {X-Key: \"${EG_SECRETS_TEST_HEADER}\"}\nload:\n  upstream: \"${EG_SECRETS_TEST_UPSTREAM}\"\n  conditions: {slow: {latency: 1ms}}\n",
        )
        .unwrap();
        let suite = Suite::load(dir.path()).unwrap();
        let mut overrides = Overrides::default();
        for (name, value) in [
            ("EG_SECRETS_TEST_HEADER", "header-value-1"),
            ("EG_SECRETS_TEST_UPSTREAM", "http://provider.example/tok-2"),
            ("EG_SECRETS_TEST_KEY", "sk-key-value-3"),
        ] {
            overrides.0.insert(name.into(), value.into());
        }
        let s = Secrets::of_suite(&suite, &overrides);
        assert_eq!(
            s.redact(
                "header-value-1 http://provider.example/tok-2 sk-key-value-3 http://127.0.0.1:9"
            ),
            "${EG_SECRETS_TEST_HEADER} ${EG_SECRETS_TEST_UPSTREAM} ${EG_SECRETS_TEST_KEY} \
             http://127.0.0.1:9",
            "a default written in the suite file is no secret"
        );
    }

    #[test]
    fn debug_and_json_quoted_values_are_hidden_too() {
        let s = secrets(&[("K", "quote\"and\\back-0004")]);
        let debug = format!("{:?}", "x quote\"and\\back-0004 y");
        assert_eq!(s.redact(&debug), "\"x ${K} y\"");
        let json = serde_json::json!({"output": serde_json::json!({"k": "quote\"and\\back-0004"}).to_string()});
        assert!(!s.redact_json(json.to_string()).contains("back-0004"));
    }

    #[test]
    fn records_keep_their_keys_numbers_and_versions() {
        let s = secrets(&[
            ("X", "finished_at"),
            ("N", "123456789"),
            ("MODEL", "gpt-4o-mini-2024"),
        ]);
        let record = serde_json::json!({
            "kind": "sample", "finished_at": "t", "latency_ms": 123456789,
            "model": "gpt-4o-mini-2024", "envelope": {"prompt": "gpt-4o-mini-2024"},
            "output": "model gpt-4o-mini-2024 at finished_at, 123456789",
        });
        let redacted: serde_json::Value =
            serde_json::from_str(&s.redact_json(record.to_string())).unwrap();
        assert_eq!(redacted["finished_at"], "t");
        assert_eq!(redacted["latency_ms"], 123456789);
        assert_eq!(redacted["model"], "gpt-4o-mini-2024");
        assert_eq!(redacted["envelope"]["prompt"], "gpt-4o-mini-2024");
        assert_eq!(redacted["output"], "model ${MODEL} at ${X}, ${N}");
    }
}
