//! Payment card numbers and IBANs: found by shape, kept only when their check digits agree,
//! which is what tells a card from a 16-digit order number (nine in ten of those fail the
//! Luhn check) and an IBAN from a product code.

use super::{Kind, Taken, continues_after, continues_before, is_word_or_placeholder};

/// The fewest and most digits of a payment card number (ISO/IEC 7812).
const CARD_DIGITS: std::ops::RangeInclusive<usize> = 13..=19;

/// How cards are written in groups: 4-4-4-4, Amex 4-6-5, 19 digits as 4-4-4-4-3.
const MAX_CARD_GROUPS: usize = 5;

/// Takes every IBAN, then every card number of `text` that no earlier pass took.
///
/// Both are found from the runs of digit groups joined by single spaces or dashes, one
/// scan of the bytes (a regex per kind cost more than both checks together): an IBAN where
/// a run starts right after two letters starting a word (`DE89…`), a card where a run has
/// 13 digits or more. An IBAN is taken before the card numbers of its run, so its digits
/// never become a `[card]`.
pub(super) fn find_payments(text: &str, taken: &mut Taken) {
    let mut groups: Vec<(usize, usize)> = Vec::new();
    for run in digit_runs(text) {
        if let Some(start) = iban_start(text, run.start)
            && let Some(end) = iban_end(text, start)
        {
            taken.take(start, end, Kind::Iban);
        }
        if run.digits >= *CARD_DIGITS.start() {
            find_cards(text, run, &mut groups, taken);
        }
    }
}

/// Digit groups joined by single spaces or dashes (`4111 1111`, `2024-03-15`, `42`).
#[derive(Debug, Clone, Copy)]
struct DigitRun {
    start: usize,
    end: usize,
    digits: usize,
}

/// The maximal digit runs of `text`, in order.
fn digit_runs(text: &str) -> impl Iterator<Item = DigitRun> + '_ {
    let bytes = text.as_bytes();
    let mut at = 0;
    std::iter::from_fn(move || {
        let start = at + bytes[at..].iter().position(u8::is_ascii_digit)?;
        let mut end = start;
        let mut digits = 0;
        loop {
            while bytes.get(end).is_some_and(u8::is_ascii_digit) {
                end += 1;
                digits += 1;
            }
            let joined = matches!(bytes.get(end), Some(b' ' | b'-'))
                && bytes.get(end + 1).is_some_and(u8::is_ascii_digit);
            if !joined {
                break;
            }
            end += 1;
        }
        at = end;
        Some(DigitRun { start, end, digits })
    })
}

/// Takes the card numbers of a run of 13 digits or more: 13–19 digits, solid or in 2–5
/// groups of 3–6 digits with one kind of separator, passing the Luhn check. Within a
/// longer run the longest such window is taken (`4111 1111 1111 1111 2025` keeps the year).
fn find_cards(text: &str, run: DigitRun, groups: &mut Vec<(usize, usize)>, taken: &mut Taken) {
    groups.clear();
    let mut group_start = run.start;
    for (i, b) in text[run.start..run.end].bytes().enumerate() {
        if !b.is_ascii_digit() {
            groups.push((group_start, run.start + i));
            group_start = run.start + i + 1;
        }
    }
    groups.push((group_start, run.end));
    let starts_free = !continues_before(text, run.start);
    let ends_free = !continues_after(text, run.end);
    let mut first = 0;
    while first < groups.len() {
        // At most five groups from `first`: a run of thousands stays linear.
        let last_possible = (first + MAX_CARD_GROUPS).min(groups.len()) - 1;
        let card = (first..=last_possible).rev().find(|&last| {
            (first > 0 || starts_free)
                && (last + 1 < groups.len() || ends_free)
                && is_card(text, &groups[first..=last])
        });
        match card {
            Some(last) => {
                taken.take(groups[first].0, groups[last].1, Kind::Card);
                first = last + 1;
            }
            None => first += 1,
        }
    }
}

