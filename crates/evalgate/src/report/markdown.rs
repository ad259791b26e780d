//! Escaping for Markdown as GitHub renders it (step summaries, `evalgate cost`'s and the
//! economics' summaries): untrusted text (an agent's output, a case id, a file name) cannot
//! open a link, a table cell, a heading or an HTML tag. The one place this is done; XML is
//! `xml.rs`, the terminal `terminal::printable`, GitHub's workflow commands
//! `github/commands.rs`.

/// Untrusted text as inert Markdown on one line: HTML's `&<>` as entities, every Markdown
/// punctuation character backslash-escaped, line breaks as spaces.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if let Some(entity) = html_entity(c) {
            out.push_str(entity);
            continue;
        }
        match c {
            '\r' | '\n' => out.push(' '),
            c if c.is_control() => out.push('\u{fffd}'),
            '\\' | '`' | '*' | '_' | '{' | '}' | '[' | ']' | '(' | ')' | '#' | '+' | '-' | '.'
            | '!' | '|' | '~' | ':' | '"' | '\'' | '=' | '$' | '@' | '^' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// Text inside an HTML element (a `<pre>` block): `&<>` as entities, nothing else touched,
/// so the text keeps its lines and punctuation and cannot open a tag or close the block.
pub fn html_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match html_entity(c) {
            Some(entity) => out.push_str(entity),
            None => out.push(c),
        }
    }
    out
}

/// HTML's markup characters `&<>` as entities.
fn html_entity(c: char) -> Option<&'static str> {
    match c {
        '&' => Some("&amp;"),
        '<' => Some("&lt;"),
        '>' => Some("&gt;"),
        _ => None,
    }
}
