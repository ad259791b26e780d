//! Making untrusted text (agent output, error bodies) safe for JUnit XML without losing any
//! of it: characters XML 1.0 cannot carry (NUL and other C0 controls, U+FFFE, U+FFFF) and the
//! ones quick-junit's `XmlString` would silently strip (TAB, CR, DEL, C1 controls such as CSI
//! and NEL, which also drive terminal escape sequences) are written as visible `\u{..}`
//! escapes. Markup characters are escaped by the XML writer.

/// Whether `c` reaches the JUnit file unchanged.
fn kept(c: char) -> bool {
    matches!(c, '\n' | '\u{20}'..='\u{7E}' | '\u{A0}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
}

pub fn xml_safe(text: &str) -> String {
    if text.chars().all(kept) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if kept(c) {
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
        assert_eq!(xml_safe("ok ]]> <b>\nnext"), "ok ]]> <b>\nnext");
        assert_eq!(
            xml_safe("a\tb\rc\u{85}d\u{9b}31m\u{7f}"),
            "a\\u{9}b\\u{d}c\\u{85}d\\u{9b}31m\\u{7f}"
        );
    }
}
