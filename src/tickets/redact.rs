//! Personal data taken out of every ticket text before anything is written to disk: each
//! piece found is replaced by a bracketed placeholder (`[email]`, `[phone]`, `[card]`,
//! `[iban]`, `[address]`, `[name]`) and counted, so a draft case keeps the shape of what
//! the customer wrote ("my card [card] was charged twice") without the data itself.
//!
//! What is found, in this order; a later kind only takes text no earlier kind took, which is
//! how overlaps are decided:
//!
//! 1. emails (`local@domain.tld`, Unicode letters allowed);
//! 2. IBANs: a country the ISO 13616 registry lists, its exact length, written solid or in
//!    groups of four, in either case, passing the mod-97 check;
//! 3. payment cards: 13–19 digits, solid or in groups, passing the Luhn check;
//! 4. phone numbers, international (`+44 20 7946 0958`) or national with an area code
//!    (`(415) 555-2671`, `020 7946 0958`), see [`phone`];
//! 5. street addresses and postcodes, see [`address`];
//! 6. the emails and phone numbers of the people the ticket names, exactly as its fields give
//!    them (caught even where the patterns miss them, `jane@localhost`), then their names,
//!    see [`Names`].
//!
//! Every pass matches the original text and the placeholders are written once, at the end:
//! no pass can ever see, and so re-match, a placeholder. The checks that a number or
//! address is not part of a longer word read a placeholder's brackets as the word it
//! replaced, so redacting a redacted text again changes nothing (for texts whose pieces are
//! apart; `4111 1111 1111 1111` glued to the end of an email is a card once the email is
//! `[email]`).
//!
//! Speed: this runs on every text of an import (100,000 tickets, some 50 MB) inside a
//! budget of seconds, so the patterns are compiled once in a [`Redactor`] and each pass is
//! skipped when the text cannot hold its kind: numbers need seven digits, emails an `@`,
//! addresses a digit.
//!
//! Limits, by design: redaction errs towards taking too much (a 13–19-digit id that happens
//! to pass the Luhn check, one in ten, becomes `[card]`; a first name that is also a word,
//! "Will", is redacted everywhere). What it does not find: numbers spelt out or split
//! oddly, national phone numbers without an area code (`555-2671`), obfuscated emails
//! (`jane at example dot com`), addresses without a house number or outside the English and
//! German shapes, lowercase street names, and names the ticket's fields do not give (a
//! customer mentioning their spouse).

mod address;
mod names;
mod payment;
mod phone;

use std::collections::BTreeMap;
use std::fmt;

use regex::Regex;
use serde::Serialize;

pub(crate) use names::Names;

/// Fewer digits than this and a text holds no card, IBAN or phone number: the shortest the
/// phone pass takes has seven.
const MIN_NUMBER_DIGITS: usize = 7;

/// Finds and replaces personal data; built once, used on every text of an import.
#[derive(Debug)]
pub(crate) struct Redactor {
    email: Regex,
    phone: phone::PhonePattern,
    address: address::AddressPattern,
}

impl Redactor {
    pub(crate) fn new() -> Redactor {
        Redactor {
            // Unicode letters in the local part and domain (`josé@müller.de`); the last label
            // is letters only, so a sentence's full stop after an address stays outside it.
            email: Regex::new(
                r"[\p{L}\p{N}._%+-]+@[\p{L}\p{N}](?:[\p{L}\p{N}-]*[\p{L}\p{N}])?(?:\.[\p{L}\p{N}](?:[\p{L}\p{N}-]*[\p{L}\p{N}])?)*\.\p{L}{2,}",
            )
            .expect("the email pattern compiles"),
            phone: phone::PhonePattern::new(),
            address: address::AddressPattern::new(),
        }
    }

