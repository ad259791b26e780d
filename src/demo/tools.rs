//! The demo agent's tools, and the trace that records each call as a `tool.<name>`
//! decision in call order. Also the message normalization the planner matches on.

use evalgate::observation::Decision;

use super::catalog::{self, ARTICLES, Article, Order};

/// A user message normalized for keyword matching: lowercase words (letters, digits and
/// apostrophes), single-spaced and padded with a space on both sides, so phrases match on
/// word boundaries (`"sue"` does not match `"issue"`).
#[derive(Debug, Clone)]
pub(crate) struct Text {
    normalized: String,
    exclamations: usize,
}

impl Text {
    pub(crate) fn new(message: &str) -> Text {
        let mut normalized = String::with_capacity(message.len() + 2);
        normalized.push(' ');
        for c in message.chars() {
            let c = if c == '\u{2019}' { '\'' } else { c };
            if c.is_alphanumeric() || c == '\'' {
                normalized.extend(c.to_lowercase());
            } else if !normalized.ends_with(' ') {
                normalized.push(' ');
            }
        }
        if !normalized.ends_with(' ') {
            normalized.push(' ');
        }
        Text {
            normalized,
            exclamations: message.matches('!').count(),
        }
    }

    /// The message contains this lowercase word or phrase.
    pub(crate) fn has(&self, phrase: &str) -> bool {
        self.normalized.match_indices(phrase).any(|(at, _)| {
            self.normalized[..at].ends_with(' ')
                && self.normalized[at + phrase.len()..].starts_with(' ')
        })
    }

    pub(crate) fn has_any(&self, phrases: &[&str]) -> bool {
        phrases.iter().any(|p| self.has(p))
    }

    pub(crate) fn exclamations(&self) -> usize {
        self.exclamations
    }

    /// The first word that looks like an order id (a letter and four digits, e.g. `a1001`),
    /// uppercased.
    pub(crate) fn order_id(&self) -> Option<String> {
        self.normalized
            .split(' ')
            .find(|w| {
                let b = w.as_bytes();
                b.len() == 5 && b[0].is_ascii_alphabetic() && b[1..].iter().all(u8::is_ascii_digit)
            })
            .map(str::to_ascii_uppercase)
    }

    /// The knowledge-base article whose keywords the message mentions, if any.
    pub(crate) fn kb_article(&self) -> Option<&'static Article> {
        ARTICLES.iter().find(|a| self.has_any(a.keywords))
    }
}

/// What `issue_refund` hands back.
pub(crate) struct Refund {
    pub amount: String,
    pub reference: String,
}

/// Records the planner's decisions in order; every tool call goes through it.
#[derive(Debug, Default)]
pub(crate) struct Trace {
    decisions: Vec<Decision>,
}

impl Trace {
    pub(crate) fn decide(&mut self, point: &str, branch: &str) {
        self.decisions.push(Decision::new(point, branch));
    }

    pub(crate) fn route(&mut self, route: &str) {
        self.decide("route", route);
    }

    fn tool(&mut self, name: &str) {
        self.decide("tool", name);
    }

    pub(crate) fn lookup_order(&mut self, id: &str) -> Option<Order> {
        self.tool("lookup_order");
        catalog::find_order(id)
    }

    pub(crate) fn issue_refund(&mut self, order: &Order) -> Refund {
        self.tool("issue_refund");
        Refund {
            amount: order.amount(),
            reference: format!("RF-{}", order.id),
        }
    }

    /// Starts an exchange; returns the return-merchandise reference.
    pub(crate) fn create_exchange(&mut self, order: &Order) -> String {
        self.tool("create_exchange");
        format!("EX-{}", order.id)
    }

