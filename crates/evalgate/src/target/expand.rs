//! `${VAR}` / `${VAR:-default}` in URLs and headers of the suite file, so endpoints and
//! secrets come from the environment and never live in the repo. What a variable gives is
//! a secret: besides its value, an expansion has a shown form, the text with `${VAR}` left
//! in place of each value taken from the environment.

use std::collections::BTreeMap;

/// Values that take precedence over the environment (e.g. the demo agent's URL).
#[derive(Debug, Clone, Default)]
pub struct Overrides(pub BTreeMap<String, String>);

/// A text with its variables expanded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Expanded {
    /// What evalgate uses.
    pub value: String,
    /// What evalgate shows: each value a variable gave replaced by `${NAME}` (a default
    /// written in the suite file is shown as it is).
    pub shown: String,
}

/// One piece of a text that may hold `${NAME}` / `${NAME:-default}` references.
enum Piece<'a> {
    Text(&'a str),
    Variable {
        name: &'a str,
        default: Option<&'a str>,
    },
    /// A `${` without its `}`: the text cannot be expanded.
    Unclosed,
}

/// Splits `text` into literal text and variable references.
fn pieces(text: &str) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push(Piece::Text(&rest[..start]));
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            out.push(Piece::Unclosed);
            return out;
        };
        let inner = &after[..end];
        out.push(match inner.split_once(":-") {
            Some((name, default)) => Piece::Variable {
                name,
                default: Some(default),
            },
            None => Piece::Variable {
                name: inner,
                default: None,
            },
        });
        rest = &after[end + 1..];
    }
    out.push(Piece::Text(rest));
    out
}

/// The names of the variables `text` refers to.
pub(crate) fn references(text: &str) -> Vec<&str> {
    pieces(text)
        .into_iter()
        .filter_map(|piece| match piece {
            Piece::Variable { name, .. } => Some(name),
            Piece::Text(_) | Piece::Unclosed => None,
        })
        .collect()
}

impl Overrides {
    /// The value of variable `name`: an override, else the environment's.
    pub(crate) fn get(&self, name: &str) -> Option<String> {
        self.0
            .get(name)
            .cloned()
            .or_else(|| crate::env::suite_variable(name))
    }

    /// Expands every `${NAME}` / `${NAME:-default}` in `text`.
    pub(crate) fn expand(&self, text: &str) -> Result<String, String> {
        self.expand_shown(text).map(|e| e.value)
    }

    /// Expands `text`, keeping the form to show too.
    pub(crate) fn expand_shown(&self, text: &str) -> Result<Expanded, String> {
        let mut value = String::with_capacity(text.len());
        let mut shown = String::with_capacity(text.len());
        for piece in pieces(text) {
            match piece {
                Piece::Unclosed => return Err(format!("unclosed `${{` in `{text}`")),
                Piece::Text(text) => {
                    value.push_str(text);
                    shown.push_str(text);
                }
                Piece::Variable { name, default } => match (self.get(name), default) {
                    (Some(set), _) => {
                        value.push_str(&set);
                        shown.push_str(&format!("${{{name}}}"));
                    }
                    (None, Some(default)) => {
                        value.push_str(default);
                        shown.push_str(default);
                    }
                    (None, None) => {
                        return Err(format!(
                            "environment variable `{name}` is not set (used as `${{{name}}}`)"
                        ));
                    }
                },
            }
        }
        Ok(Expanded { value, shown })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expands_overrides_defaults_and_reports_missing() {
        let mut o = Overrides::default();
        o.0.insert("EG_TEST_URL".into(), "http://127.0.0.1:9".into());
        assert_eq!(
            o.expand("${EG_TEST_URL}/v1").unwrap(),
            "http://127.0.0.1:9/v1"
        );
        assert_eq!(
            o.expand("${EG_TEST_NOPE_123:-http://x}/a").unwrap(),
            "http://x/a"
        );
        let e = o.expand("Bearer ${EG_TEST_NOPE_123}").unwrap_err();
        assert!(e.contains("EG_TEST_NOPE_123"), "{e}");
        assert!(o.expand("${oops").is_err());
    }

    #[test]
    fn the_shown_form_keeps_the_names_of_the_values_it_took() {
        let mut o = Overrides::default();
        o.0.insert("EG_TEST_TOKEN".into(), "tok-123456789".into());
        let e = o
            .expand_shown("${EG_TEST_NOPE_123:-http://x}/a?t=${EG_TEST_TOKEN}")
            .unwrap();
        assert_eq!(e.value, "http://x/a?t=tok-123456789");
        assert_eq!(e.shown, "http://x/a?t=${EG_TEST_TOKEN}");
        assert_eq!(references("${A}/x/${B:-b}/${C"), ["A", "B"]);
    }
}
