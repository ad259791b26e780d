//! Intercom: the sample conversation, lists and arrays, author types, ratings and
//! record warnings.

use serde_json::json;

use super::*;
use crate::tickets::model::{Person, Satisfaction, Sentiment};

const CONVERSATION: &str = "intercom_conversation.json";

#[test]
fn the_sample_conversation() {
    let parsed = read_fixtures(Vendor::Intercom, &[CONVERSATION]);
    assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
    let ticket = only_ticket(&parsed);
    assert_eq!(ticket.vendor, Vendor::Intercom);
    assert_eq!(ticket.id, "367");
    assert_eq!(ticket.url, None);
    // `title` is null and the source's subject empty.
    assert_eq!(ticket.subject, None);
    assert_eq!(ticket.status.as_deref(), Some("closed"));
    assert_eq!(ticket.created, at("2024-06-27T12:53:45Z"));
    assert_eq!(ticket.updated, at("2024-06-27T13:53:45Z"));
    assert_eq!(ticket.tags, ["billing"]);
    assert_eq!(ticket.customer.as_deref(), Some("70"));
    assert_eq!(
        turns(ticket),
        [
            (
                Speaker::Customer,
                "I was charged twice for my March invoice."
            ),
            (
                Speaker::Agent,
                "Sorry about that! I've refunded the duplicate charge."
            ),
            (Speaker::Customer, "Great, thank you!"),
        ]
    );
    let times: Vec<_> = ticket.turns.iter().map(|turn| turn.at).collect();
    assert_eq!(
        times,
        [
            at("2024-06-27T12:53:45Z"),
            at("2024-06-27T12:58:20Z"),
            at("2024-06-27T13:00:00Z"),
        ]
    );
    assert_eq!(ticket.internal_notes, 1);
    assert_eq!(
        ticket.satisfaction,
        Some(Satisfaction {
            score: "5".into(),
            sentiment: Sentiment::Positive,
            comment: Some("Fixed quickly, thanks".into()),
        })
    );
    assert_eq!(
        ticket.people,
        [
            Person {
                name: Some("Jane Doe".into()),
                email: Some("jane@example.com".into()),
                requester: true,
                ..Person::default()
            },
            Person {
                name: Some("Ciaran Lee".into()),
                email: Some("admin153@email.com".into()),
                ..Person::default()
            },
        ]
    );
}

fn conversation(id: serde_json::Value, rating: serde_json::Value) -> serde_json::Value {
    json!({
        "type": "conversation", "id": id, "title": "Refund", "created_at": 1700000000,
        "open": true,
        "source": { "subject": "ignored: the title wins", "body": "Hi<br>I need a refund",
                    "author": { "type": "lead", "id": "l1", "email": "lead@example.com" } },
        "contacts": { "contacts": [ { "id": "c1", "external_id": "" } ] },
        "conversation_rating": rating,
        "conversation_parts": { "conversation_parts": [
            { "id": "1", "part_type": "comment", "body": "<p>Fin here &mdash; on it</p>",
              "created_at": 1700000100, "author": { "type": "bot", "name": "Fin" } },
            { "id": "2", "part_type": "open", "body": "<p>Still there?</p>",
              "created_at": 1700000200, "author": { "type": "user", "name": "Lead" } },
            { "id": "3", "part_type": "note_and_reopen", "body": "<p>VIP</p>",
              "created_at": 1700000250, "author": { "type": "admin", "name": "Ann" } },
            { "id": "4", "part_type": "assignment", "body": null, "created_at": 1700000260,
              "author": { "type": "admin", "name": "Ann" } },
            { "id": "5", "part_type": "comment", "body": "<p>Done.</p>", "created_at": 1700000300,
              "author": { "type": "team", "name": "Support" } }
        ]}
    })
}

#[test]
fn lists_and_arrays_of_conversations() {
    let export = Export::new()
        .json(
            "list.json",
            json!({ "type": "conversation.list", "conversations": [
                conversation(json!("a"), json!({ "rating": 3 })),
                conversation(json!(2), json!({ "rating": 1, "remark": "slow" })),
            ]}),
        )
        .json("array.json", json!([conversation(json!("c"), json!(null))]));
    let parsed = export.read(Vendor::Intercom);
    assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
    let ids: Vec<&str> = parsed.tickets.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(ids, ["a", "2", "c"]);
    let ticket = &parsed.tickets[0];
    assert_eq!(ticket.subject.as_deref(), Some("Refund"));
    assert_eq!(ticket.status.as_deref(), Some("open"));
    // An empty external id falls back to the contact's own id.
    assert_eq!(ticket.customer.as_deref(), Some("c1"));
    assert_eq!(
        turns(ticket),
        [
            (Speaker::Customer, "Hi\nI need a refund"),
            (Speaker::Bot, "Fin here — on it"),
            (Speaker::Customer, "Still there?"),
            (Speaker::Agent, "Done."),
        ]
    );
    assert_eq!(ticket.internal_notes, 1);
    let sentiments: Vec<_> = parsed
        .tickets
        .iter()
        .map(|t| t.satisfaction.as_ref().map(|s| s.sentiment))
        .collect();
    assert_eq!(
        sentiments,
        [Some(Sentiment::Neutral), Some(Sentiment::Negative), None]
    );
}

#[test]
fn bad_records_are_warnings() {
    let mut no_body = conversation(json!("b"), json!(null));
    no_body["conversation_parts"]["conversation_parts"][0]["body"] = json!(null);
    no_body["conversation_parts"]["conversation_parts"][1]["author"]["type"] = json!("robot");
    no_body["created_at"] = json!("soon");
    let export = Export::new().json(
        "array.json",
        json!([
            { "type": "conversation", "source": { "body": "no id" } },
            no_body,
            { "type": "conversation", "id": "agent-only", "source": {
                "body": "Hello from us", "author": { "type": "admin", "name": "Ann" } } },
            { "type": "contact", "id": "not a conversation" }
        ]),
    );
    let parsed = export.read(Vendor::Intercom);
    assert_eq!(
        warnings(&parsed),
        [
            "[0]: conversation without id; skipped",
            "conversation b: unreadable `created_at`: `soon` is not an RFC 3339 date and time; kept without it",
            "conversation b part 1: message without body; skipped",
            "conversation b part 2: unknown author type `robot`; message left out",
            "conversation agent-only: no customer message in it (nothing to make a case from); skipped",
            "[3]: not a conversation (no `source`); skipped",
        ]
    );
    let ticket = only_ticket(&parsed);
    assert_eq!(ticket.id, "b");
    assert_eq!(ticket.created, None);
    // Undated, the first message stays first.
    assert_eq!(turns(ticket)[0], (Speaker::Customer, "Hi\nI need a refund"));
}
