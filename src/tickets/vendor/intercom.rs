//! Intercom REST API exports: a conversation (`GET /conversations/{id}`), a list
//! (`{"type": "conversation.list", "conversations": […]}`), or a JSON array of
//! conversations.
//!
//! The conversation's `source` is its first message; its parts follow. Who spoke is the
//! author's type: users, leads and contacts are the customer, admins the agents, bots
//! (Fin and other automations) the bot. Parts that are events (assignment, close,
//! snooze…) carry no body and are not messages.

use std::path::Path;

use serde::Deserialize;

use super::assemble::{self, Body, Log, People, person};
use super::export_file;
use super::fields::{OneOrMany, Scalar, When, non_empty};
use super::known_keys::Keys;
use super::read::Importer;
use super::shape;
use crate::tickets::model::{
    Person, RecordWarning, Satisfaction, Sentiment, Speaker, Ticket, Turn, Vendor,
};
use evalgate::errors::Error;

/// A conversation, or a list of them (`conversations`).
#[derive(Deserialize, Default)]
#[serde(default)]
struct RawConversation {
    #[serde(rename = "type")]
    kind: Option<String>,
    id: Option<Scalar>,
    conversations: Option<Vec<RawConversation>>,
    title: Option<String>,
    created_at: Option<When>,
    updated_at: Option<When>,
    state: Option<String>,
    open: Option<bool>,
    source: Option<RawSource>,
    contacts: Option<RawContacts>,
    tags: Option<RawTags>,
    conversation_rating: Option<RawRating>,
    conversation_parts: Option<RawParts>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawSource {
    subject: Option<String>,
    body: Option<String>,
    author: Option<RawAuthor>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawAuthor {
    #[serde(rename = "type")]
    kind: Option<String>,
    name: Option<String>,
    email: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawContacts {
    contacts: Option<Vec<RawContact>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawContact {
    id: Option<Scalar>,
    external_id: Option<Scalar>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawTags {
    tags: Option<Vec<RawTag>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawTag {
    name: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawRating {
    rating: Option<Scalar>,
    remark: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawParts {
    conversation_parts: Option<Vec<RawPart>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawPart {
    id: Option<Scalar>,
    part_type: Option<String>,
    body: Option<String>,
    created_at: Option<When>,
    author: Option<RawAuthor>,
}

/// The keys of an Intercom conversation (and of a `conversation.list`, whose
/// `conversations` are conversations), from the REST API reference (2.x): its documented
/// fields, read or not. A 1.x export's `conversation_message` is not among them: its first
/// message would not be imported.
static CONVERSATION: Keys = Keys {
    name: "conversation",
    values: &[
        "type",
        "id",
        "title",
        "created_at",
        "updated_at",
        "waiting_since",
        "snoozed_until",
        "open",
        "state",
        "read",
        "priority",
        "admin_assignee_id",
        "team_assignee_id",
        "company_id",
        "company",
        "teammates",
        "custom_attributes",
        "first_contact_reply",
        "sla_applied",
        "statistics",
        "linked_objects",
        "ai_agent_participated",
        "ai_agent",
        "topics",
        "redacted",
        "pages",
        "total_count",
    ],
    objects: &[
        ("conversations", &CONVERSATION),
        ("source", &SOURCE),
        ("contacts", &CONTACTS),
        ("tags", &TAGS),
        ("conversation_rating", &RATING),
        ("conversation_parts", &PARTS),
    ],
};

static SOURCE: Keys = Keys {
    name: "conversation source",
    values: &[
        "type",
        "id",
        "delivered_as",
        "subject",
        "body",
        "attachments",
        "url",
        "redacted",
    ],
    objects: &[("author", &AUTHOR)],
};

static AUTHOR: Keys = Keys {
    name: "author",
    values: &[
        "type",
        "id",
        "name",
        "email",
        "from_ai_agent",
        "is_ai_answer",
    ],
    objects: &[],
};

static CONTACTS: Keys = Keys {
    name: "contact list",
    values: &["type"],
    objects: &[("contacts", &CONTACT)],
};

static CONTACT: Keys = Keys {
    name: "contact",
    values: &["type", "id", "external_id"],
    objects: &[],
};

static TAGS: Keys = Keys {
    name: "tag list",
    values: &["type"],
    objects: &[("tags", &TAG)],
};

static TAG: Keys = Keys {
    name: "tag",
    values: &["type", "id", "name", "applied_at", "applied_by"],
    objects: &[],
};

static RATING: Keys = Keys {
    name: "conversation rating",
    values: &["rating", "remark", "created_at", "contact", "teammate"],
    objects: &[],
};

static PARTS: Keys = Keys {
    name: "conversation part list",
    values: &["type", "total_count"],
    objects: &[("conversation_parts", &PART)],
};

static PART: Keys = Keys {
    name: "conversation part",
    values: &[
        "type",
        "id",
        "part_type",
        "body",
        "created_at",
        "updated_at",
        "notified_at",
        "assigned_to",
        "attachments",
        "external_id",
        "redacted",
        "metadata",
        "email_message_metadata",
        "state",
        "tags",
        "event_details",
        "app_package_code",
    ],
    objects: &[("author", &AUTHOR)],
};

impl RawConversation {
    /// Intercom says `"type": "conversation"`; a hand-made file without a type is taken
    /// for one when it has a source or parts. Another type (Help Scout's `"email"`) is
    /// another vendor's object, even with a `source`.
    fn is_conversation(&self) -> bool {
        match self.kind.as_deref() {
            Some(kind) => kind == "conversation",
            None => self.source.is_some() || self.conversation_parts.is_some(),
        }
    }
}

#[derive(Default)]
pub(super) struct Import {
    tickets: Vec<Ticket>,
}

impl Importer for Import {
    const VENDOR: Vendor = Vendor::Intercom;
    const KNOWN: &'static Keys = &CONVERSATION;

    fn add_file(
        &mut self,
        path: &Path,
        bytes: &[u8],
        warnings: &mut Vec<RecordWarning>,
    ) -> Result<(), Error> {
        let wrong_shape = || shape::wrong_shape(path, bytes, Self::VENDOR);
        // Where a record is in the file, for warnings: `conversation`, `conversations[3]`
        // (in a list), `[3]` (in an array).
        let (conversations, list) =
            match export_file::parse::<OneOrMany<RawConversation>>(path, bytes, Self::VENDOR)? {
                OneOrMany::One(RawConversation {
                    conversations: Some(conversations),
                    ..
                }) => (conversations, Some("conversations")),
                OneOrMany::One(conversation) if conversation.is_conversation() => {
                    (vec![conversation], None)
                }
                OneOrMany::One(_) => return Err(wrong_shape()),
                OneOrMany::Many(conversations) => {
                    if !conversations.is_empty()
                        && !conversations.iter().any(|c| c.is_conversation())
                    {
                        return Err(wrong_shape());
                    }
                    (conversations, Some(""))
                }
            };
        let mut log = Log::new(path, warnings);
        for (i, raw) in conversations.into_iter().enumerate() {
            let position = match list {
                Some(list) => format!("{list}[{i}]"),
                None => "conversation".to_owned(),
            };
            if !raw.is_conversation() {
                log.warn(&position, "not a conversation (no `source`); skipped");
                continue;
            }
            self.tickets.extend(conversation(raw, &position, &mut log));
        }
        Ok(())
    }

    fn finish(self, _warnings: &mut Vec<RecordWarning>) -> Vec<Ticket> {
        self.tickets
    }
}

fn conversation(raw: RawConversation, position: &str, log: &mut Log) -> Option<Ticket> {
    let Some(id) = raw.id.map(|id| id.0).filter(|id| !id.trim().is_empty()) else {
        log.warn(position, "conversation without id; skipped");
        return None;
    };
    let record = format!("conversation {id}");
    let created = assemble::timestamp(raw.created_at.as_ref(), "created_at", &record, log);
    let updated = assemble::timestamp(raw.updated_at.as_ref(), "updated_at", &record, log);
    let mut people = People::default();
    let mut turns = Vec::new();
    let mut internal_notes = 0;
    let source = raw.source.unwrap_or_default();
    let subject = non_empty(raw.title.as_deref()).or(non_empty(source.subject.as_deref()));
    let first = Message {
        record: format!("{record} source"),
        author: source.author,
        body: Body::of(&[source.body.as_deref()]),
        at: created,
    };
    first.into_turn(&mut turns, &mut people, log);
    let parts = raw
        .conversation_parts
        .and_then(|parts| parts.conversation_parts);
    for (i, part) in parts.into_iter().flatten().enumerate() {
        let part_record = match &part.id {
            Some(part_id) => format!("{record} part {part_id}"),
            None => format!("{record} conversation_parts[{i}]"),
        };
        let kind = part.part_type.as_deref().unwrap_or("");
        if kind.starts_with("note") {
            internal_notes += 1;
            people.add(
                part.author
                    .as_ref()
                    .and_then(|author| author_person(author, false)),
            );
            continue;
        }
        let body = Body::of(&[part.body.as_deref()]);
        if body == Body::Missing && kind != "comment" {
            // Assignment, close, snooze, attribute updates…: events, not messages.
            continue;
        }
        let at = assemble::timestamp(part.created_at.as_ref(), "created_at", &part_record, log);
        let message = Message {
            record: part_record,
            author: part.author,
            body,
            at,
        };
        message.into_turn(&mut turns, &mut people, log);
    }
    let tags = raw.tags.and_then(|tags| tags.tags).unwrap_or_default();
    let customer = raw
        .contacts
        .and_then(|contacts| contacts.contacts)
        .and_then(|contacts| contacts.into_iter().next())
        .and_then(|contact| {
            let external = contact
                .external_id
                .filter(|id| !id.as_str().trim().is_empty());
            external.or(contact.id).map(|id| id.0)
        });
    let status = non_empty(raw.state.as_deref()).or_else(|| {
        raw.open
            .map(|open| if open { "open" } else { "closed" }.to_owned())
    });
    let ticket = Ticket {
        vendor: Vendor::Intercom,
        id,
        // The agent UI's address needs the workspace's app id, which the export lacks.
        url: None,
        subject,
        status,
        created,
        updated,
        tags: assemble::unique_tags(tags.into_iter().filter_map(|tag| tag.name)),
        customer,
        people: people.into_vec(),
        turns,
        internal_notes,
        satisfaction: raw.conversation_rating.and_then(satisfaction),
        file: log.file().to_path_buf(),
    };
    assemble::finish(ticket, log)
}

/// The source or a part that may be a message.
struct Message {
    record: String,
    author: Option<RawAuthor>,
    body: Body,
    at: Option<jiff::Timestamp>,
}

impl Message {
    fn into_turn(self, turns: &mut Vec<Turn>, people: &mut People, log: &mut Log) {
        let kind = self
            .author
            .as_ref()
            .and_then(|a| a.kind.as_deref())
            .unwrap_or("");
        let speaker = match kind {
            "user" | "lead" | "contact" => Speaker::Customer,
            "admin" | "team" => Speaker::Agent,
            "bot" => Speaker::Bot,
            "" => {
                log.warn(&self.record, "message without an author type; left out");
                return;
            }
            _ => {
                let problem = format!("unknown author type `{kind}`; message left out");
                log.warn(&self.record, problem);
                return;
            }
        };
        // The first customer to write is the requester; a later one (a teammate of
        // theirs) is named without being the requester.
        let requester = speaker == Speaker::Customer && !people.has_requester();
        people.add(
            self.author
                .as_ref()
                .and_then(|a| author_person(a, requester)),
        );
        match self.body {
            Body::Text(text) => turns.push(Turn {
                speaker,
                text,
                at: self.at,
            }),
            Body::Empty => {}
            Body::Missing => log.warn(&self.record, "message without body; skipped"),
        }
    }
}

fn author_person(author: &RawAuthor, requester: bool) -> Option<Person> {
    person(
        author.name.as_deref(),
        None,
        None,
        author.email.as_deref(),
        None,
        requester,
    )
}

/// Intercom's 1–5 stars: 4 and 5 are satisfied, 3 is neutral, 1 and 2 are not.
fn satisfaction(raw: RawRating) -> Option<Satisfaction> {
    let score = raw.rating?;
    let sentiment = match score.as_integer() {
        Some(4 | 5) => Sentiment::Positive,
        Some(3) => Sentiment::Neutral,
        Some(1 | 2) => Sentiment::Negative,
        _ => Sentiment::Unknown,
    };
    Some(Satisfaction {
        score: score.0,
        sentiment,
        comment: non_empty(raw.remark.as_deref()),
    })
}
