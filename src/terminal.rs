//! Text for the terminal.

use std::path::Path;

/// Agent-chosen text reaches the terminal (decisions, tier and model names, case text):
/// characters that would move the cursor, start a new line or reorder the text
/// ([`is_unprintable`]) are shown escaped, so it cannot rewrite the line.
pub(crate) fn printable(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            if is_unprintable(c) {
                c.escape_default().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect()
}

/// Whether `c` is shown escaped: control characters (C0, DEL, C1: NUL, ESC, CR, LF...),
/// the Unicode line and paragraph separators, and the bidirectional formatting characters
/// that make a terminal show text in another order than it is read.
pub(crate) fn is_unprintable(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}' | '\u{2029}' | '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}'
                | '\u{2066}'..='\u{2069}'
        )
}

/// `path` relative to the working directory when it is under it, as users type paths.
pub(crate) fn shown(path: &Path) -> String {
    let cwd = std::env::current_dir().ok();
    cwd.and_then(|c| path.strip_prefix(c).ok().map(|p| p.display().to_string()))
        .unwrap_or_else(|| path.display().to_string())
}
