//! Zendesk comments: read from the comments API or from incremental events, and the
//! search for the ticket of a comments file that does not say it.

use std::collections::HashMap;
use std::path::PathBuf;

use super::raw::RawComment;
use crate::tickets::vendor::assemble::{self, Body, Log};
use crate::tickets::vendor::fields::{Scalar, When};

/// A comment, its body already text.
pub(super) struct Comment {
    pub(super) id: Option<String>,
    pub(super) author: Option<String>,
    pub(super) public: bool,
    /// `None` for a note, and for a message that is empty once converted.
    pub(super) text: Option<String>,
    pub(super) at: Option<jiff::Timestamp>,
}

/// Comments of one ticket, from the first file that had any.
pub(super) struct CommentGroup {
    pub(super) file: PathBuf,
    pub(super) comments: Vec<Comment>,
}

/// A comment with its text, or `None` (with a warning) for a message without a body.
pub(super) fn comment(
    raw: &RawComment,
    ticket: Option<&Scalar>,
    position: &str,
    event_at: Option<&When>,
    log: &mut Log,
) -> Option<Comment> {
    let id = raw.id.as_ref().map(|id| id.0.clone());
    let record = match (ticket, &id) {
        (Some(ticket), Some(id)) => format!("ticket {ticket} comment {id}"),
        (None, Some(id)) => format!("comment {id}"),
        (Some(ticket), None) => format!("ticket {ticket} {position}"),
        (None, None) => position.to_owned(),
    };
    let at = assemble::timestamp(
        raw.created_at.as_ref().or(event_at),
        "created_at",
        &record,
        log,
    );
    let public = raw.public.unwrap_or(true);
    let text = if public {
        let candidates = [&raw.plain_body, &raw.body, &raw.html_body].map(|b| b.as_deref());
        match Body::of(&candidates) {
            Body::Text(text) => Some(text),
            Body::Empty => None,
            Body::Missing => {
                log.warn(&record, "message without body; skipped");
                return None;
            }
        }
    } else {
        None
    };
    Some(Comment {
        id,
        author: raw.author_id.as_ref().map(|id| id.0.clone()),
        public,
        text,
        at,
    })
}

/// The tickets read, by creation time: where the ticket of a comments file is looked for.
pub(super) struct TicketsByCreation {
    tickets: HashMap<jiff::Timestamp, Vec<usize>>,
}

impl TicketsByCreation {
    /// Each ticket's creation time, in the order of the tickets.
    pub(super) fn new(created: impl Iterator<Item = Option<jiff::Timestamp>>) -> Self {
        let mut tickets: HashMap<jiff::Timestamp, Vec<usize>> = HashMap::new();
        for (i, created) in created.enumerate() {
            if let Some(created) = created {
                tickets.entry(created).or_default().push(i);
            }
        }
        TicketsByCreation { tickets }
    }

    /// The one ticket created when the group's first comment was written and whose
    /// description (given by `description`) is that comment's text, whitespace aside;
    /// otherwise what is wrong, as a warning's problem.
    pub(super) fn find<'a>(
        &self,
        group: &CommentGroup,
        description: impl Fn(usize) -> &'a str,
    ) -> Result<usize, String> {
        let first = group
            .comments
            .iter()
            .filter(|comment| comment.at.is_some())
            .min_by_key(|comment| comment.at)
            .or(group.comments.first());
        let (Some(at), Some(text)) = (
            first.and_then(|c| c.at),
            first.and_then(|c| c.text.as_deref()),
        ) else {
            return Err(
                "the first comment has no date or no text to find its ticket by; the \
                        comments are left out"
                    .to_owned(),
            );
        };
        let matches: Vec<usize> = self
            .tickets
            .get(&at)
            .into_iter()
            .flatten()
            .copied()
            .filter(|&i| {
                description(i)
                    .split_whitespace()
                    .eq(text.split_whitespace())
            })
            .collect();
        match matches[..] {
            [i] => Ok(i),
            [] => Err(format!(
                "{} comment(s) match no ticket: no ticket of the import has the first \
                 comment's text as description and {at} as created_at; left out (add the \
                 ticket's file to the import)",
                group.comments.len()
            )),
            _ => Err(format!(
                "the comments match {} tickets (same description and created_at); left out",
                matches.len()
            )),
        }
    }
}
