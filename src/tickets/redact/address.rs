//! Street addresses, where their shape gives them away:
//!
//! - English: a house number, one to three capitalised words and a street word
//!   (`221B Baker Street`, `1600 Pennsylvania Avenue NW`, `10 Downing St.`), then maybe a
//!   unit (`Apt 4`, `Suite 200`, `#5`) and maybe `, City, ST 12345` or a UK postcode
//!   (`, London SW1A 2AA`);
//! - German: a street ending in -straße, -strasse, -str., -weg, -platz, -allee or -gasse,
//!   one word or two (`Hauptstraße 5`, `Musterweg 12a`, `Berliner Straße 12`), its number,
//!   then maybe the postcode and town (`, 10115 Berlin`);
//!   After an English street, the postcode may also be a bare ZIP (`, San Francisco 94105`,
//!   `94105-1234`) or a Canadian one (`, Toronto M5E 1W7`);
//! - a US state and ZIP code (`CA 94043`), with the city before it when there is one;
//! - a UK postcode (`SW1A 2AA`) or a Canadian one (`K1A 0B1`, with its space) on its own;
//! - a postcode after a word that names it: `zip`, `zip code`, `zipcode`, `postal code`,
//!   `postcode`, `post code` or `PLZ`, in any case, then maybe `:`, `#` or `is` (`my zip is
//!   94105`, `postal code: 2000`): four or five digits, a ZIP+4, a UK or a Canadian postcode.
//!   Only the postcode is taken, not the word.
//!
//! The rule for bare digits: five digits are a postcode only where the text says so — after
//! a state, a street or a postcode word — never alone or after a capitalised word
//! (`San Francisco 94105` is left), since that is also how order and ticket numbers read
//! (`Order 94105`, `ticket 94105-1234`).
//!
//! Limits: a street is only found with its house number and with its name capitalised
//! (`221b baker street` is not); street words are English and German only (`Rue de
//! Rivoli`, `Calle Mayor` are not found); a city after a UK street is kept unless a
//! postcode follows; a ZIP after a city alone is kept; and some product codes look like
//! postcodes (`M2 1TB` is redacted).

use regex::Regex;

use super::{Kind, Taken, is_word_or_placeholder};

const US_STATES: &str = "AL|AK|AZ|AR|CA|CO|CT|DE|DC|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE|NV|NH|NJ|NM|NY|NC|ND|OH|OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY|PR|GU|VI|AS|MP";

/// A UK postcode: outward code, optional space, inward code (a digit and two letters,
/// never C, I, K, M, O or V).
const UK_POSTCODE: &str = r"[A-Z]{1,2}[0-9][A-Z0-9]?\x20?[0-9][ABD-HJLNP-UW-Z]{2}";

/// A Canadian postal code: letter, digit, letter, space, digit, letter, digit (never D, F,
/// I, O, Q or U; never W or Z first). The space is required on its own: without it the
/// shape is a common product code.
const CA_POSTCODE: &str =
    r"[ABCEGHJ-NPRSTVXY][0-9][ABCEGHJ-NPRSTV-Z]\x20[0-9][ABCEGHJ-NPRSTV-Z][0-9]";

/// A US ZIP code or ZIP+4.
const ZIP: &str = r"[0-9]{5}(?:-[0-9]{4})?";

#[derive(Debug)]
pub(super) struct AddressPattern {
    address: Regex,
    /// A postcode after a word that names it; the postcode is group 1.
    named_postcode: Regex,
}

