//! What a message's text becomes for the comparison: the set of word shingles MinHash
//! summarises, and the short excerpt a report shows.
//!
//! Why words and not character n-grams: production chat messages are short (5–40 words),
//! and what tells two of them apart is which content words they use and in what pairs.
//! Character n-grams match across unrelated words that share letters ("order"/"border"),
//! and give five times as many shingles per message to hash. Words, after lowercasing and
//! stripping punctuation, with the stop words dropped (in a ten-word message "I", "my",
//! "the", "to" are half the words, and any two messages would look 20–30 % alike through
//! them alone), plus the pairs of adjacent remaining words: the single words let a reordered
//! message still match, the pairs tell "track order" from "cancel order" (1/5 alike instead
//! of 1/3). Any word with a digit in it becomes one `#` token, because order numbers,
//! amounts and dates differ on every message and say nothing about what it asks.
//!
//! Limits, by design: the stop words are English (other languages keep theirs, which makes
//! them look a little more alike, not less), and scripts written without spaces shingle as
//! whole runs of characters.

/// A shingle (a word, or a pair of adjacent words), hashed to 32 bits: half the memory of
/// a 64-bit hash, which counts because the set of every candidate case is read from
/// memory to measure it. Two different shingles of two compared texts share a hash about
/// once in six million comparisons.
pub(crate) type Shingle = u32;

/// How many characters of an input a report shows.
pub(crate) const EXCERPT_CHARS: usize = 200;

/// Turns messages into shingle hashes, reusing its buffers from one message to the next.
#[derive(Debug, Default)]
pub(crate) struct Shingler {
    word: String,
    /// Every word of the message in order, hashed, with whether it is a stop word.
    words: Vec<(u64, bool)>,
}

impl Shingler {
    /// Replaces `shingles` with the shingle hashes of `text` (possibly repeated; MinHash
    /// does not care). Empty when the text has no word at all.
    pub(crate) fn shingles(&mut self, text: &str, shingles: &mut Vec<Shingle>) {
        shingles.clear();
        self.words.clear();
        self.word.clear();
        let mut has_digit = false;
        for c in text.chars() {
            if c.is_alphanumeric() {
                has_digit |= c.is_numeric();
                if c.is_ascii() {
                    self.word.push(c.to_ascii_lowercase());
                } else {
                    self.word.extend(c.to_lowercase());
                }
            } else if !self.word.is_empty() {
                self.end_word(has_digit);
                has_digit = false;
            }
        }
        if !self.word.is_empty() {
            self.end_word(has_digit);
        }
        // A message made only of stop words ("is it?") keeps them: it still has a shape
        // to compare, and it must not look like an empty one.
        let only_stop_words = self.words.iter().all(|&(_, stop)| stop);
        let mut previous: Option<u64> = None;
        for &(word, stop) in &self.words {
            if stop && !only_stop_words {
                continue;
            }
            shingles.push(fold(word));
            if let Some(before) = previous {
                shingles.push(fold(word_pair(before, word)));
            }
            previous = Some(word);
        }
    }

    fn end_word(&mut self, has_digit: bool) {
        let (hash, stop) = if has_digit {
            (NUMBER_WORD, false)
        } else {
            (hash_bytes(self.word.as_bytes()), is_stop_word(&self.word))
        };
        self.words.push((hash, stop));
        self.word.clear();
    }
}

/// The text as a report shows it: whitespace runs (newlines included) made one space, cut
/// to [`EXCERPT_CHARS`] characters with `…` when longer.
pub(crate) fn excerpt(text: &str) -> String {
    let mut shown = String::with_capacity(text.len().min(EXCERPT_CHARS + 4));
    let mut chars = 0;
    for word in text.split_whitespace() {
        if chars > 0 {
            if chars == EXCERPT_CHARS {
                shown.push('…');
                return shown;
            }
            shown.push(' ');
            chars += 1;
        }
        for c in word.chars() {
            if chars == EXCERPT_CHARS {
                shown.push('…');
                return shown;
            }
            shown.push(c);
            chars += 1;
        }
    }
    shown
}

/// The one token every word containing a digit becomes.
const NUMBER_WORD: u64 = 0x6e75_6d62_6572_2323;

