//! The people a ticket names, as what to take out of its texts: each full name as one
//! `[name]` (`Jane Doe`, `jane doe`, `O'Brien`), each part of three letters or more on its
//! own (`Jane`, `Müller`), and their emails and phone numbers exactly as the fields give
//! them, which the patterns may miss (`jane@localhost`, `ext. 4471`).
//!
//! Why a word scan and not a pattern per ticket: the names change with every ticket, and
//! compiling a regex or automaton for each of 100,000 tickets would cost more than scanning
//! its texts. Words are runs of Unicode letters and digits; a word is compared with the few
//! name parts lowercased, ASCII byte by byte, anything else char by char through Unicode
//! lowercasing (`MÜLLER` is `Müller`).
//!
//! Limits: no accent folding (`Jose` is not `José`) and no full case folding (`STRASSE` is
//! not `Straße`); text in decomposed Unicode (`e` + combining accent) splits words where
//! the name does not; parts of one or two letters (`Li`, `Jo`) are only taken inside the
//! full name; and a name part that is also a common word ("Will", "Rose") is taken
//! wherever it appears.

use super::{Kind, Taken, continues_after, continues_before};
use crate::tickets::model::Person;

/// Name parts with fewer letters are not taken on their own: two-letter words ("Li",
/// "Jo", "Al") are too often words of the text.
const MIN_PART_LETTERS: usize = 3;

/// Words helpdesks name agents and bots with (`Acme Support`, `Answer Bot`, `Billing
/// Team`): not personal data, and taking them would turn "contact support" into "contact
/// [name]" in every ticket. A full name made only of them is not taken either.
const ROLE_WORDS: &[&str] = &[
    "admin",
    "agent",
    "anonymous",
    "assistant",
    "billing",
    "bot",
    "care",
    "customer",
    "desk",
    "guest",
    "help",
    "helpdesk",
    "info",
    "noreply",
    "sales",
    "service",
    "support",
    "team",
    "unknown",
    "user",
];

/// The words of the placeholders: inside brackets they are a placeholder, not a name, so
/// a redacted text redacts to itself even for a person called "Name".
const PLACEHOLDER_WORDS: &[&str] = &["email", "phone", "card", "iban", "address", "name"];

/// Phone fields with fewer digits are not searched for (`0`, `n/a`, `ext 2`).
const MIN_PHONE_DIGITS: usize = 5;

/// What to take out of a ticket's texts because the ticket names the person.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Names {
    /// Full names of two words or more, lowercased, as words; longest first, so `Mary
    /// Ann Lee` is one `[name]` where `Mary Ann` is also a name.
    full: Vec<Vec<String>>,
    /// Name parts of [`MIN_PART_LETTERS`] letters or more, lowercased.
    parts: Vec<String>,
    /// Emails, ASCII-lowercased.
    emails: Vec<String>,
    /// Phone numbers as given, trimmed.
    phones: Vec<String>,
    /// The first bytes a word must start with to be worth comparing: both ASCII cases of
    /// each name's first letter, and every byte starting a char outside ASCII (whose
    /// lowercase may be anything). Most words of a text are ruled out by this alone.
    first_bytes: FirstBytes,
}

/// A set of bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
struct FirstBytes([bool; 256]);

impl Default for FirstBytes {
    fn default() -> FirstBytes {
        let mut bytes = [false; 256];
        bytes[0x80..].fill(true);
        FirstBytes(bytes)
    }
}

impl FirstBytes {
    fn add(&mut self, word: &str) {
        if let Some(&b) = word.as_bytes().first() {
            self.0[usize::from(b.to_ascii_lowercase())] = true;
            self.0[usize::from(b.to_ascii_uppercase())] = true;
        }
    }

    fn contains(&self, word: &str) -> bool {
        word.as_bytes()
            .first()
            .is_some_and(|&b| self.0[usize::from(b)])
    }
}

