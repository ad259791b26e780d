//! The demo shop's data: twelve recent orders (`A1001`..`A1012`), each customer's archived
//! order history (`H<customer><nnn>`, e.g. `H1007`), and six knowledge-base articles.
//!
//! Everything is fixed, so eval cases can rely on it:
//!
//! | order | customer | item                  | amount   | status     | date (ETA or delivery) |
//! |-------|----------|-----------------------|----------|------------|------------------------|
//! | A1001 | alice    | Wireless headphones   | $89.00   | shipped    | ETA 2026-11-20         |
//! | A1002 | alice    | Running shoes         | $120.00  | delivered  | 2026-11-02             |
//! | A1003 | bob      | 27-inch 4K monitor    | $649.00  | delivered  | 2026-10-28             |
//! | A1004 | bob      | USB-C cable           | $12.50   | processing | ETA 2026-11-24         |
//! | A1005 | carol    | Espresso machine      | $899.00  | shipped    | ETA 2026-11-19         |
//! | A1006 | carol    | Coffee grinder        | $149.00  | delivered  | 2026-11-05             |
//! | A1007 | dan      | Mechanical keyboard   | $179.00  | cancelled  | -                      |
//! | A1008 | dan      | Standing desk         | $1249.00 | delivered  | 2026-10-30             |
//! | A1009 | erin     | Yoga mat              | $35.00   | delivered  | 2026-11-08             |
//! | A1010 | erin     | Smartwatch            | $329.00  | processing | ETA 2026-11-26         |
//! | A1011 | frank    | Winter jacket         | $210.00  | delivered  | 2026-09-20 (too old)   |
//! | A1012 | frank    | Hiking boots          | $540.00  | shipped    | ETA 2026-11-21         |
//!
//! "Today" is [`TODAY`]; delivered orders can be refunded or exchanged for 30 days, i.e. when
//! delivered on or after [`RETURN_WINDOW_START`] (A1011 and all archived orders are too old).

/// The shop's notion of today.
pub const TODAY: &str = "2026-11-12";
/// Orders delivered on or after this date are within the 30-day return window.
pub const RETURN_WINDOW_START: &str = "2026-10-13";
/// Refunds above this amount (in cents) need a human's approval (enforced by V2 only).
pub const REFUND_LIMIT_CENTS: u64 = 50_000;
/// The knowledge-base index version reported in the observation envelope.
pub const KB_INDEX: &str = "kb-2026-11";

/// Where an order is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderStatus {
    /// Paid, not yet shipped: it has an ETA.
    Processing,
    /// On its way: it has an ETA.
    Shipped,
    /// Arrived: it has a delivery date, and can be refunded or exchanged within the return window.
    Delivered,
    /// Cancelled: neither an ETA nor a delivery date.
    Cancelled,
}

impl OrderStatus {
    /// The status as the agent words it: `processing`, `shipped`, `delivered` or `cancelled`.
    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Processing => "processing",
            OrderStatus::Shipped => "shipped",
            OrderStatus::Delivered => "delivered",
            OrderStatus::Cancelled => "cancelled",
        }
    }
}

/// One order of the shop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    /// `A1001`..`A1012` for recent orders, `H<customer><nnn>` for archived ones.
    pub id: String,
    /// The customer's handle, e.g. `alice`.
    pub customer: &'static str,
    /// What was ordered.
    pub item: &'static str,
    /// The amount in cents.
    pub amount_cents: u64,
    /// Where the order is.
    pub status: OrderStatus,
    /// Expected arrival date of a processing or shipped order.
    pub eta: Option<&'static str>,
    /// Delivery date of a delivered order.
    pub delivered_on: Option<String>,
}

impl Order {
    /// The amount as shown to customers, e.g. `$649.00`.
    pub fn amount(&self) -> String {
        format_amount(self.amount_cents)
    }

    /// Delivered within the last 30 days.
    pub fn within_return_window(&self) -> bool {
        self.status == OrderStatus::Delivered
            && self
                .delivered_on
                .as_deref()
                .is_some_and(|d| d >= RETURN_WINDOW_START)
    }
}

/// `12_950` → `$129.50`.
pub fn format_amount(cents: u64) -> String {
    format!("${}.{:02}", cents / 100, cents % 100)
}

use OrderStatus::{Cancelled, Delivered, Processing, Shipped};

/// id, customer, item, cents, status, date (ETA or delivery date; "" when none).
type Row = (
    &'static str,
    &'static str,
    &'static str,
    u64,
    OrderStatus,
    &'static str,
);

