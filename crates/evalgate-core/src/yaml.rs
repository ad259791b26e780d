//! Parsing YAML files with hard limits, so a hostile or broken file is a clear config error
//! (`file:line:column` and a snippet) in well under a second instead of a hang or an OOM.

use std::path::Path;

use std::sync::LazyLock;

use regex::Regex;
use serde::de::DeserializeOwned;
use serde_saphyr::{Budget, DuplicateKeyPolicy, Options};

use crate::errors::{ConfigError, Position};

/// Case and suite files are small; anything larger is a mistake (or an attack).
pub const MAX_FILE_BYTES: u64 = 1024 * 1024;

fn options() -> Options {
    let mut budget = Budget::default();
    budget.max_depth = 64;
    budget.max_nodes = 100_000;
    budget.max_aliases = 1_000;
    budget.max_anchors = 1_000;
    budget.max_events = 200_000;
    budget.max_total_scalar_bytes = 4 * MAX_FILE_BYTES as usize;
    budget.max_documents = 1;
    let mut options = Options::default();
    options.budget = Some(budget);
    options.duplicate_keys = DuplicateKeyPolicy::Error;
    options.alias_limits.max_total_replayed_events = 20_000;
    options
}

/// Reads `path` (refusing files over `MAX_FILE_BYTES`) and returns its text.
pub fn read(path: &Path) -> Result<String, ConfigError> {
    let meta = std::fs::metadata(path)
        .map_err(|e| ConfigError::new(path, format!("cannot read file: {e}")))?;
    if meta.len() > MAX_FILE_BYTES {
        return Err(ConfigError::new(
            path,
            format!(
                "file is {} bytes; evalgate reads YAML files of at most {} bytes",
                meta.len(),
                MAX_FILE_BYTES
            ),
        )
        .at(Position::new(1, 1), "")
        .with_help("split it into several case files, or move large data to a fixture"));
    }
    let bytes = std::fs::read(path)
        .map_err(|e| ConfigError::new(path, format!("cannot read file: {e}")))?;
    String::from_utf8(bytes).map_err(|e| {
        let before = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = before.iter().filter(|&&b| b == b'\n').count() as u32 + 1;
        let column = before.iter().rev().take_while(|&&b| b != b'\n').count() as u32 + 1;
        ConfigError::new(path, "file is not valid UTF-8").at(Position::new(line, column), "")
    })
}

/// Parses `source` (the text of `path`) into `T`.
pub fn parse<T: DeserializeOwned>(path: &Path, source: &str) -> Result<T, ConfigError> {
    serde_saphyr::from_str_with_options(source, options()).map_err(|e| {
        let position = e.location().map(|l| Position::of(&l)).unwrap_or_default();
        let message = plain_message(&e);
        ConfigError::new(path, message).at(position, source)
    })
}

/// serde-saphyr's message without its own location suffix or snippet (we render ours),
/// with the library's jargon turned into what a case author can act on.
fn plain_message(e: &serde_saphyr::Error) -> String {
    static LOCATION_SUFFIX: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r",?\s+at line \d+, column \d+\.?$").expect("valid regex"));
    let text = e.without_snippet().to_string();
    let first = text.lines().next().unwrap_or_default().trim_end();
    let mut message = LOCATION_SUFFIX.replace(first, "").into_owned();
    message = message.replace(", set DuplicateKeyPolicy in Options if acceptable", "");
    if message.starts_with("budget breached: Depth") {
        message = "nesting deeper than 64 levels".into();
    } else if message.starts_with("budget breached") || message.starts_with("alias replay limit") {
        message = format!("too much data after expanding anchors and aliases ({message})");
    } else if let Some(kind) = message.strip_prefix("invalid ")
        && ["u8", "u16", "u32", "u64", "usize"].contains(&kind)
    {
        message = "expected a non-negative whole number".into();
    }
    if let Some(first_char) = message.get(0..1) {
        let lower = first_char.to_lowercase();
        message.replace_range(0..1, &lower);
    }
    message
}
