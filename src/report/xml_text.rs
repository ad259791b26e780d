//! Making untrusted text (agent output, error bodies) safe for XML 1.0: characters XML
//! cannot carry at all (NUL, ESC and other C0 controls, lone surrogates are impossible in
//! Rust strings, U+FFFE, U+FFFF) are written as visible `\u{..}` escapes. Markup characters
//! are escaped by the XML writer.

/// Whether XML 1.0 allows `c` in a document.
fn xml_allowed(c: char) -> bool {
    matches!(c, '\u{9}' | '\u{A}' | '\u{D}' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
}

pub(crate) fn xml_safe(text: &str) -> String {
    if text.chars().all(xml_allowed) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if xml_allowed(c) {
            out.push(c);
        } else {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forbidden_characters_become_visible_escapes() {
        assert_eq!(xml_safe("a\u{0}b\u{1b}[31mc"), "a\\u{0}b\\u{1b}[31mc");
        assert_eq!(xml_safe("\u{fffe}\u{ffff}"), "\\u{fffe}\\u{ffff}");
        assert_eq!(xml_safe("tab\tok ]]> <b>"), "tab\tok ]]> <b>");
    }
}