const ORDERS: [Row; 12] = [
    (
        "A1001",
        "alice",
        "Wireless headphones",
        8_900,
        Shipped,
        "2026-11-20",
    ),
    (
        "A1002",
        "alice",
        "Running shoes",
        12_000,
        Delivered,
        "2026-11-02",
    ),
    (
        "A1003",
        "bob",
        "27-inch 4K monitor",
        64_900,
        Delivered,
        "2026-10-28",
    ),
    (
        "A1004",
        "bob",
        "USB-C cable",
        1_250,
        Processing,
        "2026-11-24",
    ),
    (
        "A1005",
        "carol",
        "Espresso machine",
        89_900,
        Shipped,
        "2026-11-19",
    ),
    (
        "A1006",
        "carol",
        "Coffee grinder",
        14_900,
        Delivered,
        "2026-11-05",
    ),
    ("A1007", "dan", "Mechanical keyboard", 17_900, Cancelled, ""),
    (
        "A1008",
        "dan",
        "Standing desk",
        124_900,
        Delivered,
        "2026-10-30",
    ),
    ("A1009", "erin", "Yoga mat", 3_500, Delivered, "2026-11-08"),
    (
        "A1010",
        "erin",
        "Smartwatch",
        32_900,
        Processing,
        "2026-11-26",
    ),
    (
        "A1011",
        "frank",
        "Winter jacket",
        21_000,
        Delivered,
        "2026-09-20",
    ),
    (
        "A1012",
        "frank",
        "Hiking boots",
        54_000,
        Shipped,
        "2026-11-21",
    ),
];

/// The customers and how many archived (older, delivered) orders each has. Every customer
/// but `dan` has at least 20 orders in total, so `list_orders` returns a large result.
pub const CUSTOMERS: [(&str, u32); 6] = [
    ("alice", 22),
    ("bob", 19),
    ("carol", 24),
    ("dan", 0),
    ("erin", 30),
    ("frank", 18),
];

const ARCHIVE_ITEMS: [(&str, u64); 7] = [
    ("Phone case", 1_999),
    ("Water bottle", 2_450),
    ("Desk lamp", 4_900),
    ("Backpack", 7_900),
    ("Bluetooth speaker", 5_999),
    ("Notebook set", 1_200),
    ("Sunglasses", 8_500),
];

fn from_row(row: &Row) -> Order {
    let (id, customer, item, amount_cents, status, date) = *row;
    let date = (!date.is_empty()).then_some(date);
    Order {
        id: id.to_string(),
        customer,
        item,
        amount_cents,
        status,
        eta: date.filter(|_| matches!(status, Processing | Shipped)),
        delivered_on: date.filter(|_| status == Delivered).map(str::to_string),
    }
}

/// The `n`-th (1-based) archived order of the customer at `index` (0-based in [`CUSTOMERS`]).
fn archived(index: usize, n: u32) -> Order {
    let (customer, _) = CUSTOMERS[index];
    let (item, amount_cents) = ARCHIVE_ITEMS[(index + n as usize) % ARCHIVE_ITEMS.len()];
    let month = 1 + (n - 1) / 3;
    let day = 1 + ((n - 1) % 3) * 9;
    Order {
        id: format!("H{}{:03}", index + 1, n),
        customer,
        item,
        amount_cents,
        status: Delivered,
        eta: None,
        delivered_on: Some(format!("2025-{month:02}-{day:02}")),
    }
}

/// The twelve recent orders, `A1001` first.
pub fn recent_orders() -> impl Iterator<Item = Order> {
    ORDERS.iter().map(from_row)
}

/// Finds an order by id (case-insensitive): a recent `A1xxx` order or an archived one.
pub fn find_order(id: &str) -> Option<Order> {
    let id = id.to_ascii_uppercase();
    if let Some(row) = ORDERS.iter().find(|row| row.0 == id) {
        return Some(from_row(row));
    }
    let digits = id.strip_prefix('H').filter(|d| d.len() == 4)?;
    let index = digits[..1].parse::<usize>().ok()?.checked_sub(1)?;
    let n = digits[1..].parse::<u32>().ok()?;
    let (_, count) = CUSTOMERS.get(index)?;
    (n >= 1 && n <= *count).then(|| archived(index, n))
}

/// Normalizes a customer handle: `Alice`, `alice@example.com` → `alice`.
pub fn customer_key(customer: &str) -> String {
    let customer = customer.trim();
    let local = customer.split('@').next().unwrap_or(customer);
    local.to_ascii_lowercase()
}

