//! Escaping for every XML file evalgate writes (JUnit, SVG). Untrusted text (agent output,
//! error bodies) is made safe without losing any of it: characters XML 1.0 cannot carry (NUL
//! and other C0 controls, U+FFFE, U+FFFF) and the ones readers strip or act on (TAB, CR, DEL,
//! C1 controls such as CSI and NEL, which also drive terminal escape sequences) are written
//! as visible `\u{..}` escapes ([`xml_safe`]); markup characters become entities
//! ([`escape`]).

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

/// `text` for an XML text node or attribute value: [`xml_safe`], then `& < > " '` as
/// entities (all five, so the same text serves both places).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    for c in xml_safe(text).chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
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

    #[test]
    fn markup_becomes_entities_after_the_unsafe_characters_are_escaped() {
        assert_eq!(
            escape("<a href=\"x\">'&'</a>\u{1b}"),
            "&lt;a href=&quot;x&quot;&gt;&apos;&amp;&apos;&lt;/a&gt;\\u{1b}"
        );
    }
}
