//! The fields of Zendesk's API objects that the import reads; every other field is
//! ignored, and every one may be missing or `null`.

use serde::Deserialize;

use crate::tickets::vendor::fields::{Scalar, When};

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct RawExport {
    pub(super) ticket: Option<RawTicket>,
    pub(super) tickets: Option<Vec<RawTicket>>,
    pub(super) comments: Option<Vec<RawComment>>,
    pub(super) users: Option<Vec<RawUser>>,
    pub(super) ticket_events: Option<Vec<RawEvent>>,
    pub(super) after_url: Option<String>,
    pub(super) next_page: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct RawTicket {
    pub(super) id: Option<Scalar>,
    pub(super) url: Option<String>,
    pub(super) subject: Option<String>,
    pub(super) description: Option<String>,
    pub(super) status: Option<String>,
    pub(super) requester_id: Option<Scalar>,
    pub(super) submitter_id: Option<Scalar>,
    pub(super) assignee_id: Option<Scalar>,
    pub(super) organization_id: Option<Scalar>,
    pub(super) collaborator_ids: Option<Vec<Scalar>>,
    pub(super) tags: Option<Vec<String>>,
    pub(super) satisfaction_rating: Option<RawRating>,
    pub(super) via: Option<RawVia>,
    pub(super) created_at: Option<When>,
    pub(super) updated_at: Option<When>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct RawRating {
    pub(super) score: Option<String>,
    pub(super) comment: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct RawVia {
    pub(super) channel: Option<Scalar>,
    pub(super) source: Option<RawViaSource>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct RawViaSource {
    pub(super) from: Option<RawAddress>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct RawAddress {
    pub(super) address: Option<String>,
    pub(super) name: Option<String>,
}

/// A comment of the comments API, or a `Comment` child event of the incremental events.
#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct RawComment {
    pub(super) id: Option<Scalar>,
    pub(super) ticket_id: Option<Scalar>,
    #[serde(rename = "type")]
    pub(super) kind: Option<String>,
    pub(super) event_type: Option<String>,
    pub(super) author_id: Option<Scalar>,
    pub(super) body: Option<String>,
    pub(super) html_body: Option<String>,
    pub(super) plain_body: Option<String>,
    pub(super) public: Option<bool>,
    pub(super) created_at: Option<When>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct RawUser {
    pub(super) id: Option<Scalar>,
    pub(super) name: Option<String>,
    pub(super) email: Option<String>,
    pub(super) phone: Option<String>,
    pub(super) role: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct RawEvent {
    pub(super) ticket_id: Option<Scalar>,
    pub(super) created_at: Option<When>,
    pub(super) timestamp: Option<When>,
    pub(super) child_events: Option<Vec<RawComment>>,
}