/// Whether these consecutive digit groups of `text` are written like a card number and
/// pass the Luhn check.
fn is_card(text: &str, groups: &[(usize, usize)]) -> bool {
    let digits: usize = groups.iter().map(|(start, end)| end - start).sum();
    if !CARD_DIGITS.contains(&digits) || groups.len() > MAX_CARD_GROUPS {
        return false;
    }
    if groups.len() > 1 {
        let first_len = groups[0].1 - groups[0].0;
        let separator = text.as_bytes()[groups[0].1];
        let well_grouped = (4..=6).contains(&first_len)
            && groups[1..].iter().all(|&(start, end)| {
                (3..=6).contains(&(end - start)) && text.as_bytes()[start - 1] == separator
            });
        if !well_grouped {
            return false;
        }
    }
    let bytes = text.as_bytes();
    luhn(
        groups
            .iter()
            .flat_map(|&(start, end)| bytes[start..end].iter().map(|b| b - b'0')),
    )
}

/// The Luhn (mod 10) check of a card number, given its digits from the first.
fn luhn(digits: impl DoubleEndedIterator<Item = u8>) -> bool {
    let sum: u32 = digits
        .rev()
        .enumerate()
        .map(|(i, digit)| {
            let digit = u32::from(digit);
            if i % 2 == 1 {
                let doubled = digit * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                digit
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// Where an IBAN would start if the digit run at `digits` is its check digits: two ASCII
/// letters right before, starting a word.
fn iban_start(text: &str, digits: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let start = digits.checked_sub(2)?;
    let letters = bytes[start].is_ascii_alphabetic() && bytes[start + 1].is_ascii_alphabetic();
    let two_digits = bytes.get(digits + 1).is_some_and(u8::is_ascii_digit);
    let starts_word = || {
        !text[..start]
            .chars()
            .next_back()
            .is_some_and(|c| is_word_or_placeholder(c) || c == '_')
    };
    (letters && two_digits && starts_word()).then_some(start)
}

/// Where the IBAN starting at `start` ends, if one does: the country's registered length
/// of letters and digits, solid or with one space after every four, not run on into a
/// longer word, with check digits the mod-97 check accepts.
fn iban_end(text: &str, start: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let country = [bytes[start], bytes[start + 1]];
    // `de89…` typed in lowercase is fine, `De89…` is a word.
    if country[0].is_ascii_uppercase() != country[1].is_ascii_uppercase() {
        return None;
    }
    let length = iban_length([
        country[0].to_ascii_uppercase(),
        country[1].to_ascii_uppercase(),
    ])?;
    let mut iban = [0u8; 34];
    let mut chars = 0;
    let mut at = start;
    let mut spaced = false;
    while chars < length {
        if chars == 4 && bytes.get(at) == Some(&b' ') {
            spaced = true;
            at += 1;
        } else if spaced && chars.is_multiple_of(4) {
            if bytes.get(at) != Some(&b' ') {
                return None;
            }
            at += 1;
        }
        let b = *bytes.get(at)?;
        if !b.is_ascii_alphanumeric() {
            return None;
        }
        iban[chars] = b.to_ascii_uppercase();
        chars += 1;
        at += 1;
    }
    if text[at..]
        .chars()
        .next()
        .is_some_and(is_word_or_placeholder)
    {
        return None;
    }
    // Check digits 00, 01 and 99 are never issued: 98 minus a remainder is 2..=98.
    let check = (iban[2] - b'0') * 10 + (iban[3] - b'0');
    if !(2..=98).contains(&check) {
        return None;
    }
    let rearranged = iban[4..length].iter().chain(&iban[..4]);
    let remainder = rearranged.fold(0u32, |remainder, &c| {
        if c.is_ascii_digit() {
            (remainder * 10 + u32::from(c - b'0')) % 97
        } else {
            (remainder * 100 + u32::from(c - b'A') + 10) % 97
        }
    });
    (remainder == 1).then_some(at)
}

/// The length of an IBAN of the country, for the countries of the ISO 13616 registry.
fn iban_length(country: [u8; 2]) -> Option<usize> {
    let length = match &country {
        b"NO" => 15,
        b"BE" => 16,
        b"DK" | b"FI" | b"FK" | b"FO" | b"GL" | b"NL" | b"SD" => 18,
        b"MK" | b"SI" => 19,
        b"AT" | b"BA" | b"EE" | b"KZ" | b"LT" | b"LU" | b"MN" | b"XK" => 20,
        b"CH" | b"HR" | b"LI" | b"LV" => 21,
        b"BG" | b"BH" | b"CR" | b"DE" | b"GB" | b"GE" | b"IE" | b"ME" | b"RS" | b"VA" => 22,
        b"AE" | b"GI" | b"IL" | b"IQ" | b"OM" | b"SO" | b"TL" => 23,
        b"AD" | b"CZ" | b"ES" | b"MD" | b"PK" | b"RO" | b"SA" | b"SE" | b"SK" | b"TN" | b"VG" => 24,
        b"LY" | b"PT" | b"ST" => 25,
        b"IS" | b"TR" => 26,
        b"BI" | b"DJ" | b"FR" | b"GR" | b"IT" | b"MC" | b"MR" | b"SM" => 27,
        b"AL" | b"AZ" | b"BY" | b"CY" | b"DO" | b"GT" | b"HN" | b"HU" | b"LB" | b"NI" | b"PL"
        | b"SV" => 28,
        b"BR" | b"EG" | b"PS" | b"QA" | b"UA" => 29,
        b"JO" | b"KW" | b"MU" | b"YE" => 30,
        b"MT" | b"SC" => 31,
        b"LC" => 32,
        b"RU" => 33,
        _ => return None,
    };
    Some(length)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str) -> Vec<(&str, Kind)> {
        let mut taken = Taken::default();
        find_payments(text, &mut taken);
        taken
            .iter()
            .map(|f| (&text[f.start..f.end], f.kind))
            .collect()
    }

    #[test]
    fn cards_solid_or_grouped_that_pass_luhn_are_found() {
        for card in [
            "4111111111111111",
            "4111 1111 1111 1111",
            "4111-1111-1111-1111",
            "3782 822463 10005",
            "5555555555554444",
            "6011 0009 9013 9424",
            "4222222222222",
        ] {
            let text = format!("card: {card}, thanks");
            assert_eq!(found(&text), [(card, Kind::Card)], "{text}");
        }
    }

    #[test]
    fn numbers_failing_luhn_or_badly_grouped_are_not_cards() {
        for text in [
            "order 4111111111111112",
            "order 1234 5678 9012 3456",
            "dates 2024-03-15 2024-03-16",
            "mixed 4111 1111-1111 1111",
            "ref 41 11 11 11 11 11 11 11",
            "id A4111111111111111",
            "#4111111111111111",
            "phone +4111111111111111",
            "20 digits 41111111111111111111",
            "amount 4111111111111111.50",
        ] {
            assert_eq!(found(text), [], "{text}");
        }
    }

    #[test]
    fn the_longest_card_in_a_run_of_groups_is_taken() {
        assert_eq!(
            found("4111 1111 1111 1111 2025"),
            [("4111 1111 1111 1111", Kind::Card)]
        );
    }

    #[test]
    fn ibans_solid_spaced_and_lowercase_are_found() {
        for iban in [
            "DE89 3704 0044 0532 0130 00",
            "DE89370400440532013000",
            "GB29 NWBK 6016 1331 9268 19",
            "NL91ABNA0417164300",
            "FR14 2004 1010 0505 0001 3M02 606",
            "NO93 8601 1117 947",
            "de89 3704 0044 0532 0130 00",
        ] {
            let text = format!("IBAN {iban}. Thanks");
            assert_eq!(found(&text), [(iban, Kind::Iban)], "{text}");
        }
    }

    #[test]
    fn ibans_with_a_wrong_check_length_or_grouping_are_not_taken() {
        for text in [
            "DE88 3704 0044 0532 0130 00",
            "DE89 3704 0044 0532 0130 0",
            "DE89 3704 0044 0532 0130 001",
            "DE89 37040 044 0532 0130 00",
            "ZZ89 3704 0044 0532 0130 00",
            "De89370400440532013000",
            "SKU AB12 3456",
        ] {
            assert!(
                found(text).iter().all(|&(_, kind)| kind != Kind::Iban),
                "{text}"
            );
        }
    }

    #[test]
    fn luhn_agrees_with_known_numbers() {
        let digits = |s: &str| s.bytes().map(|b| b - b'0').collect::<Vec<u8>>();
        assert!(luhn(digits("79927398713").into_iter()));
        assert!(!luhn(digits("79927398710").into_iter()));
    }
}
