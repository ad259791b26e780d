//! A support ticket as the import sees it, whatever the vendor: who said what, in order,
//! with the ticket's own facts (ids, dates, tags, rating) and the people it names.

use std::fmt;
use std::path::PathBuf;

use serde::Serialize;

/// The helpdesks whose exports `evalgate import` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Vendor {
    Zendesk,
    Intercom,
    Freshdesk,
    #[serde(rename = "helpscout")]
    HelpScout,
}

impl Vendor {
    pub const ALL: [Vendor; 4] = [
        Vendor::Zendesk,
        Vendor::Intercom,
        Vendor::Freshdesk,
        Vendor::HelpScout,
    ];

    /// The name on the command line and in file names: `zendesk`, `helpscout`.
    pub fn name(self) -> &'static str {
        match self {
            Vendor::Zendesk => "zendesk",
            Vendor::Intercom => "intercom",
            Vendor::Freshdesk => "freshdesk",
            Vendor::HelpScout => "helpscout",
        }
    }

    /// Parses a command-line name; the error lists the known vendors.
    pub fn parse(name: &str) -> Result<Vendor, String> {
        Vendor::ALL
            .into_iter()
            .find(|vendor| vendor.name().eq_ignore_ascii_case(name))
            .ok_or_else(|| {
                let known: Vec<&str> = Vendor::ALL.iter().map(|v| v.name()).collect();
                format!(
                    "unknown ticket vendor `{name}`; known: {}",
                    known.join(", ")
                )
            })
    }
}

impl fmt::Display for Vendor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Who wrote a turn of the conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Speaker {
    /// The requester (end user, contact, lead).
    Customer,
    /// A human support agent (admin, teammate, user of the helpdesk).
    Agent,
    /// An automated answer: the AI agent or another bot (Intercom Fin, answer bots).
    Bot,
}

/// One public message of the conversation. Internal notes are never turns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Turn {
    pub speaker: Speaker,
    /// Plain text: HTML bodies are converted, whitespace trimmed; never empty.
    pub text: String,
    pub at: Option<jiff::Timestamp>,
}

/// How the customer rated the support they got, where the export has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Satisfaction {
    /// The vendor's own value as text (`good`, `bad`, `great`, `not good`, `5`), or the word
    /// a code stands for (Freshdesk's `-103`: `Extremely unhappy`).
    pub score: String,
    pub sentiment: Sentiment,
    pub comment: Option<String>,
}

/// A rating reduced to what every vendor's scale can say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Sentiment {
    Positive,
    Neutral,
    Negative,
    /// Offered but not answered, or a value the vendor's scale does not define.
    Unknown,
}

/// A person the ticket names in its own fields: their name and address are redacted from
/// every text written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Person {
    /// The full name as the vendor gives it (`Jane Doe`).
    pub name: Option<String>,
    pub first: Option<String>,
    pub last: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// The requester (customer) of the ticket, as opposed to an agent.
    pub requester: bool,
}

/// One ticket (conversation), normalised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticket {
    pub vendor: Vendor,
    /// The vendor's ticket/conversation id, as text.
    pub id: String,
    /// A link a person can open (the agent UI), when the export says enough to build one.
    pub url: Option<String>,
    pub subject: Option<String>,
    /// The vendor's status as a word (`open`, `pending`, `solved`, `closed`); Freshdesk's
    /// integer codes are translated.
    pub status: Option<String>,
    pub created: Option<jiff::Timestamp>,
    pub updated: Option<jiff::Timestamp>,
    /// As the vendor gives them, in order, without duplicates.
    pub tags: Vec<String>,
    /// The account the ticket belongs to, as it would appear as `customer` in a usage log:
    /// Zendesk `organization_id` (else `requester_id`), Freshdesk `company_id` (else
    /// `requester_id`), Intercom the first contact's `external_id` (else its `id`), Help
    /// Scout `primaryCustomer.id`.
    pub customer: Option<String>,
    /// The requester first, then everyone else the ticket names.
    pub people: Vec<Person>,
    /// Public messages, oldest first.
    pub turns: Vec<Turn>,
    /// Internal notes seen and left out.
    pub internal_notes: usize,
    pub satisfaction: Option<Satisfaction>,
    /// The export file the ticket came from.
    pub file: PathBuf,
}

/// A record of an export that could not be used (skipped, with why).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordWarning {
    pub file: PathBuf,
    /// Which record: `tickets[3]`, `ticket 35436`, `conversation 367 part 1004`.
    pub record: String,
    pub problem: String,
}

/// What the vendor exports held.
#[derive(Debug, Clone, Default)]
pub struct Parsed {
    /// In the order of the files, then of the records in each file.
    pub tickets: Vec<Ticket>,
    pub warnings: Vec<RecordWarning>,
}
