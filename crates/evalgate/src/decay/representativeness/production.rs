//! Reading the production sample: JSON Lines, in batches of lines handed to the workers,
//! never the whole file at once; and what is said about a line that is not as expected.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use super::field::{FieldProblem, TextField};
use crate::errors::{DataError, Error};

/// Lines per batch: enough that handing a batch over costs nothing next to matching it.
const LINES_PER_BATCH: usize = 1024;
/// A batch is closed early past this many bytes, so long lines do not make batches large.
const BYTES_PER_BATCH: usize = 1 << 20;
const READ_BUFFER: usize = 256 * 1024;

/// Consecutive lines of the file.
#[derive(Debug)]
pub struct Batch {
    /// The batch's place in the file: 0, 1, 2…
    pub(crate) seq: u64,
    /// The 1-based line number of the first line.
    first_line: u64,
    bytes: Vec<u8>,
    /// Where each line ends in `bytes` (its newline excluded).
    ends: Vec<usize>,
}

impl Batch {
    /// Each line with its 1-based number, without its line ending.
    pub fn lines(&self) -> impl Iterator<Item = (u64, &[u8])> {
        let starts = std::iter::once(0).chain(self.ends.iter().map(|&end| end + 1));
        starts
            .zip(&self.ends)
            .enumerate()
            .map(move |(i, (start, &end))| {
                let line = &self.bytes[start..end];
                (
                    self.first_line + i as u64,
                    line.strip_suffix(b"\r").unwrap_or(line),
                )
            })
    }
}

/// Whether a line holds nothing but whitespace: such lines (a trailing empty line, a
/// blank line between records) are not inputs, as JSON Lines tools commonly allow.
pub fn is_blank(line: &[u8]) -> bool {
    line.iter().all(u8::is_ascii_whitespace)
}

/// Reads the file a batch at a time.
#[derive(Debug)]
pub struct BatchReader<'p> {
    path: &'p Path,
    reader: BufReader<File>,
    lines_per_batch: usize,
    next_line: u64,
    next_seq: u64,
    done: bool,
}

impl<'p> BatchReader<'p> {
    pub(crate) fn open(path: &'p Path) -> Result<BatchReader<'p>, Error> {
        let file = File::open(path).map_err(|e| {
            Error::Usage(format!(
                "cannot read the production sample {}: {e}",
                path.display()
            ))
        })?;
        Ok(BatchReader::new(path, file))
    }

    /// Reads `file`, opened from `path` by the caller (who words its own error).
    pub fn new(path: &'p Path, file: File) -> BatchReader<'p> {
        BatchReader {
            path,
            reader: BufReader::with_capacity(READ_BUFFER, file),
            lines_per_batch: LINES_PER_BATCH,
            next_line: 1,
            next_seq: 0,
            done: false,
        }
    }

    /// Batches of `lines` lines (or fewer) instead of the default: for tests that vary
    /// how a file is cut.
    pub fn with_lines_per_batch(mut self, lines: usize) -> BatchReader<'p> {
        self.lines_per_batch = lines.max(1);
        self
    }

    pub(crate) fn path(&self) -> &'p Path {
        self.path
    }

    /// The `seq` the next batch will have.
    pub(crate) fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// The next batch, or `None` at the end of the file.
    pub(crate) fn next_batch(&mut self) -> Result<Option<Batch>, Error> {
        if self.done {
            return Ok(None);
        }
        let mut batch = Batch {
            seq: self.next_seq,
            first_line: self.next_line,
            bytes: Vec::with_capacity(64 * 1024),
            ends: Vec::with_capacity(self.lines_per_batch),
        };
        while batch.ends.len() < self.lines_per_batch && batch.bytes.len() < BYTES_PER_BATCH {
            let read = self
                .reader
                .read_until(b'\n', &mut batch.bytes)
                .map_err(|source| Error::read(self.path, source))?;
            if read == 0 {
                self.done = true;
                break;
            }
            if batch.bytes.last() == Some(&b'\n') {
                batch.bytes.pop();
            }
            batch.ends.push(batch.bytes.len());
            // Keeps `ends` + 1 the start of the next line, whether or not it had a newline.
            batch.bytes.push(b'\n');
        }
        if batch.ends.is_empty() {
            return Ok(None);
        }
        self.next_line += batch.ends.len() as u64;
        self.next_seq += 1;
        Ok(Some(batch))
    }
}

/// The error for line `line` of the sample at `path`, whose text is not at `field`.
pub(crate) fn bad_line(path: &Path, line: u64, field: &TextField, problem: FieldProblem) -> Error {
    let at = |message: String| {
        DataError::new(path, message).at_line(usize::try_from(line).unwrap_or(usize::MAX))
    };
    match problem {
        FieldProblem::NotJson(e) => {
            // serde_json says "… at line 1 column 7": the line is the file's, said first.
            let text = e.to_string();
            let reason = text
                .rsplit_once(" at line ")
                .map_or(text.as_str(), |(r, _)| r);
            at(format!(
                "expected a JSON object with a string at {field}, found a line that is not \
                 JSON ({reason})"
            ))
            .at_column(e.column())
            .caused_by(e)
        }
        FieldProblem::NotAnObject(kind) => at(format!(
            "expected a JSON object with a string at {field}, found {kind}"
        )),
        FieldProblem::Missing => at(format!(
            "expected a string at {field}, found nothing there; set `decay.production.field` \
             in the suite file to where each line keeps the user's text"
        )),
        FieldProblem::NotAString(kind) => at(format!("expected a string at {field}, found {kind}")),
    }
    .into()
}

/// The error for a sample without a single input.
pub(crate) fn no_inputs(path: &Path) -> Error {
    DataError::new(
        path,
        "no production inputs: the file has no lines, so nothing can be said about what the \
         cases represent",
    )
    .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(text: &str) -> Vec<(u64, String)> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sample.jsonl");
        std::fs::write(&path, text).unwrap();
        let mut reader = BatchReader::open(&path).unwrap();
        let mut lines = Vec::new();
        let mut seqs = Vec::new();
        while let Some(batch) = reader.next_batch().unwrap() {
            seqs.push(batch.seq);
            lines.extend(
                batch
                    .lines()
                    .map(|(n, l)| (n, String::from_utf8(l.to_vec()).unwrap())),
            );
        }
        assert_eq!(seqs, (0..seqs.len() as u64).collect::<Vec<_>>());
        lines
    }

    #[test]
    fn lines_are_numbered_from_one_with_their_endings_removed() {
        let lines = read_all("a\r\n\nb\nc");
        assert_eq!(
            lines,
            [
                (1, "a".into()),
                (2, "".into()),
                (3, "b".into()),
                (4, "c".into())
            ]
        );
        assert!(read_all("").is_empty());
    }

    #[test]
    fn long_files_come_in_several_batches_with_continuous_numbers() {
        let text: String = (1..=2500).map(|i| format!("{i}\n")).collect();
        let lines = read_all(&text);
        assert_eq!(lines.len(), 2500);
        assert!(lines.iter().all(|(n, l)| *l == n.to_string()));
    }

    #[test]
    fn a_missing_file_is_a_usage_error_naming_it() {
        let e = BatchReader::open(Path::new("/no/such/sample.jsonl")).unwrap_err();
        assert!(
            matches!(&e, Error::Usage(m) if m.contains("/no/such/sample.jsonl")),
            "{e}"
        );
    }

    #[test]
    fn blank_lines_are_whitespace_only() {
        assert!(is_blank(b""));
        assert!(is_blank(b" \t"));
        assert!(!is_blank(b" {}"));
    }
}
