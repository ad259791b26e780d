//! `evalgate import` end to end through the real binary, on the vendors' export samples
//! (tests/fixtures/tickets): one redacted draft per ticket that the suite lists as an
//! ignored test and that can never pass, near-duplicates grouped, tickets that duplicate a
//! case or were imported before skipped, nothing ever overwritten, bad exports refused
//! before anything is written.

use crate::support::mock_agent;
use crate::support::suite;

use std::path::{Path, PathBuf};

use serde_json::json;
use suite::TempSuite;

fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/tickets")
        .join(name)
        .display()
        .to_string()
}

fn new_suite() -> TempSuite {
    TempSuite::new("name: support\ntarget:\n  http: {url: \"http://127.0.0.1:9/agent\"}\n")
}

fn inbox(s: &TempSuite) -> PathBuf {
    s.evals().join("cases/inbox")
}

fn drafts(s: &TempSuite) -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = std::fs::read_dir(inbox(s))
        .map(|rd| {
            rd.map(|e| {
                let path = e.unwrap().path();
                (
                    path.file_name().unwrap().to_string_lossy().into_owned(),
                    std::fs::read_to_string(&path).unwrap(),
                )
            })
            .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

fn import_report(s: &TempSuite) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(s.out().join("import-report.json")).unwrap())
        .unwrap()
}

#[test]
fn every_vendor_export_becomes_a_redacted_draft_listed_as_an_ignored_test() {
    let cases = [
        (
            "zendesk",
            vec!["zendesk_ticket_show.json", "zendesk_ticket_comments.json"],
            "zendesk-35436.yaml",
            "The fire is very colorful.",
        ),
        (
            "intercom",
            vec!["intercom_conversation.json"],
            "intercom-367.yaml",
            "I was charged twice for my March invoice.",
        ),
        (
            "freshdesk",
            vec![
                "freshdesk_ticket_with_conversations.json",
                "freshdesk_satisfaction_ratings.json",
            ],
            "freshdesk-20.yaml",
            "Details about the issue...",
        ),
        (
            "helpscout",
            vec![
                "helpscout_conversation_embed_threads.json",
                "helpscout_rating.json",
            ],
            "helpscout-123.yaml",
            "I lost my phone and can't log in (2FA).",
        ),
    ];
    for (vendor, files, draft_name, customer_text) in cases {
        let s = new_suite();
        let mut args = vec!["import".to_string(), vendor.to_string()];
        args.extend(files.iter().map(|f| fixture(f)));
        args.extend(["--dir".into(), "evals".into()]);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let run = s.evalgate(&args);
        assert_eq!(run.code, 0, "{vendor}: {}", run.all());
        let written = drafts(&s);
        assert_eq!(written.len(), 1, "{vendor}: {written:?}");
        let (name, yaml) = &written[0];
        assert_eq!(name, draft_name);
        assert!(yaml.contains("status: draft"), "{yaml}");
        assert!(yaml.contains("  - todo: "), "{yaml}");
        assert!(yaml.contains(&format!("  vendor: {vendor}")), "{yaml}");
        assert!(
            yaml.contains(&serde_json::to_string(customer_text).unwrap()),
            "{vendor}: the customer's message is the input:\n{yaml}"
        );
        // Nobody's address or name from the ticket's own fields is written.
        for pii in [
            "requester@example.com",
            "Requester Person",
            "jane@example.com",
            "Jane Doe",
            "bear@acme.com",
            "Vernon",
            "customer@example.com",
        ] {
            assert!(!yaml.contains(pii), "{vendor}: {pii} leaked:\n{yaml}");
        }
        // The suite lists the draft as an ignored test.
        let list = s.run(&["--list"]);
        let id = format!("evals::inbox/{}", name.trim_end_matches(".yaml"));
        assert!(
            list.stdout.contains(&format!("{id}: test")),
            "{vendor}: {}",
            list.all()
        );
        let report = import_report(&s);
        assert_eq!(report["written"].as_array().unwrap().len(), 1);
    }
}

#[test]
fn internal_notes_and_later_turns_are_left_out_and_ratings_kept_as_comments() {
    let s = new_suite();
    let run = s.evalgate(&[
        "import",
        "zendesk",
        &fixture("zendesk_ticket_show.json"),
        &fixture("zendesk_ticket_comments.json"),
    ]);
    assert_eq!(run.code, 0, "{}", run.all());
    let (_, yaml) = &drafts(&s)[0];
    assert!(
        !yaml.contains("escalate to tier 2"),
        "internal note written:\n{yaml}"
    );
    assert!(
        !yaml.contains("unplug the printer"),
        "agent reply is input:\n{yaml}"
    );
    assert!(
        yaml.contains("Left out: 1 later turn(s), 1 internal note(s)."),
        "{yaml}"
    );
    assert!(yaml.contains("Customer rating: good"), "{yaml}");
    assert!(
        yaml.contains("url: \"https://company.zendesk.com/agent/tickets/35436\""),
        "{yaml}"
    );
    assert!(yaml.contains("customer: \"509974\""), "{yaml}");
}

