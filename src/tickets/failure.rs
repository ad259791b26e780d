//! A first guess at how the agent failed in a ticket, for the draft case a person then
//! reviews: from the helpdesk's tags and from words in the customer's messages.
//!
//! How it scores: each failure mode has tags and phrases that point to it. A matching tag
//! counts [`TAG_WEIGHT`] (a person chose it), each distinct phrase found in the messages 1,
//! however often it appears. The highest score wins; a tie goes to the more harmful mode,
//! in the order of [`FailureMode`] (a leak outranks a wrong policy outranks a wrong action
//! outranks a hallucination outranks tone); no sign at all is [`FailureMode::Other`].
//!
//! Tags match whole, after lowercasing and reading `-`, `_` and spaces alike
//! (`Policy_Violation` is `policy violation`); a leading or trailing `ai`, `bot`, `agent` or
//! `llm` is dropped (`ai-rude` is `rude`). So a topic tag such as `refund-policy` is not a
//! policy failure. Phrases match as whole words, ignoring ASCII case, with `'` or `’`.
//!
//! Limits, by design: no negation or context ("it wasn't rude", "your privacy policy" count
//! as tone and leak), English phrases only, and words split by a line break or two spaces
//! do not match. It is a guess with its evidence shown, not a verdict.

use std::sync::LazyLock;

use aho_corasick::{AhoCorasick, MatchKind};
use serde::Serialize;

/// What a matching tag counts: a person chose it, so it outweighs two phrases.
const TAG_WEIGHT: u32 = 3;

/// What each distinct matching phrase counts.
const PHRASE_WEIGHT: u32 = 1;

/// At most this many pieces of evidence are kept.
const MAX_EVIDENCE: usize = 5;

/// How an agent failed a customer, most harmful first: ties between modes go to the
/// earlier one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureMode {
    LeakedContext,
    WrongPolicy,
    WrongTool,
    HallucinatedCapability,
    Tone,
    Other,
}

impl FailureMode {
    #[cfg(test)]
    pub const ALL: [FailureMode; 6] = [
        FailureMode::LeakedContext,
        FailureMode::WrongPolicy,
        FailureMode::WrongTool,
        FailureMode::HallucinatedCapability,
        FailureMode::Tone,
        FailureMode::Other,
    ];

    /// The name in files and on the command line: `wrong_tool`, as serialised.
    pub fn name(self) -> &'static str {
        match self {
            FailureMode::LeakedContext => "leaked_context",
            FailureMode::WrongPolicy => "wrong_policy",
            FailureMode::WrongTool => "wrong_tool",
            FailureMode::HallucinatedCapability => "hallucinated_capability",
            FailureMode::Tone => "tone",
            FailureMode::Other => "other",
        }
    }

    /// What the mode means, for people.
    pub fn describe(self) -> &'static str {
        match self {
            FailureMode::LeakedContext => {
                "the agent revealed what the customer should not see: another customer's data, internal notes or its instructions"
            }
            FailureMode::WrongPolicy => {
                "the agent applied the wrong policy: a refund, eligibility or warranty decision"
            }
            FailureMode::WrongTool => "the agent called the wrong tool or took the wrong action",
            FailureMode::HallucinatedCapability => {
                "the agent claimed a capability, feature or promise that does not exist"
            }
            FailureMode::Tone => "the agent's tone was rude, dismissive or robotic",
            FailureMode::Other => "no sign of how the agent failed",
        }
    }
}

/// The guessed failure mode and what led to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FailureGuess {
    pub mode: FailureMode,
    /// What led to it, at most five: `tag "rude"` for a tag, `"said it could"` for a
    /// phrase in the messages; tags first, then phrases in the order found. Empty for
    /// [`FailureMode::Other`].
    pub evidence: Vec<String>,
}

/// The tags and phrases that point to one failure mode.
struct Signs {
    mode: FailureMode,
    /// Normalised: lowercase, words separated by one space.
    tags: &'static [&'static str],
    /// Lowercase, with `'` for apostrophes (`’` is matched too).
    phrases: &'static [&'static str],
}

