//! Zendesk: the four sample shapes, comments joined by description, roles with and
//! without sideloaded users, and record warnings.

use serde_json::json;

use super::*;
use crate::tickets::model::{Person, Satisfaction, Sentiment};

const SHOW: &str = "zendesk_ticket_show.json";
const COMMENTS: &str = "zendesk_ticket_comments.json";
const CURSOR: &str = "zendesk_incremental_tickets_cursor.json";
const EVENTS: &str = "zendesk_incremental_ticket_events_with_comments.json";

#[test]
fn a_ticket_alone_has_its_description_as_the_customer_turn() {
    let parsed = read_fixtures(Vendor::Zendesk, &[SHOW]);
    assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
    let ticket = only_ticket(&parsed);
    assert_eq!(ticket.vendor, Vendor::Zendesk);
    assert_eq!(ticket.id, "35436");
    assert_eq!(
        ticket.url.as_deref(),
        Some("https://company.zendesk.com/agent/tickets/35436")
    );
    assert_eq!(
        ticket.subject.as_deref(),
        Some("Help, my printer is on fire!")
    );
    assert_eq!(ticket.status.as_deref(), Some("open"));
    assert_eq!(ticket.created, at("2009-07-20T22:55:29Z"));
    assert_eq!(ticket.updated, at("2011-05-05T10:38:52Z"));
    assert_eq!(ticket.tags, ["enterprise", "other_tag"]);
    assert_eq!(ticket.customer.as_deref(), Some("509974"));
    assert_eq!(
        turns(ticket),
        [(Speaker::Customer, "The fire is very colorful.")]
    );
    assert_eq!(ticket.turns[0].at, ticket.created);
    assert_eq!(ticket.internal_notes, 0);
    assert_eq!(
        ticket.satisfaction,
        Some(Satisfaction {
            score: "good".into(),
            sentiment: Sentiment::Positive,
            comment: Some("Great support!".into()),
        })
    );
    // No users sideloaded, no email sender: nobody to name.
    assert!(ticket.people.is_empty());
    assert_eq!(ticket.file, fixture(SHOW));
}

#[test]
fn the_cursor_export_takes_its_url_from_the_after_url() {
    let parsed = read_fixtures(Vendor::Zendesk, &[CURSOR]);
    let ticket = only_ticket(&parsed);
    assert_eq!(
        ticket.url.as_deref(),
        Some("https://example.zendesk.com/agent/tickets/35436")
    );
    assert_eq!(ticket.customer.as_deref(), Some("509974"));
    assert_eq!(turns(ticket).len(), 1);
}

#[test]
fn a_comments_file_joins_the_ticket_with_its_description_and_time() {
    let parsed = read_fixtures(Vendor::Zendesk, &[COMMENTS, SHOW]);
    assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
    let ticket = only_ticket(&parsed);
    assert_eq!(
        turns(ticket),
        [
            (Speaker::Customer, "The fire is very colorful."),
            (
                Speaker::Agent,
                "Please unplug the printer and step away from it. We are sending a replacement."
            ),
        ]
    );
    assert_eq!(ticket.turns[1].at, at("2009-07-20T23:15:40Z"));
    assert_eq!(ticket.internal_notes, 1);
    assert_eq!(
        ticket.people,
        [
            Person {
                name: Some("Requester Person".into()),
                email: Some("requester@example.com".into()),
                requester: true,
                ..Person::default()
            },
            Person {
                name: Some("Agent Person".into()),
                email: Some("agent@company.com".into()),
                ..Person::default()
            },
        ]
    );
}