impl AddressPattern {
    pub(super) fn new() -> AddressPattern {
        // Spaces are `\x20`, never `\s`, so an address never runs across lines; word
        // boundaries are ASCII (`(?-u:\b)`), since Unicode ones would slow every text with
        // a letter outside ASCII to the regex crate's slowest engine.
        let word = r"\p{Lu}[\p{L}'’-]*";
        let state_zip = format!(r"(?:{US_STATES})\x20[0-9]{{5}}(?:-[0-9]{{4}})?(?-u:\b)");
        let english = format!(
            r"(?x)
            (?-u:\b)[0-9]{{1,5}}[A-Za-z]?(?:-[0-9]{{1,5}})?\x20
            (?:{word}\x20){{1,3}}
            (?: (?i-u:street|avenue|road|boulevard|lane|drive|court|place|square|terrace
                     |parkway|highway|crescent|close|way|gardens|mews|row|grove|loop|circle|trail)
                (?-u:\b)
              | (?:St|Ave|Rd|Blvd|Ln|Dr|Ct|Pl|Sq|Ter|Pkwy|Hwy|Cres|Cir)(?-u:\b)\.? )
            (?:\x20(?:NW|NE|SW|SE|N|S|E|W)(?-u:\b)\.?)?
            (?: ,?\x20(?:(?:Apt|Apartment|Suite|Ste|Unit|Flat|Floor|Fl|Room|Rm)\.?\x20?\#?|\#)
                [A-Za-z]?[0-9]{{1,5}}[A-Za-z]?(?-u:\b) )?
            (?: (?:,\x20?{word}(?:\x20{word}){{0,2}})? ,?\x20
                (?:{state_zip}|(?:{UK_POSTCODE}|{CA_POSTCODE}|{ZIP})(?-u:\b)) )?"
        );
        let german = format!(
            r"(?x)
            (?: {word}(?:[Ss]traße|[Ss]trasse|[Ss]tr\.|[Ww]eg|[Pp]latz|[Aa]llee|[Gg]asse)
              | {word}\x20(?:Straße|Strasse|Str\.|Weg|Platz|Allee|Gasse) )
            \x20?[0-9]{{1,4}}[a-zA-Z]?(?-u:\b)
            (?:,?\x20[0-9]{{4,5}}\x20{word}(?:\x20{word})?)?"
        );
        let city_state_zip = format!(r"(?:{word}(?:\x20{word}){{0,2}},\x20?)?{state_zip}");
        let postcode = format!(r"(?-u:\b)(?:{UK_POSTCODE}|{CA_POSTCODE})(?-u:\b)");
        let address = Regex::new(&format!(
            "{english}|{german}|(?-u:\\b){city_state_zip}|{postcode}"
        ))
        .expect("the address pattern compiles");
        let named_postcode = Regex::new(&format!(
            r"(?x)
            (?i-u:\b(?:zip(?:\x20?code)?|postal\x20code|post\x20?code|plz))
            (?:\x20?[:\#]|\x20(?i-u:is))?\x20?
            ( {ZIP} | [0-9]{{4}}
            | (?i-u:{UK_POSTCODE}) | (?i-u:[A-Z][0-9][A-Z]\x20?[0-9][A-Z][0-9]) )(?-u:\b)"
        ))
        .expect("the postcode pattern compiles");
        AddressPattern {
            address,
            named_postcode,
        }
    }

    /// Takes every address of `text` that no earlier pass took any of.
    pub(super) fn find(&self, text: &str, taken: &mut Taken) {
        let mut from = 0;
        while let Some(address) = self.address.find_at(text, from) {
            let start = address.start();
            match self.longest_free(text, start, address.end(), taken) {
                Some(end) => {
                    taken.take(start, end, Kind::Address);
                    from = end;
                }
                // Another address may start inside this one (`89 Street, SW1A 2AA` where
                // `89` ends a phone number).
                None => from = start + text[start..].chars().next().map_or(1, char::len_utf8),
            }
        }
        for named in self.named_postcode.captures_iter(text) {
            let postcode = named.get(1).expect("the pattern has a group 1");
            let (start, end) = (postcode.start(), postcode.end());
            if !is_glued(text, start, end) {
                taken.take(start, end, Kind::Address);
            }
        }
    }

    /// Where the longest address starting at `start` and ending by `end` ends, if it is
    /// not glued to a word and runs into nothing an earlier pass took: `Hauptstraße 5`
    /// of `Hauptstraße 5, 0170 SW1A`, `10 Downing St.` of `10 Downing St. Suite 200
    /// 555-2671` where the phone took the unit number; as it would be found in the
    /// redacted text.
    fn longest_free(&self, text: &str, start: usize, end: usize, taken: &Taken) -> Option<usize> {
        let free_until = taken.free_until(start)?;
        if end <= free_until && !is_glued(text, start, end) {
            return Some(end);
        }
        let mut limit = end.min(free_until);
        loop {
            let shorter = self
                .address
                .find_at(&text[..limit], start)
                .filter(|shorter| shorter.start() == start)?;
            if !is_glued(text, start, shorter.end()) {
                return Some(shorter.end());
            }
            limit = text[..shorter.end()].char_indices().next_back()?.0;
            if limit <= start {
                return None;
            }
        }
    }
}

/// Whether the match `start..end` is part of a longer word: the ASCII word boundaries of
/// the pattern do not see a letter outside ASCII next to it (`xHauptstraße 5`, `CA
/// 94043é`), or it goes on with `-` or `/` (`CA 94043-X`). A placeholder's bracket stands
/// for the word it replaced.
fn is_glued(text: &str, start: usize, end: usize) -> bool {
    let mut after = text[end..].chars();
    text[..start]
        .chars()
        .next_back()
        .is_some_and(is_word_or_placeholder)
        || match after.next() {
            Some('-' | '/') => after.next().is_some_and(is_word_or_placeholder),
            next => next.is_some_and(is_word_or_placeholder),
        }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addresses(text: &str) -> Vec<&str> {
        let mut taken = Taken::default();
        AddressPattern::new().find(text, &mut taken);
        taken.iter().map(|f| &text[f.start..f.end]).collect()
    }

    #[test]
    fn english_addresses_with_units_cities_and_postcodes_are_found() {
        for address in [
            "221B Baker Street",
            "1600 Pennsylvania Avenue NW",
            "10 Downing St.",
            "1600 Amphitheatre Parkway, Mountain View, CA 94043",
            "350 Fifth Avenue, Suite 200, New York, NY 10118-0110",
            "12 Main St Apt 4",
            "10 Downing Street, London SW1A 2AA",
            "1600 Pennsylvania Avenue NW, Washington, DC 20500",
            "42 Martin Luther King Boulevard",
        ] {
            let text = format!("I live at {address} since May");
            assert_eq!(addresses(&text), [address], "{text}");
        }
    }

    #[test]
    fn german_addresses_are_found() {
        for address in [
            "Hauptstraße 5",
            "Musterweg 12a",
            "Karl-Marx-Allee 34",
            "Berliner Straße 12",
            "Hauptstr. 7",
            "Lindenstrasse 3, 10115 Berlin",
            "Müllerstraße 1",
        ] {
            let text = format!("Adresse: {address}, bitte");
            assert_eq!(addresses(&text), [address], "{text}");
        }
        // One word before the street's own is not taken: "Am" could be any word.
        assert_eq!(addresses("Am Marktplatz 3"), ["Marktplatz 3"]);
    }

    #[test]
    fn states_with_zip_codes_and_uk_postcodes_are_found_alone() {
        assert_eq!(
            addresses("ship to Springfield, IL 62704 please"),
            ["Springfield, IL 62704"]
        );
        assert_eq!(addresses("zip CA 94043"), ["CA 94043"]);
        assert_eq!(
            addresses("postcode SW1A 2AA and EC1A 1BB"),
            ["SW1A 2AA", "EC1A 1BB"]
        );
    }

    #[test]
    fn postcodes_after_a_word_that_names_them_are_found_the_word_kept() {
        for (text, postcode) in [
            ("my zip is 94105, thanks", "94105"),
            ("ZIP: 94105-1234", "94105-1234"),
            ("Zip code 94105 and order 94106", "94105"),
            ("zipcode#02134", "02134"),
            ("postal code is 2000", "2000"),
            ("Postcode: 3000 (Melbourne)", "3000"),
            ("PLZ 10115", "10115"),
            ("postal code k1a0b1", "k1a0b1"),
        ] {
            assert_eq!(addresses(text), [postcode], "{text}");
        }
        // The order number next to it is not a postcode.
        assert_eq!(addresses("order 12345 and zip 94043"), ["94043"]);
    }

    #[test]
    fn a_zip_code_after_a_street_is_part_of_the_address() {
        for address in [
            "500 Howard Street, San Francisco 94105",
            "500 Howard St 94105-1234",
            "1 Yonge Street, Toronto M5E 1W7",
        ] {
            let text = format!("ship to {address} today");
            assert_eq!(addresses(&text), [address], "{text}");
        }
    }

    #[test]
    fn canadian_postal_codes_are_found_alone() {
        assert_eq!(
            addresses("Ottawa, ON K1A 0B1 and M5V 3L9"),
            ["K1A 0B1", "M5V 3L9"]
        );
    }

    #[test]
    fn numbers_and_words_that_only_look_like_addresses_are_left() {
        for text in [
            "I bought 3 items for the street party",
            "order 12345 and ticket 94043-1234",
            "Order 94105 shipped",
            // A city and five digits with nothing saying it is an address: taken for an
            // order, not a postcode.
            "San Francisco 94105",
            "gzip 12345 and unzip 94105 and zip 941051",
            "postal code: none, ref 94105",
            "part K1A0B1 and D1A 0B1",
            "seat 12 Platz 3",
            "the Spring 2024 release",
            "version 2 Way forward",
            "call me at 5 pm",
            "ZZ 12345 and ab 12345",
            "a 5 star road trip",
            "xHauptstraße 5",
        ] {
            assert_eq!(addresses(text), Vec::<&str>::new(), "{text}");
        }
    }
}
