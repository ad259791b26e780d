//! The text field of a production line: a top-level key (`input`) or a JSON pointer
//! (`/messages/0/content`). Only the path to the field is followed; everything else on the
//! line is skipped without being built, so a line costs one pass of the JSON parser and
//! no allocation beyond the text (none when the text has no escapes).

use std::borrow::Cow;
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// Where the text of each production line is.
#[derive(Debug, Clone)]
pub(crate) struct TextField {
    /// The keys (or array indices) from the line's top level down to the text.
    segments: Vec<String>,
    /// As the user wrote it, for messages.
    written: String,
}

/// Why a line has no text where the [`TextField`] says.
#[derive(Debug)]
pub(crate) enum FieldProblem {
    /// The line is not JSON.
    NotJson(serde_json::Error),
    /// The line is JSON, but not an object (or array) the field could be in: the kind found.
    NotAnObject(&'static str),
    /// The line has nothing at the field.
    Missing,
    /// The field holds something else than a string: the kind found.
    NotAString(&'static str),
}

impl TextField {
    /// A field starting with `/` is a JSON pointer (RFC 6901: `~1` is `/`, `~0` is `~`);
    /// anything else is a key of the line's top-level object.
    pub(crate) fn parse(field: &str) -> Result<TextField, String> {
        let segments = if field.is_empty() {
            return Err(
                "the text field of the production sample is empty: give a key \
                        (`input`) or a JSON pointer (`/messages/0/content`)"
                    .into(),
            );
        } else if let Some(pointer) = field.strip_prefix('/') {
            pointer
                .split('/')
                .map(unescape_pointer_segment)
                .collect::<Option<Vec<String>>>()
                .ok_or_else(|| {
                    format!(
                        "`{field}` is not a JSON pointer: in one, `~` is followed by `0` \
                         (for `~`) or `1` (for `/`)"
                    )
                })?
        } else {
            vec![field.to_owned()]
        };
        Ok(TextField {
            segments,
            written: field.to_owned(),
        })
    }

    /// The text at the field of one line of JSON.
    pub(crate) fn text<'line>(&self, line: &'line [u8]) -> Result<Cow<'line, str>, FieldProblem> {
        let mut parser = serde_json::Deserializer::from_slice(line);
        let found = Lookup {
            path: &self.segments,
            at_top: true,
        }
        .deserialize(&mut parser)
        .map_err(FieldProblem::NotJson)?;
        parser.end().map_err(FieldProblem::NotJson)?;
        match found {
            Found::Text(text) => Ok(text),
            Found::Missing => Err(FieldProblem::Missing),
            Found::TopLevel(kind) => Err(FieldProblem::NotAnObject(kind)),
            Found::NotText(kind) => Err(FieldProblem::NotAString(kind)),
        }
    }
}

impl fmt::Display for TextField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.written.starts_with('/') {
            write!(f, "JSON pointer `{}`", self.written)
        } else {
            write!(f, "field `{}`", self.written)
        }
    }
}

fn unescape_pointer_segment(segment: &str) -> Option<String> {
    let mut unescaped = String::with_capacity(segment.len());
    let mut chars = segment.chars();
    while let Some(c) = chars.next() {
        match c {
            '~' => match chars.next() {
                Some('0') => unescaped.push('~'),
                Some('1') => unescaped.push('/'),
                _ => return None,
            },
            c => unescaped.push(c),
        }
    }
    Some(unescaped)
}

/// What is at the end of the path.
enum Found<'line> {
    Text(Cow<'line, str>),
    Missing,
    /// The line itself is a value of this kind, with no keys to follow.
    TopLevel(&'static str),
    NotText(&'static str),
}

/// Follows `path` through a JSON value, skipping everything off the path.
struct Lookup<'p> {
    path: &'p [String],
    at_top: bool,
}

impl<'de> DeserializeSeed<'de> for Lookup<'_> {
    type Value = Found<'de>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Found<'de>, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl Lookup<'_> {
    /// A value that is neither an object nor an array (nor, at the end, a string).
    fn scalar<'de>(self, kind: &'static str) -> Found<'de> {
        if self.path.is_empty() {
            Found::NotText(kind)
        } else if self.at_top {
            Found::TopLevel(kind)
        } else {
            Found::Missing
        }
    }

    fn text<'de>(self, text: Cow<'de, str>) -> Found<'de> {
        if self.path.is_empty() {
            Found::Text(text)
        } else {
            self.scalar("a string")
        }
    }
}

