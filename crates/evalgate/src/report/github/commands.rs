//! GitHub Actions workflow commands: escaping their data and properties the way the runner
//! unescapes them, and fencing untrusted output with `::stop-commands::` so nothing an agent
//! prints can forge an annotation, mask a value, or switch our own commands off.

use std::hash::{BuildHasher, Hasher};
use std::io::Write as _;

use crate::terminal::printable;

/// The message part of a command: `%`, CR and LF escaped as the runner unescapes them
/// (its `EscapeData`), so a message keeps its lines; each line is agent text shown as the
/// terminal shows it (no raw ESC or NUL in the log, no command within it).
pub(crate) fn escape_data(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut line = 0;
    for (at, c) in text.char_indices() {
        let end = match c {
            '\r' => "%0D",
            '\n' => "%0A",
            _ => continue,
        };
        out.push_str(&printable(&text[line..at]).replace('%', "%25"));
        out.push_str(end);
        line = at + 1;
    }
    out.push_str(&printable(&text[line..]).replace('%', "%25"));
    out
}

/// A property value (`file=`, `title=`...): as data, plus `:` and `,`, which would end it.
pub(crate) fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

/// A token no agent output can guess: 128 bits from the standard library's per-process
/// random hash keys, mixed with the time and the process id.
pub(crate) fn fresh_token() -> String {
    let mut token = String::with_capacity(32);
    for salt in [0x5eed_u64, 0xfee1_600d] {
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u64(salt);
        hasher.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or_default(),
        );
        hasher.write_u32(std::process::id());
        token.push_str(&format!("{:016x}", hasher.finish()));
    }
    token
}

/// While open, the runner reads no workflow commands on this process's output: everything
/// untrusted (libtest's lines with agent output, the report text) is printed inside it. It
/// closes when dropped, so an early return cannot leave our own annotations muted.
pub struct Fence {
    token: Option<String>,
}

impl Fence {
    /// Prints `::stop-commands::<token>` on stdout under GitHub Actions; does nothing
    /// elsewhere.
    pub fn open() -> Fence {
        if !super::active() {
            return Fence { token: None };
        }
        let token = fresh_token();
        // On a line of its own even if something left the current line open.
        print_line(&format!("\n::stop-commands::{token}"));
        Fence { token: Some(token) }
    }

    /// Prints `::<token>::`: the runner reads commands again.
    pub fn close(mut self) {
        self.end();
    }

    fn end(&mut self) {
        if let Some(token) = self.token.take() {
            // What was written to stderr inside the fence must reach the runner first.
            let _ = std::io::stderr().flush();
            print_line(&format!("\n::{token}::"));
        }
    }
}

impl Drop for Fence {
    fn drop(&mut self) {
        self.end();
    }
}

fn print_line(line: &str) {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_and_properties_are_escaped_as_the_runner_unescapes_them() {
        assert_eq!(escape_data("100% done\r\nnext"), "100%25 done%0D%0Anext");
        assert_eq!(
            escape_data("a\u{1b}[31m\u{0}\n::error::x ##[warning]y"),
            "a\\u{1b}[31m\\u{0}%0A\\::error::x ##\\[warning]y"
        );
        assert_eq!(
            escape_property("evals/a,b:c.yaml\n%"),
            "evals/a%2Cb%3Ac.yaml%0A%25"
        );
    }

    #[test]
    fn tokens_are_fresh_and_long() {
        let (a, b) = (fresh_token(), fresh_token());
        assert_eq!(a.len(), 32);
        assert_ne!(a, b);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
    }
}
