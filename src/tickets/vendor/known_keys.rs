//! The keys each vendor's objects have, and the keys of an export file that are not among
//! them: each reported with its path (`tickets[3].comments[0].foo`), since the import reads
//! only the fields it knows and what an unknown key holds (comments embedded where the
//! vendor has none, a renamed body field) would otherwise be dropped without a word.
//!
//! Known means documented by the vendor for that object, whether the import reads it or
//! not. Values whose keys are the account's own (custom fields) or that the import does not
//! look into (attachments, links, statistics) are not checked.
//!
//! A second pass over the file's bytes, keeping nothing but the unknown keys' paths: the
//! typed structs the import reads into ignore unknown fields by design, and a `Value` of
//! the whole export would cost several times its size in memory.

use std::collections::HashMap;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// The keys of one kind of object of a vendor's exports.
pub(super) struct Keys {
    /// What the object is, for the warning: `ticket`, `comment`, `conversation part`.
    pub(super) name: &'static str,
    /// Keys whose values are not looked into.
    pub(super) values: &'static [&'static str],
    /// Keys whose values are objects (or arrays of objects) of a known kind.
    pub(super) objects: &'static [(&'static str, &'static Keys)],
}

/// A key no object of its kind has, with how often the same key came back in other
/// records of the file.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct UnknownKey {
    /// The first place it was found: `tickets[3].comments`.
    pub(super) path: String,
    /// The kind of object it was found in.
    pub(super) object: &'static str,
    /// The other places with the same path but for array positions.
    pub(super) more: usize,
    /// `path` without array positions: `tickets[].comments`.
    pub(super) pattern: String,
}

/// The unknown keys of a JSON document whose top is an object of `root`'s kind (or an
/// array of them), one per pattern, in the order they were first found. A document that
/// does not parse has none (the import has already read it, so it does).
pub(super) fn unknown_keys(bytes: &[u8], root: &'static Keys) -> Vec<UnknownKey> {
    let mut found = Found::default();
    let mut path = String::new();
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let walk = Walk {
        keys: root,
        path: &mut path,
        found: &mut found,
    };
    // A parse error cannot happen after the import's own parse; what was found stands.
    let _ = walk.deserialize(&mut deserializer);
    found.keys
}

#[derive(Default)]
struct Found {
    keys: Vec<UnknownKey>,
    /// Pattern → index in `keys`.
    index: HashMap<String, usize>,
}

impl Found {
    fn add(&mut self, path: String, object: &'static str) {
        let pattern = without_positions(&path);
        match self.index.get(&pattern) {
            Some(&at) => self.keys[at].more += 1,
            None => {
                self.index.insert(pattern.clone(), self.keys.len());
                self.keys.push(UnknownKey {
                    path,
                    object,
                    more: 0,
                    pattern,
                });
            }
        }
    }
}

/// `tickets[3].comments[0].foo` → `tickets[].comments[].foo`.
fn without_positions(path: &str) -> String {
    let mut pattern = String::with_capacity(path.len());
    let mut in_brackets = false;
    for c in path.chars() {
        match c {
            '[' => {
                in_brackets = true;
                pattern.push(c);
            }
            ']' => {
                in_brackets = false;
                pattern.push(c);
            }
            _ if in_brackets => {}
            _ => pattern.push(c),
        }
    }
    pattern
}

/// One value at `path`, an object of `keys`' kind or an array of them.
struct Walk<'a> {
    keys: &'static Keys,
    path: &'a mut String,
    found: &'a mut Found,
}

impl<'de> DeserializeSeed<'de> for Walk<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Walk<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key_seed(KeyOf(self.keys))? {
            match key {
                Key::Value => {
                    map.next_value::<IgnoredAny>()?;
                }
                Key::Object(name, keys) => {
                    let len = self.path.len();
                    push_key(self.path, name);
                    map.next_value_seed(Walk {
                        keys,
                        path: self.path,
                        found: self.found,
                    })?;
                    self.path.truncate(len);
                }
                Key::Unknown(name) => {
                    let mut path = self.path.clone();
                    push_key(&mut path, &name);
                    self.found.add(path, self.keys.name);
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut i = 0usize;
        loop {
            let len = self.path.len();
            self.path.push('[');
            self.path.push_str(&i.to_string());
            self.path.push(']');
            let more = seq.next_element_seed(Walk {
                keys: self.keys,
                path: self.path,
                found: self.found,
            })?;
            self.path.truncate(len);
            if more.is_none() {
                return Ok(());
            }
            i += 1;
        }
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
}

fn push_key(path: &mut String, key: &str) {
    if !path.is_empty() {
        path.push('.');
    }
    path.push_str(key);
}

/// What a key of an object of `keys`' kind is.
enum Key {
    Value,
    Object(&'static str, &'static Keys),
    Unknown(String),
}

/// Reads a key and looks it up without keeping it unless it is unknown.
struct KeyOf(&'static Keys);

impl<'de> DeserializeSeed<'de> for KeyOf {
    type Value = Key;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Key, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl Visitor<'_> for KeyOf {
    type Value = Key;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<Key, E> {
        let keys = self.0;
        if let Some(&(name, object)) = keys.objects.iter().find(|(name, _)| *name == key) {
            Ok(Key::Object(name, object))
        } else if keys.values.contains(&key) {
            Ok(Key::Value)
        } else {
            Ok(Key::Unknown(key.to_owned()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static AUTHOR: Keys = Keys {
        name: "author",
        values: &["id", "name"],
        objects: &[],
    };
    static COMMENT: Keys = Keys {
        name: "comment",
        values: &["id", "body", "custom"],
        objects: &[("author", &AUTHOR)],
    };
    static EXPORT: Keys = Keys {
        name: "export",
        values: &["count"],
        objects: &[("comments", &COMMENT)],
    };

    #[test]
    fn unknown_keys_are_found_by_path_and_counted_by_pattern() {
        let json = br#"{
            "count": 4, "next": null,
            "comments": [
                {"id": 1, "custom": {"anything": 1}, "author": {"id": 1, "mood": 1}},
                {"id": 2, "html": "<b>b</b>", "author": null},
                {"id": 3, "html": "<i>c</i>", "author": {"mood": 2}},
                {"id": 4, "author": [{"id": 4}, {"mood": 3}]}
            ]
        }"#;
        let found = unknown_keys(json, &EXPORT);
        let shown: Vec<(&str, &str, usize)> = found
            .iter()
            .map(|k| (k.path.as_str(), k.object, k.more))
            .collect();
        assert_eq!(
            shown,
            [
                ("next", "export", 0),
                ("comments[0].author.mood", "author", 1),
                ("comments[1].html", "comment", 1),
                // An array where an object was expected: its objects are checked.
                ("comments[3].author[1].mood", "author", 0),
            ]
        );
        assert_eq!(found[1].pattern, "comments[].author.mood");
        assert_eq!(found[3].pattern, "comments[].author[].mood");
    }

    #[test]
    fn an_array_at_the_top_and_escaped_keys() {
        let found = unknown_keys(
            br#"[{"id": 1}, {"id": 2, "b\u006fdy": "x", "k\"ey": 1}]"#,
            &COMMENT,
        );
        let paths: Vec<&str> = found.iter().map(|k| k.path.as_str()).collect();
        assert_eq!(paths, ["[1].k\"ey"]);
        assert!(unknown_keys(b"not json", &COMMENT).is_empty());
    }
}