#[test]
fn every_sample_together_is_one_ticket_with_each_comment_once() {
    let parsed = read_fixtures(Vendor::Zendesk, &[SHOW, CURSOR, COMMENTS, EVENTS, COMMENTS]);
    assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
    let ticket = only_ticket(&parsed);
    // The event's comment is older than the ticket and by someone who is not the
    // requester (no user record says otherwise): an agent's.
    assert_eq!(
        turns(ticket),
        [
            (Speaker::Agent, "This is a comment"),
            (Speaker::Customer, "The fire is very colorful."),
            (
                Speaker::Agent,
                "Please unplug the printer and step away from it. We are sending a replacement."
            ),
        ]
    );
    assert_eq!(ticket.internal_notes, 1);
    // The later record of the ticket is the cursor export's, its URL from the export's
    // `after_url`; read alone, the show's record keeps its own.
    assert_eq!(
        ticket.url.as_deref(),
        Some("https://example.zendesk.com/agent/tickets/35436")
    );
    let parsed = read_fixtures(Vendor::Zendesk, &[CURSOR, SHOW]);
    assert_eq!(
        only_ticket(&parsed).url.as_deref(),
        Some("https://company.zendesk.com/agent/tickets/35436")
    );
}

#[test]
fn comments_or_events_without_their_ticket_are_warnings() {
    let parsed = read_fixtures(Vendor::Zendesk, &[COMMENTS, EVENTS]);
    assert!(parsed.tickets.is_empty());
    let warnings = warnings(&parsed);
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert!(
        warnings[0].starts_with("comments: 3 comment(s) match no ticket"),
        "{warnings:?}"
    );
    assert!(warnings[1].starts_with("ticket 35436: 1 comment(s) of a ticket that no export"));
    assert_eq!(parsed.warnings[0].file, fixture(COMMENTS));
    assert_eq!(parsed.warnings[1].file, fixture(EVENTS));
}

#[test]
fn without_users_the_requester_is_the_customer_and_others_are_agents() {
    let export = Export::new().json(
        "ticket.json",
        json!({
            "ticket": {
                "id": 7, "requester_id": 100, "description": "Where is my order?",
                "created_at": "2024-01-01T10:00:00Z", "tags": ["a", "b", "a"],
                "via": { "channel": "email",
                         "source": { "from": { "address": "max@example.com", "name": "Max Mustermann" } } },
                "satisfaction_rating": { "score": "offered" }
            },
            "comments": [
                { "id": 3, "author_id": 200, "public": true,
                  "html_body": "<div class=\"zd-comment\"><p>It ships today &amp; arrives Monday.</p><ul><li>tracking: 1Z</li></ul></div>",
                  "created_at": "2024-01-01T11:00:00Z" },
                { "id": 2, "author_id": 200, "public": false, "body": "check the warehouse",
                  "created_at": "2024-01-01T10:30:00Z" },
                { "id": 1, "author_id": 100, "public": true, "body": "Where is my order?",
                  "created_at": "2024-01-01T10:00:00Z" },
                { "id": 4, "author_id": 200, "public": true, "html_body": "<p><img src=\"x.png\"></p>",
                  "created_at": "2024-01-01T12:00:00Z" }
            ]
        }),
    );
    let parsed = export.read(Vendor::Zendesk);
    assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
    let ticket = only_ticket(&parsed);
    assert_eq!(
        turns(ticket),
        [
            (Speaker::Customer, "Where is my order?"),
            (
                Speaker::Agent,
                "It ships today & arrives Monday.\n- tracking: 1Z"
            ),
        ]
    );
    assert_eq!(ticket.internal_notes, 1);
    assert_eq!(ticket.tags, ["a", "b"]);
    assert_eq!(ticket.customer.as_deref(), Some("100"));
    assert_eq!(ticket.url, None);
    assert_eq!(
        ticket.satisfaction.as_ref().map(|s| s.sentiment),
        Some(Sentiment::Unknown)
    );
    assert_eq!(
        ticket.people,
        [Person {
            name: Some("Max Mustermann".into()),
            email: Some("max@example.com".into()),
            requester: true,
            ..Person::default()
        }]
    );
}