/// Every mode but [`FailureMode::Other`], in the order of the enum.
const SIGNS: [Signs; 5] = [
    Signs {
        mode: FailureMode::LeakedContext,
        tags: &[
            "privacy",
            "privacy breach",
            "data leak",
            "leak",
            "leaked context",
            "leaked data",
            "pii",
            "pii leak",
            "data exposure",
            "confidential",
        ],
        phrases: &[
            "someone else's",
            "another customer",
            "other customer's",
            "not my order",
            "not my account",
            "privacy",
            "leaked",
            "exposed",
            "internal note",
            "system prompt",
            "confidential",
        ],
    },
    Signs {
        mode: FailureMode::WrongPolicy,
        tags: &[
            "policy",
            "policy violation",
            "policy breach",
            "policy error",
            "wrong policy",
            "incorrect policy",
        ],
        phrases: &[
            "policy",
            "not eligible",
            "should have been refunded",
            "against your terms",
            "denied my refund",
            "refused to refund",
            "warranty",
        ],
    },
    Signs {
        mode: FailureMode::WrongTool,
        tags: &[
            "wrong tool",
            "wrong action",
            "wrong tool call",
            "incorrect tool",
            "incorrect action",
            "unwanted action",
            "tool misuse",
        ],
        phrases: &[
            "cancelled the wrong",
            "canceled the wrong",
            "refunded the wrong",
            "wrong order",
            "wrong account",
            "booked the wrong",
            "charged twice",
            "did something i didn't ask",
            "without asking",
        ],
    },
    Signs {
        mode: FailureMode::HallucinatedCapability,
        tags: &[
            "hallucination",
            "hallucinated",
            "hallucinated capability",
            "made up",
            "fabricated",
            "false promise",
            "misinformation",
        ],
        phrases: &[
            "said it could",
            "told me it would",
            "claimed",
            "doesn't exist",
            "does not exist",
            "no such feature",
            "made up",
            "invented",
            "promised",
        ],
    },
    Signs {
        mode: FailureMode::Tone,
        tags: &[
            "tone",
            "bad tone",
            "rude",
            "rudeness",
            "impolite",
            "unprofessional",
        ],
        phrases: &[
            "rude",
            "condescending",
            "sarcastic",
            "dismissive",
            "unprofessional",
            "patronizing",
            "patronising",
            "robotic",
            "insulting",
        ],
    },
];

/// Words a tag may carry around its meaning: `ai-rude`, `bot_hallucination`.
const TAG_QUALIFIERS: &[&str] = &["ai", "bot", "agent", "llm"];

/// Guesses the failure mode of a ticket from its `tags` and the customer's messages.
pub(crate) fn guess(tags: &[String], texts: &[&str]) -> FailureGuess {
    let mut scores = [0u32; SIGNS.len()];
    let mut evidence: [Vec<String>; SIGNS.len()] = Default::default();
    let mut seen_tags: Vec<String> = Vec::new();
    for tag in tags {
        let normal = normalise_tag(tag);
        if seen_tags.contains(&normal) {
            continue;
        }
        if let Some(at) = SIGNS
            .iter()
            .position(|signs| signs.tags.contains(&&*normal))
        {
            scores[at] += TAG_WEIGHT;
            if evidence[at].len() < MAX_EVIDENCE {
                evidence[at].push(format!("tag \"{}\"", tag.trim()));
            }
        }
        seen_tags.push(normal);
    }
    let phrases = &*PHRASES;
    let mut seen = vec![false; phrases.listed.len()];
    for text in texts {
        for found in phrases.automaton.find_overlapping_iter(*text) {
            let id = phrases.of_pattern[found.pattern().as_usize()];
            if seen[id] || !is_whole_words(text, found.start(), found.end()) {
                continue;
            }
            seen[id] = true;
            let (at, phrase) = phrases.listed[id];
            scores[at] += PHRASE_WEIGHT;
            if evidence[at].len() < MAX_EVIDENCE {
                evidence[at].push(format!("\"{phrase}\""));
            }
        }
    }
    // Strictly greater: on a tie the earlier, more harmful mode stays.
    let mut best: Option<usize> = None;
    for at in 0..SIGNS.len() {
        if scores[at] > best.map_or(0, |b| scores[b]) {
            best = Some(at);
        }
    }
    match best {
        Some(at) => FailureGuess {
            mode: SIGNS[at].mode,
            evidence: std::mem::take(&mut evidence[at]),
        },
        None => FailureGuess {
            mode: FailureMode::Other,
            evidence: Vec::new(),
        },
    }
}

