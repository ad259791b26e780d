//! Snapshot files on disk: which file holds a case's snapshot, and what an accepted `.snap`
//! says — its output and the `info` evalgate wrote into its header (the envelope and date
//! the output was produced under), for comparisons and for the stale-snapshot detector.
//!
//! The format is insta's: a YAML header between two `---` lines, then the output. We read
//! it ourselves rather than through insta's runtime because the header's `info` is not
//! part of insta's public API, and so that a comparison under CI never runs insta's writer.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::SnapshotSettings;
use crate::atomic_file::write_atomic;
use crate::envelope::Envelope;
use crate::errors::{ConfigError, Error};

/// An accepted snapshot, as its header says.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct AcceptedSnapshot {
    pub path: PathBuf,
    /// The envelope the accepted output was produced under; `None` for a snapshot written
    /// without it (by hand, or by another tool).
    pub envelope: Option<Envelope>,
    /// The date the accepted output was produced.
    pub date: Option<jiff::civil::Date>,
}

/// What evalgate writes as the snapshot's `info`: the case, the envelope and the date.
#[derive(Debug, Serialize)]
pub(crate) struct Info<'a> {
    pub case: &'a str,
    pub envelope: &'a Envelope,
    pub date: jiff::civil::Date,
}

/// The `.snap` file of a case: `<dir>/<file name>`, see [`file_name`].
pub(crate) fn path(settings: &SnapshotSettings, case_id: &str) -> PathBuf {
    settings.dir.join(file_name(case_id))
}

/// The snapshot file name of a case id: `/` becomes `__` (insta's own mapping of snapshot
/// names, so `refunds/over-limit` is `refunds__over-limit.snap`), and the characters Windows
/// forbids in file names (`\ : * ? " < > |`) become `_`. Ids are never empty nor contain
/// whitespace (the case loader refuses them).
pub(crate) fn file_name(case_id: &str) -> String {
    format!("{}.snap", snapshot_name(case_id))
}

/// The name insta is given: [`file_name`] without `.snap`, so insta's own `/` → `__`
/// mapping has nothing left to do and our mapping is the only one.
pub(crate) fn snapshot_name(case_id: &str) -> String {
    let mut name = String::with_capacity(case_id.len() + 8);
    for c in case_id.chars() {
        match c {
            '/' => name.push_str("__"),
            '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|' => name.push('_'),
            c => name.push(c),
        }
    }
    name
}

/// The header and output of a `.snap` file.
#[derive(Debug)]
pub(crate) struct StoredSnapshot {
    header: String,
    /// The output, compared the way insta compares: lines joined by `\n`, trailing
    /// whitespace at the end removed.
    pub body: String,
}