    /// `text` with every piece of personal data replaced by its placeholder, each counted
    /// in `counts`. `names`: the people the ticket names (their names, emails and phones are
    /// redacted wherever they appear).
    pub(crate) fn redact(&self, text: &str, names: &Names, counts: &mut RedactionCounts) -> String {
        let mut taken = Taken::default();
        let has_at = text.as_bytes().contains(&b'@');
        let digits = text.bytes().filter(|b| b.wrapping_sub(b'0') < 10).count();
        if has_at {
            for found in self.email.find_iter(text) {
                taken.take(found.start(), found.end(), Kind::Email);
            }
        }
        if digits >= MIN_NUMBER_DIGITS {
            payment::find_payments(text, &mut taken);
            self.phone.find(text, &mut taken);
        }
        if digits > 0 {
            self.address.find(text, &mut taken);
        }
        names.find(text, has_at, digits, &mut taken);
        taken.replace(text, counts)
    }
}

/// How many pieces of each kind were replaced: one per occurrence.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct RedactionCounts {
    pub email: u64,
    pub phone: u64,
    pub card: u64,
    pub iban: u64,
    pub address: u64,
    pub name: u64,
}

impl RedactionCounts {
    pub fn add(&mut self, other: &RedactionCounts) {
        self.email += other.email;
        self.phone += other.phone;
        self.card += other.card;
        self.iban += other.iban;
        self.address += other.address;
        self.name += other.name;
    }

    pub fn total(&self) -> u64 {
        self.email + self.phone + self.card + self.iban + self.address + self.name
    }

    fn count_mut(&mut self, kind: Kind) -> &mut u64 {
        match kind {
            Kind::Email => &mut self.email,
            Kind::Phone => &mut self.phone,
            Kind::Card => &mut self.card,
            Kind::Iban => &mut self.iban,
            Kind::Address => &mut self.address,
            Kind::Name => &mut self.name,
        }
    }
}

/// A line for people: `2 emails, 1 phone number`, the kinds with a count only, or
/// `nothing` when no kind has one.
impl fmt::Display for RedactionCounts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kinds = [
            (self.email, "email", "emails"),
            (self.phone, "phone number", "phone numbers"),
            (self.card, "card number", "card numbers"),
            (self.iban, "IBAN", "IBANs"),
            (self.address, "address", "addresses"),
            (self.name, "name", "names"),
        ];
        let mut first = true;
        for (count, one, many) in kinds {
            if count == 0 {
                continue;
            }
            if !first {
                f.write_str(", ")?;
            }
            first = false;
            write!(f, "{count} {}", if count == 1 { one } else { many })?;
        }
        if first {
            f.write_str("nothing")?;
        }
        Ok(())
    }
}

/// What a piece of personal data is, and so which placeholder replaces it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Email,
    Phone,
    Card,
    Iban,
    Address,
    Name,
}

impl Kind {
    fn placeholder(self) -> &'static str {
        match self {
            Kind::Email => "[email]",
            Kind::Phone => "[phone]",
            Kind::Card => "[card]",
            Kind::Iban => "[iban]",
            Kind::Address => "[address]",
            Kind::Name => "[name]",
        }
    }
}

/// A piece of a text to replace: its byte range and kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Found {
    start: usize,
    end: usize,
    kind: Kind,
}

/// What the passes have taken from one text so far: non-overlapping ranges by start, in
/// a B-tree because a later pass takes ranges between an earlier pass's, and a long text
/// may have thousands of them.
#[derive(Debug, Default)]
struct Taken {
    /// `start` → (`end`, kind).
    found: BTreeMap<usize, (usize, Kind)>,
}

impl Taken {
    /// Takes `start..end` as `kind` unless any of it is already taken; says whether it did.
    fn take(&mut self, start: usize, end: usize, kind: Kind) -> bool {
        if start >= end {
            return false;
        }
        let before_is_free = self
            .found
            .range(..start)
            .next_back()
            .is_none_or(|(_, &(before_end, _))| before_end <= start);
        let after_is_free = self
            .found
            .range(start..)
            .next()
            .is_none_or(|(&after_start, _)| after_start >= end);
        if !(before_is_free && after_is_free) {
            return false;
        }
        self.found.insert(start, (end, kind));
        true
    }

    /// Where the free text from `start` ends: the start of the next range taken
    /// (`usize::MAX` when none follows); `None` when `start` itself is taken.
    fn free_until(&self, start: usize) -> Option<usize> {
        let inside = self
            .found
            .range(..=start)
            .next_back()
            .is_some_and(|(_, &(end, _))| end > start);
        if inside {
            return None;
        }
        let next = self.found.range(start..).next();
        Some(next.map_or(usize::MAX, |(&next_start, _)| next_start))
    }

