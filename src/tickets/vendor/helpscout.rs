//! Help Scout Mailbox API 2.0 exports: a conversation with its threads
//! (`GET /v2/conversations/{id}?embed=threads`), a page of conversations
//! (`{"_embedded": {"conversations": […]}}`), or satisfaction ratings
//! (`GET /v2/ratings/{id}`, one object or an array), joined by `conversationId`.
//!
//! Help Scout embeds threads newest first; turns are put oldest first. Thread types say
//! who wrote: `customer` threads are the customer's, `message` threads an agent's, `note`
//! threads internal; chats and phone calls are whoever created them. Line items (status
//! changes, assignments) and forwards are not messages.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde::de::IgnoredAny;

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

/// A conversation, a page of them, or a rating.
#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct RawRecord {
    id: Option<Scalar>,
    number: Option<Scalar>,
    subject: Option<String>,
    status: Option<String>,
    created_at: Option<When>,
    user_updated_at: Option<When>,
    closed_at: Option<When>,
    tags: Option<Vec<RawTag>>,
    cc: Option<Vec<String>>,
    bcc: Option<Vec<String>>,
    primary_customer: Option<RawPerson>,
    created_by: Option<RawPerson>,
    assignee: Option<RawPerson>,
    closed_by_user: Option<RawPerson>,
    #[serde(rename = "_embedded")]
    embedded: Option<RawEmbedded>,
    conversation_id: Option<Scalar>,
    rating: Option<String>,
    comments: Option<String>,
    // Keys of other vendors' objects that a Help Scout one never has.
    #[serde(rename = "conversation_parts")]
    intercom_parts: Option<IgnoredAny>,
    #[serde(rename = "description_text")]
    freshdesk_description: Option<IgnoredAny>,
    #[serde(rename = "requester_id")]
    zendesk_or_freshdesk_requester: Option<IgnoredAny>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawEmbedded {
    threads: Option<Vec<RawThread>>,
    conversations: Option<Vec<RawRecord>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawTag {
    tag: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawPerson {
    id: Option<Scalar>,
    #[serde(rename = "type")]
    kind: Option<String>,
    first: Option<String>,
    last: Option<String>,
    email: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct RawThread {
    id: Option<Scalar>,
    #[serde(rename = "type")]
    kind: Option<String>,
    state: Option<String>,
    body: Option<String>,
    created_by: Option<RawPerson>,
    customer: Option<RawPerson>,
    created_at: Option<When>,
}

/// The keys of a Help Scout record, from the Mailbox API 2.0 reference: a conversation's,
/// a page's and a rating's documented fields, read or not (a file does not say which it
/// holds).
static RECORD: Keys = Keys {
    name: "conversation, page or rating",
    values: &[
        "id",
        "number",
        "threads",
        "type",
        "folderId",
        "status",
        "state",
        "subject",
        "preview",
        "mailboxId",
        "createdAt",
        "closedBy",
        "closedAt",
        "userUpdatedAt",
        "customerWaitingSince",
        "source",
        "cc",
        "bcc",
        "snooze",
        "nextEvent",
        "customFields",
        "_links",
        "page",
        "customer",
        "user",
        "rating",
        "comments",
        "modifiedAt",
        "conversationId",
        "conversationNumber",
        "threadId",
    ],
    objects: &[
        ("primaryCustomer", &PERSON),
        ("createdBy", &PERSON),
        ("assignee", &PERSON),
        ("closedByUser", &PERSON),
        ("tags", &TAG),
        ("_embedded", &EMBEDDED),
    ],
};

static EMBEDDED: Keys = Keys {
    name: "embedded list",
    values: &[],
    objects: &[("threads", &THREAD), ("conversations", &RECORD)],
};

static TAG: Keys = Keys {
    name: "tag",
    values: &["id", "tag", "color"],
    objects: &[],
};

static PERSON: Keys = Keys {
    name: "person",
    values: &["id", "type", "first", "last", "email", "photoUrl", "phone"],
    objects: &[],
};

static THREAD: Keys = Keys {
    name: "thread",
    values: &[
        "id",
        "type",
        "status",
        "state",
        "action",
        "body",
        "source",
        "assignedTo",
        "savedReplyId",
        "to",
        "cc",
        "bcc",
        "createdAt",
        "openedAt",
        "_embedded",
        "_links",
    ],
    objects: &[("createdBy", &PERSON), ("customer", &PERSON)],
};

#[derive(Debug, PartialEq, Eq)]
enum Kind {
    Conversation,
    Page,
    Rating,
    Foreign,
    Unknown,
}

impl RawRecord {
    fn kind(&self) -> Kind {
        let foreign = [
            &self.intercom_parts,
            &self.freshdesk_description,
            &self.zendesk_or_freshdesk_requester,
        ];
        let embedded = self.embedded.as_ref();
        if foreign.iter().any(|marker| marker.is_some()) {
            Kind::Foreign
        } else if embedded.is_some_and(|embedded| embedded.conversations.is_some()) {
            Kind::Page
        } else if self.conversation_id.is_some() && self.rating.is_some() {
            Kind::Rating
        } else if embedded.is_some_and(|embedded| embedded.threads.is_some())
            || self.primary_customer.is_some()
            || self.number.is_some()
            || self.subject.is_some()
        {
            Kind::Conversation
        } else {
            Kind::Unknown
        }
    }
}

#[derive(Default)]
pub(super) struct Import {
    tickets: Vec<Ticket>,
    index: HashMap<String, usize>,
    ratings: HashMap<String, (PathBuf, Satisfaction, Option<jiff::Timestamp>)>,
}

impl Importer for Import {
    const VENDOR: Vendor = Vendor::HelpScout;
    const KNOWN: &'static Keys = &RECORD;

    fn add_file(
        &mut self,
        path: &Path,
        bytes: &[u8],
        warnings: &mut Vec<RecordWarning>,
    ) -> Result<(), Error> {
        let wrong_shape = || shape::wrong_shape(path, bytes, Self::VENDOR);
        let (records, list) =
            match export_file::parse::<OneOrMany<RawRecord>>(path, bytes, Self::VENDOR)? {
                OneOrMany::One(record) => match record.kind() {
                    Kind::Page => {
                        let embedded = record.embedded.unwrap_or_default();
                        (
                            embedded.conversations.unwrap_or_default(),
                            Some("conversations"),
                        )
                    }
                    Kind::Conversation | Kind::Rating => (vec![record], None),
                    Kind::Foreign | Kind::Unknown => return Err(wrong_shape()),
                },
                OneOrMany::Many(records) => (records, Some("")),
            };
        let kinds: Vec<Kind> = records.iter().map(RawRecord::kind).collect();
        let none_known = !kinds.is_empty() && kinds.iter().all(|kind| *kind == Kind::Unknown);
        if none_known || kinds.contains(&Kind::Foreign) {
            return Err(wrong_shape());
        }
        let mut log = Log::new(path, warnings);
        for (i, (record, kind)) in records.into_iter().zip(kinds).enumerate() {
            let position = match (list, &kind) {
                (Some(list), _) => format!("{list}[{i}]"),
                (None, Kind::Rating) => "rating".to_owned(),
                (None, _) => "conversation".to_owned(),
            };
            match kind {
                Kind::Conversation => self.add_conversation(record, &position, &mut log),
                Kind::Rating => self.add_rating(record, &mut log),
                Kind::Page | Kind::Foreign | Kind::Unknown => {
                    log.warn(&position, "neither a conversation nor a rating; skipped")
                }
            }
        }
        Ok(())
    }

    fn finish(mut self, warnings: &mut Vec<RecordWarning>) -> Vec<Ticket> {
        let mut tickets = Vec::with_capacity(self.tickets.len());
        for mut ticket in std::mem::take(&mut self.tickets) {
            if let Some((_, satisfaction, _)) = self.ratings.remove(&ticket.id) {
                ticket.satisfaction = Some(satisfaction);
            }
            let file = ticket.file.clone();
            tickets.extend(assemble::finish(ticket, &mut Log::new(&file, warnings)));
        }
        let mut left: Vec<(String, PathBuf)> = self
            .ratings
            .into_iter()
            .map(|(id, (file, ..))| (id, file))
            .collect();
        left.sort();
        for (id, file) in left {
            Log::new(&file, warnings).warn(
                &format!("conversation {id}"),
                "rating of a conversation that no export file holds; left out",
            );
        }
        tickets
    }
}

impl Import {
    fn add_conversation(&mut self, raw: RawRecord, position: &str, log: &mut Log) {
        let Some(id) = raw.id.map(|id| id.0).filter(|id| !id.trim().is_empty()) else {
            log.warn(position, "conversation without id; skipped");
            return;
        };
        let record = format!("conversation {id}");
        let created = assemble::timestamp(raw.created_at.as_ref(), "createdAt", &record, log);
        let updated_at = raw.user_updated_at.as_ref().or(raw.closed_at.as_ref());
        let updated = assemble::timestamp(updated_at, "userUpdatedAt", &record, log);
        let mut people = People::default();
        people.add(
            raw.primary_customer
                .as_ref()
                .and_then(|c| hs_person(c, true)),
        );
        for someone in [&raw.created_by, &raw.assignee, &raw.closed_by_user] {
            people.add(someone.as_ref().and_then(|p| hs_person(p, false)));
        }
        let mut turns = Vec::new();
        let mut internal_notes = 0;
        let mut threads = raw.embedded.and_then(|e| e.threads).unwrap_or_default();
        // Newest first in the export; oldest first from here on, so that threads with
        // the same time keep their order in the conversation.
        threads.reverse();
        for (i, thread) in threads.into_iter().enumerate() {
            for someone in [&thread.created_by, &thread.customer] {
                people.add(someone.as_ref().and_then(|p| hs_person(p, false)));
            }
            let thread_record = match &thread.id {
                Some(thread_id) => format!("{record} thread {thread_id}"),
                None => format!("{record} threads[{i}] (oldest first)"),
            };
            match message(thread, &thread_record, log) {
                Some(Message::Note) => internal_notes += 1,
                Some(Message::Turn(turn)) => turns.push(turn),
                None => {}
            }
        }
        for email in raw.cc.iter().chain(&raw.bcc).flatten() {
            people.add(person(None, None, None, Some(email), None, false));
        }
        let url = match &raw.number {
            Some(number) => format!("https://secure.helpscout.net/conversation/{id}/{number}"),
            None => format!("https://secure.helpscout.net/conversation/{id}"),
        };
        let tags = raw.tags.into_iter().flatten().filter_map(|tag| tag.tag);
        let ticket = Ticket {
            vendor: Vendor::HelpScout,
            id: id.clone(),
            url: Some(url),
            subject: non_empty(raw.subject.as_deref()),
            status: non_empty(raw.status.as_deref()),
            created,
            updated,
            tags: assemble::unique_tags(tags),
            customer: raw.primary_customer.and_then(|c| c.id).map(|id| id.0),
            people: people.into_vec(),
            turns,
            internal_notes,
            satisfaction: None,
            file: log.file().to_path_buf(),
        };
        match self.index.get(&id) {
            // Seen again: the later record is the newer one, unless it is from a page
            // without threads and the earlier one had them.
            Some(&at) => {
                let old = &mut self.tickets[at];
                let mut ticket = ticket;
                if ticket.turns.is_empty() && ticket.internal_notes == 0 {
                    ticket.turns = std::mem::take(&mut old.turns);
                    ticket.internal_notes = old.internal_notes;
                }
                *old = ticket;
            }
            None => {
                self.index.insert(id, self.tickets.len());
                self.tickets.push(ticket);
            }
        }
    }

    fn add_rating(&mut self, raw: RawRecord, log: &mut Log) {
        let Some(conversation) = raw.conversation_id.map(|id| id.0) else {
            return;
        };
        let rating_id = raw.id.as_ref().map_or("", Scalar::as_str);
        let record = format!("conversation {conversation} rating {rating_id}");
        let Some(score) = non_empty(raw.rating.as_deref()) else {
            log.warn(&record, "rating without a value; skipped");
            return;
        };
        let at = assemble::timestamp(raw.created_at.as_ref(), "createdAt", &record, log);
        let satisfaction = Satisfaction {
            sentiment: sentiment(&score),
            score,
            comment: non_empty(raw.comments.as_deref()),
        };
        // Customers rate replies, so a conversation may have several ratings: the
        // latest is the customer's last word.
        let newer = |(_, _, known): &(PathBuf, Satisfaction, Option<jiff::Timestamp>)| !matches!((known, at), (Some(known), Some(at)) if *known > at);
        if self.ratings.get(&conversation).is_none_or(newer) {
            let file = log.file().to_path_buf();
            self.ratings.insert(conversation, (file, satisfaction, at));
        }
    }
}

enum Message {
    Note,
    Turn(Turn),
}

/// A thread as a note or a turn, or `None` for a thread that is not a message (a line
/// item, a forward, a draft, a call without a summary).
fn message(thread: RawThread, record: &str, log: &mut Log) -> Option<Message> {
    if thread.state.as_deref() == Some("draft") {
        // Never sent.
        return None;
    }
    let body = Body::of(&[thread.body.as_deref()]);
    let speaker = match thread.kind.as_deref().unwrap_or("") {
        "customer" => Speaker::Customer,
        "message" | "reply" => Speaker::Agent,
        "note" => return Some(Message::Note),
        "chat" | "phone" | "beaconchat" => {
            if body == Body::Missing {
                return None;
            }
            let creator = thread.created_by.as_ref().and_then(|c| c.kind.as_deref());
            match creator {
                Some("customer") => Speaker::Customer,
                Some("user") => Speaker::Agent,
                other => {
                    let problem = format!(
                        "created by `{}`, neither a customer nor a user; left out",
                        other.unwrap_or("nobody")
                    );
                    log.warn(record, problem);
                    return None;
                }
            }
        }
        _ => return None,
    };
    let at = assemble::timestamp(thread.created_at.as_ref(), "createdAt", record, log);
    match body {
        Body::Text(text) => Some(Message::Turn(Turn { speaker, text, at })),
        Body::Empty => None,
        Body::Missing => {
            log.warn(record, "message without body; skipped");
            None
        }
    }
}

fn hs_person(raw: &RawPerson, requester: bool) -> Option<Person> {
    let (first, last, email) = (&raw.first, &raw.last, &raw.email);
    person(
        None,
        first.as_deref(),
        last.as_deref(),
        email.as_deref(),
        None,
        requester,
    )
}

/// Help Scout's three faces: great, okay, not good (`not_good` in the API, "Bad" in
/// webhooks).
fn sentiment(rating: &str) -> Sentiment {
    let rating = rating.trim().to_ascii_lowercase().replace(['_', '-'], " ");
    match rating.as_str() {
        "great" => Sentiment::Positive,
        "okay" | "ok" => Sentiment::Neutral,
        "not good" | "notgood" | "bad" => Sentiment::Negative,
        _ => Sentiment::Unknown,
    }
}