impl StoredSnapshot {
    /// Reads `path`; `None` when there is no such file.
    pub(crate) fn read(path: &Path) -> Result<Option<StoredSnapshot>, std::io::Error> {
        match std::fs::read_to_string(path) {
            Ok(text) => Ok(Some(StoredSnapshot::parse(&text))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Splits the text like insta does: a first line `---` opens the header, the next `---`
    /// line closes it, and the rest is the output. A file without a header (insta's legacy
    /// format, or a hand-written one) is all output.
    fn parse(text: &str) -> StoredSnapshot {
        let mut lines = text.lines();
        let mut header = Vec::new();
        let mut rest: Vec<&str> = Vec::new();
        if lines.clone().next().is_some_and(|l| l.trim_end() == "---") {
            lines.next();
            for line in lines.by_ref() {
                if line.trim_end() == "---" {
                    break;
                }
                header.push(line);
            }
        }
        rest.extend(lines);
        StoredSnapshot {
            header: header.join("\n"),
            body: rest.join("\n").trim_end().to_string(),
        }
    }

    /// What the header's `info` says about the envelope and date.
    fn accepted(
        &self,
        path: &Path,
    ) -> Result<(Option<Envelope>, Option<jiff::civil::Date>), Error> {
        #[derive(Deserialize)]
        struct Header {
            info: Option<InfoFile>,
        }
        #[derive(Deserialize)]
        struct InfoFile {
            envelope: Option<BTreeMap<String, String>>,
            date: Option<String>,
        }
        if self.header.trim().is_empty() {
            return Ok((None, None));
        }
        let bad = |message: String| {
            Error::from(
                ConfigError::new(path, message)
                    .with_help("re-create it: delete it, run the case and `cargo insta accept`"),
            )
        };
        let header: Header = serde_saphyr::from_str(&self.header)
            .map_err(|e| bad(format!("unreadable snapshot header: {e}")))?;
        let Some(info) = header.info else {
            return Ok((None, None));
        };
        let date = match info.date {
            None => None,
            Some(text) => Some(text.parse::<jiff::civil::Date>().map_err(|e| {
                bad(format!(
                    "the snapshot header's `info.date: {text}` is not a date: {e}"
                ))
            })?),
        };
        Ok((info.envelope.map(Envelope), date))
    }
}

/// `text` (a snapshot file insta wrote) with its header's `source:` naming the case file —
/// the header's `input_file:` — instead of the evalgate file that called insta, and its
/// `assertion_line:` (a pending file has one) the case's `line`; `None` when there is
/// nothing to change, or the header lacks `source:` or `input_file:`.
///
/// insta records where its assertion macro was called; for a case that is evalgate's own
/// source, a path into the cargo registry that differs between machines. `cargo insta
/// review` shows it as the snapshot's source, and an accepted file keeps it.
pub(crate) fn with_case_as_source(text: &str, line: u32) -> Option<String> {
    let rest = text.strip_prefix("---\n")?;
    let end = rest.find("\n---\n")?;
    let header: Vec<&str> = rest[..end].lines().collect();
    // Only top-level keys: an indented line belongs to `info:` or a multi-line value.
    let case_file = header.iter().find_map(|l| l.strip_prefix("input_file: "))?;
    let source = format!("source: {case_file}");
    let assertion_line = format!("assertion_line: {line}");
    let mut named = false;
    let fixed: Vec<&str> = header
        .iter()
        .map(|&l| {
            if l.starts_with("source: ") {
                named = true;
                source.as_str()
            } else if l.starts_with("assertion_line: ") {
                assertion_line.as_str()
            } else {
                l
            }
        })
        .collect();
    if !named || fixed == header {
        return None;
    }
    let mut out = String::with_capacity(text.len());
    out.push_str("---\n");
    for l in fixed {
        out.push_str(l);
        out.push('\n');
    }
    out.push_str(&rest[end + 1..]);
    Some(out)
}

/// Rewrites the snapshot file at `path`, which insta just wrote, so that its `source:`
/// names the case file at `line` (see [`with_case_as_source`]).
pub(crate) fn name_the_case_as_source(path: &Path, line: u32) -> Result<(), Error> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::read(path, e))?;
    match with_case_as_source(&text, line) {
        Some(text) => write_atomic(path, text.as_bytes()),
        None => Ok(()),
    }
}

/// The accepted snapshot of a case, when there is one: its path, and the envelope and date
/// its header records.
pub(crate) fn accepted(
    settings: &SnapshotSettings,
    case_id: &str,
) -> Result<Option<AcceptedSnapshot>, Error> {
    let path = path(settings, case_id);
    let Some(stored) = StoredSnapshot::read(&path).map_err(|e| Error::read(&path, e))? else {
        return Ok(None);
    };
    let (envelope, date) = stored.accepted(&path)?;
    Ok(Some(AcceptedSnapshot {
        path,
        envelope,
        date,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(dir: &Path) -> SnapshotSettings {
        SnapshotSettings::new(dir.to_path_buf(), Vec::new())
    }

    #[test]
    fn file_names_follow_the_case_id() {
        assert_eq!(file_name("refunds/over-limit"), "refunds__over-limit.snap");
        assert_eq!(file_name("a/b/c"), "a__b__c.snap");
        assert_eq!(file_name("top"), "top.snap");
        assert_eq!(file_name(r#"odd:id*?"<>|\x"#), "odd_id_______x.snap");
    }

    #[test]
    fn the_body_is_compared_like_insta_reads_it() {
        let s = StoredSnapshot::parse("---\nsource: a.rs\n---\nline 1\r\n---\nline 3\n\n");
        assert_eq!(s.header, "source: a.rs");
        assert_eq!(
            s.body, "line 1\n---\nline 3",
            "a `---` in the output stays output"
        );
        let legacy = StoredSnapshot::parse("just text\n");
        assert_eq!(legacy.body, "just text");
    }

    #[test]
    fn accepted_reads_the_envelope_and_date_insta_wrote() {
        let dir = tempfile::tempdir().unwrap();
        let settings = settings(dir.path());
        assert_eq!(accepted(&settings, "refunds/over-limit").unwrap(), None);
        // What insta 1.49 writes for `set_info` of our `Info` (numbers-looking strings
        // quoted or not, both must read).
        std::fs::write(
            dir.path().join("refunds__over-limit.snap"),
            "---\nsource: src/snapshot/assert.rs\ndescription: \"refunds/over-limit\"\n\
             info:\n  case: refunds/over-limit\n  envelope:\n    model: m-1\n    prompt: \"12\"\n    \
             temperature: 0.2\n  date: 2026-11-28\ninput_file: evals/cases/refunds/over-limit.yaml\n\
             ---\nYour refund of $[number] is on its way.\n",
        )
        .unwrap();
        let got = accepted(&settings, "refunds/over-limit").unwrap().unwrap();
        assert_eq!(got.path, dir.path().join("refunds__over-limit.snap"));
        assert_eq!(got.date, Some(jiff::civil::date(2026, 11, 28)));
        let envelope = got.envelope.unwrap();
        assert_eq!(envelope.get("model"), Some("m-1"));
        assert_eq!(envelope.get("prompt"), Some("12"));
        assert_eq!(envelope.get("temperature"), Some("0.2"));
    }

    #[test]
    fn a_snapshot_without_info_has_no_envelope_and_a_broken_one_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let settings = settings(dir.path());
        std::fs::write(
            dir.path().join("plain.snap"),
            "---\nsource: tests/a.rs\nexpression: out\n---\nhello\n",
        )
        .unwrap();
        let got = accepted(&settings, "plain").unwrap().unwrap();
        assert_eq!((got.envelope, got.date), (None, None));

        std::fs::write(dir.path().join("legacy.snap"), "hello\n").unwrap();
        let got = accepted(&settings, "legacy").unwrap().unwrap();
        assert_eq!((got.envelope, got.date), (None, None));

        std::fs::write(
            dir.path().join("bad.snap"),
            "---\ninfo:\n  date: last tuesday\n---\nhello\n",
        )
        .unwrap();
        let e = accepted(&settings, "bad").unwrap_err().to_string();
        assert!(e.contains("bad.snap") && e.contains("last tuesday"), "{e}");
    }

    #[test]
    fn the_case_file_becomes_the_source_and_nothing_else_changes() {
        // What insta 1.49 writes for a user's case when evalgate comes from the registry.
        let written = "---\nsource: \"../../.cargo/registry/src/index/evalgate-0.1.0/src/snapshot/assert.rs\"\n\
                       assertion_line: 100\n\
                       description: \"refunds/over-limit: A refund.\"\ninfo:\n  case: refunds/over-limit\n  \
                       input_file: not/top-level.yaml\n  date: 2026-11-28\n\
                       input_file: evals/cases/refunds/over-limit.yaml\n---\nline 1\n---\nline 3\n";
        let fixed = with_case_as_source(written, 2).unwrap();
        assert_eq!(
            fixed,
            written
                .replace(
                    "source: \"../../.cargo/registry/src/index/evalgate-0.1.0/src/snapshot/assert.rs\"",
                    "source: evals/cases/refunds/over-limit.yaml"
                )
                .replace("assertion_line: 100", "assertion_line: 2")
        );
        assert_eq!(
            with_case_as_source(&fixed, 2),
            None,
            "already the case file"
        );
        let accepted = fixed.replace("assertion_line: 2\n", "");
        assert_eq!(with_case_as_source(&accepted, 2), None, "no line to set");
        let no_case = "---\nsource: src/snapshot/assert.rs\n---\nhello\n";
        assert_eq!(with_case_as_source(no_case, 2), None);
        assert_eq!(with_case_as_source("hello\n", 2), None, "no header");

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("refunds__over-limit.snap.new");
        std::fs::write(&path, written).unwrap();
        name_the_case_as_source(&path, 2).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), fixed);
        assert_eq!(
            StoredSnapshot::read(&path).unwrap().unwrap().body,
            "line 1\n---\nline 3"
        );
    }
}