    /// Every range taken, in order.
    fn iter(&self) -> impl Iterator<Item = Found> + '_ {
        self.found
            .iter()
            .map(|(&start, &(end, kind))| Found { start, end, kind })
    }

    /// The text with every taken range replaced by its placeholder, counted.
    fn replace(self, text: &str, counts: &mut RedactionCounts) -> String {
        if self.found.is_empty() {
            return text.to_owned();
        }
        let mut redacted = String::with_capacity(text.len());
        let mut copied = 0;
        for found in self.iter() {
            redacted.push_str(&text[copied..found.start]);
            redacted.push_str(found.kind.placeholder());
            *counts.count_mut(found.kind) += 1;
            copied = found.end;
        }
        redacted.push_str(&text[copied..]);
        redacted
    }
}

/// Whether the number starting at `start` goes on from what is before it, and so is part of
/// something else: a word or id (`A-10023`, `v1.`), an amount (`$`, `1,`), a `#` number, a
/// `+` the international pattern did not take, or another group of digits (`12 345`).
/// A placeholder's bracket counts as the word or number it replaced, so that a redacted
/// text, redacted again, stays as it is.
fn continues_before(text: &str, start: usize) -> bool {
    let mut before = text[..start].chars().rev();
    match before.next() {
        None => false,
        Some(c) if is_word_or_placeholder(c) => true,
        Some('_' | '#' | '$' | '€' | '£' | '¥' | '@' | '+') => true,
        Some('-' | '.' | ',' | '/') => before.next().is_some_and(is_word_or_placeholder),
        Some(' ') => before
            .next()
            .is_some_and(|c| c.is_ascii_digit() || c == ']'),
        Some(_) => false,
    }
}

/// Whether the number ending at `end` goes on after it: letters or digits (`A1b`), more
/// of an id (`-X`, `/2`), decimals (`1.5`, `1,5`), a percentage or an `@`. A full stop
/// or comma before a space ends a sentence or a list, not the number.
fn continues_after(text: &str, end: usize) -> bool {
    let mut after = text[end..].chars();
    match after.next() {
        None => false,
        Some(c) if is_word_or_placeholder(c) => true,
        Some('_' | '%' | '@') => true,
        Some('-' | '/') => after.next().is_some_and(is_word_or_placeholder),
        Some('.' | ',') => after.next().is_some_and(|c| c.is_ascii_digit() || c == '['),
        Some(' ') => after.next() == Some('['),
        Some(_) => false,
    }
}

