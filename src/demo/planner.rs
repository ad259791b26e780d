//! The rule-based planner: classifies the last user message, picks a route, calls tools
//! through the [`Trace`] and writes the answer. See the module docs of `demo` for the rules.

use evalgate::observation::Decision;

use super::DemoVersion;
use super::catalog::{self, Order, OrderStatus, REFUND_LIMIT_CENTS};
use super::tools::{Text, Trace};

/// What the planner needs to know about one request.
pub(crate) struct Context<'a> {
    pub version: DemoVersion,
    pub text: &'a Text,
    /// Order id from the message, else from `vars.order_id`.
    pub order_id: Option<String>,
    /// Normalized customer handle (`request.customer` or `vars.customer`).
    pub customer: Option<String>,
    /// V2 with `vars.format == "json"`.
    pub json: bool,
    /// Secondary tier: shorter answers, same decisions.
    pub short: bool,
    /// The planted two-factor regression of the bisection demo: the new model
    /// (`model: demo-support-2`) reading the new tool descriptions (`tools:
    /// support-tools-4`) no longer calls the refund tool; neither change alone breaks it.
    pub refund_tool_misread: bool,
}

/// The planner's result.
pub(crate) struct Plan {
    pub decisions: Vec<Decision>,
    pub answer: String,
    pub refusal: bool,
}

