//! File-level problems: each fails the whole import, with a message that starts with the
//! file and says what to do.

use super::*;
use crate::tickets::vendor::shape::a_title;

const SAMPLES: [(Vendor, &str); 9] = [
    (Vendor::Zendesk, "zendesk_ticket_show.json"),
    (Vendor::Zendesk, "zendesk_ticket_comments.json"),
    (Vendor::Zendesk, "zendesk_incremental_tickets_cursor.json"),
    (
        Vendor::Zendesk,
        "zendesk_incremental_ticket_events_with_comments.json",
    ),
    (Vendor::Intercom, "intercom_conversation.json"),
    (
        Vendor::Freshdesk,
        "freshdesk_ticket_with_conversations.json",
    ),
    (Vendor::Freshdesk, "freshdesk_satisfaction_ratings.json"),
    (
        Vendor::HelpScout,
        "helpscout_conversation_embed_threads.json",
    ),
    (Vendor::HelpScout, "helpscout_rating.json"),
];

#[test]
fn every_sample_read_as_another_vendor_names_its_own() {
    for (own, name) in SAMPLES {
        for chosen in Vendor::ALL.into_iter().filter(|&vendor| vendor != own) {
            let message = Export::new().fixture(name).error(chosen);
            let path = fixture(name).display().to_string();
            assert!(message.starts_with(&path), "{chosen} on {name}: {message}");
            assert!(
                message.contains(&format!("not {} export", a_title(chosen))),
                "{chosen} on {name}: {message}"
            );
            assert!(
                message.contains(&format!("looks like {} export", a_title(own))),
                "{chosen} on {name}: {message}"
            );
            assert!(
                message.contains(&format!("import it as `{own}`")),
                "{chosen} on {name}: {message}"
            );
        }
    }
}

#[test]
fn a_wrong_shape_lists_the_keys_found_and_the_shapes_accepted() {
    let export = Export::new().file("other.json", r#"{"data": [], "meta": {"page": 1}}"#);
    let message = export.error(Vendor::Zendesk);
    assert_eq!(
        message,
        format!(
            "{}: not a Zendesk export: found a JSON object with the keys `data`, `meta`; a \
             Zendesk export file is one of `{{\"ticket\": {{…}}}}`, `{{\"tickets\": […]}}` \
             (optionally with `\"users\"`), `{{\"comments\": […]}}` (one ticket's comments, \
             optionally with `\"users\"`), `{{\"ticket_events\": […]}}`, or `{{\"ticket\": \
             {{…}}, \"comments\": […]}}`",
            export.path("other.json")
        )
    );
    let message = Export::new().file("n.json", "42").error(Vendor::Freshdesk);
    assert!(
        message.contains("found a JSON number; a Freshdesk export file is"),
        "{message}"
    );
    let message = Export::new()
        .file("a.json", "[1, 2]")
        .error(Vendor::Intercom);
    assert!(
        message.contains("a JSON array of 2 items that are not objects"),
        "{message}"
    );
    let message = Export::new()
        .file("a.json", "[1, 2]")
        .error(Vendor::Zendesk);
    assert!(message.contains("not a Zendesk export"), "{message}");
}

#[test]
fn not_utf8_says_the_line_and_offset() {
    let export = Export::new().file(
        "latin1.json",
        b"{\"tickets\": [\n{\"subject\": \"d\xE9j\xE0\"}]}",
    );
    let message = export.error(Vendor::Zendesk);
    assert!(
        message.starts_with(&format!(
            "{}:2: the file is not UTF-8",
            export.path("latin1.json")
        )),
        "{message}"
    );
    assert!(
        message.contains("byte 0xE9 at offset 28 (line 2, byte 15"),
        "{message}"
    );
}

#[test]
fn not_json_says_line_and_column() {
    let export = Export::new().file("broken.json", "{\"tickets\": [\n  {\"id\": 1,}\n]}");
    let message = export.error(Vendor::Zendesk);
    assert!(
        message.starts_with(&format!("{}:2:12: not JSON: ", export.path("broken.json"))),
        "{message}"
    );
    let export = Export::new().file("lines.jsonl", "{\"id\": 1}\n{\"id\": 2}\n");
    let message = export.error(Vendor::Freshdesk);
    assert!(
        message.contains(":2:1: not JSON: trailing characters"),
        "{message}"
    );
    assert!(message.contains("JSON Lines"), "{message}");
    let message = Export::new()
        .file("empty.json", " \n")
        .error(Vendor::Intercom);
    assert!(
        message.ends_with("empty.json: the file is empty; expected an Intercom export"),
        "{message}"
    );
}

#[test]
fn a_value_of_the_wrong_type_says_where() {
    let export = Export::new().file("t.json", r#"{"tickets": [{"id": 1, "tags": "vip"}]}"#);
    let message = export.error(Vendor::Zendesk);
    assert!(
        message.starts_with(&format!("{}:1:", export.path("t.json"))),
        "{message}"
    );
    assert!(
        message.contains("unexpected value for a Zendesk export: invalid type"),
        "{message}"
    );
}

#[test]
fn one_bad_file_fails_the_whole_import() {
    let export = Export::new()
        .fixture("zendesk_ticket_show.json")
        .file("bad.json", "{");
    let message = export.error(Vendor::Zendesk);
    assert!(message.starts_with(&export.path("bad.json")), "{message}");
}

#[test]
fn files_too_large_missing_or_none() {
    let export = Export::new().fixture("zendesk_ticket_show.json");
    match read_exports(Vendor::Zendesk, &export.paths, 100) {
        Err(Error::Usage(message)) => {
            assert!(message.contains("more than the limit"), "{message}");
            assert!(message.contains("--max-file-mb"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    let missing = Export::new().file("here.json", "{}");
    let paths = vec![missing.dir.path().join("gone.json")];
    match read_exports(Vendor::Intercom, &paths, MAX_FILE_BYTES) {
        Err(Error::Usage(message)) => assert!(message.ends_with("gone.json: no such file")),
        other => panic!("{other:?}"),
    }
    match read_exports(Vendor::HelpScout, &[], MAX_FILE_BYTES) {
        Err(Error::Usage(message)) => assert!(message.starts_with("no export file given")),
        other => panic!("{other:?}"),
    }
}
