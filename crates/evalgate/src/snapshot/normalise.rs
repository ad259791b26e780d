//! What of an output goes into its snapshot: the text (JSON pretty-printed, so a review
//! diff shows the field that changed), the run's secrets scrubbed (an agent that echoes a
//! credential must not get it committed in a `.snap` file), line endings and
//! trailing whitespace normalised, then the suite's redactions — so a snapshot changes with
//! the answer, not with a fresh order id, a date or the platform's line endings.

use super::Redaction;
use crate::observation::Output;
use crate::target::Secrets;

/// What a secret is replaced with: one marker whatever the variable, so a snapshot does
/// not change when a variable is renamed.
const SECRET: &str = "[secret]";

/// The snapshot text of an output.
pub(crate) fn normalise(output: &Output, secrets: &Secrets, redactions: &[Redaction]) -> String {
    let text = match &output.json {
        Some(json) => serde_json::to_string_pretty(json).unwrap_or_else(|_| output.text.clone()),
        None => output.text.clone(),
    };
    let text = secrets.redact_as(&text, SECRET).replace("\r\n", "\n");
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
    fn secrets_are_scrubbed() {
        let secrets = Secrets::new([(
            "EVALGATE_TEST_SNAPSHOT_KEY".to_string(),
            "sk-test-0123456789".to_string(),
        )]);
        let output = Output::text("my key is sk-test-0123456789, ok");
        assert_eq!(normalise(&output, &secrets, &[]), "my key is [secret], ok");
    }
}