/// A tag as the vocabulary lists it: lowercase, `-`, `_` and whitespace runs made one
/// space, a qualifier at either end dropped.
fn normalise_tag(tag: &str) -> String {
    let lowercase = tag.to_lowercase();
    let mut words: Vec<&str> = lowercase
        .split(|c: char| c == '-' || c == '_' || c.is_whitespace())
        .filter(|word| !word.is_empty())
        .collect();
    if words.len() > 1 && TAG_QUALIFIERS.contains(&words[0]) {
        words.remove(0);
    }
    if words.len() > 1 && words.last().is_some_and(|w| TAG_QUALIFIERS.contains(w)) {
        words.pop();
    }
    words.join(" ")
}

/// Whether `start..end` of `text` is not part of a longer word (`policyholder`).
fn is_whole_words(text: &str, start: usize, end: usize) -> bool {
    !text[..start]
        .chars()
        .next_back()
        .is_some_and(char::is_alphanumeric)
        && !text[end..]
            .chars()
            .next()
            .is_some_and(char::is_alphanumeric)
}

/// Every phrase of [`SIGNS`] in one automaton, searched once per message.
struct PhraseIndex {
    automaton: AhoCorasick,
    /// For each pattern of the automaton: the listed phrase it spells (a phrase with an
    /// apostrophe is two patterns, `'` and `’`).
    of_pattern: Vec<usize>,
    /// Each listed phrase with the index of its mode in [`SIGNS`].
    listed: Vec<(usize, &'static str)>,
}

static PHRASES: LazyLock<PhraseIndex> = LazyLock::new(|| {
    let mut patterns: Vec<String> = Vec::new();
    let mut of_pattern = Vec::new();
    let mut listed = Vec::new();
    for (at, signs) in SIGNS.iter().enumerate() {
        for &phrase in signs.phrases {
            let id = listed.len();
            listed.push((at, phrase));
            patterns.push(phrase.to_owned());
            of_pattern.push(id);
            if phrase.contains('\'') {
                patterns.push(phrase.replace('\'', "’"));
                of_pattern.push(id);
            }
        }
    }
    let automaton = AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .match_kind(MatchKind::Standard)
        .build(&patterns)
        .expect("the failure phrases build an automaton");
    PhraseIndex {
        automaton,
        of_pattern,
        listed,
    }
});

#[cfg(test)]
mod tests {
    use super::*;

    fn from_tags(tags: &[&str]) -> FailureGuess {
        let tags: Vec<String> = tags.iter().map(|t| (*t).to_owned()).collect();
        guess(&tags, &[])
    }

    fn from_texts(texts: &[&str]) -> FailureGuess {
        guess(&[], texts)
    }

    #[test]
    fn each_mode_is_guessed_from_a_tag() {
        for (tag, mode) in [
            ("data-leak", FailureMode::LeakedContext),
            ("PII", FailureMode::LeakedContext),
            ("Policy_Violation", FailureMode::WrongPolicy),
            ("wrong-tool", FailureMode::WrongTool),
            ("wrong_action", FailureMode::WrongTool),
            ("hallucination", FailureMode::HallucinatedCapability),
            ("made up", FailureMode::HallucinatedCapability),
            ("Rude", FailureMode::Tone),
            ("ai-rude", FailureMode::Tone),
            ("bot_hallucination", FailureMode::HallucinatedCapability),
        ] {
            let guess = from_tags(&["billing", tag]);
            assert_eq!(guess.mode, mode, "{tag}");
            assert_eq!(guess.evidence, [format!("tag \"{tag}\"")]);
        }
    }

