//! JSON values whose type varies between vendors, API versions and hand-made exports, read
//! without failing the whole file: an id that is a number here and a string there, a date
//! that is RFC 3339 text or Unix seconds, a file that is one record or an array of them.
//!
//! Why not `serde_json::Value`: a `Value` of a whole export costs several times the file's
//! size in memory; these types keep only the text the import uses.

use std::fmt;
use std::marker::PhantomData;

use serde::de::value::{MapAccessDeserializer, SeqAccessDeserializer};
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

/// A JSON number or string, kept as text: ids (`35436`, `"667d60d8…"`) and codes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Scalar(pub(crate) String);

impl Scalar {
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }

    /// The value when it is an integer (`2`, `"2"`, `103`).
    pub(crate) fn as_integer(&self) -> Option<i64> {
        self.0.trim().parse().ok()
    }
}

impl fmt::Display for Scalar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ScalarVisitor;
        impl Visitor<'_> for ScalarVisitor {
            type Value = Scalar;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number or a string")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar, E> {
                Ok(Scalar(v.to_owned()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Scalar, E> {
                Ok(Scalar(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
        }
        deserializer.deserialize_any(ScalarVisitor)
    }
}

/// A point in time as the export writes it: RFC 3339 text (Zendesk, Freshdesk, Help
/// Scout) or Unix seconds (Intercom). Parsed when the ticket is built, so that a bad one
/// is a warning on its record and not an error on the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum When {
    Text(String),
    Seconds(i64),
}

impl When {
    /// The instant, or why it is not one. Text without an offset is read as UTC: Help
    /// Scout writes some of its UTC times that way (`2017-12-12T12:12:13`).
    pub(crate) fn timestamp(&self) -> Result<jiff::Timestamp, String> {
        match self {
            When::Seconds(seconds) => jiff::Timestamp::from_second(*seconds)
                .map_err(|_| format!("`{seconds}` is out of range for Unix seconds")),
            When::Text(text) => {
                let text = text.trim();
                if let Ok(timestamp) = text.parse::<jiff::Timestamp>() {
                    return Ok(timestamp);
                }
                text.parse::<jiff::civil::DateTime>()
                    .ok()
                    .and_then(|civil| civil.to_zoned(jiff::tz::TimeZone::UTC).ok())
                    .map(|zoned| zoned.timestamp())
                    .ok_or_else(|| format!("`{text}` is not an RFC 3339 date and time"))
            }
        }
    }

    /// An empty string: the vendor's way of saying "no date", not a bad date.
    pub(crate) fn is_blank(&self) -> bool {
        matches!(self, When::Text(text) if text.trim().is_empty())
    }
}

impl<'de> Deserialize<'de> for When {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct WhenVisitor;
        impl Visitor<'_> for WhenVisitor {
            type Value = When;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a date and time (text) or Unix seconds (a number)")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<When, E> {
                Ok(When::Text(v.to_owned()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<When, E> {
                Ok(When::Text(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<When, E> {
                Ok(When::Seconds(i64::try_from(v).unwrap_or(i64::MAX)))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<When, E> {
                Ok(When::Seconds(v))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<When, E> {
                // Saturates out-of-range values, which `timestamp` then rejects.
                Ok(When::Seconds(v as i64))
            }
        }
        deserializer.deserialize_any(WhenVisitor)
    }
}

/// A file that is one record (`{…}`) or an array of records (`[{…}, …]`), read in one
/// pass: `#[serde(untagged)]` would buffer the whole file into an intermediate tree first.
#[derive(Debug)]
pub(crate) enum OneOrMany<T> {
    One(T),
    Many(Vec<T>),
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for OneOrMany<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct OneOrManyVisitor<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for OneOrManyVisitor<T> {
            type Value = OneOrMany<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object or an array of objects")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                T::deserialize(MapAccessDeserializer::new(map)).map(OneOrMany::One)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
                Vec::<T>::deserialize(SeqAccessDeserializer::new(seq)).map(OneOrMany::Many)
            }
        }
        deserializer.deserialize_any(OneOrManyVisitor(PhantomData))
    }
}

/// Trimmed, or `None` when empty: vendors write `""`, `null` or nothing for "no value".
pub(crate) fn non_empty(text: Option<&str>) -> Option<String> {
    text.map(str::trim)
        .filter(|text| !text.is_empty())
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars_read_numbers_and_strings_as_text() {
        let ids: Vec<Scalar> = serde_json::from_str(r#"[35436, "abc", -1, 2.5]"#).unwrap();
        let texts: Vec<&str> = ids.iter().map(Scalar::as_str).collect();
        assert_eq!(texts, ["35436", "abc", "-1", "2.5"]);
        assert_eq!(Scalar("103".into()).as_integer(), Some(103));
        assert!(serde_json::from_str::<Scalar>("{}").is_err());
    }

    #[test]
    fn dates_read_text_and_unix_seconds() {
        let at = |json: &str| serde_json::from_str::<When>(json).unwrap().timestamp();
        let expected: jiff::Timestamp = "2024-06-27T12:53:45Z".parse().unwrap();
        assert_eq!(at("1719492825"), Ok(expected));
        assert_eq!(at(r#""2024-06-27T12:53:45Z""#), Ok(expected));
        assert_eq!(at(r#""2024-06-27T14:53:45+02:00""#), Ok(expected));
        assert_eq!(at(r#""2024-06-27T12:53:45""#), Ok(expected));
        assert!(at(r#""yesterday""#).unwrap_err().contains("`yesterday`"));
        assert!(at("99999999999999999").is_err());
        assert!(When::Text(" ".into()).is_blank());
    }
}
