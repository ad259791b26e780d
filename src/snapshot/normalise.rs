//! What of an output goes into its snapshot: the text (JSON pretty-printed, so a review
//! diff shows the field that changed), secrets of the suite scrubbed, line endings and
//! trailing whitespace normalised, then the suite's redactions — so a snapshot changes with
//! the answer, not with a fresh order id, a date or the platform's line endings.

use super::Redaction;
use crate::observation::Output;
use crate::target::TargetConfig;

/// What a secret is replaced with.
const SECRET: &str = "[secret]";

/// Values shorter than this are not treated as secrets: scrubbing every `1` or `true` in
/// an output would mangle it, and such values are not credentials.
const MIN_SECRET_CHARS: usize = 8;

/// The values of the environment variables the suite's target refers to (`${API_KEY}` in
/// a header, a URL, a command's environment): the credentials evalgate hands the agent.
/// An agent that echoes one must not get it committed in a `.snap` file.
#[derive(Debug, Clone, Default)]
pub(crate) struct Secrets(Vec<String>);

impl Secrets {
    pub(crate) fn of_target(target: Option<&TargetConfig>) -> Secrets {
        Secrets::of_target_with(target, |name| std::env::var(name).ok())
    }

    fn of_target_with(
        target: Option<&TargetConfig>,
        var: impl Fn(&str) -> Option<String>,
    ) -> Secrets {
        let Some(target) = target else {
            return Secrets::default();
        };
        // The target's configuration as written: every `${NAME}` it will expand is in there.
        let written = format!("{target:?}");
        let reference = regex::Regex::new(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-[^}]*)?\}")
            .expect("the reference pattern compiles");
        let mut values: Vec<String> = reference
            .captures_iter(&written)
            .filter_map(|c| var(&c[1]))
            .filter(|v| v.chars().count() >= MIN_SECRET_CHARS)
            .collect();
        // Longest first, so a secret that contains another is replaced whole.
        values.sort_by_key(|v| std::cmp::Reverse(v.len()));
        values.dedup();
        Secrets(values)
    }

    fn scrub(&self, text: &str) -> String {
        let mut text = text.to_string();
        for secret in &self.0 {
            if text.contains(secret.as_str()) {
                text = text.replace(secret.as_str(), SECRET);
            }
        }
        text
    }
}

/// The snapshot text of an output.
pub(crate) fn normalise(output: &Output, secrets: &Secrets, redactions: &[Redaction]) -> String {
    let text = match &output.json {
        Some(json) => serde_json::to_string_pretty(json).unwrap_or_else(|_| output.text.clone()),
        None => output.text.clone(),
    };
    let text = secrets.scrub(&text).replace("\r\n", "\n");
    let mut text: String = text
        .split('\n')
        .map(str::trim_end)
        .collect::<Vec<_>>()
        .join("\n");
    for redaction in redactions {
        if let std::borrow::Cow::Owned(redacted) = redaction
            .regex
            .replace_all(&text, redaction.replacement.as_str())
        {
            text = redacted;
        }
    }
    text.trim_end().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redaction(regex: &str, replacement: &str) -> Redaction {
        Redaction {
            regex: regex::Regex::new(regex).unwrap(),
            replacement: replacement.into(),
        }
    }

    #[test]
    fn line_endings_and_trailing_whitespace_are_normalised_before_redactions() {
        let output = Output::text("Order 42 \r\nshipped\t\r\n\r\n");
        let text = normalise(
            &output,
            &Secrets::default(),
            &[redaction(r"\d+", "[number]")],
        );
        assert_eq!(text, "Order [number]\nshipped");
    }

    #[test]
    fn redactions_apply_in_order() {
        let output = Output::text("ORD-1234 costs 12");
        let text = normalise(
            &output,
            &Secrets::default(),
            &[
                redaction(r"ORD-\d+", "[order]"),
                redaction(r"\d+", "[number]"),
            ],
        );
        assert_eq!(text, "[order] costs [number]");
    }

    #[test]
    fn json_is_pretty_printed_in_its_own_key_order() {
        let output = Output::text(r#"{"b":1,"a":[true]}"#);
        let text = normalise(&output, &Secrets::default(), &[]);
        assert_eq!(text, "{\n  \"b\": 1,\n  \"a\": [\n    true\n  ]\n}");
    }

    #[test]
    fn the_values_of_the_targets_variables_are_scrubbed() {
        let target: TargetConfig = serde_json::from_value(serde_json::json!({
            "http": {
                "url": "${EVALGATE_TEST_SNAPSHOT_URL:-http://127.0.0.1:9}/v1",
                "headers": {"Authorization": "Bearer ${EVALGATE_TEST_SNAPSHOT_KEY}"}
            }
        }))
        .unwrap();
        let secrets = Secrets::of_target_with(Some(&target), |name| {
            (name == "EVALGATE_TEST_SNAPSHOT_KEY").then(|| "sk-test-0123456789".to_string())
        });
        let output = Output::text("my key is sk-test-0123456789, ok");
        assert_eq!(normalise(&output, &secrets, &[]), "my key is [secret], ok");
        assert!(Secrets::of_target(None).0.is_empty());
    }
}