/// All orders of a customer, newest first: recent orders, then the archive.
pub fn orders_of(customer: &str) -> Vec<Order> {
    let key = customer_key(customer);
    let Some(index) = CUSTOMERS.iter().position(|(name, _)| *name == key) else {
        return Vec::new();
    };
    let mut orders: Vec<Order> = ORDERS
        .iter()
        .rev()
        .filter(|row| row.1 == key)
        .map(from_row)
        .collect();
    orders.extend((1..=CUSTOMERS[index].1).rev().map(|n| archived(index, n)));
    orders
}

/// A knowledge-base article; `keywords` are lowercase phrases matched on word boundaries.
#[derive(Debug)]
pub struct Article {
    /// The article's id, e.g. `kb-returns`.
    pub id: &'static str,
    /// The article's title.
    pub title: &'static str,
    /// Lowercase phrases that find the article, matched on word boundaries.
    pub keywords: &'static [&'static str],
    /// The article's text, as the agent quotes it.
    pub body: &'static str,
}

/// The knowledge base searched by `search_kb`, in priority order.
#[rustfmt::skip]
pub const ARTICLES: [Article; 6] = [
    Article {
        id: "kb-returns",
        title: "Return policy",
        keywords: &[
            "return policy", "returns policy", "refund policy", "return window", "returns",
            "can i return", "how long do i have to return", "how many days",
        ],
        body: "You can return most items within 30 days of delivery for a full refund. Items must be unused and in their original packaging. Refunds go back to your original payment method within 5-7 business days.",
    },
    Article {
        id: "kb-shipping",
        title: "Shipping times",
        keywords: &[
            "shipping time", "shipping times", "how long does shipping", "how long does delivery",
            "delivery time", "delivery times", "shipping take", "delivery take", "shipping cost",
            "shipping costs", "free shipping", "express shipping",
        ],
        body: "Standard shipping takes 3-5 business days and express shipping 1-2 business days. Orders over $50.00 ship for free; otherwise standard shipping costs $4.99.",
    },
    Article {
        id: "kb-warranty",
        title: "Warranty",
        keywords: &[
            "warranty", "warranties", "guarantee",
        ],
        body: "All electronics come with a 2-year warranty and all other items with a 1-year warranty against manufacturing defects. To make a warranty claim, reply with your order number and a photo of the defect.",
    },
    Article {
        id: "kb-international",
        title: "International shipping",
        keywords: &[
            "international", "internationally", "abroad", "customs", "ship to", "other countries",
        ],
        body: "We ship to 32 countries in Europe and North America. International delivery takes 7-14 business days, and customs duties are paid by the recipient.",
    },
    Article {
        id: "kb-payment",
        title: "Payment methods",
        keywords: &[
            "payment methods", "payment method", "pay with", "paypal", "klarna", "installments",
            "apple pay", "gift card", "gift cards",
        ],
        body: "We accept Visa, Mastercard, American Express, PayPal, Apple Pay and gift cards. Orders over $200.00 can be paid in 3 interest-free installments with Klarna.",
    },
    Article {
        id: "kb-exchanges",
        title: "Exchanges",
        keywords: &[
            "exchange policy", "exchanges policy", "how do exchanges work", "can i exchange",
        ],
        body: "You can exchange an item for a different size or colour within 30 days of delivery. Start the exchange with your order number; we email a prepaid return label and ship the replacement as soon as the original arrives.",
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_lookups() {
        assert_eq!(recent_orders().count(), 12);
        let monitor = find_order("a1003").unwrap();
        assert_eq!(
            (monitor.customer, monitor.amount().as_str()),
            ("bob", "$649.00")
        );
        assert!(monitor.within_return_window());
        assert!(!find_order("A1011").unwrap().within_return_window());
        assert_eq!(find_order("A1001").unwrap().eta, Some("2026-11-20"));
        assert!(find_order("A9999").is_none());
        let old = find_order("H1022").unwrap();
        assert_eq!((old.customer, old.status), ("alice", Delivered));
        assert!(!old.within_return_window());
        assert!(find_order("H1023").is_none() && find_order("H4001").is_none());
        assert_eq!(orders_of("Alice@example.com").len(), 24);
        assert_eq!(orders_of("alice")[0].id, "A1002");
        assert_eq!(orders_of("dan").len(), 2);
        assert!(orders_of("zed").is_empty());
        for (name, _) in CUSTOMERS {
            for order in orders_of(name) {
                assert_eq!(find_order(&order.id).as_ref(), Some(&order));
            }
        }
    }
}
