//! Keys an export has that its vendor's objects do not: each reported with its path, since
//! what they hold is not imported; the vendors' own sample exports report none.

use serde_json::json;

use super::*;

/// The warnings about unknown keys, as `path: problem`.
fn unknown(parsed: &Parsed) -> Vec<String> {
    warnings(parsed)
        .into_iter()
        .filter(|warning| warning.contains("unknown key"))
        .collect()
}

#[test]
fn the_vendors_sample_exports_have_no_unknown_keys() {
    let samples = [
        (
            Vendor::Zendesk,
            &[
                "zendesk_ticket_show.json",
                "zendesk_ticket_comments.json",
                "zendesk_incremental_tickets_cursor.json",
                "zendesk_incremental_ticket_events_with_comments.json",
            ][..],
        ),
        (Vendor::Intercom, &["intercom_conversation.json"][..]),
        (
            Vendor::Freshdesk,
            &[
                "freshdesk_ticket_with_conversations.json",
                "freshdesk_satisfaction_ratings.json",
            ][..],
        ),
        (
            Vendor::HelpScout,
            &[
                "helpscout_conversation_embed_threads.json",
                "helpscout_rating.json",
            ][..],
        ),
    ];
    for (vendor, names) in samples {
        let parsed = read_fixtures(vendor, names);
        assert_eq!(unknown(&parsed), Vec::<String>::new(), "{vendor}");
    }
}

#[test]
fn zendesk_comments_embedded_in_a_ticket_are_reported_not_dropped_silently() {
    let ticket = |id: u32| {
        json!({"id": id, "subject": "Refund", "description": "Where is my refund?",
               "status": "open", "requester_id": 7, "created_at": "2026-11-01T10:00:00Z"})
    };
    let mut fourth = ticket(4);
    fourth["comments"] = json!([{"id": 1, "body": "Where is my refund?", "foo": 1}]);
    let export = Export::new()
        .json(
            "tickets.json",
            json!({"tickets": [ticket(1), ticket(2), ticket(3), fourth]}),
        )
        .json(
            "comments.json",
            json!({"comments": [
                {"id": 1, "type": "Comment", "author_id": 7, "body": "Where is my refund?",
                 "public": true, "created_at": "2026-11-01T10:00:00Z", "foo": {"bar": 1}},
                {"id": 2, "type": "Comment", "author_id": 8, "body": "Sent.",
                 "public": true, "created_at": "2026-11-01T11:00:00Z", "foo": 2}
            ]}),
        );
    let parsed = export.read(Vendor::Zendesk);
    // The tickets are still imported: an unknown key is a warning.
    assert_eq!(parsed.tickets.len(), 4);
    assert_eq!(
        unknown(&parsed),
        [
            "tickets[3].comments: unknown key of a Zendesk ticket; its value is not imported",
            "comments[0].foo: unknown key of a Zendesk comment; its value is not imported \
             (1 more like it: comments[].foo)",
        ]
    );
    assert_eq!(
        parsed.warnings[0].file,
        PathBuf::from(export.path("tickets.json"))
    );
}

#[test]
fn unknown_keys_are_found_at_any_depth_for_every_vendor() {
    let freshdesk = Export::new().json(
        "ticket.json",
        json!({"id": 20, "subject": "Refund", "description_text": "Where is my refund?",
               "status": 2, "requester_id": 1,
               "conversations": [
                   {"id": 3, "body_text": "Sent.", "incoming": false, "private": false},
                   {"id": 4, "body_text": "Thanks", "incoming": true, "private": false,
                    "reactions": ["+1"]}]}),
    );
    assert_eq!(
        unknown(&freshdesk.read(Vendor::Freshdesk)),
        [
            "conversations[1].reactions: unknown key of a Freshdesk conversation; its value is \
          not imported"
        ]
    );

    let intercom = Export::new().json(
        "conversation.json",
        json!({"type": "conversation", "id": "368",
               "source": {"type": "conversation", "body": "Refund please",
                          "author": {"type": "user", "id": "70", "mood": "angry"}},
               "conversation_parts": {"type": "conversation_part.list", "conversation_parts": [
                   {"type": "conversation_part", "id": "1", "part_type": "comment",
                    "body": "Done", "author": {"type": "admin", "id": "5"}, "sentiment": 0.1}]}}),
    );
    assert_eq!(
        unknown(&intercom.read(Vendor::Intercom)),
        [
            "source.author.mood: unknown key of an Intercom author; its value is not imported",
            "conversation_parts.conversation_parts[0].sentiment: unknown key of an Intercom \
             conversation part; its value is not imported",
        ]
    );

    let helpscout = Export::new().json(
        "conversation.json",
        json!({"id": 10, "number": 1, "subject": "Refund",
               "primaryCustomer": {"id": 1, "first": "Vernon"},
               "_embedded": {"threads": [
                   {"id": 2, "type": "customer", "body": "Refund please", "createdAt":
                    "2026-11-01T10:00:00Z", "customer": {"id": 1}, "transcript": "…"}]}}),
    );
    assert_eq!(
        unknown(&helpscout.read(Vendor::HelpScout)),
        [
            "_embedded.threads[0].transcript: unknown key of a Help Scout thread; its value is \
          not imported"
        ]
    );
}
