//! Errors of evalgate. Config errors point at the YAML (`file:line:column` and a snippet),
//! data errors at the file of records, history, baseline or production sample that is not
//! what evalgate wrote (`file:line` where it has lines); both, and usage errors, map to
//! exit code 2. Reading or writing that the operating system refuses, and what evalgate
//! itself got wrong, are exit code 3.
//!
//! `Display` and `source` are written out here rather than derived with thiserror: it
//! would be two of the packages every harness user builds (one of them a proc macro) for
//! two enums, and the package budget of a user's build (`benches/README.md`, footprint) is
//! what the crate split spends.

use std::fmt;
use std::path::{Path, PathBuf};

/// Where in a YAML file something is (1-based line and column).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Position {
    /// The line, from 1; 0 when unknown.
    pub line: u32,
    /// The column, from 1.
    pub column: u32,
}

impl Position {
    /// The position at `line` and `column`.
    pub fn new(line: u32, column: u32) -> Self {
        Position { line, column }
    }

    pub fn of(location: &serde_saphyr::Location) -> Self {
        Position {
            line: u32::try_from(location.line()).unwrap_or(u32::MAX),
            column: u32::try_from(location.column()).unwrap_or(u32::MAX),
        }
    }

    /// Whether the position is known (a problem with the file as a whole has none).
    pub fn is_known(&self) -> bool {
        self.line > 0
    }
}

/// A problem with the suite or a case file: the run does not start.
#[derive(Debug, Clone)]
pub struct ConfigError {
    /// The file at fault (or the folder, for discovery problems).
    pub path: PathBuf,
    /// Where in the file; line 0 when the problem is the file as a whole.
    pub position: Position,
    /// What is wrong, as a lowercase fragment.
    pub message: String,
    /// The offending source line, when known.
    pub snippet: Option<String>,
    /// What to do about it.
    pub help: Option<String>,
}

impl ConfigError {
    pub fn new(path: &Path, message: impl Into<String>) -> Self {
        ConfigError {
            path: path.to_path_buf(),
            position: Position::default(),
            message: message.into(),
            snippet: None,
            help: None,
        }
    }

    /// Points the error at `position` of `source`, taking the line as the snippet.
    pub fn at(mut self, position: Position, source: &str) -> Self {
        self.position = position;
        if position.is_known() {
            self.snippet = source
                .lines()
                .nth(position.line as usize - 1)
                .map(|line| line.chars().take(200).collect());
        }
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

/// A YAML file as messages show it, and its text: where the errors found in it point.
#[derive(Clone, Copy)]
pub struct At<'a> {
    pub path: &'a Path,
    pub source: &'a str,
}

impl At<'_> {
    /// An error at `position` of the file, with its line shown.
    pub fn line(&self, position: Position, message: impl Into<String>) -> ConfigError {
        ConfigError::new(self.path, message).at(position, self.source)
    }

    /// An error about the file as a whole.
    pub fn file(&self, message: impl Into<String>) -> ConfigError {
        ConfigError::new(self.path, message)
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = self.path.display();
        if self.position.is_known() {
            let Position { line, column } = self.position;
            write!(f, "{path}:{line}:{column}: {}", self.message)?;
        } else {
            write!(f, "{path}: {}", self.message)?;
        }
        if let Some(snippet) = &self.snippet {
            let gutter = self.position.line.to_string();
            let pad = " ".repeat(gutter.len());
            let caret_at = (self.position.column.max(1) - 1) as usize;
            let caret_pad: String = snippet
                .chars()
                .take(caret_at)
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            write!(f, "\n{pad} |\n{gutter} | {snippet}\n{pad} | {caret_pad}^")?;
        }
        if let Some(help) = &self.help {
            write!(f, "\n  help: {help}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

/// A file of data that is not what evalgate wrote: where, and what is wrong with it.
#[derive(Debug)]
pub struct DataError {
    /// The file (none for a record handed over in memory).
    pub path: Option<PathBuf>,
    /// The line, for a JSON Lines file.
    pub line: Option<usize>,
    /// The column on that line, when known.
    pub column: Option<usize>,
    /// What is wrong, and what to do about it.
    pub message: String,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl DataError {
    /// `message` about `path` as a whole.
    pub fn new(path: &Path, message: impl Into<String>) -> Self {
        DataError {
            path: Some(path.to_path_buf()),
            line: None,
            column: None,
            message: message.into(),
            source: None,
        }
    }

    /// `message` about data that has no file of its own.
    pub fn unplaced(message: impl Into<String>) -> Self {
        DataError {
            path: None,
            line: None,
            column: None,
            message: message.into(),
            source: None,
        }
    }

    /// At `line` (from 1) of the file.
    pub fn at_line(mut self, line: usize) -> Self {
        self.line = Some(line);
        self
    }

    /// At `column` (from 1) of its line.
    pub fn at_column(mut self, column: usize) -> Self {
        self.column = Some(column);
        self
    }

    /// Caused by `source` (a JSON or database error).
    pub fn caused_by(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }
}

impl fmt::Display for DataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.path, self.line, self.column) {
            (Some(path), Some(line), Some(column)) => {
                write!(f, "{}:{line}:{column}: {}", path.display(), self.message)
            }
            (Some(path), Some(line), None) => {
                write!(f, "{}:{line}: {}", path.display(), self.message)
            }
            (Some(path), None, _) => write!(f, "{}: {}", path.display(), self.message),
            (None, _, _) => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for DataError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

impl From<DataError> for Error {
    fn from(e: DataError) -> Self {
        Error::Data(Box::new(e))
    }
}

/// Everything that can stop a run.
#[derive(Debug)]
pub enum Error {
    /// The suite or a case is wrong; exit code 2.
    Config(Box<ConfigError>),
    /// Several config errors found in one pass (e.g. many broken case files).
    Configs(Vec<ConfigError>),
    /// The command line is wrong; exit code 2.
    Usage(String),
    /// A file of data evalgate reads (run records, a run policy, the history store, an
    /// export) is damaged, hand-edited, or of another schema; exit code 2, as the user
    /// has to fix, move or restore it.
    Data(Box<DataError>),
    /// Reading or writing a file (cases, records, reports, the history) failed; exit code 3.
    Io {
        /// What evalgate was doing with it.
        action: IoAction,
        /// The file or folder.
        path: PathBuf,
        /// What the operating system reported.
        source: std::io::Error,
    },
    /// Something evalgate itself got wrong; exit code 3.
    Internal(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Config(e) => e.fmt(f),
            Error::Configs(errors) => {
                for (i, e) in errors.iter().enumerate() {
                    if i > 0 {
                        f.write_str("\n\n")?;
                    }
                    e.fmt(f)?;
                }
                Ok(())
            }
            Error::Usage(message) => f.write_str(message),
            Error::Data(e) => e.fmt(f),
            Error::Io { action, path, .. } => write!(f, "error {action} {}", path.display()),
            Error::Internal(message) => write!(f, "internal error: {message}"),
        }
    }
}

impl std::error::Error for Error {
    /// The operating system's error of an `Io`; a data error's own cause (a data error
    /// stands for itself, as `#[error(transparent)]` would have it).
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source),
            Error::Data(e) => std::error::Error::source(e.as_ref()),
            _ => None,
        }
    }
}

/// What evalgate was doing with a file when the operating system said no.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IoAction {
    /// Reading it (or listing a folder).
    Reading,
    /// Writing, creating, renaming or removing it.
    Writing,
    /// Opening it for both (the run history's database).
    Opening,
}