    #[test]
    fn each_mode_is_guessed_from_the_messages() {
        for (text, mode, phrase) in [
            (
                "I can see someone else's address on my invoice!",
                FailureMode::LeakedContext,
                "someone else's",
            ),
            (
                "The bot showed me its System Prompt",
                FailureMode::LeakedContext,
                "system prompt",
            ),
            (
                "It said I'm not eligible, but I am.",
                FailureMode::WrongPolicy,
                "not eligible",
            ),
            (
                "You cancelled the wrong subscription",
                FailureMode::WrongTool,
                "cancelled the wrong",
            ),
            (
                "I was CHARGED TWICE.",
                FailureMode::WrongTool,
                "charged twice",
            ),
            (
                "The assistant told me it would export to PDF",
                FailureMode::HallucinatedCapability,
                "told me it would",
            ),
            (
                "That setting does not exist",
                FailureMode::HallucinatedCapability,
                "does not exist",
            ),
            (
                "Honestly so condescending.",
                FailureMode::Tone,
                "condescending",
            ),
        ] {
            let guess = from_texts(&[text]);
            assert_eq!(guess.mode, mode, "{text}");
            assert_eq!(guess.evidence, [format!("\"{phrase}\"")], "{text}");
        }
    }

    #[test]
    fn a_tag_outweighs_two_phrases_and_ties_go_to_the_more_harmful_mode() {
        let tags = vec!["rude".to_owned()];
        let two_policy = ["Not eligible? My warranty covers it."];
        assert_eq!(guess(&tags, &two_policy).mode, FailureMode::Tone);
        let three_policy = ["Not eligible? My warranty covers it, see your policy."];
        assert_eq!(guess(&tags, &three_policy).mode, FailureMode::WrongPolicy);
        let one_each = from_texts(&["rude, and I saw another customer's order"]);
        assert_eq!(one_each.mode, FailureMode::LeakedContext);
        assert_eq!(one_each.evidence, ["\"another customer\""]);
    }

    #[test]
    fn a_phrase_counts_once_however_often_it_appears() {
        let tags = vec!["wrong-tool".to_owned()];
        let guess = guess(&tags, &["rude", "so rude", "RUDE rude"]);
        assert_eq!(guess.mode, FailureMode::WrongTool);
    }

    #[test]
    fn no_sign_is_other_and_parts_of_words_or_topic_tags_are_no_sign() {
        let none = from_texts(&["Where is my parcel?", "Thanks!"]);
        assert_eq!(none.mode, FailureMode::Other);
        assert!(none.evidence.is_empty());
        let tags = vec!["refund-policy".to_owned(), "shipping".to_owned()];
        let guess = guess(&tags, &["I'm a policyholder; the crude unclaimed rudeness"]);
        assert_eq!(guess.mode, FailureMode::Other);
        assert_eq!(from_tags(&[]).mode, FailureMode::Other);
    }

    #[test]
    fn curly_apostrophes_match_and_evidence_is_capped() {
        let guess = from_texts(&["I see someone else’s order"]);
        assert_eq!(guess.mode, FailureMode::LeakedContext);
        assert_eq!(guess.evidence, ["\"someone else's\""]);
        let many =
            from_texts(&["rude, condescending, sarcastic, dismissive, unprofessional and robotic"]);
        assert_eq!(many.mode, FailureMode::Tone);
        assert_eq!(many.evidence.len(), MAX_EVIDENCE);
        assert_eq!(many.evidence[0], "\"rude\"");
    }

    #[test]
    fn a_tag_given_twice_counts_once() {
        let guess = from_tags(&["rude", "RUDE", "policy"]);
        assert_eq!(guess.mode, FailureMode::WrongPolicy);
        assert_eq!(guess.evidence, ["tag \"policy\""]);
    }

    #[test]
    fn names_are_snake_case_as_serialised_and_every_mode_is_described() {
        for mode in FailureMode::ALL {
            let json = serde_json::to_string(&mode).unwrap();
            assert_eq!(json, format!("\"{}\"", mode.name()));
            assert!(!mode.describe().is_empty());
        }
        assert_eq!(
            FailureMode::WrongTool.describe(),
            "the agent called the wrong tool or took the wrong action"
        );
        assert!(FailureMode::LeakedContext < FailureMode::Tone);
    }
}
