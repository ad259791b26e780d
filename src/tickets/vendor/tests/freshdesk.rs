//! Freshdesk: the sample ticket, ratings and conversations joined by `ticket_id`, status
//! codes and record warnings.

use serde_json::json;

use super::*;
use crate::tickets::model::{Person, Satisfaction, Sentiment};

const TICKET: &str = "freshdesk_ticket_with_conversations.json";
const RATINGS: &str = "freshdesk_satisfaction_ratings.json";

#[test]
fn the_sample_ticket_with_its_conversations() {
    let parsed = read_fixtures(Vendor::Freshdesk, &[TICKET]);
    assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
    let ticket = only_ticket(&parsed);
    assert_eq!(ticket.vendor, Vendor::Freshdesk);
    assert_eq!(ticket.id, "20");
    assert_eq!(ticket.url, None);
    assert_eq!(ticket.subject.as_deref(), Some("Support needed.."));
    assert_eq!(ticket.status.as_deref(), Some("open"));
    assert_eq!(ticket.created, at("2015-08-24T11:56:51Z"));
    assert_eq!(ticket.updated, at("2015-08-24T11:59:05Z"));
    assert_eq!(ticket.tags, ["billing", "vip"]);
    assert_eq!(ticket.customer.as_deref(), Some("1"));
    assert_eq!(
        turns(ticket),
        [
            (Speaker::Customer, "Details about the issue..."),
            (Speaker::Agent, "We have processed your refund."),
            (Speaker::Customer, "Thanks, received it."),
        ]
    );
    assert_eq!(ticket.turns[0].at, ticket.created);
    assert_eq!(ticket.internal_notes, 1);
    assert_eq!(ticket.satisfaction, None);
    // No `requester` object (include=requester) in the sample: only the addresses in copy.
    let emails: Vec<_> = ticket.people.iter().map(|p| p.email.as_deref()).collect();
    assert_eq!(
        emails,
        [Some("ram@freshdesk.com"), Some("diana@freshdesk.com")]
    );
    assert!(ticket.people.iter().all(|p| !p.requester));
}

#[test]
fn the_sample_rating_is_of_another_ticket() {
    let parsed = read_fixtures(Vendor::Freshdesk, &[TICKET, RATINGS]);
    assert_eq!(only_ticket(&parsed).satisfaction, None);
    assert_eq!(
        warnings(&parsed),
        ["ticket 432: rating of a ticket that no export file holds; left out"]
    );
    assert_eq!(parsed.warnings[0].file, fixture(RATINGS));
}

#[test]
fn ratings_join_their_ticket_and_the_latest_wins() {
    let export = Export::new()
        .json(
            "ratings.json",
            json!([
                { "id": 1, "ticket_id": 20, "ratings": { "default_question": -102 },
                  "created_at": "2015-08-25T00:00:00Z" },
                { "id": 3, "ticket_id": 20, "ratings": { "default_question": 103 },
                  "feedback": "Thank you", "created_at": "2015-08-28T00:00:00Z" },
                { "id": 2, "ticket_id": 20, "ratings": { "default_question": 100 },
                  "created_at": "2015-08-26T00:00:00Z" },
                { "id": 4, "ratings": { "default_question": 101 } },
                { "id": 5, "ticket_id": 20, "ratings": { "question_2": 101 } }
            ]),
        )
        .fixture(TICKET);
    let parsed = export.read(Vendor::Freshdesk);
    assert_eq!(
        warnings(&parsed),
        [
            "[3]: satisfaction rating without ticket_id; skipped",
            "ticket 20 rating 5: rating without `ratings.default_question`; skipped",
        ]
    );
    assert_eq!(
        only_ticket(&parsed).satisfaction,
        Some(Satisfaction {
            score: "Extremely happy".into(),
            sentiment: Sentiment::Positive,
            comment: Some("Thank you".into()),
        })
    );
}

