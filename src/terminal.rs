//! Text for the terminal.

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