impl Names {
    /// The names, emails and phones of `people` (requester and everyone else).
    pub(crate) fn of(people: &[Person]) -> Names {
        let mut names = Names::default();
        for person in people {
            let first_last = match (&person.first, &person.last) {
                (Some(first), Some(last)) => Some(format!("{first} {last}")),
                _ => None,
            };
            let spellings = [&person.name, &person.first, &person.last, &first_last];
            for spelling in spellings.into_iter().flatten() {
                names.add_name(spelling);
            }
            if let Some(email) = &person.email {
                let email = email.trim().to_ascii_lowercase();
                if email.contains('@') && !names.emails.contains(&email) {
                    names.emails.push(email);
                }
            }
            if let Some(phone) = &person.phone {
                let phone = phone.trim();
                let digits = phone.bytes().filter(u8::is_ascii_digit).count();
                if digits >= MIN_PHONE_DIGITS && !names.phones.iter().any(|p| p == phone) {
                    names.phones.push(phone.to_owned());
                }
            }
        }
        names
            .full
            .sort_by_key(|words| std::cmp::Reverse(words.len()));
        names
    }

    fn add_name(&mut self, name: &str) {
        let words: Vec<String> = Words::of(name)
            .map(|(start, end)| lowercase(&name[start..end]).collect())
            .collect();
        let is_role = |word: &String| ROLE_WORDS.contains(&word.as_str());
        if words.len() >= 2 && !words.iter().all(is_role) && !self.full.contains(&words) {
            self.first_bytes.add(&words[0]);
            self.full.push(words.clone());
        }
        for word in words {
            let letters = word.chars().filter(|c| c.is_alphabetic()).count();
            if letters >= MIN_PART_LETTERS && !is_role(&word) && !self.parts.contains(&word) {
                self.first_bytes.add(&word);
                self.parts.push(word);
            }
        }
    }

    /// Takes the people's emails (when the text has an `@`), phones (when it has digits
    /// enough) and names from `text`.
    pub(super) fn find(&self, text: &str, has_at: bool, digits: usize, taken: &mut Taken) {
        if has_at && !self.emails.is_empty() {
            let lowercase = text.to_ascii_lowercase();
            for email in &self.emails {
                // `contains` first: std has a SIMD search for short needles there only, and
                // most texts do not hold the email.
                if !lowercase.contains(email.as_str()) {
                    continue;
                }
                for (start, _) in lowercase.match_indices(email.as_str()) {
                    let end = start + email.len();
                    if !in_email_before(text, start) && !in_email_after(text, end) {
                        taken.take(start, end, Kind::Email);
                    }
                }
            }
        }
        for phone in &self.phones {
            if digits < MIN_PHONE_DIGITS || !text.contains(phone.as_str()) {
                continue;
            }
            for (start, _) in text.match_indices(phone.as_str()) {
                let end = start + phone.len();
                if !continues_before(text, start) && !continues_after(text, end) {
                    taken.take(start, end, Kind::Phone);
                }
            }
        }
        if !self.parts.is_empty() || !self.full.is_empty() {
            self.find_names(text, taken);
        }
    }

    fn find_names(&self, text: &str, taken: &mut Taken) {
        let mut words = Words::of(text);
        while let Some((start, end)) = words.next() {
            let word = &text[start..end];
            if !self.first_bytes.contains(word) || is_placeholder(text, start, end) {
                continue;
            }
            let full = self
                .full
                .iter()
                .find_map(|full| full_name_end(text, (start, end), words, full));
            if let Some((end, after)) = full
                && taken.take(start, end, Kind::Name)
            {
                words = after;
                continue;
            }
            if self.parts.iter().any(|part| same_word(word, part)) {
                taken.take(start, end, Kind::Name);
            }
        }
    }
}

