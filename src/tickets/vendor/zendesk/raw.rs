//! The fields of Zendesk's API objects that the import reads, every one of which may be
//! missing or `null`; and the keys those objects have ([`EXPORT`]), so that a key outside
//! them is reported rather than ignored.

use serde::Deserialize;

use crate::tickets::vendor::fields::{Scalar, When};
use crate::tickets::vendor::known_keys::Keys;

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

/// The keys of a Zendesk export file, from the Support API reference: the objects above and
/// their documented fields, read or not, and the sideloads and paging keys of the list
/// endpoints.
pub(super) static EXPORT: Keys = Keys {
    name: "export file",
    values: &[
        "after_url",
        "after_cursor",
        "before_url",
        "before_cursor",
        "end_of_stream",
        "end_time",
        "next_page",
        "previous_page",
        "count",
        "meta",
        "links",
        "audit",
        // Sideloads other than `users`.
        "groups",
        "organizations",
        "brands",
        "last_audits",
        "metric_sets",
        "metric_events",
        "dates",
        "sharing_agreements",
        "comment_count",
        "incident_counts",
        "ticket_forms",
        "slas",
        "custom_statuses",
    ],
    objects: &[
        ("ticket", &TICKET),
        ("tickets", &TICKET),
        ("comments", &COMMENT),
        ("users", &USER),
        ("ticket_events", &EVENT),
    ],
};

static TICKET: Keys = Keys {
    name: "ticket",
    values: &[
        "id",
        "url",
        "external_id",
        "type",
        "subject",
        "raw_subject",
        "description",
        "priority",
        "status",
        "custom_status_id",
        "recipient",
        "requester_id",
        "submitter_id",
        "assignee_id",
        "assignee_email",
        "organization_id",
        "group_id",
        "collaborator_ids",
        "collaborators",
        "follower_ids",
        "followers",
        "email_cc_ids",
        "email_ccs",
        "forum_topic_id",
        "problem_id",
        "has_incidents",
        "is_public",
        "due_at",
        "tags",
        "custom_fields",
        "fields",
        "sharing_agreement_ids",
        "followup_ids",
        "via_followup_source_id",
        "via_id",
        "macro_id",
        "macro_ids",
        "ticket_form_id",
        "brand_id",
        "allow_channelback",
        "allow_attachments",
        "from_messaging_channel",
        "attribute_value_ids",
        "satisfaction_probability",
        "created_at",
        "updated_at",
        "generated_timestamp",
        "updated_stamp",
        "safe_update",
        "metadata",
        "encoded_id",
        "result_type",
        // Write-only fields of a create or update request.
        "comment",
        "requester",
        "voice_comment",
    ],
    objects: &[("satisfaction_rating", &RATING), ("via", &VIA)],
};

static RATING: Keys = Keys {
    name: "satisfaction rating",
    values: &[
        "id",
        "url",
        "score",
        "comment",
        "reason",
        "reason_id",
        "reason_code",
        "assignee_id",
        "group_id",
        "requester_id",
        "ticket_id",
        "created_at",
        "updated_at",
    ],
    objects: &[],
};

/// The `from` and `to` of a source depend on the channel; they are not checked.
static VIA: Keys = Keys {
    name: "via",
    values: &["channel"],
    objects: &[("source", &VIA_SOURCE)],
};

static VIA_SOURCE: Keys = Keys {
    name: "via source",
    values: &["from", "to", "rel"],
    objects: &[],
};

/// A comment of the comments API: a `Comment` or a `VoiceComment`.
static COMMENT: Keys = Keys {
    name: "comment",
    values: COMMENT_VALUES,
    objects: &[("via", &VIA)],
};

const COMMENT_VALUES: &[&str] = &[
    "id",
    "type",
    "ticket_id",
    "author_id",
    "body",
    "html_body",
    "plain_body",
    "public",
    "attachments",
    "uploads",
    "audit_id",
    "metadata",
    "created_at",
    // Voice comments.
    "data",
    "formatted_from",
    "formatted_to",
    "transcription_visible",
    "trusted",
];

static USER: Keys = Keys {
    name: "user",
    values: &[
        "id",
        "url",
        "name",
        "email",
        "phone",
        "shared_phone_number",
        "role",
        "role_type",
        "custom_role_id",
        "organization_id",
        "default_group_id",
        "external_id",
        "alias",
        "details",
        "notes",
        "signature",
        "tags",
        "user_fields",
        "photo",
        "remote_photo_url",
        "locale",
        "locale_id",
        "time_zone",
        "iana_time_zone",
        "verified",
        "active",
        "shared",
        "shared_agent",
        "suspended",
        "moderator",
        "chat_only",
        "only_private_comments",
        "restricted_agent",
        "ticket_restriction",
        "two_factor_auth_enabled",
        "report_csv",
        "permanently_deleted",
        "last_login_at",
        "created_at",
        "updated_at",
    ],
    objects: &[],
};

/// An event of the incremental ticket events export.
static EVENT: Keys = Keys {
    name: "ticket event",
    values: &[
        "id",
        "ticket_id",
        "timestamp",
        "created_at",
        "updater_id",
        "event_type",
        "via",
        "system",
        "metadata",
        "merged_ticket_ids",
    ],
    objects: &[("child_events", &CHILD_EVENT)],
};

/// A child event: a comment, or one of the other audit events (field changes,
/// notifications, macros, ratings…), which the import does not read.
static CHILD_EVENT: Keys = Keys {
    name: "child event",
    values: &[
        "id",
        "type",
        "event_type",
        "ticket_id",
        "author_id",
        "body",
        "html_body",
        "plain_body",
        "public",
        "attachments",
        "uploads",
        "audit_id",
        "metadata",
        "created_at",
        "via_reference_id",
        "data",
        "formatted_from",
        "formatted_to",
        "transcription_visible",
        "trusted",
        "field_name",
        "value",
        "previous_value",
        "value_reference",
        "subject",
        "recipients",
        "recipient_id",
        "phone_number_id",
        "direct_message",
        "resource",
        "success",
        "message",
        "score",
        "assignee_id",
        "agreement_id",
        "action",
        "comment_id",
        "attachment_id",
        "macro_id",
        "macro_title",
        "macro_deleted",
        "page",
        "communication",
        "ticket_via",
    ],
    objects: &[("via", &VIA)],
};
