//! What to tell the user when a file is not of the chosen vendor's shape: the keys it
//! has, the shapes that vendor's exports have, and which vendor it looks like instead.
//!
//! Only read on the way to an error: a second, cheap pass over the file that keeps its
//! top-level keys (or its first item's) and nothing else.

use std::fmt;
use std::path::Path;

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::tickets::model::Vendor;
use evalgate::errors::Error;

/// How many keys an error lists before "and N more".
const KEYS_SHOWN: usize = 12;

/// The vendor's name as its users write it, with its article: "a Zendesk export", "an
/// Intercom export".
pub(crate) fn a_title(vendor: Vendor) -> &'static str {
    match vendor {
        Vendor::Zendesk => "a Zendesk",
        Vendor::Intercom => "an Intercom",
        Vendor::Freshdesk => "a Freshdesk",
        Vendor::HelpScout => "a Help Scout",
    }
}

/// The shapes of one vendor's export files that the import reads.
fn accepted_shapes(vendor: Vendor) -> &'static str {
    match vendor {
        Vendor::Zendesk => {
            "one of `{\"ticket\": {…}}`, `{\"tickets\": […]}` (optionally with \
             `\"users\"`), `{\"comments\": […]}` (one ticket's comments, optionally with \
             `\"users\"`), `{\"ticket_events\": […]}`, or `{\"ticket\": {…}, \"comments\": […]}`"
        }
        Vendor::Intercom => {
            "a conversation (`{\"type\": \"conversation\", …}`), a list \
             (`{\"type\": \"conversation.list\", \"conversations\": […]}`), or an array of \
             conversations"
        }
        Vendor::Freshdesk => {
            "a ticket (`{\"id\": …, \"description_text\": …}`, optionally with \
             `\"conversations\"`), or an array of tickets, of conversations \
             (`[{\"ticket_id\": …, \"body_text\": …}]`) or of satisfaction ratings \
             (`[{\"ticket_id\": …, \"ratings\": {…}}]`)"
        }
        Vendor::HelpScout => {
            "a conversation (`{\"id\": …, \"_embedded\": {\"threads\": […]}}`), a page \
             (`{\"_embedded\": {\"conversations\": […]}}`), or a rating \
             (`{\"conversationId\": …, \"rating\": …}`)"
        }
    }
}

/// Top-level keys that only one vendor's exports have (or its first item's, for arrays).
const SIGNATURES: [(Vendor, &[&str]); 4] = [
    (
        Vendor::Zendesk,
        &[
            "ticket",
            "tickets",
            "ticket_events",
            "comments",
            "after_cursor",
            "end_of_stream",
            "submitter_id",
            "organization_id",
            "raw_subject",
            "html_body",
            "plain_body",
            "satisfaction_rating",
        ],
    ),
    (
        Vendor::Intercom,
        &[
            "conversation_parts",
            "admin_assignee_id",
            "team_assignee_id",
            "teammates",
            "contacts",
            "conversation_rating",
            "waiting_since",
            "snoozed_until",
            "ai_agent_participated",
        ],
    ),
    (
        Vendor::Freshdesk,
        &[
            "description_text",
            "body_text",
            "fr_due_by",
            "fr_escalated",
            "is_escalated",
            "responder_id",
            "reply_cc_emails",
            "fwd_emails",
            "ratings",
            "survey_id",
        ],
    ),
    (
        Vendor::HelpScout,
        &[
            "_embedded",
            "primaryCustomer",
            "mailboxId",
            "conversationId",
            "conversationNumber",
            "threadId",
            "customerWaitingSince",
            "closedByUser",
            "userUpdatedAt",
            "folderId",
        ],
    ),
];

/// The error for a file read without error but holding none of `vendor`'s shapes.
pub(crate) fn wrong_shape(path: &Path, bytes: &[u8], vendor: Vendor) -> Error {
    let found = serde_json::from_slice::<Outline>(bytes)
        .map(|outline| (outline.describe(), outline.looks_like(vendor)))
        .unwrap_or_else(|_| ("JSON of another shape".to_owned(), String::new()));
    Error::Usage(format!(
        "{}: not {} export: found {}; {} export file is {}{}",
        path.display(),
        a_title(vendor),
        found.0,
        a_title(vendor),
        accepted_shapes(vendor),
        found.1,
    ))
}

/// The error for a file whose values have the wrong types for `vendor`, when that is
/// because it is not a file of `vendor`'s at all (another vendor's, or not objects).
pub(crate) fn foreign_shape(path: &Path, bytes: &[u8], vendor: Vendor) -> Option<Error> {
    let outline = serde_json::from_slice::<Outline>(bytes).ok()?;
    let not_records = match outline.what {
        What::Other(_) => true,
        What::Array(len) => len > 0 && outline.keys.is_empty(),
        What::Object => false,
    };
    let foreign = not_records || outline.likeness(vendor).is_some();
    foreign.then(|| wrong_shape(path, bytes, vendor))
}