/// Where the full name `full` ends if it starts with the word `first` of `text`, and the
/// words after it: its words in order, joined by a few spaces, hyphens, apostrophes or
/// dots (`Jane Doe`, `Jean-Luc`, `O'Brien`, `J. Doe` is not one).
fn full_name_end<'a>(
    text: &str,
    first: (usize, usize),
    mut words: Words<'a>,
    full: &[String],
) -> Option<(usize, Words<'a>)> {
    if !same_word(&text[first.0..first.1], &full[0]) {
        return None;
    }
    let mut end = first.1;
    for part in &full[1..] {
        let (start, next_end) = words.next()?;
        let gap = &text[end..start];
        let joins = gap.chars().count() <= 3
            && gap
                .chars()
                .all(|c| c.is_whitespace() || matches!(c, '-' | '\'' | '’' | '.'));
        if !joins || !same_word(&text[start..next_end], part) {
            return None;
        }
        end = next_end;
    }
    Some((end, words))
}

/// Whether `word` is `lowercased` (a name part through [`lowercase`]), ignoring case.
fn same_word(word: &str, lowercased: &str) -> bool {
    if word.is_ascii() {
        word.len() == lowercased.len() && word.eq_ignore_ascii_case(lowercased)
    } else {
        lowercase(word).eq(lowercased.chars())
    }
}

/// The chars of `word` lowercased one by one, with the Greek final sigma made a plain
/// one: `ΟΔΥΣΣΕΑΣ`, `Οδυσσεας` and `Οδυσσεασ` are one name. (`str::to_lowercase` picks
/// the final form by position, which a char by char comparison cannot.)
fn lowercase(word: &str) -> impl Iterator<Item = char> + '_ {
    word.chars()
        .flat_map(char::to_lowercase)
        .map(|c| if c == 'ς' { 'σ' } else { c })
}

/// Whether the word at `start..end` is a placeholder's, in its brackets.
fn is_placeholder(text: &str, start: usize, end: usize) -> bool {
    text[..start].ends_with('[')
        && text[end..].starts_with(']')
        && PLACEHOLDER_WORDS.contains(&&text[start..end])
}

/// Whether the email found at `start` is the end of a longer address (`xjane@…`).
fn in_email_before(text: &str, start: usize) -> bool {
    text[..start]
        .chars()
        .next_back()
        .is_some_and(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '%' | '+' | '-'))
}

/// Whether the email found ending at `end` goes on (`jane@example.com.au`, `…comx`).
fn in_email_after(text: &str, end: usize) -> bool {
    let mut after = text[end..].chars();
    match after.next() {
        Some(c) if c.is_alphanumeric() || matches!(c, '_' | '-') => true,
        Some('.') => after.next().is_some_and(char::is_alphanumeric),
        _ => false,
    }
}

/// The words of a text as byte ranges: runs of Unicode letters and digits.
#[derive(Debug, Clone, Copy)]
struct Words<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Words<'a> {
    fn of(text: &'a str) -> Words<'a> {
        Words { text, at: 0 }
    }
}

impl Words<'_> {
    /// From byte `at`, the first byte where a char is (`word`) or is not a word's; the
    /// text's length when there is none. ASCII is looked at byte by byte: it is most of
    /// most texts, and this runs on every byte of them.
    fn boundary(&self, mut at: usize, word: bool) -> usize {
        let bytes = self.text.as_bytes();
        while let Some(&b) = bytes.get(at) {
            let (is_word, len) = if b.is_ascii() {
                (b.is_ascii_alphanumeric(), 1)
            } else {
                match self.text[at..].chars().next() {
                    Some(c) => (c.is_alphanumeric(), c.len_utf8()),
                    None => break,
                }
            };
            if is_word != word {
                return at;
            }
            at += len;
        }
        bytes.len()
    }
}

