//! `${VAR}` / `${VAR:-default}` in URLs and headers of the suite file, so endpoints and
//! secrets come from the environment and never live in the repo.

use std::collections::BTreeMap;

/// Values that take precedence over the environment (e.g. the demo agent's URL).
#[derive(Debug, Clone, Default)]
pub(crate) struct Overrides(pub BTreeMap<String, String>);

impl Overrides {
    fn get(&self, name: &str) -> Option<String> {
        self.0
            .get(name)
            .cloned()
            .or_else(|| std::env::var(name).ok())
    }

    /// Expands every `${NAME}` / `${NAME:-default}` in `text`.
    pub(crate) fn expand(&self, text: &str) -> Result<String, String> {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let end = after
                .find('}')
                .ok_or_else(|| format!("unclosed `${{` in `{text}`"))?;
            let inner = &after[..end];
            let (name, default) = match inner.split_once(":-") {
                Some((n, d)) => (n, Some(d)),
                None => (inner, None),
            };
            match (self.get(name), default) {
                (Some(value), _) => out.push_str(&value),
                (None, Some(default)) => out.push_str(default),
                (None, None) => {
                    return Err(format!(
                        "environment variable `{name}` is not set (used as `${{{name}}}`)"
                    ));
                }
            }
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(out)
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
}
