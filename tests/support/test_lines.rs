//! libtest's line for a test, read as people and tools read it: `test <name> ... <word>`,
//! the name padded to align, and for a case that took several samples how many passed of
//! how many after the word (`ok 6/8`). Include it with
//! `#[path = "support/test_lines.rs"] mod test_lines;`.
#![allow(dead_code)]

/// The word libtest printed for test `name` (`ok`, `FAILED`, `ignored`) and what follows
/// it on the line, if anything (`6/8`).
pub fn test_line<'a>(stdout: &'a str, name: &str) -> Option<(&'a str, Option<&'a str>)> {
    stdout.lines().find_map(|line| {
        let (shown, rest) = line.strip_prefix("test ")?.split_once(" ... ")?;
        (shown.trim_end() == name).then(|| match rest.split_once(' ') {
            Some((word, more)) => (word, Some(more)),
            None => (rest, None),
        })
    })
}

/// The word libtest printed for test `name`, `missing` when it printed no line for it.
pub fn outcome<'a>(stdout: &'a str, name: &str) -> &'a str {
    test_line(stdout, name).map_or("missing", |(word, _)| word)
}