impl Iterator for Words<'_> {
    type Item = (usize, usize);

    fn next(&mut self) -> Option<(usize, usize)> {
        let start = self.boundary(self.at, false);
        if start == self.text.len() {
            self.at = start;
            return None;
        }
        let end = self.boundary(start, true);
        self.at = end;
        Some((start, end))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names_taken(people: &[Person], text: &str) -> Vec<(String, Kind)> {
        let mut taken = Taken::default();
        let digits = text.bytes().filter(u8::is_ascii_digit).count();
        Names::of(people).find(text, text.contains('@'), digits, &mut taken);
        taken
            .iter()
            .map(|f| (text[f.start..f.end].to_owned(), f.kind))
            .collect()
    }

    fn named(name: &str) -> Person {
        Person {
            name: Some(name.into()),
            ..Person::default()
        }
    }

    fn words_of(text: &str) -> Vec<&str> {
        Words::of(text).map(|(s, e)| &text[s..e]).collect()
    }

    #[test]
    fn full_names_are_one_name_and_parts_are_names_on_their_own() {
        let taken = names_taken(
            &[named("Jane Doe")],
            "JANE DOE wrote; jane said doe-eyed Doe. Janet and Does are not her.",
        );
        let texts: Vec<&str> = taken.iter().map(|(t, _)| t.as_str()).collect();
        assert_eq!(texts, ["JANE DOE", "jane", "doe", "Doe"]);
        assert!(taken.iter().all(|&(_, kind)| kind == Kind::Name));
    }

    #[test]
    fn unicode_names_match_whatever_their_case() {
        let people = [Person {
            first: Some("José".into()),
            last: Some("Müller".into()),
            ..Person::default()
        }];
        let taken = names_taken(&people, "JOSÉ MÜLLER, or josé, or müller. Not Muller.");
        let texts: Vec<&str> = taken.iter().map(|(t, _)| t.as_str()).collect();
        assert_eq!(texts, ["JOSÉ MÜLLER", "josé", "müller"]);
        let taken = names_taken(&[named("Οδυσσέας")], "ΟΔΥΣΣΈΑΣ, Οδυσσέας");
        assert_eq!(taken.len(), 2);
    }

    #[test]
    fn short_parts_only_go_with_the_full_name() {
        let taken = names_taken(&[named("Li O'Brien")], "Li O'Brien; li; O'Brien; Brien");
        let texts: Vec<&str> = taken.iter().map(|(t, _)| t.as_str()).collect();
        assert_eq!(texts, ["Li O'Brien", "Brien", "Brien"]);
    }

    #[test]
    fn role_words_and_placeholders_are_not_names() {
        let taken = names_taken(
            &[named("Acme Support"), named("Support Team")],
            "Acme Support here; contact the support team. acme. [name]",
        );
        let texts: Vec<&str> = taken.iter().map(|(t, _)| t.as_str()).collect();
        assert_eq!(texts, ["Acme Support", "acme"]);
        let taken = names_taken(&[named("Name Card")], "[name] and [card], name card");
        let texts: Vec<&str> = taken.iter().map(|(t, _)| t.as_str()).collect();
        assert_eq!(texts, ["name card"]);
    }

    #[test]
    fn the_fields_emails_and_phones_are_taken_as_given() {
        let people = [Person {
            email: Some(" Jane@LocalHost ".into()),
            phone: Some("ext. 4471-22".into()),
            ..Person::default()
        }];
        let taken = names_taken(
            &people,
            "from jane@localhost, xjane@localhost.org; dial ext. 4471-22 or ext. 4471-229",
        );
        assert_eq!(
            taken,
            [
                ("jane@localhost".to_owned(), Kind::Email),
                ("ext. 4471-22".to_owned(), Kind::Phone),
            ]
        );
    }

    #[test]
    fn people_without_names_emails_or_phones_take_nothing() {
        let people = [Person::default(), named(""), named("  ")];
        assert_eq!(Names::of(&people), Names::default());
        assert!(names_taken(&people, "anything at all 020 7946 0958").is_empty());
    }

    #[test]
    fn words_are_runs_of_letters_and_digits() {
        assert_eq!(
            words_of("  Jean-Luc, O'Brien’s café 42x!"),
            ["Jean", "Luc", "O", "Brien", "s", "café", "42x"]
        );
        assert!(words_of(" ,.- ").is_empty());
    }
}
