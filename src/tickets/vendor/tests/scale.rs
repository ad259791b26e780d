//! An export of 100,000 tickets, each with an HTML conversation, read within the time the
//! import is allowed. Ignored by default (it writes ~120 MB); run it in release:
//! `cargo test --release --lib tickets::vendor::tests::scale -- --ignored --nocapture`.

use std::io::Write as _;

use super::*;

const TICKETS: usize = 100_000;
const PER_FILE: usize = 25_000;

/// Zendesk tickets with sideloaded users, and their comments as incremental events.
fn write_zendesk(dir: &Path) -> Vec<PathBuf> {
    let mut paths = Vec::new();
    for (part, first) in (0..TICKETS).step_by(PER_FILE).enumerate() {
        let tickets_path = dir.join(format!("tickets-{part}.json"));
        let mut out = std::io::BufWriter::new(std::fs::File::create(&tickets_path).unwrap());
        write!(out, "{{\"tickets\": [").unwrap();
        for id in first..first + PER_FILE {
            let comma = if id == first { "" } else { "," };
            write!(
                out,
                "{comma}{{\"id\": {id}, \"subject\": \"Order {id} is late\", \"status\": \
                 \"solved\", \"requester_id\": {}, \"assignee_id\": 1, \"organization_id\": 7, \
                 \"tags\": [\"shipping\", \"vip\", \"shipping\"], \"description\": \"My order \
                 {id} has not arrived, it was due last week. Can you check where it is?\", \
                 \"satisfaction_rating\": {{\"score\": \"good\"}}, \"created_at\": \
                 \"2024-01-01T10:00:00Z\", \"updated_at\": \"2024-01-02T10:00:00Z\", \
                 \"custom_fields\": [{{\"id\": 1, \"value\": \"x\"}}, {{\"id\": 2, \"value\": \
                 null}}], \"via\": {{\"channel\": \"web\"}}}}",
                1000 + id
            )
            .unwrap();
        }
        write!(
            out,
            "], \"users\": [{{\"id\": 1, \"name\": \"Agent\", \"role\": \"agent\"}}]}}"
        )
        .unwrap();
        out.flush().unwrap();
        paths.push(tickets_path);

        let events_path = dir.join(format!("events-{part}.json"));
        let mut out = std::io::BufWriter::new(std::fs::File::create(&events_path).unwrap());
        write!(out, "{{\"ticket_events\": [").unwrap();
        for id in first..first + PER_FILE {
            let comma = if id == first { "" } else { "," };
            let customer = 1000 + id;
            write!(
                out,
                "{comma}{{\"ticket_id\": {id}, \"created_at\": \"2024-01-01T10:00:00Z\", \
                 \"child_events\": [\
                 {{\"id\": {}, \"type\": \"Comment\", \"author_id\": {customer}, \"public\": true, \
                   \"html_body\": \"<div class=\\\"zd-comment\\\"><p>My order {id} has not \
                   arrived,<br>it was due last week.</p><p>Can you check where it is?</p></div>\", \
                   \"created_at\": \"2024-01-01T10:00:00Z\"}},\
                 {{\"id\": {}, \"type\": \"Comment\", \"author_id\": 1, \"public\": false, \
                   \"body\": \"carrier delay\", \"created_at\": \"2024-01-01T11:00:00Z\"}},\
                 {{\"id\": {}, \"type\": \"Comment\", \"author_id\": 1, \"public\": true, \
                   \"html_body\": \"<p>Sorry about that &mdash; it ships today.</p><ul><li>Tracking: \
                   1Z{id}</li><li>ETA: Monday</li></ul><p>Best,<br>Support</p>\", \
                   \"created_at\": \"2024-01-01T12:00:00Z\"}}]}}",
                id * 3,
                id * 3 + 1,
                id * 3 + 2,
            )
            .unwrap();
        }
        write!(out, "]}}").unwrap();
        out.flush().unwrap();
        paths.push(events_path);
    }
    paths
}

#[test]
#[ignore = "writes ~120 MB and is meant for a release build"]
fn a_hundred_thousand_tickets() {
    let dir = tempfile::tempdir().unwrap();
    let paths = write_zendesk(dir.path());
    let bytes: u64 = paths.iter().map(|p| p.metadata().unwrap().len()).sum();
    let started = std::time::Instant::now();
    let parsed = read_exports(Vendor::Zendesk, &paths, 1 << 30).unwrap();
    let elapsed = started.elapsed();
    eprintln!(
        "{} tickets from {:.0} MB in {elapsed:.2?}",
        parsed.tickets.len(),
        bytes as f64 / 1e6
    );
    assert!(parsed.warnings.is_empty(), "{:?}", &parsed.warnings[..3]);
    assert_eq!(parsed.tickets.len(), TICKETS);
    let last = &parsed.tickets[TICKETS - 1];
    assert_eq!(turns(last).len(), 2);
    assert_eq!(last.internal_notes, 1);
    assert_eq!(last.tags, ["shipping", "vip"]);
    assert!(elapsed < std::time::Duration::from_secs(10), "{elapsed:?}");
}
