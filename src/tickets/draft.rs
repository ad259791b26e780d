//! A ticket as a draft case: which turns become the input, and the YAML written.
//!
//! Which turns: a support ticket about an AI feature is one of two stories. Either an
//! automated answer (the AI agent, a bot) failed in the conversation and the customer
//! came back about it — then the failure is that answer, and the input is everything
//! before it, the earlier answers kept as `assistant` context, so the agent under test is
//! asked to give the answer that failed; the failed answer is quoted in a comment for the
//! reviewer. Or the conversation is between the customer and human support only — then
//! the customer's opening messages say what went wrong, and the input is those (with any
//! message support sent first as context); the human replies after them are not input.
//!
//! The YAML is written by hand, every string as a JSON-escaped double-quoted scalar (a
//! JSON string is a YAML 1.2 double-quoted scalar; the characters YAML does not allow in
//! a stream are escaped too), and the result is parsed back by the case loader before
//! anything is written, so a draft is always a valid case.

use std::fmt::Write as _;

use super::failure::{FailureGuess, FailureMode};
use super::model::{Satisfaction, Speaker, Turn};
use super::redact::RedactionCounts;
use evalgate::observation::{Message, Role};

/// The turns of a ticket chosen as a case's input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DraftInput<'t> {
    /// In order; at least one from the customer.
    pub turns: Vec<&'t Turn>,
    /// The automated answer the customer came back about, when there is one.
    pub failed_reply: Option<&'t Turn>,
    /// Turns of the conversation neither in the input nor the failed reply.
    pub left_out: usize,
}

/// The input of a draft made from `turns`, or None when no customer turn can be one.
pub(crate) fn input_of(turns: &[Turn]) -> Option<DraftInput<'_>> {
    let is_customer = |turn: &Turn| turn.speaker == Speaker::Customer;
    // The last automated answer that a customer turn follows, with a customer turn before it.
    let failed = (0..turns.len()).rev().find(|&at| {
        turns[at].speaker == Speaker::Bot
            && turns[at + 1..].iter().any(is_customer)
            && turns[..at].iter().any(is_customer)
    });
    if let Some(at) = failed {
        // The input ends on the customer's turn the failed answer replied to.
        let end = turns[..at]
            .iter()
            .rposition(is_customer)
            .map_or(0, |n| n + 1);
        return Some(DraftInput {
            turns: turns[..end].iter().collect(),
            failed_reply: Some(&turns[at]),
            left_out: turns.len() - end - 1,
        });
    }
    let first = turns.iter().position(is_customer)?;
    let end = turns[first..]
        .iter()
        .position(|turn| !is_customer(turn))
        .map_or(turns.len(), |n| first + n);
    Some(DraftInput {
        turns: turns[..end].iter().collect(),
        failed_reply: None,
        left_out: turns.len() - end,
    })
}

/// A turn as a chat message: the customer is the user, everyone else the assistant.
pub(crate) fn message(turn: &Turn, text: String) -> Message {
    Message {
        role: match turn.speaker {
            Speaker::Customer => Role::User,
            Speaker::Agent | Speaker::Bot => Role::Assistant,
        },
        content: text,
    }
}

/// Everything a draft file says, already redacted.
#[derive(Debug, Clone)]
pub(crate) struct Draft {
    pub ticket_id: String,
    pub vendor: &'static str,
    pub url: Option<String>,
    pub created: Option<jiff::civil::Date>,
    /// When the ticket was last updated, and its status then.
    pub updated: Option<jiff::civil::Date>,
    pub status: Option<String>,
    pub subject: Option<String>,
    pub tags: Vec<String>,
    pub customer: Option<String>,
    pub messages: Vec<Message>,
    pub failed_reply: Option<String>,
    pub satisfaction: Option<Satisfaction>,
    pub guess: FailureGuess,
    pub heavy_tail: bool,
    /// Ids of the near-duplicate tickets grouped into this draft.
    pub grouped: Vec<String>,
    pub redactions: RedactionCounts,
    pub left_out: usize,
    pub internal_notes: usize,
    /// The export file, as shown.
    pub file: String,
}