#[test]
fn a_freshdesk_rating_is_written_as_its_word_not_its_code() {
    let s = new_suite();
    let ticket = s.path().join("ticket.json");
    std::fs::write(
        &ticket,
        json!({"id": 20, "subject": "Refund", "description_text": "Where is my refund?",
               "status": 4, "requester_id": 1, "created_at": "2024-01-01T00:00:00Z"})
        .to_string(),
    )
    .unwrap();
    let ratings = s.path().join("ratings.json");
    std::fs::write(
        &ratings,
        json!([{"id": 7, "ticket_id": 20, "ratings": {"default_question": -103},
                "feedback": "Still no refund", "created_at": "2024-01-02T00:00:00Z"}])
        .to_string(),
    )
    .unwrap();
    let run = s.evalgate(&[
        "import",
        "freshdesk",
        ticket.to_str().unwrap(),
        ratings.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 0, "{}", run.all());
    let (_, yaml) = &drafts(&s)[0];
    assert!(
        yaml.contains("Customer rating: Extremely unhappy: \"Still no refund\""),
        "{yaml}"
    );
    assert!(!yaml.contains("-103"), "{yaml}");
}

#[test]
fn a_reimport_writes_nothing_and_says_why() {
    let s = new_suite();
    let args = ["import", "intercom", &fixture("intercom_conversation.json")];
    assert_eq!(s.evalgate(&args).code, 0);
    let before = drafts(&s);
    let again = s.evalgate(&args);
    assert_eq!(again.code, 0, "{}", again.all());
    assert_eq!(drafts(&s), before, "a re-import changed the drafts");
    assert!(
        again.stdout.contains("0 draft(s) written"),
        "{}",
        again.stdout
    );
    assert!(
        again.stdout.contains("already imported"),
        "{}",
        again.stdout
    );
    let report = import_report(&s);
    assert_eq!(report["skipped"][0]["reason"], "already_imported");
}

fn intercom(id: &str, text: &str, email: &str) -> serde_json::Value {
    json!({
        "type": "conversation", "id": id, "created_at": 1719492825, "updated_at": 1719496425,
        "source": {"type": "conversation", "id": format!("s{id}"), "body": format!("<p>{text}</p>"),
                   "author": {"type": "user", "id": format!("u{id}"), "name": "Sam Client", "email": email}},
        "contacts": {"type": "contact.list", "contacts": [{"type": "contact", "id": format!("u{id}")}]},
        "tags": {"type": "tag.list", "tags": []},
        "conversation_parts": {"type": "conversation_part.list", "conversation_parts": [], "total_count": 0}
    })
}

#[test]
fn near_duplicate_tickets_share_a_draft_and_a_ticket_like_an_existing_case_is_skipped() {
    let s = new_suite();
    s.case(
        "billing/double-charge.yaml",
        "input:\n  messages: [{role: user, content: \"I was charged twice for my March invoice\"}]\nexpect:\n  - contains: refund\n",
    );
    let export = s.path().join("conversations.json");
    let list = json!({"type": "conversation.list", "conversations": [
        intercom("1", "I was charged twice for my March invoice", "a@example.com"),
        intercom("2", "The export button crashes the app on my iPad when I export invoices", "b@example.com"),
        intercom("3", "the export button crashes the app on my iPad when exporting invoices!", "c@example.com"),
        intercom("4", "Please delete my account and all my data, call me at +44 20 7946 0958", "d@example.com"),
    ]});
    std::fs::write(&export, list.to_string()).unwrap();
    let run = s.evalgate(&["import", "intercom", export.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.all());
    let written = drafts(&s);
    let names: Vec<&str> = written.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        ["intercom-2.yaml", "intercom-4.yaml"],
        "{}",
        run.all()
    );
    assert!(
        written[0].1.contains("grouped: [\"3\"]"),
        "{}",
        written[0].1
    );
    assert!(written[1].1.contains("[phone]"), "{}", written[1].1);
    assert!(!written[1].1.contains("7946"), "{}", written[1].1);
    let report = import_report(&s);
    let reasons: Vec<(&str, &str)> = report["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["ticket"].as_str().unwrap(), s["reason"].as_str().unwrap()))
        .collect();
    assert_eq!(reasons, [("1", "duplicates_case"), ("3", "grouped")]);
    assert!(
        run.stdout.contains("duplicates an existing case"),
        "{}",
        run.stdout
    );
    assert_eq!(report["redactions"]["phone"], 1);
}

#[test]
fn a_draft_never_passes_and_cannot_become_active_with_its_placeholder() {
    let rt = mock_agent::runtime();
    let agent = mock_agent::serve(
        &rt,
        mock_agent::Behaviour::Fixed(json!({"output": "Sorry, I have refunded the charge."})),
    );
    let s = TempSuite::new(&format!(
        "name: support\ntarget:\n  http: {{url: \"{}/v1/agent\"}}\n",
        agent.url
    ));
    assert_eq!(
        s.evalgate(&["import", "intercom", &fixture("intercom_conversation.json")])
            .code,
        0
    );
    let path = inbox(&s).join("intercom-367.yaml");
    // Run with --include-ignored: the placeholder fails every sample.
    let run = s.run(&["--include-ignored", "--exact", "evals::inbox/intercom-367"]);
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(
        run.all().contains("an expectation still to be written"),
        "{}",
        run.all()
    );
    // Made active without writing the expectation: the suite does not load.
    let yaml = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, yaml.replace("status: draft\n", "")).unwrap();
    let list = s.run(&["--list"]);
    assert_eq!(list.code, 2, "{}", list.all());
    assert!(
        list.stderr.contains("only a draft may have one"),
        "{}",
        list.stderr
    );
}

#[test]
fn bad_exports_are_refused_before_anything_is_written() {
    let s = new_suite();
    let unknown = s.evalgate(&["import", "kayako", &fixture("intercom_conversation.json")]);
    assert_eq!(unknown.code, 2);
    assert!(
        unknown.stderr.contains("unknown ticket vendor `kayako`"),
        "{}",
        unknown.stderr
    );
    assert!(
        unknown
            .stderr
            .contains("zendesk, intercom, freshdesk, helpscout")
    );

    let not_utf8 = s.path().join("latin1.json");
    let mut bytes = br#"{"ticket": {"id": 1, "description": "caf"#.to_vec();
    bytes.push(0xe9);
    bytes.extend_from_slice(br#"", "created_at": "2024-01-01T00:00:00Z"}}"#);
    std::fs::write(&not_utf8, bytes).unwrap();
    let good = fixture("zendesk_ticket_show.json");
    let run = s.evalgate(&["import", "zendesk", &good, not_utf8.to_str().unwrap()]);
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(run.stderr.contains("UTF-8"), "{}", run.stderr);
    assert!(
        drafts(&s).is_empty(),
        "a draft was written from the good file"
    );

    let wrong = s.evalgate(&["import", "zendesk", &fixture("intercom_conversation.json")]);
    assert_eq!(wrong.code, 2, "{}", wrong.all());
    assert!(
        wrong.stderr.to_lowercase().contains("intercom"),
        "{}",
        wrong.stderr
    );

    let big = s.path().join("big.json");
    let padding = "x".repeat(2 << 20);
    std::fs::write(&big, json!({"tickets": [], "pad": padding}).to_string()).unwrap();
    let run = s.evalgate(&[
        "import",
        "zendesk",
        big.to_str().unwrap(),
        "--max-file-mb",
        "1",
    ]);
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(run.stderr.contains("max-file-mb"), "{}", run.stderr);
    assert!(drafts(&s).is_empty());
}

#[test]
fn drafts_from_heavy_tail_customers_are_tagged() {
    let s = new_suite();
    let usage = s.path().join("usage.jsonl");
    let mut lines = String::new();
    for customer in 0..200 {
        let tokens = if customer == 0 { 5_000_000 } else { 1_000 };
        lines.push_str(&format!(
            "{{\"customer\": \"{}\", \"model\": \"m\", \"input_tokens\": {tokens}, \"output_tokens\": 0}}\n",
            if customer == 0 { "509974".to_string() } else { format!("c{customer}") }
        ));
    }
    std::fs::write(&usage, lines).unwrap();
    std::fs::write(
        s.evals().join("evalgate.yaml"),
        "name: support\ntarget:\n  http: {url: \"http://127.0.0.1:9/agent\"}\nprices:\n  m: {input: 1.0, output: 2.0}\n",
    )
    .unwrap();
    let cost = s.evalgate(&["cost", usage.to_str().unwrap(), "--by", "customer"]);
    assert_eq!(cost.code, 0, "{}", cost.all());
    let cost_json = s.out().join("cost/cost.json");
    let run = s.evalgate(&[
        "import",
        "zendesk",
        &fixture("zendesk_incremental_tickets_cursor.json"),
        "--heavy-tail",
        cost_json.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 0, "{}", run.all());
    let (_, yaml) = &drafts(&s)[0];
    assert!(yaml.contains("\"heavy-tail\""), "{yaml}");
    assert!(
        run.stdout.contains("1 draft(s) from heavy-tail customers"),
        "{}",
        run.stdout
    );
}

#[test]
fn a_promoted_case_with_serving_tiers_still_names_its_ticket() {
    let s = TempSuite::new(
        "name: support\ntarget:\n  http: {url: \"http://127.0.0.1:9/agent\"}\ntiers: [primary, canned]\n",
    );
    s.case(
        "billing/double-charge.yaml",
        "source: {kind: ticket, vendor: intercom, ref: \"367\"}\ntiers: [primary, canned]\ninput:\n  messages: [{role: user, content: \"hello there\"}]\nexpect:\n  - contains: refund\n",
    );
    let run = s.evalgate(&["import", "intercom", &fixture("intercom_conversation.json")]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(drafts(&s).is_empty(), "{}", run.all());
    let report = import_report(&s);
    assert_eq!(report["skipped"][0]["reason"], "already_imported");
    assert_eq!(report["skipped"][0]["detail"], "case billing/double-charge");
}
