//! `read_exports` on the vendors' sample exports (tests/fixtures/tickets) and on small
//! files written for one behaviour each: joins across files, HTML bodies, order, record
//! warnings and file errors.

mod errors;
mod freshdesk;
mod helpscout;
mod intercom;
mod scale;
mod unknown_keys;
mod zendesk;

use std::path::{Path, PathBuf};

use super::read_exports;
use crate::tickets::model::{Parsed, Speaker, Ticket, Vendor};
use evalgate::errors::Error;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/tickets");

/// Large enough for every test file.
const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

fn fixture(name: &str) -> PathBuf {
    Path::new(FIXTURES).join(name)
}

/// The sample exports named, read as `vendor`'s.
fn read_fixtures(vendor: Vendor, names: &[&str]) -> Parsed {
    let paths: Vec<PathBuf> = names.iter().map(|name| fixture(name)).collect();
    read_exports(vendor, &paths, MAX_FILE_BYTES).unwrap()
}

/// Files written to a temporary folder, named and with the given contents.
struct Export {
    dir: tempfile::TempDir,
    paths: Vec<PathBuf>,
}

impl Export {
    fn new() -> Self {
        Export {
            dir: tempfile::tempdir().unwrap(),
            paths: Vec::new(),
        }
    }

    fn file(mut self, name: &str, contents: impl AsRef<[u8]>) -> Self {
        let path = self.dir.path().join(name);
        std::fs::write(&path, contents).unwrap();
        self.paths.push(path);
        self
    }

    fn json(self, name: &str, value: serde_json::Value) -> Self {
        self.file(name, serde_json::to_vec_pretty(&value).unwrap())
    }

    fn fixture(mut self, name: &str) -> Self {
        self.paths.push(fixture(name));
        self
    }

    fn read(&self, vendor: Vendor) -> Parsed {
        read_exports(vendor, &self.paths, MAX_FILE_BYTES).unwrap()
    }

    /// The message of the error reading the files fails with.
    fn error(&self, vendor: Vendor) -> String {
        match read_exports(vendor, &self.paths, MAX_FILE_BYTES) {
            Err(Error::Usage(message)) => message,
            Err(other) => panic!("expected a usage error, got {other:?}"),
            Ok(parsed) => panic!("expected an error, got {parsed:?}"),
        }
    }

    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }
}

/// Who said what, in order.
fn turns(ticket: &Ticket) -> Vec<(Speaker, &str)> {
    ticket
        .turns
        .iter()
        .map(|turn| (turn.speaker, turn.text.as_str()))
        .collect()
}

fn at(text: &str) -> Option<jiff::Timestamp> {
    Some(text.parse().unwrap())
}

/// The warnings as `record: problem`, for asserts that read like the report.
fn warnings(parsed: &Parsed) -> Vec<String> {
    parsed
        .warnings
        .iter()
        .map(|warning| format!("{}: {}", warning.record, warning.problem))
        .collect()
}

fn only_ticket(parsed: &Parsed) -> &Ticket {
    assert_eq!(parsed.tickets.len(), 1, "{parsed:#?}");
    &parsed.tickets[0]
}

#[test]
fn vendor_names_read_back() {
    for vendor in Vendor::ALL {
        assert_eq!(Vendor::parse(vendor.name()), Ok(vendor));
    }
    assert_eq!(Vendor::parse("HelpScout"), Ok(Vendor::HelpScout));
    let error = Vendor::parse("zendsk").unwrap_err();
    assert!(
        error.ends_with("known: zendesk, intercom, freshdesk, helpscout"),
        "{error}"
    );
}