impl Draft {
    /// The tags a draft carries besides the ticket's own: where it came from, the failure
    /// guess, and whether a heavy-tail customer sent it.
    pub(crate) fn own_tags(&self) -> Vec<String> {
        let mut tags = vec!["ticket".to_string(), self.vendor.to_string()];
        tags.push(format!("failure:{}", self.guess.mode.name()));
        if self.heavy_tail {
            tags.push("heavy-tail".to_string());
        }
        tags
    }

    /// The case file's text.
    pub(crate) fn yaml(&self, today: jiff::civil::Date) -> String {
        let mut out = String::with_capacity(1024);
        self.comments(&mut out, today);
        self.fields(&mut out);
        out
    }

    /// The comments at the top of the file: where the draft came from, what to review, the
    /// failure guessed, and what the ticket said beyond its messages.
    fn comments(&self, out: &mut String, today: jiff::civil::Date) {
        let line = |out: &mut String, text: &str| {
            let _ = writeln!(out, "# {}", one_line(text));
        };
        line(
            out,
            &format!(
                "Draft imported by `evalgate import {}` on {today} from {} (ticket {}).",
                self.vendor, self.file, self.ticket_id
            ),
        );
        line(
            out,
            "To review: check the input, replace the `todo` expectation with what the agent \
             should have done, then delete `status: draft`. A draft never runs as an active case.",
        );
        let evidence = if self.guess.evidence.is_empty() {
            "no tag or phrase pointed at a failure mode".to_string()
        } else {
            self.guess.evidence.join(", ")
        };
        line(
            out,
            &format!("Failure guess: {} ({evidence}).", self.guess.mode.name()),
        );
        if self.updated.is_some() || self.status.is_some() {
            let updated = self
                .updated
                .map(|d| format!(" updated {d}"))
                .unwrap_or_default();
            let status = self
                .status
                .as_deref()
                .map(|s| format!(", status {s}"))
                .unwrap_or_default();
            line(out, &format!("Ticket{updated}{status}."));
        }
        if let Some(rating) = &self.satisfaction {
            let comment = rating
                .comment
                .as_deref()
                .map(|c| format!(": {}", quoted(c)))
                .unwrap_or_default();
            line(out, &format!("Customer rating: {}{comment}", rating.score));
        }
        if let Some(reply) = &self.failed_reply {
            line(
                out,
                &format!(
                    "The automated reply the customer came back about: {}",
                    quoted(reply)
                ),
            );
        }
        if self.heavy_tail {
            line(
                out,
                "From a heavy-tail customer (the costliest 1 % of production cost, at least one customer).",
            );
        }
        if self.redactions.total() > 0 {
            line(out, &format!("Redacted: {}.", self.redactions));
        }
        if self.left_out > 0 || self.internal_notes > 0 {
            line(
                out,
                &format!(
                    "Left out: {} later turn(s), {} internal note(s).",
                    self.left_out, self.internal_notes
                ),
            );
        }
    }

    /// The case's keys: description, tags, status, source, input and the `todo` expectation.
    fn fields(&self, out: &mut String) {
        if let Some(subject) = &self.subject {
            let _ = writeln!(out, "description: {}", quoted(subject));
        }
        let mut tags = self.own_tags();
        for tag in &self.tags {
            if !tags.contains(tag) {
                tags.push(tag.clone());
            }
        }
        let tags: Vec<String> = tags.iter().map(|t| quoted(t)).collect();
        let _ = writeln!(out, "tags: [{}]", tags.join(", "));
        let _ = writeln!(out, "status: draft");
        let _ = writeln!(out, "source:");
        let _ = writeln!(out, "  kind: ticket");
        let _ = writeln!(out, "  vendor: {}", self.vendor);
        let _ = writeln!(out, "  ref: {}", quoted(&self.ticket_id));
        if let Some(url) = &self.url {
            let _ = writeln!(out, "  url: {}", quoted(url));
        }
        if let Some(date) = self.created {
            let _ = writeln!(out, "  date: {date}");
        }
        if !self.grouped.is_empty() {
            let refs: Vec<String> = self.grouped.iter().map(|g| quoted(g)).collect();
            let _ = writeln!(out, "  grouped: [{}]", refs.join(", "));
        }
        let _ = writeln!(out, "input:");
        if let Some(customer) = &self.customer {
            let _ = writeln!(out, "  customer: {}", quoted(customer));
        }
        let _ = writeln!(out, "  messages:");
        for message in &self.messages {
            let _ = writeln!(out, "    - role: {}", message.role.as_str());
            let _ = writeln!(out, "      content: {}", quoted(&message.content));
        }
        let _ = writeln!(out, "expect:");
        let hint = match self.guess.mode {
            FailureMode::Other => String::new(),
            mode => format!(" The ticket suggests {}.", mode.describe()),
        };
        let _ = writeln!(
            out,
            "  - todo: {}",
            quoted(&format!("what should the agent have done?{hint}"))
        );
    }
}

