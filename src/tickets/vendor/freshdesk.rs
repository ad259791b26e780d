//! Freshdesk API v2 exports: a ticket (`GET /tickets/{id}`, with `include=conversations`
//! and `include=requester` or without), an array of tickets, an array of one ticket's
//! conversations (`GET /tickets/{id}/conversations`), or an array of satisfaction ratings
//! (`GET /surveys/satisfaction_ratings`), joined to their tickets by `ticket_id`.
//!
//! The ticket's description is its first customer message. Freshdesk's statuses are
//! codes (2 open, 3 pending, 4 resolved, 5 closed; accounts may add their own, which
//! the export does not name), and so are its satisfaction ratings (103 extremely happy
//! down to -103 extremely unhappy): both are written as their words.

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
    RecordWarning, Satisfaction, Sentiment, Speaker, Ticket, Turn, Vendor,
};
use evalgate::errors::Error;

/// A ticket, a satisfaction rating or a conversation: Freshdesk's arrays do not say which,
/// their fields do ([`RawRecord::kind`]).
#[derive(Deserialize, Default)]
#[serde(default)]
struct RawRecord {
    id: Option<Scalar>,
    subject: Option<String>,
    description: Option<String>,
    description_text: Option<String>,
    status: Option<Scalar>,
    requester_id: Option<Scalar>,
    company_id: Option<Scalar>,
    tags: Option<Vec<String>>,
    cc_emails: Option<Vec<String>>,
    requester: Option<RawRequester>,
    conversations: Option<Vec<RawConversation>>,
    created_at: Option<When>,
    updated_at: Option<When>,
    ticket_id: Option<Scalar>,
    ratings: Option<RawRatings>,
    feedback: Option<String>,
    body: Option<String>,
    body_text: Option<String>,
    incoming: Option<bool>,
    private: Option<bool>,
    // Keys of other vendors' objects that a Freshdesk one never has.
    #[serde(rename = "_embedded")]
    help_scout_embedded: Option<IgnoredAny>,
    #[serde(rename = "primaryCustomer")]
    help_scout_customer: Option<IgnoredAny>,
    #[serde(rename = "conversation_parts")]
    intercom_parts: Option<IgnoredAny>,
    #[serde(rename = "submitter_id")]
    zendesk_submitter: Option<IgnoredAny>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawRequester {
    name: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    mobile: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawConversation {
    id: Option<Scalar>,
    body: Option<String>,
    body_text: Option<String>,
    incoming: Option<bool>,
    private: Option<bool>,
    created_at: Option<When>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawRatings {
    default_question: Option<Scalar>,
}

/// The keys of a Freshdesk record, from the API v2 reference: a ticket's, a conversation's
/// and a satisfaction rating's documented fields, read or not (a file does not say which it
/// holds).
static RECORD: Keys = Keys {
    name: "ticket, conversation or rating",
    values: &[
        "id",
        "subject",
        "description",
        "description_text",
        "type",
        "status",
        "priority",
        "source",
        "requester_id",
        "responder_id",
        "group_id",
        "company_id",
        "product_id",
        "email_config_id",
        "cc_emails",
        "fwd_emails",
        "reply_cc_emails",
        "ticket_cc_emails",
        "to_emails",
        "fr_escalated",
        "is_escalated",
        "nr_escalated",
        "spam",
        "deleted",
        "tags",
        "custom_fields",
        "attachments",
        "due_by",
        "fr_due_by",
        "nr_due_by",
        "created_at",
        "updated_at",
        "stats",
        "company",
        "email",
        "phone",
        "name",
        "facebook_id",
        "twitter_id",
        "unique_external_id",
        "internal_agent_id",
        "internal_group_id",
        "association_type",
        "associated_tickets_count",
        "associated_tickets_list",
        "source_additional_info",
        "structured_description",
        "form_id",
        "support_email",
        "sentiment_score",
        "initial_sentiment_score",
        "parent_id",
        "ticket_id",
        "user_id",
        "body",
        "body_text",
        "incoming",
        "private",
        "from_email",
        "bcc_emails",
        "category",
        "thread_id",
        "thread_message_id",
        "auto_response",
        "automation_id",
        "automation_type_id",
        "last_edited_at",
        "last_edited_user_id",
        "survey_id",
        "agent_id",
        "ratings",
        "feedback",
    ],
    objects: &[("requester", &REQUESTER), ("conversations", &CONVERSATION)],
};

static REQUESTER: Keys = Keys {
    name: "requester",
    values: &["id", "name", "email", "mobile", "phone"],
    objects: &[],
};

static CONVERSATION: Keys = Keys {
    name: "conversation",
    values: &[
        "id",
        "ticket_id",
        "user_id",
        "body",
        "body_text",
        "incoming",
        "private",
        "source",
        "support_email",
        "from_email",
        "to_emails",
        "cc_emails",
        "bcc_emails",
        "attachments",
        "created_at",
        "updated_at",
        "category",
        "thread_id",
        "thread_message_id",
        "source_additional_info",
        "auto_response",
        "automation_id",
        "automation_type_id",
        "last_edited_at",
        "last_edited_user_id",
    ],
    objects: &[],
};

#[derive(Debug, PartialEq, Eq)]
enum Kind {
    Ticket,
    Rating,
    Conversation,
    Foreign,
    Unknown,
}

impl RawRecord {
    fn kind(&self) -> Kind {
        let foreign = [
            &self.help_scout_embedded,
            &self.help_scout_customer,
            &self.intercom_parts,
            &self.zendesk_submitter,
        ];
        let has_ticket_fields = self.subject.is_some()
            || self.description.is_some()
            || self.description_text.is_some()
            || self.status.is_some()
            || self.requester_id.is_some();
        if foreign.iter().any(|marker| marker.is_some()) {
            Kind::Foreign
        } else if self.ratings.is_some() {
            Kind::Rating
        } else if self.ticket_id.is_some() && (self.body.is_some() || self.body_text.is_some()) {
            Kind::Conversation
        } else if has_ticket_fields {
            Kind::Ticket
        } else {
            Kind::Unknown
        }
    }

    fn into_conversation(self) -> RawConversation {
        RawConversation {
            id: self.id,
            body: self.body,
            body_text: self.body_text,
            incoming: self.incoming,
            private: self.private,
            created_at: self.created_at,
        }
    }
}

/// A ticket read, and the ids of the conversations it already has.
struct Pending {
    ticket: Ticket,
    conversation_ids: Vec<String>,
}

/// Conversations from a file of their own, waiting for their ticket.
struct Joined {
    file: PathBuf,
    conversations: Vec<(Option<String>, Message)>,
}

enum Message {
    Note,
    Turn(Turn),
}

#[derive(Default)]
pub(super) struct Import {
    tickets: Vec<Pending>,
    index: HashMap<String, usize>,
    conversations: HashMap<String, Joined>,
    ratings: HashMap<String, (PathBuf, Satisfaction, Option<jiff::Timestamp>)>,
}

impl Importer for Import {
    const VENDOR: Vendor = Vendor::Freshdesk;
    const KNOWN: &'static Keys = &RECORD;

    fn add_file(
        &mut self,
        path: &Path,
        bytes: &[u8],
        warnings: &mut Vec<RecordWarning>,
    ) -> Result<(), Error> {
        let (records, single) =
            match export_file::parse::<OneOrMany<RawRecord>>(path, bytes, Self::VENDOR)? {
                OneOrMany::One(record) => (vec![record], true),
                OneOrMany::Many(records) => (records, false),
            };
        let kinds: Vec<Kind> = records.iter().map(RawRecord::kind).collect();
        let none_known = !kinds.is_empty() && kinds.iter().all(|kind| *kind == Kind::Unknown);
        if none_known || kinds.contains(&Kind::Foreign) {
            return Err(shape::wrong_shape(path, bytes, Self::VENDOR));
        }
        let mut log = Log::new(path, warnings);
        for (i, (record, kind)) in records.into_iter().zip(kinds).enumerate() {
            let position = match (single, &kind) {
                (false, _) => format!("[{i}]"),
                (true, Kind::Rating) => "rating".to_owned(),
                (true, Kind::Conversation) => "conversation".to_owned(),
                (true, _) => "ticket".to_owned(),
            };
            match kind {
                Kind::Ticket => self.add_ticket(record, &position, &mut log),
                Kind::Rating => self.add_rating(record, &position, &mut log),
                Kind::Conversation => self.add_conversation(record, &mut log),
                Kind::Unknown | Kind::Foreign => log.warn(
                    &position,
                    "neither a ticket, a conversation nor a rating; skipped",
                ),
            }
        }
        Ok(())
    }

    fn finish(mut self, warnings: &mut Vec<RecordWarning>) -> Vec<Ticket> {
        let mut tickets = Vec::with_capacity(self.tickets.len());
        for Pending {
            mut ticket,
            conversation_ids,
        } in std::mem::take(&mut self.tickets)
        {
            if let Some(joined) = self.conversations.remove(&ticket.id) {
                for (id, message) in joined.conversations {
                    if id.as_ref().is_some_and(|id| conversation_ids.contains(id)) {
                        continue;
                    }
                    match message {
                        Message::Note => ticket.internal_notes += 1,
                        Message::Turn(turn) => ticket.turns.push(turn),
                    }
                }
            }
            if let Some((_, satisfaction, _)) = self.ratings.remove(&ticket.id) {
                ticket.satisfaction = Some(satisfaction);
            }
            let file = ticket.file.clone();
            tickets.extend(assemble::finish(ticket, &mut Log::new(&file, warnings)));
        }
        let mut left: Vec<(String, PathBuf, &str)> = Vec::new();
        left.extend(
            self.conversations
                .into_iter()
                .map(|(id, j)| (id, j.file, "conversations")),
        );
        left.extend(
            self.ratings
                .into_iter()
                .map(|(id, (file, ..))| (id, file, "rating")),
        );
        left.sort();
        for (id, file, what) in left {
            Log::new(&file, warnings).warn(
                &format!("ticket {id}"),
                format!("{what} of a ticket that no export file holds; left out"),
            );
        }
        tickets
    }
}

impl Import {
    fn add_ticket(&mut self, raw: RawRecord, position: &str, log: &mut Log) {
        let Some(id) = raw.id.map(|id| id.0).filter(|id| !id.trim().is_empty()) else {
            log.warn(position, "ticket without id; skipped");
            return;
        };
        let record = format!("ticket {id}");
        let created = assemble::timestamp(raw.created_at.as_ref(), "created_at", &record, log);
        let updated = assemble::timestamp(raw.updated_at.as_ref(), "updated_at", &record, log);
        let mut turns = Vec::new();
        let description = [&raw.description_text, &raw.description].map(|b| b.as_deref());
        if let Body::Text(text) = Body::of(&description) {
            turns.push(Turn {
                speaker: Speaker::Customer,
                text,
                at: created,
            });
        }
        let mut ticket = Ticket {
            vendor: Vendor::Freshdesk,
            id: id.clone(),
            url: None,
            subject: non_empty(raw.subject.as_deref()),
            status: raw.status.as_ref().map(|code| status(code, &record, log)),
            created,
            updated,
            tags: assemble::unique_tags(raw.tags.unwrap_or_default()),
            customer: raw.company_id.or(raw.requester_id).map(|id| id.0),
            people: Vec::new(),
            turns,
            internal_notes: 0,
            satisfaction: None,
            file: log.file().to_path_buf(),
        };
        let mut people = People::default();
        if let Some(requester) = &raw.requester {
            let phone = requester.phone.as_deref().or(requester.mobile.as_deref());
            let (name, email) = (requester.name.as_deref(), requester.email.as_deref());
            people.add(person(name, None, None, email, phone, true));
        }
        for email in raw.cc_emails.iter().flatten() {
            people.add(person(None, None, None, Some(email), None, false));
        }
        ticket.people = people.into_vec();
        let mut conversation_ids = Vec::new();
        for (i, conversation) in raw.conversations.into_iter().flatten().enumerate() {
            let id = conversation.id.as_ref().map(|id| id.0.clone());
            let record = conversation_record(&ticket.id, id.as_deref(), i);
            match message(conversation, &record, log) {
                Some(Message::Note) => ticket.internal_notes += 1,
                Some(Message::Turn(turn)) => ticket.turns.push(turn),
                None => {}
            }
            conversation_ids.extend(id);
        }
        let pending = Pending {
            ticket,
            conversation_ids,
        };
        match self.index.get(&id) {
            // A ticket seen again: the later record is the newer one, but a list export
            // has no description or conversations, which the earlier may have had.
            Some(&at) => {
                let old = &mut self.tickets[at];
                let mut pending = pending;
                if pending.ticket.turns.is_empty() && pending.ticket.internal_notes == 0 {
                    pending.ticket.turns = std::mem::take(&mut old.ticket.turns);
                    pending.ticket.internal_notes = old.ticket.internal_notes;
                    pending.conversation_ids = std::mem::take(&mut old.conversation_ids);
                }
                *old = pending;
            }
            None => {
                self.index.insert(id, self.tickets.len());
                self.tickets.push(pending);
            }
        }
    }

    fn add_conversation(&mut self, raw: RawRecord, log: &mut Log) {
        let Some(ticket) = raw.ticket_id.clone().map(|id| id.0) else {
            return;
        };
        let conversation = raw.into_conversation();
        let id = conversation.id.as_ref().map(|id| id.0.clone());
        let record = conversation_record(&ticket, id.as_deref(), 0);
        if let Some(message) = message(conversation, &record, log) {
            self.conversations
                .entry(ticket)
                .or_insert_with(|| Joined {
                    file: log.file().to_path_buf(),
                    conversations: Vec::new(),
                })
                .conversations
                .push((id, message));
        }
    }

    fn add_rating(&mut self, raw: RawRecord, position: &str, log: &mut Log) {
        let rating_id = raw.id.as_ref().map_or("", Scalar::as_str);
        let Some(ticket) = raw.ticket_id.map(|id| id.0) else {
            log.warn(position, "satisfaction rating without ticket_id; skipped");
            return;
        };
        let record = format!("ticket {ticket} rating {rating_id}");
        let Some(score) = raw.ratings.and_then(|ratings| ratings.default_question) else {
            log.warn(
                &record,
                "rating without `ratings.default_question`; skipped",
            );
            return;
        };
        let at = assemble::timestamp(raw.created_at.as_ref(), "created_at", &record, log);
        let (score, sentiment) = match rating_word(&score) {
            Some((word, sentiment)) => (word.to_owned(), sentiment),
            None => (score.0, Sentiment::Unknown),
        };
        let satisfaction = Satisfaction {
            score,
            sentiment,
            comment: non_empty(raw.feedback.as_deref()),
        };
        // A ticket rated twice keeps its latest rating.
        let newer = |(_, _, known): &(PathBuf, Satisfaction, Option<jiff::Timestamp>)| !matches!((known, at), (Some(known), Some(at)) if *known > at);
        if self.ratings.get(&ticket).is_none_or(newer) {
            let file = log.file().to_path_buf();
            self.ratings.insert(ticket, (file, satisfaction, at));
        }
    }
}

fn conversation_record(ticket: &str, id: Option<&str>, i: usize) -> String {
    match id {
        Some(id) => format!("ticket {ticket} conversation {id}"),
        None => format!("ticket {ticket} conversations[{i}]"),
    }
}

/// A conversation as a note or a turn; `None` when it has no text (with a warning when
/// it has no body at all).
fn message(raw: RawConversation, record: &str, log: &mut Log) -> Option<Message> {
    if raw.private == Some(true) {
        return Some(Message::Note);
    }
    let at = assemble::timestamp(raw.created_at.as_ref(), "created_at", record, log);
    let speaker = if raw.incoming == Some(true) {
        Speaker::Customer
    } else {
        Speaker::Agent
    };
    match Body::of(&[raw.body_text.as_deref(), raw.body.as_deref()]) {
        Body::Text(text) => Some(Message::Turn(Turn { speaker, text, at })),
        Body::Empty => None,
        Body::Missing => {
            log.warn(record, "message without body; skipped");
            None
        }
    }
}

/// The answer a satisfaction rating's code stands for on Freshdesk's scale, and its
/// sentiment; `None` for a code off the scale.
fn rating_word(code: &Scalar) -> Option<(&'static str, Sentiment)> {
    Some(match code.as_integer()? {
        103 => ("Extremely happy", Sentiment::Positive),
        102 => ("Very happy", Sentiment::Positive),
        101 => ("Happy", Sentiment::Positive),
        100 => ("Neutral", Sentiment::Neutral),
        -101 => ("Unhappy", Sentiment::Negative),
        -102 => ("Very unhappy", Sentiment::Negative),
        -103 => ("Extremely unhappy", Sentiment::Negative),
        _ => return None,
    })
}

/// Freshdesk's status word for its code; an account's own statuses are codes the export
/// does not name.
fn status(code: &Scalar, record: &str, log: &mut Log) -> String {
    match code.as_integer() {
        Some(2) => "open".to_owned(),
        Some(3) => "pending".to_owned(),
        Some(4) => "resolved".to_owned(),
        Some(5) => "closed".to_owned(),
        _ => {
            let status = format!("unknown ({code})");
            log.warn(
                record,
                format!("unknown status code {code}; kept as `{status}`"),
            );
            status
        }
    }
}
