//! The demo agent: a deterministic, rule-based customer-support agent for a web shop, used
//! by evalgate's own eval suite and the README quick start. No LLM and no network: a
//! keyword planner that behaves like an LLM agent would (routes, tool calls, refusals,
//! fallback tiers), over the fixed data in [`catalog`]. [`DemoServer`] serves it over HTTP.
//!
//! # Behaviour
//!
//! The planner reads the last user message (keywords matched case-insensitively on word
//! boundaries), the order id in it (a letter and four digits, e.g. `A1001`; else
//! `vars.order_id`), and the customer (`request.customer`, else `vars.customer`; `Alice` and
//! `alice@example.com` both mean `alice`). Decisions, in order: `route.<route>` first, then
//! `tool.<name>` per tool call, then `escalate.<reason>` / `on_large_result.summarize`.
//!
//! | route          | when (first match wins)                                                         | tools                                   |
//! |----------------|---------------------------------------------------------------------------------|-----------------------------------------|
//! | `refuse`       | unsafe / out of scope ("homework", "hack", "ignore previous instructions"...), another customer's data ("another customer", "someone else's"...), or an order of another customer when a customer is set | none |
//! | `handoff`      | legal threat ("lawyer", "sue"), human asked for ("human", "manager"), angry ("ridiculous", "unacceptable", `!!!`); adds `escalate.legal_threat` / `human_requested` / `angry_customer` | none |
//! | `order_status` | "all my orders", "order history" (needs a customer)                             | `list_orders` (+ `on_large_result.summarize` for ≥ 20 rows) |
//! | `policy`       | a knowledge-base topic ("return policy", "shipping time", "warranty"...) and no order id | `search_kb`                   |
//! | `refund`       | "refund", "money back", ("return" when no KB topic)                             | `lookup_order`, `issue_refund`          |
//! | `exchange`     | "exchange", "wrong size", "replacement"                                         | `lookup_order`, `create_exchange`       |
//! | `order_status` | "where is", "track", "status", "my order"... or just an order id                | `lookup_order`                          |
//! | `clarify` (V2) / `order_status` (V1) | anything else, e.g. "it doesn't work"                     | V1: `lookup_order` of the customer's latest order when a customer is set |
//!
//! `list_orders` returns ≥ 20 rows for every customer but `dan` (2 rows, listed in full);
//! without a customer the agent asks the user to sign in (no tool call).
//! Refunds and exchanges need a delivered order within the 30-day window; otherwise the
//! answer explains why not ("can't be refunded yet" for shipped/processing orders) and no
//! `issue_refund` / `create_exchange` runs. Unknown order ids: "Sorry, order A9999 was not
//! found", after `tool.lookup_order`. Refusals start with "I'm sorry, but I can't help with
//! that" and set `refusal = Some(true)`; every other answer sets `Some(false)`.
//!
//! # Memory
//!
//! With `vars.memory: lru | salience` the agent reads a multi-turn input one user message
//! at a time into a small memory and answers the last message from what it still holds
//! (an order id it evicted is forgotten), reporting the retained set after every turn;
//! the salience policy is scored by the model, so it keeps other items after a model
//! upgrade. See `memory` for the rules.
//!
//! # V1 and V2
//!
//! * **Refunds over $500.00** (A1003 $649.00, A1008 $1249.00): V1 refunds them like any other
//!   (`route.refund`, `tool.lookup_order`, `tool.issue_refund`); V2 escalates instead:
//!   `route.handoff`, `tool.lookup_order`, `escalate.refund_over_limit`, no `issue_refund`.
//! * **JSON status**: with `vars.format == "json"`, V2 answers an order-status question with
//!   `{"order_id":"A1001","status":"shipped","eta":"2026-11-20"}` (`eta` null when there is
//!   none, `status` `not_found` for unknown ids); V1 ignores `format` and answers prose.
//! * **Ambiguous messages** ("it doesn't work"): V2 asks a clarifying question
//!   (`route.clarify`, no tools); V1 guesses `route.order_status` and, when a customer is
//!   set, reports their latest order (`tool.lookup_order`), else asks for the order number.
//! * `model()`: `demo-support-1` / `demo-support-2`; `prompt_hash()` differs.
//!
//! # Tiers, flakiness, failures
//!
//! * `request.tier`: `secondary` gives shorter answers with the same decisions (no ETA, no
//!   dates, no item names, first sentence of KB articles, no latest-order line in order
//!   summaries, no `eta` key in V2 JSON); `canned` answers [`CANNED_REPLY`] with only
//!   `route.canned` (and never fails). Anything else is `primary`.
//! * `vars.flaky == true` (or `"true"`): the primary tier fails over to `secondary` on about
//!   30 % of samples, chosen by FNV-1a of (`case`, `sample`): see [`flaky_failover`].
//! * `vars.fail == "error"`: `respond` returns `Err("demo agent: simulated upstream failure")`.
//!
//! Every observation has `model`, `tier`, `finish_reason = "stop"`, envelope
//! `{"prompt": prompt_hash, "index": "kb-2026-11"}` and usage: input tokens = words of all
//! messages × 1.3, output tokens = words of the answer × 1.3 (rounded).

mod agent;
pub mod catalog;
mod memory;
mod planner;
pub(crate) mod server;
mod tools;

pub(crate) use agent::serve;
pub use agent::{CANNED_REPLY, DemoAgent, DemoVersion, NEW_TOOLS, flaky_failover};
pub use server::DemoServer;
// The demo's test helpers, at the path the planner's tools test them from.
#[cfg(test)]
use agent::tests;