impl fmt::Display for IoAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            IoAction::Reading => "reading",
            IoAction::Writing => "writing",
            IoAction::Opening => "opening",
        })
    }
}

impl From<ConfigError> for Error {
    fn from(e: ConfigError) -> Self {
        Error::Config(Box::new(e))
    }
}

impl Error {
    /// Writing, creating, renaming or removing `path` failed.
    pub fn write(path: &Path, source: std::io::Error) -> Self {
        Error::io(IoAction::Writing, path, source)
    }

    /// Reading `path` (or listing the folder) failed.
    pub fn read(path: &Path, source: std::io::Error) -> Self {
        Error::io(IoAction::Reading, path, source)
    }

    /// `action` on `path` failed.
    pub fn io(action: IoAction, path: &Path, source: std::io::Error) -> Self {
        Error::Io {
            action,
            path: path.to_path_buf(),
            source,
        }
    }

    /// The process exit code this error maps to (see docs/src/exit-codes.md).
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Config(_) | Error::Configs(_) | Error::Usage(_) | Error::Data(_) => {
                crate::exit::CONFIG
            }
            Error::Io { .. } | Error::Internal(_) => crate::exit::INTERNAL,
        }
    }

    /// The message with its causes, for the terminal.
    pub fn render(&self) -> String {
        error_chain(self)
    }
}

/// An error and its causes on one line, `a: b: c`, skipping a cause whose text the line
/// already holds (HTTP and TLS errors often repeat their source in their own message).
pub fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_data_error_names_its_file_and_line_keeps_its_cause_and_exits_2() {
        let cause = serde_json::from_str::<serde_json::Value>("{").unwrap_err();
        let e: Error = DataError::new(
            Path::new("runs/r1/records.jsonl"),
            format!("not a run record: {cause}"),
        )
        .at_line(3)
        .caused_by(cause)
        .into();
        assert_eq!(e.exit_code(), crate::exit::CONFIG);
        assert!(matches!(&e, Error::Data(d) if d.line == Some(3)));
        let source = std::error::Error::source(&e).expect("the JSON error is kept");
        assert!(source.to_string().contains("EOF"), "{source}");
        // The cause is in the message already: rendered once.
        let shown = e.render();
        assert!(
            shown.starts_with("runs/r1/records.jsonl:3: not a run record: "),
            "{shown}"
        );
        assert_eq!(shown.matches("EOF").count(), 1, "{shown}");
    }

    #[test]
    fn config_error_shows_file_line_column_and_a_caret() {
        let source = "id: x\nexpect:\n  - contans: refund\n";
        let e = ConfigError::new(
            Path::new("evals/cases/a.yaml"),
            "unknown expectation `contans`",
        )
        .at(Position::new(3, 5), source)
        .with_help("did you mean `contains`?");
        let text = e.to_string();
        assert!(text.starts_with("evals/cases/a.yaml:3:5: unknown expectation `contans`"));
        assert!(text.contains("3 |   - contans: refund"), "{text}");
        assert!(text.contains("  |     ^"), "{text}");
        assert!(text.ends_with("help: did you mean `contains`?"));
    }
}