#[test]
fn sideloaded_roles_decide_who_is_the_customer() {
    let export = Export::new().json(
        "tickets.json",
        json!({
            "tickets": [{ "id": 9, "requester_id": 1, "submitter_id": 2, "assignee_id": 2,
                          "description": "Hello", "created_at": "2024-02-01T00:00:00Z",
                          "satisfaction_rating": { "score": "bad", "comment": "" } }],
            "users": [
                { "id": 1, "name": "Req", "email": "req@example.com", "role": "end-user" },
                { "id": 2, "name": "Ag", "email": "ag@example.com", "role": "admin" },
                { "id": 3, "name": "Cc", "email": "cc@example.com", "role": "end-user" }
            ]
        }),
    )
    .json(
        "comments.json",
        json!({ "comments": [
            { "id": 11, "ticket_id": 9, "author_id": 1, "body": "Hello", "created_at": "2024-02-01T00:00:00Z" },
            { "id": 12, "author_id": 3, "body": "Me too", "created_at": "2024-02-01T01:00:00Z" },
            { "id": 13, "author_id": 2, "body": "On it", "created_at": "2024-02-01T02:00:00Z" }
        ]}),
    );
    let parsed = export.read(Vendor::Zendesk);
    assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
    let ticket = only_ticket(&parsed);
    assert_eq!(
        turns(ticket),
        [
            (Speaker::Customer, "Hello"),
            (Speaker::Customer, "Me too"),
            (Speaker::Agent, "On it"),
        ]
    );
    let emails: Vec<_> = ticket.people.iter().map(|p| p.email.as_deref()).collect();
    assert_eq!(
        emails,
        [
            Some("req@example.com"),
            Some("ag@example.com"),
            Some("cc@example.com")
        ]
    );
    let satisfaction = ticket.satisfaction.as_ref().unwrap();
    assert_eq!(satisfaction.sentiment, Sentiment::Negative);
    assert_eq!(satisfaction.comment, None);
}

#[test]
fn bad_records_are_warnings_and_the_rest_is_kept() {
    let export = Export::new()
        .json(
            "tickets.json",
            json!({
                "tickets": [
                    { "subject": "no id", "description": "x" },
                    { "id": 1, "description": "Keep me", "created_at": "last tuesday",
                      "satisfaction_rating": { "score": "unoffered" } },
                    { "id": 2, "description": "" },
                    { "id": "", "description": "blank id" }
                ],
                "next_page": "https://acme.zendesk.com/api/v2/tickets.json?page=2"
            }),
        )
        .json(
            "events.json",
            json!({ "ticket_events": [
                { "ticket_id": 1, "child_events": [
                    { "id": 5, "event_type": "Comment", "author_id": 77, "public": true },
                    { "id": 6, "event_type": "Change", "field_name": "status" }
                ]},
                { "child_events": [ { "id": 8, "type": "Comment", "body": "lost" } ] }
            ]}),
        );
    let parsed = export.read(Vendor::Zendesk);
    assert_eq!(
        warnings(&parsed),
        [
            "tickets[0]: ticket without id; skipped",
            "ticket 1: unreadable `created_at`: `last tuesday` is not an RFC 3339 date and time; kept without it",
            "tickets[3]: ticket without id; skipped",
            "ticket 1 comment 5: message without body; skipped",
            "ticket_events[1].child_events[0]: comment event without ticket_id; skipped",
            "ticket 2: no customer message in it (nothing to make a case from); skipped",
        ]
    );
    let ticket = only_ticket(&parsed);
    assert_eq!(ticket.id, "1");
    assert_eq!(ticket.created, None);
    assert_eq!(ticket.satisfaction, None);
    assert_eq!(
        ticket.url.as_deref(),
        Some("https://acme.zendesk.com/agent/tickets/1")
    );
    // Its only comment had no body and was dropped: the description is its turn.
    assert_eq!(turns(ticket), [(Speaker::Customer, "Keep me")]);
}

#[test]
fn comments_matching_two_tickets_are_left_out() {
    let twin = |id: u32| json!({ "id": id, "description": "Same words", "created_at": "2024-03-01T00:00:00Z" });
    let export = Export::new()
        .json("tickets.json", json!({ "tickets": [twin(1), twin(2)] }))
        .json(
            "comments.json",
            json!({ "comments": [
                { "id": 1, "author_id": 1, "body": "Same   words", "created_at": "2024-03-01T00:00:00Z" }
            ]}),
        );
    let parsed = export.read(Vendor::Zendesk);
    assert_eq!(parsed.tickets.len(), 2);
    assert_eq!(
        warnings(&parsed),
        ["comments: the comments match 2 tickets (same description and created_at); left out"]
    );
}
