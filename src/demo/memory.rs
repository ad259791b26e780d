//! The demo agent's conversation memory, to show memory divergence across a model upgrade.
//!
//! With `vars.memory` set to `lru` or `salience`, the agent reads the user messages one
//! turn at a time into a memory of `vars.memory_capacity` items (default 3), and answers
//! the last message from what the memory still holds: an order id it no longer holds is
//! not known any more. Each user message becomes one item: `order:<id>` when it names an
//! order (naming it again uses the same item), `mood@<turn>` when the customer is upset
//! (the planner's angry words), else `note@<turn>`. When the memory is over capacity:
//!
//! * **LRU** evicts the item used longest ago (stored, or named again): the same items
//!   whatever the model;
//! * **salience** evicts the item the model scores least salient (ties: the oldest), and
//!   the models score differently: `demo-support-1` holds on to order ids (order 0.9,
//!   note 0.5, mood 0.2), `demo-support-2` to how the customer feels (mood 0.9, note 0.6,
//!   order 0.3): the model the agent version reports (the bisection demo's axes do not
//!   reach the memory, so its planted regression stays the only one).
//!
//! The last message is answered from the memory after the turn before it (an order id
//! the memory holds is used, and so counts as used), then stored. The retained set after
//! every turn is reported in the observation.

use serde_json::Value;

use super::DemoVersion;
use super::planner;
use super::tools::Text;
use evalgate::observation::{MemoryTurn, Request, user_messages};

/// How the memory picks what to evict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Policy {
    Lru,
    Salience,
}

const DEFAULT_CAPACITY: usize = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Order,
    Mood,
    Note,
}

struct Item {
    id: String,
    kind: Kind,
    /// The order id, for order items.
    order: Option<String>,
    stored: u32,
    used: u32,
}

/// The memory of one conversation.
pub(crate) struct Memory {
    policy: Policy,
    capacity: usize,
    model: String,
    items: Vec<Item>,
    pub turns: Vec<MemoryTurn>,
}

impl Memory {
    /// The memory `request.vars` asks for, if any; `Err` for an unknown policy.
    pub(crate) fn of(request: &Request, version: DemoVersion) -> Result<Option<Memory>, String> {
        let policy = match request.vars.get("memory").and_then(Value::as_str) {
            None => return Ok(None),
            Some("lru") => Policy::Lru,
            Some("salience") => Policy::Salience,
            Some(other) => {
                return Err(format!(
                    "demo agent: unknown memory policy `{other}` (expected `lru` or `salience`)"
                ));
            }
        };
        let capacity = request
            .vars
            .get("memory_capacity")
            .and_then(Value::as_u64)
            .map_or(DEFAULT_CAPACITY, |c| c.max(1) as usize);
        Ok(Some(Memory {
            policy,
            capacity,
            model: version.model().to_string(),
            items: Vec::new(),
            turns: Vec::new(),
        }))
    }

    fn salience(&self, kind: Kind) -> f64 {
        let new_model = self.model == DemoVersion::V2.model();
        match (kind, new_model) {
            (Kind::Order, false) => 0.9,
            (Kind::Note, false) => 0.5,
            (Kind::Mood, false) => 0.2,
            (Kind::Mood, true) => 0.9,
            (Kind::Note, true) => 0.6,
            (Kind::Order, true) => 0.3,
        }
    }

    /// Reads user message `turn` (from 1) into the memory.
    fn store(&mut self, turn: u32, message: &str) {
        let text = Text::new(message);
        if let Some(order) = text.order_id() {
            if let Some(item) = self
                .items
                .iter_mut()
                .find(|i| i.order.as_ref() == Some(&order))
            {
                item.used = turn;
                return;
            }
            self.push(format!("order:{order}"), Kind::Order, Some(order), turn);
        } else if planner::is_upset(&text) {
            self.push(format!("mood@{turn}"), Kind::Mood, None, turn);
        } else {
            self.push(format!("note@{turn}"), Kind::Note, None, turn);
        }
    }

    fn push(&mut self, id: String, kind: Kind, order: Option<String>, turn: u32) {
        self.items.push(Item {
            id,
            kind,
            order,
            stored: turn,
            used: turn,
        });
        while self.items.len() > self.capacity {
            let victim = match self.policy {
                Policy::Lru => self.index_by(|i| (i.used as f64, i.stored)),
                Policy::Salience => self.index_by(|i| (self.salience(i.kind), i.stored)),
            };
            self.items.remove(victim);
        }
    }