enum Intent {
    Refuse { privacy: bool },
    Handoff(&'static str),
    ListOrders,
    Policy,
    Refund,
    Exchange,
    Status,
    Ambiguous,
}

/// Keywords and phrases, matched on word boundaries of the normalized message.
#[rustfmt::skip]
mod kw {
    pub const UNSAFE: &[&str] = &[
        "homework", "essay", "hack", "hacking", "hacker", "malware", "phishing", "exploit", "bomb",
        "weapon", "weapons", "steal", "ddos", "jailbreak", "ignore previous instructions",
        "ignore all previous instructions", "ignore your instructions", "system prompt", "poem",
    ];
    pub const PRIVACY: &[&str] = &[
        "another customer", "another customer's", "other customer", "other customer's",
        "other customers", "other customers'", "someone else", "someone else's", "somebody else's",
        "other people's", "another person's", "another user", "another user's", "customer list",
        "all customers", "phone number of", "email address of",
    ];
    pub const LEGAL: &[&str] = &[
        "lawyer", "lawyers", "attorney", "sue", "suing", "lawsuit", "legal action", "court",
        "small claims", "consumer protection",
    ];
    pub const HUMAN: &[&str] = &[
        "human", "real person", "live agent", "live person", "human agent", "real agent",
        "speak to someone", "talk to someone", "speak with someone", "talk with someone",
        "speak to a person", "talk to a person", "manager", "supervisor", "representative",
        "operator",
    ];
    pub const ANGRY: &[&str] = &[
        "furious", "angry", "ridiculous", "unacceptable", "outrageous", "worst", "fed up",
        "disgusted", "disgusting", "scam", "pathetic", "horrible", "livid", "sick of", "useless",
        "terrible service", "awful service",
    ];
    pub const LIST: &[&str] = &[
        "all my orders", "all of my orders", "my orders", "order history", "list my orders",
        "past orders", "previous orders", "every order", "all orders",
    ];
    pub const REFUND: &[&str] = &[
        "refund", "refunds", "refunded", "money back", "reimburse", "reimbursement", "reimbursed",
    ];
    pub const EXCHANGE: &[&str] = &[
        "exchange", "exchanges", "swap", "different size", "wrong size", "different colour",
        "different color", "replacement", "replace", "bigger size", "smaller size",
    ];
    pub const RETURN: &[&str] = &[
        "return", "returning", "send it back", "send back",
    ];
    pub const STATUS: &[&str] = &[
        "where is", "where's", "status", "track", "tracking", "shipped", "arrive", "arrived",
        "arriving", "delivered", "when will", "eta", "late", "delayed", "my order", "package",
        "parcel",
    ];
}

const ASK_ORDER_ID: &str = "Could you share your order number? It looks like A1001.";

/// Plans the answer to one request.
pub(crate) fn plan(ctx: &Context) -> Plan {
    let mut trace = Trace::default();
    let mut refusal = false;
    let answer = match classify(ctx) {
        Intent::Refuse { privacy } => {
            trace.route("refuse");
            refusal = true;
            refuse(privacy)
        }
        Intent::Handoff(reason) => handoff(ctx, &mut trace, reason),
        Intent::ListOrders => list_orders(ctx, &mut trace),
        Intent::Policy => policy(ctx, &mut trace),
        Intent::Refund => refund(ctx, &mut trace),
        Intent::Exchange => exchange(ctx, &mut trace),
        Intent::Status => status(ctx, &mut trace),
        Intent::Ambiguous => ambiguous(ctx, &mut trace),
    };
    Plan {
        decisions: trace.into_decisions(),
        answer,
        refusal,
    }
}

fn classify(ctx: &Context) -> Intent {
    let t = ctx.text;
    if t.has_any(kw::UNSAFE) {
        return Intent::Refuse { privacy: false };
    }
    if t.has_any(kw::PRIVACY) {
        return Intent::Refuse { privacy: true };
    }
    if t.has_any(kw::LEGAL) {
        return Intent::Handoff("legal_threat");
    }
    if t.has_any(kw::HUMAN) {
        return Intent::Handoff("human_requested");
    }
    if is_upset(t) {
        return Intent::Handoff("angry_customer");
    }
    // Authorization before any tool runs: a signed-in customer only sees their own orders.
    if let (Some(id), Some(customer)) = (&ctx.order_id, &ctx.customer)
        && catalog::find_order(id).is_some_and(|o| o.customer != customer.as_str())
    {
        return Intent::Refuse { privacy: true };
    }
    if t.has_any(kw::LIST) {
        Intent::ListOrders
    } else if ctx.order_id.is_none() && t.kb_article().is_some() {
        Intent::Policy
    } else if t.has_any(kw::REFUND) {
        Intent::Refund
    } else if t.has_any(kw::EXCHANGE) {
        Intent::Exchange
    } else if t.has_any(kw::RETURN) {
        Intent::Refund
    } else if t.has_any(kw::STATUS) || ctx.order_id.is_some() {
        Intent::Status
    } else {
        Intent::Ambiguous
    }
}

/// Whether the customer sounds upset (what routes a message to a human as angry).
pub(crate) fn is_upset(t: &Text) -> bool {
    t.has_any(kw::ANGRY) || t.exclamations() >= 3
}

/// The primary answer, or the secondary tier's shorter one.
fn say(ctx: &Context, long: String, short: impl Into<String>) -> String {
    if ctx.short { short.into() } else { long }
}

fn refuse(privacy: bool) -> String {
    let reason = if privacy {
        "For privacy reasons I can only share details about orders on your own account."
    } else {
        "I can help with orders, refunds, exchanges and our store policies."
    };
    format!("I'm sorry, but I can't help with that. {reason}")
}

fn handoff(ctx: &Context, trace: &mut Trace, reason: &str) -> String {
    trace.route("handoff");
    trace.decide("escalate", reason);
    let long = match reason {
        "legal_threat" => {
            "I understand. I've forwarded your message to our customer relations team, who handle these matters; they will contact you within one business day."
        }
        "angry_customer" => {
            "I'm really sorry about this experience. I'm handing your conversation to a senior member of our support team, who will get back to you shortly."
        }
        _ => {
            "Of course. I'm connecting you with a member of our support team now; they'll be with you shortly."
        }
    };
    say(
        ctx,
        long.to_string(),
        "I've passed your conversation to our support team.",
    )
}

fn policy(ctx: &Context, trace: &mut Trace) -> String {
    trace.route("policy");
    match trace.search_kb(ctx.text) {
        Some(article) => {
            let first = article
                .body
                .split_inclusive(". ")
                .next()
                .unwrap_or(article.body);
            say(ctx, article.body.to_string(), first.trim_end())
        }
        None => "I couldn't find a policy article about that. Could you rephrase your question?"
            .to_string(),
    }
}

fn list_orders(ctx: &Context, trace: &mut Trace) -> String {
    trace.route("order_status");
    let Some(customer) = &ctx.customer else {
        return "Please sign in (or tell me the email address on your account) so I can list your orders.".to_string();
    };
    let orders = trace.list_orders(customer);
    if orders.is_empty() {
        return "I couldn't find any orders on your account.".to_string();
    }
    if orders.len() < 20 {
        let mut text = format!("Here are your {} orders:", orders.len());
        for o in &orders {
            text.push_str(&format!("\n- {} {}: {}", o.id, o.item, o.status.as_str()));
        }
        return text;
    }
    trace.decide("on_large_result", "summarize");
    let count = |s: OrderStatus| orders.iter().filter(|o| o.status == s).count();
    let mut counts = Vec::new();
    for status in [
        OrderStatus::Delivered,
        OrderStatus::Shipped,
        OrderStatus::Processing,
        OrderStatus::Cancelled,
    ] {
        if count(status) > 0 {
            counts.push(format!("{} {}", count(status), status.as_str()));
        }
    }
    let summary = format!(
        "You have {} orders with us: {}.",
        orders.len(),
        counts.join(", ")
    );
    let latest = &orders[0];
    let long = format!(
        "{summary} Your most recent order: {} Ask me about any order number for details.",
        status_sentence(latest, false)
    );
    say(ctx, long, summary)
}

fn status_sentence(o: &Order, short: bool) -> String {
    let (id, item) = (&o.id, o.item);
    let eta = o.eta.unwrap_or("soon");
    let on = o.delivered_on.as_deref().unwrap_or("recently");
    match (o.status, short) {
        (OrderStatus::Shipped, false) => {
            format!("Order {id} ({item}) has shipped and is expected to arrive by {eta}.")
        }
        (OrderStatus::Shipped, true) => format!("Order {id} has shipped."),
        (OrderStatus::Processing, false) => format!(
            "Order {id} ({item}) is being prepared for shipment and is expected to arrive by {eta}."
        ),
        (OrderStatus::Processing, true) => format!("Order {id} is being prepared for shipment."),
        (OrderStatus::Delivered, false) => format!("Order {id} ({item}) was delivered on {on}."),
        (OrderStatus::Delivered, true) => format!("Order {id} was delivered."),
        (OrderStatus::Cancelled, false) => format!(
            "Order {id} ({item}) was cancelled; the payment was returned to your original payment method."
        ),
        (OrderStatus::Cancelled, true) => format!("Order {id} was cancelled."),
    }
}

/// `{"order_id":..,"status":..,"eta":..}` in that key order; the secondary tier omits `eta`.
fn status_json(id: &str, order: Option<&Order>, short: bool) -> String {
    let status = order.map_or("not_found", |o| o.status.as_str());
    let quote = |s: &str| serde_json::Value::from(s).to_string();
    let mut json = format!("{{\"order_id\":{},\"status\":{}", quote(id), quote(status));
    if !short {
        let eta = order.and_then(|o| o.eta).map_or("null".to_string(), quote);
        json.push_str(&format!(",\"eta\":{eta}"));
    }
    json.push('}');
    json
}

fn not_found(ctx: &Context, id: &str, doing: &str) -> String {
    say(
        ctx,
        format!(
            "Sorry, order {id} was not found{doing}. Please double-check the order number (it looks like A1001)."
        ),
        format!("Order {id} was not found."),
    )
}

fn status(ctx: &Context, trace: &mut Trace) -> String {
    trace.route("order_status");
    let Some(id) = &ctx.order_id else {
        return ASK_ORDER_ID.to_string();
    };
    let order = trace.lookup_order(id);
    if ctx.json {
        return status_json(id, order.as_ref(), ctx.short);
    }
    match order {
        Some(o) => status_sentence(&o, ctx.short),
        None => not_found(ctx, id, ""),
    }
}

fn ambiguous(ctx: &Context, trace: &mut Trace) -> String {
    if ctx.version == DemoVersion::V2 {
        trace.route("clarify");
        return say(
            ctx,
            "I'm sorry to hear that! Could you tell me a bit more: which order is this about (e.g. A1001), and what exactly isn't working?".to_string(),
            "Could you tell me which order this is about and what isn't working?",
        );
    }
    // V1 guesses that the customer asks about their latest order.
    trace.route("order_status");
    let latest = ctx
        .customer
        .as_deref()
        .and_then(|c| catalog::orders_of(c).into_iter().next());
    match latest.and_then(|o| trace.lookup_order(&o.id)) {
        Some(o) => status_sentence(&o, ctx.short),
        None => ASK_ORDER_ID.to_string(),
    }
}

/// Why a delivered-only action (refund, exchange) can't be done for this order, if so.
fn not_eligible(ctx: &Context, o: &Order, action: &str) -> Option<String> {
    let id = &o.id;
    let short = format!("Order {id} can't be {action} yet.");
    let long = match o.status {
        OrderStatus::Delivered if o.within_return_window() => return None,
        OrderStatus::Delivered => {
            let on = o.delivered_on.as_deref().unwrap_or("");
            return Some(say(
                ctx,
                format!(
                    "Order {id} was delivered on {on}, which is outside our 30-day return window, so it can't be {action}."
                ),
                format!("Order {id} is outside the 30-day return window."),
            ));
        }
        OrderStatus::Shipped => format!(
            "Order {id} hasn't been delivered yet (it's expected by {}), so it can't be {action} yet. Once it arrives you have 30 days to ask.",
            o.eta.unwrap_or("soon")
        ),
        OrderStatus::Processing => format!(
            "Order {id} hasn't shipped yet, so it can't be {action} yet. You can still cancel it from your account page."
        ),
        OrderStatus::Cancelled => {
            return Some(say(
                ctx,
                format!(
                    "Order {id} was cancelled, so there is nothing to do: the payment was already returned to your original payment method."
                ),
                format!("Order {id} was cancelled; the payment was already returned."),
            ));
        }
    };
    Some(say(ctx, long, short))
}

fn refund(ctx: &Context, trace: &mut Trace) -> String {
    if ctx.refund_tool_misread {
        trace.route("handoff");
        return "I'm not able to issue refunds myself; I've passed your request to our team."
            .to_string();
    }
    let peek = ctx.order_id.as_deref().and_then(catalog::find_order);
    let over_limit = peek
        .as_ref()
        .is_some_and(|o| o.within_return_window() && o.amount_cents > REFUND_LIMIT_CENTS);
    let escalate = over_limit && ctx.version == DemoVersion::V2;
    trace.route(if escalate { "handoff" } else { "refund" });
    let Some(id) = &ctx.order_id else {
        return format!("I can help with a refund. {ASK_ORDER_ID}");
    };
    let Some(order) = trace.lookup_order(id) else {
        return not_found(ctx, id, ", so I can't refund it");
    };
    if let Some(reason) = not_eligible(ctx, &order, "refunded") {
        return reason;
    }
    if escalate {
        trace.decide("escalate", "refund_over_limit");
        let limit = catalog::format_amount(REFUND_LIMIT_CENTS);
        return say(
            ctx,
            format!(
                "Your refund request for order {} ({}) is above our {limit} limit for automatic refunds, so I've passed it to a member of our team. They'll get back to you within one business day.",
                order.id,
                order.amount()
            ),
            format!(
                "Your refund request for order {} ({}) needs approval; I've passed it to our team.",
                order.id,
                order.amount()
            ),
        );
    }
    let refund = trace.issue_refund(&order);
    say(
        ctx,
        format!(
            "I've issued a refund of {} for order {} ({}), reference {}. It will appear on your original payment method within 5-7 business days.",
            refund.amount, order.id, order.item, refund.reference
        ),
        format!(
            "I've issued a refund of {} for order {}.",
            refund.amount, order.id
        ),
    )
}

fn exchange(ctx: &Context, trace: &mut Trace) -> String {
    trace.route("exchange");
    let Some(id) = &ctx.order_id else {
        return format!("I can help with an exchange. {ASK_ORDER_ID}");
    };
    let Some(order) = trace.lookup_order(id) else {
        return not_found(ctx, id, ", so I can't exchange it");
    };
    if let Some(reason) = not_eligible(ctx, &order, "exchanged") {
        return reason;
    }
    let reference = trace.create_exchange(&order);
    say(
        ctx,
        format!(
            "I've started exchange {reference} for order {} ({}). We've emailed you a prepaid return label, and your replacement ships as soon as the original arrives.",
            order.id, order.item
        ),
        format!("I've started exchange {reference} for order {}.", order.id),
    )
}
