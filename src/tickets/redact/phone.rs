//! Phone numbers: international ones (`+44 20 7946 0958`, `+14155552671`,
//! `+44 (0)20 7946 0958`) and national ones with an area code, in the shapes people write
//! them: North American (`(415) 555-2671`, `415-555-2671`, `1-800-555-0199`), and numbers
//! with a trunk `0` (`020 7946 0958`, `0170 1234567`, `030/1234567`, `01 23 45 67 89`).
//!
//! Why shapes and not "any 7–15 digits": support texts are full of numbers that are not
//! phones — order and ticket ids, dates, amounts, versions, IP addresses — and what tells
//! them apart is how the digits are grouped. So a national number needs an area code the
//! way one is written (a trunk `0`, parentheses, or the 3-3-4 North American grouping), a
//! plain run of digits without `+` or trunk `0` is never a phone, and a number glued to
//! letters, a `#`, a currency sign or more digit groups (`A-10023`, `#12345`, `$1,234`,
//! `1.2.3`, `192.168.1.10`) is left alone. Dates never match: none is written as 3-3-4 or
//! with a trunk `0` and three digits, and `01.02.2024 10` mixes dots with a space, which
//! no phone number does.

use regex::Regex;

use super::{Kind, Taken, continues_after, continues_before};

/// Digits of an international number, country code included (ITU-T E.164: at most 15;
/// Niue's `+683 1234` has 7).
const INTERNATIONAL_DIGITS: std::ops::RangeInclusive<usize> = 7..=15;

/// Digits of a national number with its area code: 9 (`089 123456`) to 12.
const NATIONAL_DIGITS: std::ops::RangeInclusive<usize> = 9..=12;

#[derive(Debug)]
pub(super) struct PhonePattern {
    candidate: Regex,
}

impl PhonePattern {
    pub(super) fn new() -> PhonePattern {
        let candidate = Regex::new(
            r"(?x)
              # +CC then groups, a `(0)` or `(area)` among them
              \+[0-9]{1,3}(?:[\ .-]?(?:\(0\)|\([0-9]{1,4}\)|[0-9]{1,5})){1,7}
              # (415) 555-2671, 1 (800) 555-0199, (030) 1234 5678
            | (?:1[\ .-]?)?\([0-9]{2,5}\)[\ .-]?[0-9]{3,4}[\ .-]?[0-9]{3,5}
              # 415-555-2671, 415 555 2671, 415.555.2671, 1-800-555-0199
            | (?:1[\ .-])?[0-9]{3}[\ .-][0-9]{3}[\ .-][0-9]{4}
              # 020 7946 0958, 0170 1234567, 030/1234567, 0170 123 45 67, 07700900123
            | 0[1-9][0-9]{1,4}(?:[\ /-]?[0-9]{2,8}){1,3}
              # 01 23 45 67 89, 01.23.45.67.89; after the above, since first it would take
              # ten digits of a solid eleven (`07700900123`) and leave the last one glued
            | 0[1-9](?:[\ .]?[0-9]{2}){4}
            ",
        )
        .expect("the phone pattern compiles");
        PhonePattern { candidate }
    }

    /// Takes every phone number of `text` not already taken.
    pub(super) fn find(&self, text: &str, taken: &mut Taken) {
        let mut from = 0;
        while let Some(candidate) = self.candidate.find_at(text, from) {
            let start = candidate.start();
            match phone_end(text, start, candidate.end()) {
                Some(end) if taken.take(start, end, Kind::Phone) => from = end,
                // Another shape may still start a little further on (every candidate
                // starts with an ASCII character, so one byte on is a char boundary).
                _ => from = start + 1,
            }
        }
    }
}

/// Where the phone number matched as `start..end` ends, if it is one: too many digits
/// drop trailing groups (`+44 20 7946 0958 12345` keeps the phone), too few or a number
/// that goes on into something else are not phones.
fn phone_end(text: &str, start: usize, mut end: usize) -> Option<usize> {
    if continues_before(text, start) {
        return None;
    }
    let international = text.as_bytes()[start] == b'+';
    let allowed = if international {
        INTERNATIONAL_DIGITS
    } else {
        NATIONAL_DIGITS
    };
    let mut digits = count_digits(&text[start..end]);
    while digits > *allowed.end() {
        let cut = text[start..end].rfind([' ', '.', '-', '/'])?;
        end = start + cut;
        digits = count_digits(&text[start..end]);
    }
    if !allowed.contains(&digits) || continues_after(text, end) {
        return None;
    }
    // `01.02.2024 10` is a date and a time, not `01 02 20 24 10`: dots, where used,
    // are the only separator.
    let number = &text[start..end];
    if !international && number.contains('.') && number.contains([' ', '-', '/']) {
        return None;
    }
    Some(end)
}

fn count_digits(text: &str) -> usize {
    text.bytes().filter(u8::is_ascii_digit).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn phones(text: &str) -> Vec<&str> {
        let mut taken = Taken::default();
        PhonePattern::new().find(text, &mut taken);
        taken.iter().map(|f| &text[f.start..f.end]).collect()
    }

    #[test]
    fn international_and_national_numbers_are_found() {
        for phone in [
            "+44 20 7946 0958",
            "+14155552671",
            "+1 (415) 555-2671",
            "+44 (0)20 7946 0958",
            "+49 170 1234567",
            "+33 1 23 45 67 89",
            "(415) 555-2671",
            "415-555-2671",
            "415 555 2671",
            "415.555.2671",
            "1-800-555-0199",
            "020 7946 0958",
            "0170 1234567",
            "030/1234567",
            "0170 123 45 67",
            "07700900123",
            "01 23 45 67 89",
        ] {
            for text in [
                format!("call {phone}"),
                format!("{phone}, thanks"),
                format!("(tel: {phone})."),
            ] {
                assert_eq!(phones(&text), [phone], "{text}");
            }
        }
    }

    #[test]
    fn dates_times_amounts_versions_ids_and_addresses_are_not_phones() {
        for text in [
            "on 2024-03-15",
            "on 15/03/2024",
            "on 03/15/2024",
            "on 01.02.2024 10:30",
            "at 14:30-15:45",
            "in 2024 and 2025",
            "paid $1,234.56 and €1.234.567,89",
            "paid 1 234 567 EUR",
            "version 1.2.3 and 10.0.19045",
            "order A-10023, ticket #12345, #0170 1234567",
            "order 4155552671",
            "order 12345678901234567",
            "server 192.168.100.123 or 10.0.0.1",
            "SKU 0170-1234567-X",
            "score +12.5%",
        ] {
            assert_eq!(phones(text), Vec::<&str>::new(), "{text}");
        }
    }

    #[test]
    fn an_overlong_international_number_keeps_its_phone_part() {
        assert_eq!(phones("+44 20 7946 0958 12345"), ["+44 20 7946 0958"]);
    }

    #[test]
    fn two_numbers_in_one_text_are_both_found() {
        assert_eq!(
            phones("home 020 7946 0958 or mobile +49 170 1234567"),
            ["020 7946 0958", "+49 170 1234567"]
        );
    }
}