/// A pair of adjacent words, hashed apart from any single word.
fn word_pair(first: u64, second: u64) -> u64 {
    mix(first.rotate_left(23) ^ second ^ 0x7061_6972_7061_6972)
}

/// The 64 bits of a hash folded into a [`Shingle`].
fn fold(hash: u64) -> Shingle {
    (hash ^ (hash >> 32)) as Shingle
}

/// FNV-1a, then a finaliser: fixed, so shingles (and every result) are the same on every
/// run and machine, which the std `RandomState` would not give.
pub(crate) fn hash_bytes(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    mix(hash)
}

/// The splitmix64 finaliser: spreads every input bit over the whole word.
pub(crate) fn mix(mut x: u64) -> u64 {
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// Function words, pronouns, auxiliaries, greetings and the pieces contractions split into
/// ("don't" → "don" "t"): frequent in every message, telling none apart. Negations and
/// question words are kept: "not arrived" and "why" say what the user wants.
fn is_stop_word(word: &str) -> bool {
    matches!(
        word,
        "a" | "about"
            | "after"
            | "again"
            | "all"
            | "also"
            | "am"
            | "an"
            | "and"
            | "any"
            | "are"
            | "as"
            | "at"
            | "be"
            | "been"
            | "being"
            | "but"
            | "by"
            | "can"
            | "could"
            | "d"
            | "did"
            | "do"
            | "does"
            | "for"
            | "from"
            | "get"
            | "got"
            | "had"
            | "has"
            | "have"
            | "he"
            | "hello"
            | "her"
            | "hey"
            | "hi"
            | "him"
            | "his"
            | "i"
            | "if"
            | "im"
            | "in"
            | "into"
            | "is"
            | "it"
            | "its"
            | "just"
            | "ll"
            | "m"
            | "me"
            | "my"
            | "of"
            | "ok"
            | "okay"
            | "on"
            | "or"
            | "our"
            | "please"
            | "pls"
            | "re"
            | "s"
            | "she"
            | "should"
            | "so"
            | "some"
            | "t"
            | "than"
            | "thank"
            | "thanks"
            | "that"
            | "the"
            | "their"
            | "them"
            | "then"
            | "there"
            | "these"
            | "they"
            | "this"
            | "those"
            | "thx"
            | "to"
            | "too"
            | "up"
            | "us"
            | "ve"
            | "very"
            | "was"
            | "we"
            | "were"
            | "will"
            | "with"
            | "would"
            | "you"
            | "your"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shingles_of(text: &str) -> Vec<Shingle> {
        let mut shingles = Vec::new();
        Shingler::default().shingles(text, &mut shingles);
        shingles.sort_unstable();
        shingles
    }

    #[test]
    fn case_punctuation_stop_words_and_numbers_do_not_change_the_shingles() {
        assert_eq!(
            shingles_of("Where is my order #12345?!"),
            shingles_of("where   order 9")
        );
        // "where", "order", "#", and the pairs "where order", "order #".
        assert_eq!(shingles_of("where order 9").len(), 5);
    }

    #[test]
    fn word_pairs_tell_apart_messages_with_the_same_words() {
        assert_ne!(
            shingles_of("cancel order, track parcel"),
            shingles_of("cancel parcel, track order")
        );
    }

    #[test]
    fn a_message_of_stop_words_only_keeps_them_and_no_words_gives_nothing() {
        assert_eq!(shingles_of("Is it?").len(), 3);
        assert!(shingles_of("?! …").is_empty());
        assert!(shingles_of("").is_empty());
    }

    #[test]
    fn letters_outside_ascii_are_lowercased_and_kept() {
        assert_eq!(
            shingles_of("RÜCKERSTATTUNG Größe"),
            shingles_of("rückerstattung größe")
        );
        assert_eq!(shingles_of("RÜCKERSTATTUNG Größe").len(), 3);
    }

    #[test]
    fn excerpts_collapse_whitespace_and_cut_long_texts() {
        assert_eq!(excerpt("  two\n\nlines\tand  tabs "), "two lines and tabs");
        let long = "word ".repeat(100);
        let shown = excerpt(&long);
        assert_eq!(shown.chars().count(), EXCERPT_CHARS + 1);
        assert!(shown.ends_with('…'));
        assert_eq!(
            excerpt(&"é".repeat(EXCERPT_CHARS)),
            "é".repeat(EXCERPT_CHARS)
        );
    }
}
