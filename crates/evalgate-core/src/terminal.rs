//! Text for the terminal.

use std::path::Path;

/// Agent-chosen text reaches the terminal and CI logs (decisions, tier and model names,
/// envelope values, case text, a command agent's stderr). Characters that would move the
/// cursor, start a new line or reorder the text (`is_unprintable`) are shown escaped
/// (`\n`, `\u{1b}`, `\u{0}`), and the text cannot be read as a GitHub Actions workflow
/// command: the runner obeys `::name::` at the start of a line (after blanks) and the
/// legacy `##[name]` anywhere in one, so a leading `::` is shown as `\::` and `##[` as
/// `##\[`. Every agent-controlled string printed on stdout or stderr goes through here.
pub fn printable(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if is_unprintable(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    if out.contains("##[") {
        out = out.replace("##[", "##\\[");
    }
    let blanks = out.len() - out.trim_start().len();
    if out[blanks..].starts_with("::") {
        out.insert(blanks, '\\');
    }
    out
}

/// Whether `c` is shown escaped: control characters (C0, DEL, C1: NUL, ESC, CR, LF...),
/// the Unicode line and paragraph separators, and the bidirectional formatting characters
/// that make a terminal show text in another order than it is read.
pub fn is_unprintable(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}' | '\u{2029}' | '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}'
                | '\u{2066}'..='\u{2069}'
        )
}

/// `path` relative to the working directory when it is under it, as users type paths.
pub fn shown(path: &Path) -> String {
    let cwd = std::env::current_dir().ok();
    cwd.and_then(|c| path.strip_prefix(c).ok().map(|p| p.display().to_string()))
        .unwrap_or_else(|| path.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agent_text_is_shown_escaped_and_never_as_a_workflow_command() {
        assert_eq!(
            printable("a\nb\u{1b}[31m\u{0}\u{202e}"),
            "a\\nb\\u{1b}[31m\\u{0}\\u{202e}"
        );
        assert_eq!(printable("::error::x"), "\\::error::x");
        assert_eq!(printable("  ::warning::x"), "  \\::warning::x");
        assert_eq!(
            printable("see ##[error]x and ###[y"),
            "see ##\\[error]x and ###\\[y"
        );
        assert_eq!(printable("std::io, 100 %, café"), "std::io, 100 %, café");
    }
}
