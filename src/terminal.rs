//! Text for the terminal.

use std::path::Path;

/// Agent-chosen text reaches the terminal (decisions, tier and model names, case text):
/// control characters are shown escaped, so it cannot move the cursor or rewrite the line.
pub(crate) fn printable(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            if c.is_control() {
                c.escape_default().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect()
}

/// `path` relative to the working directory when it is under it, as users type paths.
pub(crate) fn shown(path: &Path) -> String {
    let cwd = std::env::current_dir().ok();
    cwd.and_then(|c| path.strip_prefix(c).ok().map(|p| p.display().to_string()))
        .unwrap_or_else(|| path.display().to_string())
}