/// The top of a JSON document: what it is and its keys.
struct Outline {
    what: What,
    /// The object's keys; for an array, its first item's.
    keys: Vec<String>,
    /// The value of a `"type"` key, when it is a string (Intercom's objects say what
    /// they are: `conversation`, `conversation.list`).
    type_value: Option<String>,
}

enum What {
    Object,
    Array(usize),
    Other(&'static str),
}

impl Outline {
    fn describe(&self) -> String {
        let keys = || {
            let shown: Vec<String> = self
                .keys
                .iter()
                .take(KEYS_SHOWN)
                .map(|key| format!("`{key}`"))
                .collect();
            let more = self.keys.len().saturating_sub(KEYS_SHOWN);
            let more = if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            };
            format!("{}{more}", shown.join(", "))
        };
        match self.what {
            What::Object if self.keys.is_empty() => "an empty JSON object".to_owned(),
            What::Object => format!("a JSON object with the keys {}", keys()),
            What::Array(0) => "an empty JSON array".to_owned(),
            What::Array(len) if self.keys.is_empty() => {
                format!("a JSON array of {len} items that are not objects")
            }
            What::Array(len) => {
                format!(
                    "a JSON array of {len} items, the first with the keys {}",
                    keys()
                )
            }
            What::Other(what) => what.to_owned(),
        }
    }

    /// The signature keys of `vendor` this outline has.
    fn signs(&self, vendor: Vendor) -> Vec<String> {
        let mut signs: Vec<String> = SIGNATURES
            .iter()
            .filter(|(of, _)| *of == vendor)
            .flat_map(|(_, keys)| keys.iter())
            .filter(|sign| self.keys.iter().any(|key| key == *sign))
            .map(|sign| format!("`{sign}`"))
            .collect();
        if vendor == Vendor::Intercom
            && let Some(kind) = &self.type_value
            && kind.starts_with("conversation")
        {
            signs.push(format!("`\"type\": \"{kind}\"`"));
        }
        signs
    }

    /// The other vendor this looks most like, with its signs, when it looks more like it
    /// than like `chosen`.
    fn likeness(&self, chosen: Vendor) -> Option<(Vendor, Vec<String>)> {
        let own = self.signs(chosen).len();
        Vendor::ALL
            .into_iter()
            .filter(|&vendor| vendor != chosen)
            .map(|vendor| (vendor, self.signs(vendor)))
            .filter(|(_, signs)| signs.len() > own)
            .max_by_key(|(_, signs)| signs.len())
    }

    fn looks_like(&self, chosen: Vendor) -> String {
        match self.likeness(chosen) {
            Some((vendor, signs)) => format!(
                "; it looks like {} export (it has {}): import it as `{}`",
                a_title(vendor),
                signs.join(", "),
                vendor.name()
            ),
            None => String::new(),
        }
    }
}

impl<'de> Deserialize<'de> for Outline {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(OutlineVisitor)
    }
}

struct OutlineVisitor;

impl OutlineVisitor {
    fn other<E>(what: &'static str) -> Result<Outline, E> {
        Ok(Outline {
            what: What::Other(what),
            keys: Vec::new(),
            type_value: None,
        })
    }
}

impl<'de> Visitor<'de> for OutlineVisitor {
    type Value = Outline;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Outline, A::Error> {
        let mut keys = Vec::new();
        let mut type_value = None;
        while let Some(key) = map.next_key::<String>()? {
            if key == "type" {
                type_value = map
                    .next_value::<serde_json::Value>()?
                    .as_str()
                    .map(str::to_owned);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
            keys.push(key);
        }
        Ok(Outline {
            what: What::Object,
            keys,
            type_value,
        })
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Outline, A::Error> {
        let first = seq.next_element::<Outline>()?;
        let mut len = usize::from(first.is_some());
        while seq.next_element::<IgnoredAny>()?.is_some() {
            len += 1;
        }
        let (keys, type_value) = first
            .map(|first| (first.keys, first.type_value))
            .unwrap_or_default();
        Ok(Outline {
            what: What::Array(len),
            keys,
            type_value,
        })
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<Outline, E> {
        Self::other("a JSON string")
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Outline, E> {
        Self::other("a JSON boolean")
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Outline, E> {
        Self::other("a JSON number")
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Outline, E> {
        Self::other("a JSON number")
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Outline, E> {
        Self::other("a JSON number")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Outline, E> {
        Self::other("JSON null")
    }
}