/// `text` as a YAML double-quoted scalar: JSON's escapes, plus `\u` escapes for what YAML
/// does not allow in a stream (DEL, C1 controls, the byte-order mark, non-characters) and
/// for the line and paragraph separators some editors break lines at.
pub(crate) fn quoted(text: &str) -> String {
    let json = serde_json::to_string(text).expect("a string serialises");
    if !json.chars().any(needs_escape) {
        return json;
    }
    let mut out = String::with_capacity(json.len() + 8);
    for c in json.chars() {
        if needs_escape(c) {
            let _ = write!(out, "\\u{:04x}", c as u32);
        } else {
            out.push(c);
        }
    }
    out
}

fn needs_escape(c: char) -> bool {
    matches!(
        c,
        '\u{7f}'..='\u{9f}' | '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}'
    )
}

/// A comment's text: one line, no control characters.
fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() || needs_escape(c) {
                ' '
            } else {
                c
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn turn(speaker: Speaker, text: &str) -> Turn {
        Turn {
            speaker,
            text: text.to_string(),
            at: None,
        }
    }

    fn texts<'t>(input: &DraftInput<'t>) -> Vec<&'t str> {
        input.turns.iter().map(|t| t.text.as_str()).collect()
    }

    #[test]
    fn without_an_automated_answer_the_input_is_the_customers_opening() {
        let turns = [
            turn(Speaker::Customer, "charged twice"),
            turn(Speaker::Customer, "invoice 12"),
            turn(Speaker::Agent, "refunded"),
            turn(Speaker::Customer, "thanks"),
        ];
        let input = input_of(&turns).unwrap();
        assert_eq!(texts(&input), ["charged twice", "invoice 12"]);
        assert_eq!((input.failed_reply, input.left_out), (None, 2));
        // Support wrote first: its message is context.
        let turns = [
            turn(Speaker::Agent, "how was it?"),
            turn(Speaker::Customer, "bad"),
        ];
        assert_eq!(texts(&input_of(&turns).unwrap()), ["how was it?", "bad"]);
        assert_eq!(input_of(&[turn(Speaker::Agent, "hello")]), None);
    }

    #[test]
    fn a_bot_answer_the_customer_came_back_about_is_the_failure() {
        let turns = [
            turn(Speaker::Bot, "Hi, I am the assistant"),
            turn(Speaker::Customer, "refund my order"),
            turn(Speaker::Bot, "refunds are not possible"),
            turn(Speaker::Customer, "your policy says 30 days!"),
            turn(Speaker::Agent, "sorry, refunded"),
        ];
        let input = input_of(&turns).unwrap();
        assert_eq!(texts(&input), ["Hi, I am the assistant", "refund my order"]);
        assert_eq!(input.failed_reply.unwrap().text, "refunds are not possible");
        assert_eq!(input.left_out, 2);
        // Two answers in a row: the input still ends on the customer's question.
        let turns = [
            turn(Speaker::Customer, "refund my order"),
            turn(Speaker::Bot, "let me check"),
            turn(Speaker::Bot, "refunds are not possible"),
            turn(Speaker::Customer, "they are!"),
        ];
        let input = input_of(&turns).unwrap();
        assert_eq!(texts(&input), ["refund my order"]);
        assert_eq!(input.failed_reply.unwrap().text, "refunds are not possible");
        assert_eq!(input.left_out, 2);
    }

    #[test]
    fn quoting_escapes_what_yaml_does_not_allow() {
        assert_eq!(quoted("a \"b\"\n\\"), r#""a \"b\"\n\\""#);
        assert_eq!(
            quoted("x\u{85}y\u{2028}z\u{7f}"),
            r#""x\u0085y\u2028z\u007f""#
        );
        assert_eq!(one_line("a\nb\u{1b}[31m"), "a b [31m");
    }
}
