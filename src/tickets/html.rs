//! HTML message bodies as the plain text a person would read: what a case's input and
//! expected answer are written from.
//!
//! Why a hand-written scanner and not an HTML parser: ticket bodies are fragments of
//! email and chat HTML, often broken (unclosed tags, a bare `<` in "a < b"), and the import
//! converts hundreds of thousands of them. One pass over the bytes that knows the handful
//! of tags which break lines is enough for text, never panics, and allocates the output
//! and little else. Entities are decoded afterwards by `html-escape`, which knows all of
//! HTML's named entities.

/// Tags whose start and end separate blocks of text: each boundary is a line break, and
/// consecutive boundaries (`</p><p>`) are one.
const BLOCK_TAGS: &[&str] = &[
    "address",
    "article",
    "aside",
    "blockquote",
    "dd",
    "div",
    "dl",
    "dt",
    "figcaption",
    "figure",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hr",
    "main",
    "nav",
    "ol",
    "p",
    "pre",
    "section",
    "table",
    "tr",
    "ul",
];

/// Tags that only make sense in an HTML document or a message body: a `<` followed by
/// one of these is markup, where "x<y" or "a <b" in plain text is not.
const KNOWN_TAGS: &[&str] = &[
    "a", "abbr", "b", "bdi", "bdo", "big", "body", "br", "caption", "center", "cite", "code",
    "col", "colgroup", "del", "em", "font", "head", "html", "i", "img", "ins", "kbd", "label",
    "li", "mark", "meta", "q", "s", "samp", "small", "span", "strike", "strong", "style", "sub",
    "sup", "tbody", "td", "tfoot", "th", "thead", "title", "tt", "u", "var", "wbr", "script",
];

/// Whether `s` holds at least one HTML tag (or comment): a cheap test, so that a plain
/// body that happens to contain `<` ("if a<b then") is left as it is.
pub(crate) fn looks_like_html(s: &str) -> bool {
    let bytes = s.as_bytes();
    let mut from = 0;
    while let Some(offset) = bytes[from..].iter().position(|&b| b == b'<') {
        let at = from + offset;
        let rest = &bytes[at + 1..];
        if rest.starts_with(b"!--") || starts_with_ignore_case(rest, b"!doctype") {
            return true;
        }
        let name_start = usize::from(rest.first() == Some(&b'/'));
        let name_len = rest[name_start..]
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric())
            .count();
        let after = rest.get(name_start + name_len).copied();
        let name_ends = matches!(after, Some(b'>' | b'/' | b' ' | b'\t' | b'\n' | b'\r'));
        if name_len > 0 && name_ends {
            let name = &rest[name_start..name_start + name_len];
            if is_one_of(name, BLOCK_TAGS) || is_one_of(name, KNOWN_TAGS) {
                return true;
            }
        }
        from = at + 1;
    }
    false
}

/// The text of an HTML body: scripts, styles and comments dropped, a line break for
/// `<br>` and at each block's edge (`</p>`, `</div>`, `</h1>`…`</h6>`, `</tr>`), list items
/// as `- item`, other tags removed, entities decoded, runs of spaces made one, at most one
/// blank line in a row, trimmed.
pub(crate) fn to_text(html: &str) -> String {
    let stripped = strip_tags(html);
    let decoded = html_escape::decode_html_entities(&stripped);
    tidy_whitespace(&decoded)
}

/// The text with tags removed and line breaks (`\n`) where the markup breaks lines; the
/// source's own newlines are spaces, as a browser shows them. Entities are left encoded.
fn strip_tags(html: &str) -> String {
    let bytes = html.as_bytes();
    let mut out = String::with_capacity(html.len());
    // Once a search for `>` fails, every later one would too: remembering it keeps a body
    // full of bare `<` linear.
    let mut no_more_gt = false;
    let mut text_start = 0;
    let mut at = 0;
    while let Some(offset) = bytes[at..].iter().position(|&b| b == b'<') {
        let lt = at + offset;
        let rest = &bytes[lt + 1..];
        let markup = match rest.first() {
            Some(b) => b.is_ascii_alphabetic() || matches!(b, b'/' | b'!' | b'?'),
            None => false,
        };
        if !markup || no_more_gt {
            at = lt + 1;
            continue;
        }
        push_text(&mut out, &html[text_start..lt]);
        if rest.starts_with(b"!--") {
            // An unclosed comment hides the rest of the body, as in a browser.
            at = find(bytes, lt + 4, b"-->").map_or(bytes.len(), |end| end + 3);
            text_start = at;
            continue;
        }
        let Some(gt) = tag_end(bytes, lt + 1) else {
            // "a <b and nothing closes it": not a tag, keep it as text.
            no_more_gt = true;
            text_start = lt;
            at = lt + 1;
            continue;
        };
        let tag = Tag::parse(&bytes[lt + 1..gt]);
        at = gt + 1;
        if !tag.closing && (tag.is(b"script") || tag.is(b"style")) {
            // The content is code, not text; an unclosed one hides the rest.
            at = find_closing(bytes, at, tag.name).unwrap_or(bytes.len());
        } else {
            tag.break_lines(&mut out);
        }
        text_start = at;
    }
    push_text(&mut out, &html[text_start.min(html.len())..]);
    out
}