fn is_word_or_placeholder(c: char) -> bool {
    c.is_alphanumeric() || c == '[' || c == ']'
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tickets::model::Person;

    fn redact(text: &str) -> (String, RedactionCounts) {
        redact_naming(text, &[])
    }

    fn redact_naming(text: &str, people: &[Person]) -> (String, RedactionCounts) {
        let mut counts = RedactionCounts::default();
        let redacted = Redactor::new().redact(text, &Names::of(people), &mut counts);
        (redacted, counts)
    }

    fn jane() -> Person {
        Person {
            name: Some("Jane Doe".into()),
            first: Some("Jane".into()),
            last: Some("Doe".into()),
            email: Some("jane.doe@example.com".into()),
            phone: Some("+1 415 555 2671".into()),
            requester: true,
        }
    }

    #[test]
    fn every_kind_is_replaced_and_counted_once_per_occurrence() {
        let text = "I'm Jane Doe (jane.doe@example.com, +44 20 7946 0958). My card \
                    4111 1111 1111 1111 was charged, refund to DE89 3704 0044 0532 0130 00. \
                    I live at 221B Baker Street, London NW1 6XE. Mail jane.doe@example.com.";
        let (redacted, counts) = redact_naming(text, &[jane()]);
        assert_eq!(
            redacted,
            "I'm [name] ([email], [phone]). My card [card] was charged, refund to [iban]. \
             I live at [address]. Mail [email]."
        );
        assert_eq!(
            counts,
            RedactionCounts {
                email: 2,
                phone: 1,
                card: 1,
                iban: 1,
                address: 1,
                name: 1,
            }
        );
        assert_eq!(counts.total(), 7);
    }

    #[test]
    fn a_text_without_personal_data_comes_back_unchanged() {
        for text in [
            "Order A-10023 shipped on 2024-03-15 at 14:30, total $1,234.56 (v1.2.3).",
            "Delivered 15/03/2024 at 9:45am, in 2024 or 2025; ticket #12345, #0170 1234567.",
            "Order number 4111111111111112 (16 digits, not a card), ref 1234 5678 9012 3456.",
            "Server 192.168.1.10 and 10.0.0.1, build 10.0.19045.3570, 20% off 1,000,000.",
            "Invoice 2024-0001-7788, SKU AB12-3456, tracking 1Z999AA10123456784, 3 items.",
            "Call me at 5 pm about the 2 Way adapter; Platz 3 in the queue.",
            "Order 94105 and ticket 94105-1234 were zipped: see the zip file, 3 parts.",
        ] {
            let (redacted, counts) = redact(text);
            assert_eq!(redacted, text);
            assert_eq!(counts.total(), 0);
        }
        assert_eq!(redact("").0, "");
    }

    #[test]
    fn redacting_twice_changes_nothing_more() {
        let people = [Person {
            name: Some("Email Name".into()),
            ..Person::default()
        }];
        let text = "Email Name wrote from a@b.io and 020 7946 0958 about the email.";
        let (once, _) = redact_naming(text, &people);
        assert_eq!(
            once,
            "[name] wrote from [email] and [phone] about the [name]."
        );
        let (twice, counts) = redact_naming(&once, &people);
        assert_eq!(twice, once);
        assert_eq!(counts.total(), 0);
    }

    #[test]
    fn an_address_running_into_other_data_keeps_what_comes_before() {
        let (redacted, counts) = redact("at 10 Downing St. Suite 200 555-2671 today");
        assert_eq!(redacted, "at [address] Suite [phone] today");
        assert_eq!((counts.address, counts.phone), (1, 1));
        let (redacted, _) = redact("Hauptstraße 5, 0170 SW1A");
        assert_eq!(redacted, "[address], 0170 SW1A");
    }

    #[test]
    fn postcodes_are_redacted_and_order_numbers_kept() {
        let (redacted, counts) = redact(
            "Order 94106 went to 500 Howard Street, San Francisco 94105; my zip is 94105-1234 \
             and my sister's postal code K1A 0B1.",
        );
        assert_eq!(
            redacted,
            "Order 94106 went to [address]; my zip is [address] and my sister's postal code \
             [address]."
        );
        assert_eq!(counts.address, 3);
    }

    #[test]
    fn a_name_inside_an_email_is_counted_as_the_email_only() {
        let (redacted, counts) = redact_naming("write to jane.doe@example.com, Jane", &[jane()]);
        assert_eq!(redacted, "write to [email], [name]");
        assert_eq!((counts.email, counts.name), (1, 1));
    }

    #[test]
    fn emails_with_unicode_and_subdomains_are_found() {
        let (redacted, counts) =
            redact("josé@müller.de, first.last+tag@mail.example.co.uk. Not me@home or @handle.");
        assert_eq!(redacted, "[email], [email]. Not me@home or @handle.");
        assert_eq!(counts.email, 2);
    }

    #[test]
    fn counts_add_up_and_read_as_a_summary() {
        let mut counts = RedactionCounts {
            email: 2,
            phone: 1,
            ..RedactionCounts::default()
        };
        assert_eq!(counts.to_string(), "2 emails, 1 phone number");
        counts.add(&RedactionCounts {
            iban: 1,
            address: 2,
            name: 3,
            card: 1,
            ..RedactionCounts::default()
        });
        assert_eq!(
            counts.to_string(),
            "2 emails, 1 phone number, 1 card number, 1 IBAN, 2 addresses, 3 names"
        );
        assert_eq!(counts.total(), 10);
        assert_eq!(RedactionCounts::default().to_string(), "nothing");
    }

    #[test]
    fn long_texts_are_redacted_in_linear_time() {
        let people = [jane()];
        for text in [
            "4111 ".repeat(40_000),
            "0101".repeat(50_000),
            "+44 ".repeat(40_000),
            "a@b.de ".repeat(20_000),
            "Jane Doe ".repeat(20_000),
            "12 Main Street ".repeat(10_000),
            "DE89 ".repeat(40_000),
        ] {
            let (redacted, counts) = redact_naming(&text, &people);
            assert!(redacted.len() <= text.len() * 2);
            assert!(counts.total() <= text.len() as u64);
        }
    }

    /// Texts made of pieces that look like personal data or border it, in every order:
    /// none panics, and where the pieces are apart (spaces, punctuation), redacting the
    /// result again changes nothing.
    #[test]
    fn redacting_a_redacted_text_changes_nothing_and_glued_texts_do_not_panic() {
        const PIECES: &[&str] = &[
            "4111 1111 1111 1111",
            "020 7946 0958",
            "+44",
            "+1",
            "415",
            "(415)",
            "555-2671",
            "0170",
            "1234567",
            "01 23 45 67 89",
            "DE89",
            "3704 0044 0532 0130 00",
            "NL91ABNA0417164300",
            "221B",
            "10 Downing St.",
            "Baker",
            "Main",
            "Street",
            "St",
            "Avenue",
            "NW",
            "Apt",
            "Suite 200",
            "Springfield,",
            "IL 62704",
            "CA 94043",
            "SW1A 2AA",
            "Hauptstraße",
            "Straße",
            "5",
            "12",
            "1.",
            "Jane",
            "Doe",
            "José",
            "Müller",
            "İlkay",
            "a@b.de",
            "jane.doe@example.com",
            "[name]",
            "x",
            "#",
            "$",
            "/",
            ",",
            ".",
            "-",
        ];
        const APART: &[&str] = &[" ", ", ", ". ", "\n", " - ", ": "];
        let people = [
            jane(),
            named_person("İlkay Straße"),
            named_person("José Müller"),
        ];
        let redactor = Redactor::new();
        let names = Names::of(&people);
        let mut state: u32 = 7;
        let mut random = move || {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state as usize
        };
        for _ in 0..20_000 {
            let pieces: Vec<&str> = (0..random() % 12)
                .map(|_| PIECES[random() % PIECES.len()])
                .collect();
            let glued = pieces.concat();
            redactor.redact(&glued, &names, &mut RedactionCounts::default());
            let mut apart = String::new();
            for piece in pieces {
                apart.push_str(piece);
                apart.push_str(APART[random() % APART.len()]);
            }
            let mut counts = RedactionCounts::default();
            let once = redactor.redact(&apart, &names, &mut counts);
            let twice = redactor.redact(&once, &names, &mut counts);
            assert_eq!(twice, once, "{apart:?}");
        }
    }

    fn named_person(name: &str) -> Person {
        Person {
            name: Some(name.into()),
            ..Person::default()
        }
    }

    #[test]
    fn taken_ranges_never_overlap() {
        let mut taken = Taken::default();
        assert!(taken.take(10, 20, Kind::Email));
        assert!(!taken.take(15, 25, Kind::Phone));
        assert!(!taken.take(5, 11, Kind::Phone));
        assert!(!taken.take(12, 14, Kind::Name));
        assert!(taken.take(20, 22, Kind::Name));
        assert!(taken.take(0, 10, Kind::Card));
        assert!(!taken.take(3, 3, Kind::Card));
        let kinds: Vec<Kind> = taken.iter().map(|f| f.kind).collect();
        assert_eq!(kinds, [Kind::Card, Kind::Email, Kind::Name]);
        assert_eq!(taken.free_until(15), None);
        assert_eq!(taken.free_until(22), Some(usize::MAX));
        let mut gap = Taken::default();
        gap.take(10, 20, Kind::Email);
        assert_eq!(gap.free_until(3), Some(10));
        assert_eq!(gap.free_until(20), Some(usize::MAX));
    }
}
