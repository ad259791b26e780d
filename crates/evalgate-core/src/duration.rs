//! Durations as people write them in YAML and in the environment: `2s`, `500ms`, `1m 30s`,
//! `30d`.
//!
//! Parsed and written with jiff's "friendly" duration format (jiff is already built for the
//! records' timestamps; humantime did this before and was one package more for every
//! harness user).

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Deserializer};

/// A duration written like `2s`, `500ms` or `1m 30s`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HumanDuration(pub Duration);

impl<'de> Deserialize<'de> for HumanDuration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        parse(&text).map(HumanDuration).map_err(|e| {
            serde::de::Error::custom(format!(
                "`{text}` is not a duration ({e}); write e.g. `2s`, `500ms`, `1m`"
            ))
        })
    }
}

impl fmt::Display for HumanDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Whole days as days (`30d`, `1d 2h`), like people write them; a day is 24 hours.
        let balanced = jiff::SignedDuration::try_from(self.0)
            .ok()
            .and_then(|duration| jiff::Span::try_from(duration).ok())
            .and_then(|span| {
                span.round(
                    jiff::SpanRound::new()
                        .largest(jiff::Unit::Day)
                        .days_are_24_hours(),
                )
                .ok()
            });
        match balanced {
            Some(span) => write!(f, "{span:#}"),
            // Beyond what jiff spans (~20,000 years): no one writes it, but say something.
            None => write!(f, "{}s", self.0.as_secs()),
        }
    }
}

/// Parses `2s`, `500ms`, `1m 30s`, `1h`, `30d`, `2w`, `0s` (and `0`); a day is 24 hours, a
/// week 7 days. The reason it is not one is returned without the text, for the caller to
/// name where it came from.
pub fn parse(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if text == "0" {
        return Ok(Duration::ZERO);
    }
    let span = jiff::fmt::friendly::SpanParser::new()
        .parse_span(text)
        .map_err(|e| e.to_string())?;
    if span.get_years() != 0 || span.get_months() != 0 {
        return Err("months and years have no fixed length; write days, e.g. `30d`".into());
    }
    let duration = span
        .to_duration(jiff::SpanRelativeTo::days_are_24_hours())
        .map_err(|e| e.to_string())?;
    Duration::try_from(duration).map_err(|_| "a duration cannot be negative".to_string())
}

/// `duration` as [`parse`] reads it: `1m 30s`, `500ms`.
pub fn show(duration: Duration) -> HumanDuration {
    HumanDuration(duration)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_people_write() {
        for (text, ms) in [
            ("2s", 2_000),
            ("500ms", 500),
            ("1m 30s", 90_000),
            ("1m30s", 90_000),
            ("1h", 3_600_000),
            ("2 s", 2_000),
            ("0", 0),
            ("0s", 0),
            ("1.5s", 1_500),
            ("30d", 30 * 86_400_000),
            ("90 days", 90 * 86_400_000),
            ("2w", 14 * 86_400_000),
        ] {
            assert_eq!(parse(text), Ok(Duration::from_millis(ms)), "{text}");
        }
        for text in ["", "2", "soon", "-2s", "2 parsecs", "1 month", "1y"] {
            assert!(parse(text).is_err(), "{text}");
        }
    }

    #[test]
    fn writes_what_it_reads() {
        for (ms, text) in [
            (2_000, "2s"),
            (500, "500ms"),
            (90_000, "1m 30s"),
            (1_500, "1s 500ms"),
            (3_600_000, "1h"),
            (0, "0s"),
            (30 * 86_400_000, "30d"),
            (86_400_000 + 7_200_000, "1d 2h"),
        ] {
            let shown = show(Duration::from_millis(ms)).to_string();
            assert_eq!(shown, text);
            assert_eq!(parse(&shown), Ok(Duration::from_millis(ms)));
        }
    }
}