/// A tag's name (lowercase comparison is done by [`Tag::is`]) and whether it ends an element.
struct Tag<'a> {
    name: &'a [u8],
    closing: bool,
}

impl<'a> Tag<'a> {
    /// `inner` is what is between `<` and `>`: `/p`, `br/`, `div class="x"`, `!DOCTYPE html`.
    fn parse(inner: &'a [u8]) -> Tag<'a> {
        let closing = inner.first() == Some(&b'/');
        let start = usize::from(closing);
        let len = inner[start..]
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric())
            .count();
        Tag {
            name: &inner[start..start + len],
            closing,
        }
    }

    fn is(&self, name: &[u8]) -> bool {
        self.name.eq_ignore_ascii_case(name)
    }

    /// The line breaks this tag stands for, written to `out`.
    fn break_lines(&self, out: &mut String) {
        if self.is(b"br") {
            out.push('\n');
        } else if self.is(b"li") {
            block_break(out);
            if !self.closing {
                out.push_str("- ");
            }
        } else if self.is(b"td") || self.is(b"th") {
            // Cells of a row stay on its line, apart.
            out.push(' ');
        } else if is_one_of(self.name, BLOCK_TAGS) {
            block_break(out);
        }
    }
}

/// Ends the current line unless it is already ended (or nothing was written yet).
fn block_break(out: &mut String) {
    let line_end = out.trim_end_matches(' ');
    if !line_end.is_empty() && !line_end.ends_with('\n') {
        out.push('\n');
    }
}

/// Appends text from between tags, its whitespace (newlines included) made spaces.
fn push_text(out: &mut String, text: &str) {
    out.extend(text.chars().map(|c| match c {
        '\n' | '\r' | '\t' | '\u{c}' => ' ',
        other => other,
    }));
}

/// How far past a tag's first `>` a quoted attribute value is followed: a quote that does
/// not close by then is a stray one, and scanning on would make every such tag cost the
/// rest of the body.
const QUOTED_SCAN_BYTES: usize = 4096;

/// The `>` that ends the tag starting after `from`, outside quoted attribute values; a
/// quote that never closes is ignored (the first `>` ends the tag then).
fn tag_end(bytes: &[u8], from: usize) -> Option<usize> {
    let first_gt = from + bytes[from..].iter().position(|&b| b == b'>')?;
    let scan_end = bytes.len().min(first_gt + QUOTED_SCAN_BYTES);
    let mut quote = None;
    for (i, &b) in bytes[from..scan_end].iter().enumerate() {
        match (quote, b) {
            (None, b'"' | b'\'') => quote = Some(b),
            (Some(q), _) if b == q => quote = None,
            (None, b'>') => return Some(from + i),
            _ => {}
        }
    }
    Some(first_gt)
}

/// Where `</name` (any case) starts at or after `from`.
fn find_closing(bytes: &[u8], from: usize, name: &[u8]) -> Option<usize> {
    let mut at = from;
    while let Some(lt) = find(bytes, at, b"</") {
        let after = &bytes[lt + 2..];
        if starts_with_ignore_case(after, name) {
            return Some(lt);
        }
        at = lt + 2;
    }
    None
}

fn find(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    bytes
        .get(from..)?
        .windows(needle.len())
        .position(|window| window == needle)
        .map(|i| from + i)
}

fn starts_with_ignore_case(bytes: &[u8], prefix: &[u8]) -> bool {
    bytes.len() >= prefix.len() && bytes[..prefix.len()].eq_ignore_ascii_case(prefix)
}

fn is_one_of(name: &[u8], names: &[&str]) -> bool {
    names
        .iter()
        .any(|known| known.as_bytes().eq_ignore_ascii_case(name))
}