impl<'de> Visitor<'de> for Lookup<'_> {
    type Value = Found<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_borrowed_str<E>(self, text: &'de str) -> Result<Found<'de>, E> {
        Ok(self.text(Cow::Borrowed(text)))
    }

    fn visit_str<E>(self, text: &str) -> Result<Found<'de>, E> {
        Ok(self.text(Cow::Owned(text.to_owned())))
    }

    fn visit_string<E>(self, text: String) -> Result<Found<'de>, E> {
        Ok(self.text(Cow::Owned(text)))
    }

    fn visit_bool<E>(self, _: bool) -> Result<Found<'de>, E> {
        Ok(self.scalar("a boolean"))
    }

    fn visit_i64<E>(self, _: i64) -> Result<Found<'de>, E> {
        Ok(self.scalar("a number"))
    }

    fn visit_u64<E>(self, _: u64) -> Result<Found<'de>, E> {
        Ok(self.scalar("a number"))
    }

    fn visit_f64<E>(self, _: f64) -> Result<Found<'de>, E> {
        Ok(self.scalar("a number"))
    }

    fn visit_unit<E>(self) -> Result<Found<'de>, E> {
        Ok(self.scalar("null"))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Found<'de>, A::Error> {
        let Some((key, rest)) = self.path.split_first() else {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            return Ok(Found::NotText("an object"));
        };
        // The parser must see the whole object, so the entries after the field are
        // skipped too; a repeated key keeps its first value.
        let mut found = None;
        while let Some(is_key) = map.next_key_seed(KeyIs(key))? {
            if is_key && found.is_none() {
                found = Some(map.next_value_seed(Lookup {
                    path: rest,
                    at_top: false,
                })?);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(found.unwrap_or(Found::Missing))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Found<'de>, A::Error> {
        let wanted = self.path.first().and_then(|segment| array_index(segment));
        let Some(wanted) = wanted else {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            return Ok(self.scalar("an array"));
        };
        let mut found = None;
        let mut index = 0;
        loop {
            if index == wanted {
                let lookup = Lookup {
                    path: &self.path[1..],
                    at_top: false,
                };
                match seq.next_element_seed(lookup)? {
                    Some(value) => found = Some(value),
                    None => break,
                }
            } else if seq.next_element::<IgnoredAny>()?.is_none() {
                break;
            }
            index += 1;
        }
        Ok(found.unwrap_or(Found::Missing))
    }
}

/// An array index as a JSON pointer writes it: digits, no leading zero.
fn array_index(segment: &str) -> Option<usize> {
    let digits = !segment.is_empty() && segment.bytes().all(|b| b.is_ascii_digit());
    (digits && (segment == "0" || !segment.starts_with('0')))
        .then(|| segment.parse().ok())
        .flatten()
}

/// Whether an object key is the one wanted, without allocating it.
struct KeyIs<'k>(&'k str);

impl<'de> DeserializeSeed<'de> for KeyIs<'_> {
    type Value = bool;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<bool, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeyIs<'_> {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_str<E>(self, key: &str) -> Result<bool, E> {
        Ok(key == self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(field: &str, line: &str) -> Result<String, String> {
        TextField::parse(field)
            .expect("valid field")
            .text(line.as_bytes())
            .map(Cow::into_owned)
            .map_err(|problem| format!("{problem:?}"))
    }

    #[test]
    fn a_key_reads_the_top_level_string_and_skips_the_rest() {
        let line = r#"{"id": 7, "meta": {"input": "no"}, "input": "where is \"it\"", "x": [1, {"a": null}]}"#;
        assert_eq!(text("input", line).unwrap(), r#"where is "it""#);
    }

    #[test]
    fn a_pointer_follows_objects_and_array_indices() {
        let line = r#"{"messages": [{"role": "system", "content": "be nice"}, {"role": "user", "content": "refund please"}], "a/b": {"~": "tilde"}}"#;
        assert_eq!(text("/messages/1/content", line).unwrap(), "refund please");
        assert_eq!(text("/a~1b/~0", line).unwrap(), "tilde");
        assert!(
            text("/messages/2/content", line)
                .unwrap_err()
                .contains("Missing")
        );
        assert!(
            text("/messages/01/content", line)
                .unwrap_err()
                .contains("Missing")
        );
    }

    #[test]
    fn each_problem_is_told_apart() {
        assert!(text("input", "{not json").unwrap_err().contains("NotJson"));
        assert!(
            text("input", r#"{"input": "a"} trailing"#)
                .unwrap_err()
                .contains("NotJson")
        );
        assert!(
            text("input", r#"{"prompt": "a"}"#)
                .unwrap_err()
                .contains("Missing")
        );
        assert_eq!(
            text("input", r#"{"input": 42}"#).unwrap_err(),
            r#"NotAString("a number")"#
        );
        assert_eq!(
            text("input", r#"{"input": {"text": "a"}}"#).unwrap_err(),
            r#"NotAString("an object")"#
        );
        assert_eq!(
            text("input", r#""just a string""#).unwrap_err(),
            r#"NotAnObject("a string")"#
        );
        assert_eq!(
            text("input", "[1, 2]").unwrap_err(),
            r#"NotAnObject("an array")"#
        );
    }

    #[test]
    fn bad_fields_are_refused() {
        assert!(TextField::parse("").is_err());
        assert!(TextField::parse("/a/~2").is_err());
        assert_eq!(
            TextField::parse("/a").unwrap().to_string(),
            "JSON pointer `/a`"
        );
        assert_eq!(
            TextField::parse("input").unwrap().to_string(),
            "field `input`"
        );
    }
}