    /// The index of the item with the smallest key.
    fn index_by(&self, key: impl Fn(&Item) -> (f64, u32)) -> usize {
        (0..self.items.len())
            .min_by(|a, b| {
                let (ka, kb) = (key(&self.items[*a]), key(&self.items[*b]));
                ka.0.total_cmp(&kb.0).then(ka.1.cmp(&kb.1))
            })
            .unwrap_or(0)
    }

    fn record(&mut self, turn: u32) {
        self.turns.push(MemoryTurn::new(
            turn,
            self.items.iter().map(|i| i.id.clone()),
        ));
    }

    /// Reads every user message before the last; returns the order id the memory holds
    /// for the last (the most recently used), marking it used.
    pub(crate) fn before_answer(&mut self, request: &Request) -> Option<String> {
        let users = user_messages(&request.messages);
        let last = users.len() as u32;
        for (index, message) in users.iter().take(users.len().saturating_sub(1)).enumerate() {
            let turn = index as u32 + 1;
            self.store(turn, message);
            self.record(turn);
        }
        let item = self
            .items
            .iter_mut()
            .filter(|i| i.order.is_some())
            .max_by_key(|i| i.used)?;
        item.used = last;
        item.order.clone()
    }

    /// Stores the last message once answered.
    pub(crate) fn after_answer(&mut self, request: &Request) {
        let users = user_messages(&request.messages);
        if let Some(last) = users.last() {
            let turn = users.len() as u32;
            self.store(turn, last);
            self.record(turn);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use evalgate::observation::{Message, Role};

    fn conversation(messages: &[&str], policy: &str) -> Request {
        let messages = messages
            .iter()
            .map(|m| Message {
                role: Role::User,
                content: m.to_string(),
            })
            .collect();
        let mut request = Request::new("c", 0, messages);
        request.vars.insert("memory".into(), policy.into());
        request
    }

    fn replay(request: &Request, version: DemoVersion) -> (Option<String>, Vec<Vec<String>>) {
        let mut memory = Memory::of(request, version).unwrap().unwrap();
        let order = memory.before_answer(request);
        memory.after_answer(request);
        let sets = memory
            .turns
            .iter()
            .map(|t| t.retained.iter().cloned().collect())
            .collect();
        (order, sets)
    }

    const TALK: [&str; 5] = [
        "Hi, I'm writing about order A1001.",
        "Honestly this is ridiculous, third time I write.",
        "The courier said Monday.",
        "I'm fed up with waiting.",
        "So where is my order now?",
    ];

    #[test]
    fn salience_keeps_what_the_model_scores_and_lru_what_was_used() {
        use DemoVersion::{V1, V2};
        let (order, sets) = replay(&conversation(&TALK, "salience"), V1);
        assert_eq!(order.as_deref(), Some("A1001"));
        assert_eq!(sets[3], ["mood@4", "note@3", "order:A1001"]);
        let (order, sets) = replay(&conversation(&TALK, "salience"), V2);
        assert_eq!(order, None, "the new model let the order id go: {sets:?}");
        assert_eq!(sets[3], ["mood@2", "mood@4", "note@3"]);
        for version in [V1, V2] {
            let (order, sets) = replay(&conversation(&TALK, "lru"), version);
            assert_eq!(order, None, "LRU evicts the oldest unused item");
            assert_eq!(sets[3], ["mood@2", "mood@4", "note@3"]);
        }
        // Naming the order again keeps it in an LRU memory, whatever the model.
        let mut talk = TALK;
        talk[2] = "The courier said A1001 comes Monday.";
        for version in [V1, V2] {
            let (order, sets) = replay(&conversation(&talk, "lru"), version);
            assert_eq!(order.as_deref(), Some("A1001"));
            assert_eq!(sets.len(), 5);
            assert_eq!(sets[4], ["mood@4", "note@5", "order:A1001"]);
        }
    }

    #[test]
    fn no_memory_unless_asked_and_an_unknown_policy_is_an_error() {
        let mut request = conversation(&TALK, "lru");
        request.vars.remove("memory");
        assert!(Memory::of(&request, DemoVersion::V1).unwrap().is_none());
        request.vars.insert("memory".into(), "fifo".into());
        assert!(Memory::of(&request, DemoVersion::V1).is_err());
    }
}