#[test]
fn tickets_arrays_conversation_files_and_status_codes() {
    let export = Export::new()
        .json(
            "tickets.json",
            json!([
                { "id": 1, "status": 5, "description": "<div>My <b>order</b> is late&hellip;</div>",
                  "created_at": "2024-01-01T00:00:00Z", "company_id": null, "requester_id": 44,
                  "requester": { "name": "Ana Lima", "email": "ana@example.com", "phone": null,
                                 "mobile": "+55 11 5555-0100" },
                  "conversations": [ { "id": 10, "incoming": false, "private": false,
                                       "body": "<p>Sorry!</p>", "created_at": "2024-01-01T01:00:00Z" } ] },
                { "id": 2, "status": 6, "description_text": "Custom status", "tags": ["x", "x"] },
                { "subject": "no id", "description_text": "lost" },
                { "id": 3, "status": 2 }
            ]),
        )
        .json(
            "conversations.json",
            json!([
                { "id": 10, "ticket_id": 1, "incoming": false, "body_text": "Sorry!",
                  "created_at": "2024-01-01T01:00:00Z" },
                { "id": 11, "ticket_id": 1, "incoming": true, "body_text": "Thanks",
                  "created_at": "2024-01-01T02:00:00Z" },
                { "id": 12, "ticket_id": 1, "private": true, "body_text": "refund done" },
                { "id": 13, "ticket_id": 1, "incoming": true, "body": null, "body_text": "" },
                { "id": 14, "ticket_id": 1, "incoming": true, "body": "<p><br></p>" }
            ]),
        );
    let parsed = export.read(Vendor::Freshdesk);
    assert_eq!(
        warnings(&parsed),
        [
            "ticket 2: unknown status code 6; kept as `unknown (6)`",
            "[2]: ticket without id; skipped",
            "ticket 3: no customer message in it (nothing to make a case from); skipped",
        ]
    );
    assert_eq!(parsed.tickets.len(), 2);
    let first = &parsed.tickets[0];
    assert_eq!(first.status.as_deref(), Some("closed"));
    assert_eq!(first.customer.as_deref(), Some("44"));
    assert_eq!(
        turns(first),
        [
            (Speaker::Customer, "My order is late…"),
            (Speaker::Agent, "Sorry!"),
            (Speaker::Customer, "Thanks"),
        ]
    );
    assert_eq!(first.internal_notes, 1);
    assert_eq!(
        first.people,
        [Person {
            name: Some("Ana Lima".into()),
            email: Some("ana@example.com".into()),
            phone: Some("+55 11 5555-0100".into()),
            requester: true,
            ..Person::default()
        }]
    );
    let second = &parsed.tickets[1];
    assert_eq!(second.status.as_deref(), Some("unknown (6)"));
    assert_eq!(second.tags, ["x"]);
}

#[test]
fn satisfaction_codes_read_as_the_words_of_freshdesks_scale() {
    let scale = [
        (103, "Extremely happy", Sentiment::Positive),
        (102, "Very happy", Sentiment::Positive),
        (101, "Happy", Sentiment::Positive),
        (100, "Neutral", Sentiment::Neutral),
        (-101, "Unhappy", Sentiment::Negative),
        (-102, "Very unhappy", Sentiment::Negative),
        (-103, "Extremely unhappy", Sentiment::Negative),
        // Not on the scale: kept as the export gives it.
        (7, "7", Sentiment::Unknown),
    ];
    for (code, word, sentiment) in scale {
        let export = Export::new()
            .json(
                "ticket.json",
                json!({"id": 1, "subject": "Late", "description_text": "Where is it?"}),
            )
            .json(
                "ratings.json",
                json!([{"id": 2, "ticket_id": 1, "ratings": {"default_question": code}}]),
            );
        let parsed = export.read(Vendor::Freshdesk);
        let satisfaction = only_ticket(&parsed).satisfaction.clone().unwrap();
        assert_eq!(
            (satisfaction.score.as_str(), satisfaction.sentiment),
            (word, sentiment),
            "{code}"
        );
    }
}