/// Spaces (no-break spaces included) collapsed to one and trimmed on each line; at most
/// one blank line in a row; no blank line at either end.
fn tidy_whitespace(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank_lines = 0;
    for line in text.split('\n') {
        let mut words = line
            .split([' ', '\u{a0}', '\t', '\r'])
            .filter(|word| !word.is_empty())
            .peekable();
        if words.peek().is_none() {
            blank_lines += 1;
            continue;
        }
        if !out.is_empty() {
            out.push_str(if blank_lines > 0 { "\n\n" } else { "\n" });
        }
        blank_lines = 0;
        for (i, word) in words.enumerate() {
            if i > 0 {
                out.push(' ');
            }
            out.push_str(word);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraphs_and_breaks_become_lines() {
        assert_eq!(
            to_text("<p>Hello,</p><p>my order <b>A-1</b> is late.<br>Thanks</p>"),
            "Hello,\nmy order A-1 is late.\nThanks"
        );
        assert_eq!(
            to_text("<div>one</div><div>two</div>three"),
            "one\ntwo\nthree"
        );
        assert_eq!(to_text("<h1>Title</h1>Body"), "Title\nBody");
        assert_eq!(to_text("a<br/>b<BR />c"), "a\nb\nc");
    }

    #[test]
    fn at_most_one_blank_line_and_trimmed() {
        assert_eq!(to_text("<p>a</p><p><br></p><p><br></p><p>b</p>"), "a\n\nb");
        assert_eq!(to_text("a<br><br><br><br>b"), "a\n\nb");
        assert_eq!(to_text("  <p>  a  </p>  "), "a");
        assert_eq!(to_text("<br><br>x<br><br>"), "x");
    }

    #[test]
    fn source_whitespace_collapses_like_a_browser() {
        assert_eq!(
            to_text("<p>line\n   continues\there</p>"),
            "line continues here"
        );
        assert_eq!(to_text("a&nbsp;&nbsp; b"), "a b");
    }

    #[test]
    fn lists_and_tables() {
        assert_eq!(
            to_text("Steps:<ul><li>unplug</li><li> wait </li></ul>done"),
            "Steps:\n- unplug\n- wait\ndone"
        );
        assert_eq!(
            to_text("<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>"),
            "a b\nc"
        );
    }

    #[test]
    fn scripts_styles_and_comments_are_dropped() {
        let html = "<html><head><style>p { color: red }</style></head><body>\
                    <!-- tracking --><p>Hi</p><script type=\"x\">alert('<p>no</p>')</script>\
                    <SCRIPT>var a = 1 < 2;</SCRIPT>there</body></html>";
        assert_eq!(to_text(html), "Hi\nthere");
        assert_eq!(to_text("a<!-- never closed <p>b</p>"), "a");
        assert_eq!(to_text("a<style>never closed"), "a");
    }

    #[test]
    fn entities_are_decoded_once() {
        assert_eq!(
            to_text("<p>Tom &amp; Jerry &lt;3 &eacute;t&eacute; &#233; &#x1F600; &amp;lt;</p>"),
            "Tom & Jerry <3 été é 😀 &lt;"
        );
        // A decoded `<` is text, never a tag.
        assert_eq!(to_text("&lt;p&gt;x&lt;/p&gt;"), "<p>x</p>");
    }

    #[test]
    fn malformed_html_does_not_panic_and_keeps_text() {
        assert_eq!(to_text("a < b and c > d"), "a < b and c > d");
        assert_eq!(to_text("<p>a <b"), "a <b");
        assert_eq!(to_text("x <"), "x <");
        assert_eq!(to_text("<"), "<");
        assert_eq!(to_text("<p"), "<p");
        assert_eq!(to_text("<a href=\"x>y\">link</a>"), "link");
        assert_eq!(to_text("<a href=\"unclosed>link</a> after"), "link after");
        assert_eq!(to_text("<!doctype html><p>é</p>"), "é");
        assert_eq!(to_text("ü<ü>"), "ü<ü>");
        assert_eq!(to_text(""), "");
        for broken in [
            "<<<>>>", "</", "<!--", "<!-", "&#;", "&#xZZ;", "<p>&", "\u{a0}<",
        ] {
            let _ = to_text(broken);
        }
    }

    #[test]
    fn looks_like_html_needs_a_real_tag() {
        assert!(looks_like_html("<p>I was charged twice</p>"));
        assert!(looks_like_html("Hi<br>there"));
        assert!(looks_like_html("<div class=\"zd-comment\">x</div>"));
        assert!(looks_like_html("a <!-- c --> b"));
        assert!(looks_like_html("text</P>"));
        assert!(!looks_like_html("The fire is very colorful."));
        assert!(!looks_like_html("if x<y and y>z then"));
        assert!(!looks_like_html("a < b"));
        assert!(!looks_like_html("<3 thanks"));
        assert!(!looks_like_html("<paragraph> is not a tag"));
        assert!(!looks_like_html("ends with <"));
    }

    #[test]
    fn large_bodies_convert_in_linear_time() {
        let body = "<p>word &amp; word</p>".repeat(50_000) + &"a < b ".repeat(50_000);
        let started = std::time::Instant::now();
        let text = to_text(&body);
        assert!(text.starts_with("word & word\nword & word"));
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
    }
}