    pub(crate) fn search_kb(&mut self, text: &Text) -> Option<&'static Article> {
        self.tool("search_kb");
        text.kb_article()
    }

    pub(crate) fn list_orders(&mut self, customer: &str) -> Vec<Order> {
        self.tool("list_orders");
        catalog::orders_of(customer)
    }

    pub(crate) fn into_decisions(self) -> Vec<Decision> {
        self.decisions
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::DemoVersion::{V1, V2};
    use crate::demo::tests::{ask, request, run};
    use serde_json::json;

    #[test]
    fn text_matches_words_and_phrases_on_boundaries() {
        let t = Text::new("Where's my order A1001?? It's an ISSUE, I don’t know!!!");
        assert!(t.has("where's") && t.has("my order") && t.has("don't know"));
        assert!(!t.has("sue") && !t.has("my orders") && !t.has("order a"));
        assert_eq!(t.order_id().as_deref(), Some("A1001"));
        assert_eq!(t.exclamations(), 3);
        assert_eq!(
            Text::new("order #a1002.").order_id().as_deref(),
            Some("A1002")
        );
        assert_eq!(Text::new("order A10021").order_id(), None);
        assert_eq!(
            Text::new("What is your return policy?")
                .kb_article()
                .unwrap()
                .id,
            "kb-returns"
        );
        assert_eq!(Text::new("hello").kb_article().map(|a| a.id), None);
    }

    #[test]
    fn trace_records_tool_calls_in_order() {
        let mut trace = Trace::default();
        trace.route("refund");
        let order = trace.lookup_order("A1002").unwrap();
        let refund = trace.issue_refund(&order);
        assert_eq!(
            (refund.amount.as_str(), refund.reference.as_str()),
            ("$120.00", "RF-A1002")
        );
        let decisions: Vec<String> = trace
            .into_decisions()
            .iter()
            .map(|d| d.to_string())
            .collect();
        assert_eq!(
            decisions,
            ["route.refund", "tool.lookup_order", "tool.issue_refund"]
        );
    }

    #[test]
    fn refunds() {
        for v in [V1, V2] {
            let (d, text, o) = ask(v, "I want a refund for order A1002 please");
            assert_eq!(
                d,
                ["route.refund", "tool.lookup_order", "tool.issue_refund"]
            );
            assert!(
                text.contains("refund") && text.contains("$120.00"),
                "{text}"
            );
            assert_eq!(o.refusal, Some(false));
        }
        let (d, text, _) = ask(V1, "Please refund A1003, the monitor is broken");
        assert_eq!(
            d,
            ["route.refund", "tool.lookup_order", "tool.issue_refund"]
        );
        assert!(text.contains("$649.00"));
        let (d, text, _) = ask(V2, "Please refund A1003, the monitor is broken");
        assert_eq!(
            d,
            [
                "route.handoff",
                "tool.lookup_order",
                "escalate.refund_over_limit"
            ]
        );
        assert!(
            text.contains("refund request") && text.contains("$649.00"),
            "{text}"
        );
        for (id, says) in [
            ("A1001", "can't be refunded yet"),
            ("A1004", "can't be refunded yet"),
            ("A1012", "can't be refunded yet"),
            ("A1007", "cancelled"),
            ("A1011", "outside our 30-day return window"),
            ("A9999", "not found"),
        ] {
            for v in [V1, V2] {
                let (d, text, _) = ask(v, &format!("I'd like my money back for {id}"));
                assert_eq!(d, ["route.refund", "tool.lookup_order"], "{id}");
                assert!(text.contains(says), "{id}: {text}");
            }
        }
        let (d, text, _) = ask(V1, "I want to return my shoes");
        assert_eq!(
            (d, text.contains("order number")),
            (vec!["route.refund".to_string()], true)
        );
    }

    #[test]
    fn knowledge_base_lists_and_exchanges() {
        for (text, says) in [
            ("What is your return policy?", "30 days"),
            ("What's the shipping time to Boston?", "3-5 business days"),
            ("Is there a warranty on headphones?", "2-year warranty"),
        ] {
            let (d, answer, _) = ask(V2, text);
            assert_eq!(d, ["route.policy", "tool.search_kb"], "{text}");
            assert!(answer.contains(says), "{answer}");
        }
        let mut req = request("Show all my orders", json!({}));
        req.customer = Some("alice".into());
        let (d, text, _) = run(V1, &req);
        assert_eq!(
            d,
            [
                "route.order_status",
                "tool.list_orders",
                "on_large_result.summarize"
            ]
        );
        assert!(
            text.starts_with("You have 24 orders") && !text.contains("H1001"),
            "{text}"
        );
        req.customer = Some("dan".into());
        let (d, text, _) = run(V1, &req);
        assert_eq!(d, ["route.order_status", "tool.list_orders"]);
        assert!(text.contains("A1007") && text.contains("A1008"));
        assert_eq!(ask(V1, "Show all my orders").0, ["route.order_status"]);
        let (d, text, _) = ask(V1, "Can I exchange A1002 for a bigger size?");
        assert_eq!(
            d,
            [
                "route.exchange",
                "tool.lookup_order",
                "tool.create_exchange"
            ]
        );
        assert!(text.contains("EX-A1002"));
        assert_eq!(
            ask(V1, "wrong size, A1001").0,
            ["route.exchange", "tool.lookup_order"]
        );
    }
}
