//! Help Scout: the sample conversation (threads newest first), ratings joined by
//! `conversationId`, thread types and pages.

use serde_json::json;

use super::*;
use crate::tickets::model::{Person, Satisfaction, Sentiment};

const CONVERSATION: &str = "helpscout_conversation_embed_threads.json";
const RATING: &str = "helpscout_rating.json";

fn hs_person(first: &str, last: &str, email: &str, requester: bool) -> Person {
    Person {
        first: Some(first.into()),
        last: Some(last.into()),
        email: Some(email.into()),
        requester,
        ..Person::default()
    }
}

#[test]
fn the_sample_conversation_oldest_first() {
    let parsed = read_fixtures(Vendor::HelpScout, &[CONVERSATION]);
    assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
    let ticket = only_ticket(&parsed);
    assert_eq!(ticket.vendor, Vendor::HelpScout);
    assert_eq!(ticket.id, "123");
    assert_eq!(
        ticket.url.as_deref(),
        Some("https://secure.helpscout.net/conversation/123/12")
    );
    assert_eq!(ticket.subject.as_deref(), Some("Help"));
    assert_eq!(ticket.status.as_deref(), Some("closed"));
    assert_eq!(ticket.created, at("2012-03-15T22:46:22Z"));
    assert_eq!(ticket.updated, at("2012-03-16T14:07:23Z"));
    assert_eq!(ticket.tags, ["vip"]);
    assert_eq!(ticket.customer.as_deref(), Some("12"));
    assert_eq!(
        turns(ticket),
        [
            (Speaker::Customer, "I lost my phone and can't log in (2FA)."),
            (Speaker::Agent, "You're welcome! Closing this out."),
        ]
    );
    assert_eq!(ticket.turns[0].at, at("2012-03-15T22:46:22Z"));
    assert_eq!(ticket.internal_notes, 1);
    assert_eq!(ticket.satisfaction, None);
    assert_eq!(
        ticket.people,
        [
            hs_person("Vernon", "Bear", "bear@acme.com", true),
            hs_person("Mr", "Robot", "none@nowhere.com", false),
            hs_person("Clo", "Ser", "closer@closers.com", false),
            Person {
                email: Some("bear@normal.com".into()),
                ..Person::default()
            },
        ]
    );
}

#[test]
fn the_sample_rating_joins_its_conversation() {
    for files in [[CONVERSATION, RATING], [RATING, CONVERSATION]] {
        let parsed = read_fixtures(Vendor::HelpScout, &files);
        assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
        assert_eq!(
            only_ticket(&parsed).satisfaction,
            Some(Satisfaction {
                score: "great".into(),
                sentiment: Sentiment::Positive,
                comment: Some("Well done!".into()),
            })
        );
    }
    let parsed = read_fixtures(Vendor::HelpScout, &[RATING]);
    assert!(parsed.tickets.is_empty());
    assert_eq!(
        warnings(&parsed),
        ["conversation 123: rating of a conversation that no export file holds; left out"]
    );
}

fn thread(id: u32, kind: &str, by: &str, body: serde_json::Value, at: &str) -> serde_json::Value {
    json!({ "id": id, "type": kind, "state": "published", "body": body, "createdAt": at,
            "createdBy": { "id": id, "type": by, "first": format!("P{id}") } })
}

#[test]
fn a_page_of_conversations_with_every_thread_type() {
    let t = "2024-05-01T10:00:00Z";
    let threads = json!([
        thread(9, "lineitem", "user", json!(null), "2024-05-01T12:00:00Z"),
        thread(8, "chat", "user", json!("<p>Agent in chat</p>"), t),
        thread(7, "chat", "customer", json!("Customer in chat"), t),
        thread(6, "phone", "user", json!(null), t),
        thread(5, "forwardparent", "user", json!("fwd"), t),
        { "id": 4, "type": "message", "state": "draft", "body": "unsent", "createdAt": t },
        thread(3, "message", "user", json!("Hello &amp; welcome<br>Line two"), t),
        thread(2, "chat", "bot", json!("who am I"), t),
        thread(1, "customer", "customer", json!("First"), "2024-05-01T09:00:00Z"),
    ]);
    let export = Export::new()
        .json(
            "page.json",
            json!({ "_embedded": { "conversations": [
                { "id": 1, "subject": "Chat", "primaryCustomer": { "id": 5, "first": "Kim" },
                  "createdAt": t, "_embedded": { "threads": threads } },
                { "id": 2, "number": 3, "subject": "No threads embedded" },
                { "number": 4 }
            ]}, "page": { "size": 25, "totalElements": 3 } }),
        )
        .json(
            "ratings.json",
            json!([
                { "id": 1, "conversationId": 1, "rating": "okay", "createdAt": "2024-05-02T00:00:00" },
                { "id": 2, "conversationId": 1, "rating": "not_good", "createdAt": "2024-05-03T00:00:00" }
            ]),
        );
    let parsed = export.read(Vendor::HelpScout);
    assert_eq!(
        warnings(&parsed),
        [
            "conversation 1 thread 2: created by `bot`, neither a customer nor a user; left out",
            "conversations[2]: conversation without id; skipped",
            "conversation 2: no customer message in it (nothing to make a case from); skipped",
        ]
    );
    let ticket = only_ticket(&parsed);
    assert_eq!(
        ticket.url.as_deref(),
        Some("https://secure.helpscout.net/conversation/1")
    );
    // Same time: the order of the conversation (the export's, reversed) is kept.
    assert_eq!(
        turns(ticket),
        [
            (Speaker::Customer, "First"),
            (Speaker::Agent, "Hello & welcome\nLine two"),
            (Speaker::Customer, "Customer in chat"),
            (Speaker::Agent, "Agent in chat"),
        ]
    );
    assert_eq!(ticket.customer.as_deref(), Some("5"));
    assert_eq!(ticket.people[0].first.as_deref(), Some("Kim"));
    assert!(ticket.people[0].requester);
    let satisfaction = ticket.satisfaction.as_ref().unwrap();
    assert_eq!(satisfaction.score, "not_good");
    assert_eq!(satisfaction.sentiment, Sentiment::Negative);
}
