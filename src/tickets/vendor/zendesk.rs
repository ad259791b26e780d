//! Zendesk Support API exports: tickets (`{"ticket"}`, `{"tickets"}` of the list and the
//! incremental export), one ticket's comments (`{"comments"}`, with sideloaded `users`),
//! incremental ticket events with their comments (`{"ticket_events"}`), or a ticket and
//! its comments in one file.
//!
//! A comments file does not say its ticket (the id is in the URL it was fetched from): it
//! is matched to the ticket whose `description` and `created_at` are its first comment's,
//! which is how Zendesk makes a ticket's description. Comments are joined to tickets
//! after every file is read, each comment once (by id) whichever files held it.

mod comments;
mod raw;

use std::collections::{HashMap, HashSet};
use std::path::Path;

use super::assemble::{self, Log, People, person, plain_text};
use super::export_file;
use super::fields::{OneOrMany, Scalar, non_empty};
use super::known_keys::Keys;
use super::read::Importer;
use super::shape;
use crate::tickets::model::{
    Person, RecordWarning, Satisfaction, Sentiment, Speaker, Ticket, Turn, Vendor,
};
use comments::{Comment, CommentGroup, TicketsByCreation, comment};
use evalgate::errors::Error;
use raw::{RawComment, RawEvent, RawExport, RawRating, RawTicket, RawUser};

/// A ticket read, waiting for its comments and users.
struct Pending {
    /// Everything but turns and people.
    ticket: Ticket,
    /// As plain text: the first customer turn when no comment is found.
    description: Option<String>,
    requester: Option<String>,
    submitter: Option<String>,
    assignee: Option<String>,
    collaborators: Vec<String>,
    /// The `From` of an email ticket: the requester when no user record says more.
    sender: Option<Person>,
}

#[derive(Default)]
pub(super) struct Import {
    tickets: Vec<Pending>,
    index: HashMap<String, usize>,
    users: HashMap<String, RawUser>,
    comments: HashMap<String, CommentGroup>,
    /// Comments files that do not say their ticket, matched at the end.
    unplaced: Vec<CommentGroup>,
}

impl Importer for Import {
    const VENDOR: Vendor = Vendor::Zendesk;
    const KNOWN: &'static Keys = &raw::EXPORT;

    fn add_file(
        &mut self,
        path: &Path,
        bytes: &[u8],
        warnings: &mut Vec<RecordWarning>,
    ) -> Result<(), Error> {
        let export = match export_file::parse::<OneOrMany<RawExport>>(path, bytes, Self::VENDOR)? {
            OneOrMany::One(export) => export,
            OneOrMany::Many(_) => return Err(shape::wrong_shape(path, bytes, Self::VENDOR)),
        };
        let RawExport {
            ticket,
            tickets,
            comments,
            users,
            ticket_events,
            after_url,
            next_page,
        } = export;
        if ticket.is_none() && tickets.is_none() && comments.is_none() && ticket_events.is_none() {
            return Err(shape::wrong_shape(path, bytes, Self::VENDOR));
        }
        let mut log = Log::new(path, warnings);
        for user in users.into_iter().flatten() {
            if let Some(id) = user.id.clone() {
                self.users.entry(id.0).or_insert(user);
            }
        }
        let site = after_url.or(next_page).as_deref().and_then(site_of);
        let ticket_of_file = ticket.as_ref().and_then(|ticket| ticket.id.clone());
        if let Some(ticket) = ticket {
            self.add_ticket(ticket, "ticket", site.as_deref(), &mut log);
        }
        for (i, ticket) in tickets.into_iter().flatten().enumerate() {
            self.add_ticket(ticket, &format!("tickets[{i}]"), site.as_deref(), &mut log);
        }
        if let Some(comments) = comments {
            self.add_comments(comments, ticket_of_file, &mut log);
        }
        for (i, event) in ticket_events.into_iter().flatten().enumerate() {
            self.add_event(event, i, &mut log);
        }
        Ok(())
    }

    fn finish(mut self, warnings: &mut Vec<RecordWarning>) -> Vec<Ticket> {
        self.place_comments(warnings);
        let pending = std::mem::take(&mut self.tickets);
        let mut tickets = Vec::with_capacity(pending.len());
        for pending in pending {
            let group = self.comments.remove(&pending.ticket.id);
            let file = pending.ticket.file.clone();
            let mut log = Log::new(&file, warnings);
            tickets.extend(self.build(pending, group, &mut log));
        }
        let mut left: Vec<(String, CommentGroup)> = self.comments.drain().collect();
        left.sort_by(|a, b| a.0.cmp(&b.0));
        for (id, group) in left {
            Log::new(&group.file, warnings).warn(
                &format!("ticket {id}"),
                format!(
                    "{} comment(s) of a ticket that no export file holds; left out (add the \
                     ticket's file to the import)",
                    group.comments.len()
                ),
            );
        }
        tickets
    }
}

impl Import {
    fn add_ticket(&mut self, raw: RawTicket, position: &str, site: Option<&str>, log: &mut Log) {
        let Some(id) = raw.id.map(|id| id.0).filter(|id| !id.trim().is_empty()) else {
            log.warn(position, "ticket without id; skipped");
            return;
        };
        let record = format!("ticket {id}");
        let created = assemble::timestamp(raw.created_at.as_ref(), "created_at", &record, log);
        let updated = assemble::timestamp(raw.updated_at.as_ref(), "updated_at", &record, log);
        let url = raw
            .url
            .as_deref()
            .and_then(site_of)
            .or_else(|| site.map(str::to_owned))
            .map(|site| format!("{site}/agent/tickets/{id}"));
        let sender = raw
            .via
            .filter(|via| via.channel.as_ref().is_some_and(|c| c.as_str() == "email"))
            .and_then(|via| via.source?.from)
            .and_then(|from| {
                person(
                    from.name.as_deref(),
                    None,
                    None,
                    from.address.as_deref(),
                    None,
                    true,
                )
            });
        let customer = raw.organization_id.or_else(|| raw.requester_id.clone());
        let mut pending = Pending {
            ticket: Ticket {
                vendor: Vendor::Zendesk,
                id: id.clone(),
                url,
                subject: non_empty(raw.subject.as_deref()),
                status: non_empty(raw.status.as_deref()),
                created,
                updated,
                tags: assemble::unique_tags(raw.tags.unwrap_or_default()),
                customer: customer.map(|customer| customer.0),
                people: Vec::new(),
                turns: Vec::new(),
                internal_notes: 0,
                satisfaction: raw.satisfaction_rating.and_then(satisfaction),
                file: log.file().to_path_buf(),
            },
            description: raw
                .description
                .as_deref()
                .map(plain_text)
                .filter(|text| !text.is_empty()),
            requester: raw.requester_id.map(|id| id.0),
            submitter: raw.submitter_id.map(|id| id.0),
            assignee: raw.assignee_id.map(|id| id.0),
            collaborators: raw
                .collaborator_ids
                .into_iter()
                .flatten()
                .map(|id| id.0)
                .collect(),
            sender,
        };
        match self.index.get(&id) {
            // The incremental export repeats a ticket updated while it ran: the later
            // record is the newer one.
            Some(&at) => {
                let old = &mut self.tickets[at];
                pending.ticket.url = pending.ticket.url.or(old.ticket.url.take());
                *old = pending;
            }
            None => {
                self.index.insert(id, self.tickets.len());
                self.tickets.push(pending);
            }
        }
    }

    fn add_comments(&mut self, raws: Vec<RawComment>, ticket: Option<Scalar>, log: &mut Log) {
        // A comments file is one ticket's: a comment that names it names it for all.
        let ticket_of_file = ticket.or_else(|| raws.iter().find_map(|raw| raw.ticket_id.clone()));
        let mut unplaced = Vec::new();
        for (i, raw) in raws.into_iter().enumerate() {
            let ticket = raw.ticket_id.clone().or_else(|| ticket_of_file.clone());
            let position = format!("comments[{i}]");
            let Some(comment) = comment(&raw, ticket.as_ref(), &position, None, log) else {
                continue;
            };
            match ticket {
                Some(ticket) => self.push_comment(ticket.0, comment, log.file()),
                None => unplaced.push(comment),
            }
        }
        if !unplaced.is_empty() {
            self.unplaced.push(CommentGroup {
                file: log.file().to_path_buf(),
                comments: unplaced,
            });
        }
    }

    fn add_event(&mut self, event: RawEvent, i: usize, log: &mut Log) {
        let at = event.created_at.or(event.timestamp);
        for (j, child) in event.child_events.into_iter().flatten().enumerate() {
            let is_comment = [&child.kind, &child.event_type]
                .iter()
                .any(|kind| kind.as_deref() == Some("Comment"));
            if !is_comment {
                continue;
            }
            let position = format!("ticket_events[{i}].child_events[{j}]");
            let Some(ticket) = event.ticket_id.clone() else {
                log.warn(&position, "comment event without ticket_id; skipped");
                continue;
            };
            if let Some(comment) = comment(&child, Some(&ticket), &position, at.as_ref(), log) {
                self.push_comment(ticket.0, comment, log.file());
            }
        }
    }

    fn push_comment(&mut self, ticket: String, comment: Comment, file: &Path) {
        self.comments
            .entry(ticket)
            .or_insert_with(|| CommentGroup {
                file: file.to_path_buf(),
                comments: Vec::new(),
            })
            .comments
            .push(comment);
    }

    /// Gives each comments file without a ticket id the ticket whose description and
    /// creation time are those of its first comment.
    fn place_comments(&mut self, warnings: &mut Vec<RecordWarning>) {
        if self.unplaced.is_empty() {
            return;
        }
        let index = TicketsByCreation::new(self.tickets.iter().map(|p| p.ticket.created));
        for group in std::mem::take(&mut self.unplaced) {
            let description = |i: usize| self.tickets[i].description.as_deref().unwrap_or("");
            match index.find(&group, description) {
                Ok(i) => {
                    let id = self.tickets[i].ticket.id.clone();
                    for comment in group.comments {
                        self.push_comment(id.clone(), comment, &group.file);
                    }
                }
                Err(problem) => Log::new(&group.file, warnings).warn("comments", problem),
            }
        }
    }

    fn build(
        &self,
        pending: Pending,
        group: Option<CommentGroup>,
        log: &mut Log,
    ) -> Option<Ticket> {
        let Pending {
            mut ticket,
            description,
            requester,
            submitter,
            assignee,
            collaborators,
            sender,
        } = pending;
        let mut people = People::default();
        let requester_user = requester.as_ref().and_then(|id| self.users.get(id));
        people.add(
            requester_user
                .and_then(|user| user_person(user, true))
                .or(sender),
        );
        for id in [&submitter, &assignee].into_iter().flatten() {
            people.add(self.users.get(id).and_then(|user| user_person(user, false)));
        }
        match group {
            Some(group) => {
                let mut seen = HashSet::new();
                for comment in group.comments {
                    if let Some(id) = &comment.id
                        && !seen.insert(id.clone())
                    {
                        continue;
                    }
                    let author = comment.author.as_ref().and_then(|id| self.users.get(id));
                    people.add(author.and_then(|user| user_person(user, false)));
                    if !comment.public {
                        ticket.internal_notes += 1;
                    } else if let Some(text) = comment.text {
                        let speaker = self.speaker(comment.author.as_deref(), requester.as_deref());
                        ticket.turns.push(Turn {
                            speaker,
                            text,
                            at: comment.at,
                        });
                    }
                }
            }
            None => {
                if let Some(text) = description {
                    ticket.turns.push(Turn {
                        speaker: Speaker::Customer,
                        text,
                        at: ticket.created,
                    });
                }
            }
        }
        for id in &collaborators {
            people.add(self.users.get(id).and_then(|user| user_person(user, false)));
        }
        ticket.people = people.into_vec();
        assemble::finish(ticket, log)
    }

    /// The sideloaded user's role when there is one; otherwise the requester is the
    /// customer and everyone else an agent.
    fn speaker(&self, author: Option<&str>, requester: Option<&str>) -> Speaker {
        let role = author
            .and_then(|author| self.users.get(author))
            .and_then(|user| user.role.as_deref());
        match role {
            Some("end-user" | "end_user") => Speaker::Customer,
            Some("agent" | "admin") => Speaker::Agent,
            _ if author.is_some() && author == requester => Speaker::Customer,
            _ => Speaker::Agent,
        }
    }
}

fn user_person(user: &RawUser, requester: bool) -> Option<Person> {
    let (name, email, phone) = (&user.name, &user.email, &user.phone);
    person(
        name.as_deref(),
        None,
        None,
        email.as_deref(),
        phone.as_deref(),
        requester,
    )
}

/// `https://x.zendesk.com` of an API URL (`https://x.zendesk.com/api/v2/…`).
fn site_of(api_url: &str) -> Option<String> {
    let (site, _) = api_url.split_once("/api/v2/")?;
    (site.starts_with("https://") || site.starts_with("http://")).then(|| site.to_owned())
}

fn satisfaction(raw: RawRating) -> Option<Satisfaction> {
    let score = non_empty(raw.score.as_deref())?;
    let lower = score.to_ascii_lowercase();
    let sentiment = if lower == "unoffered" {
        // Never asked: there is no rating to keep.
        return None;
    } else if lower.starts_with("good") {
        Sentiment::Positive
    } else if lower.starts_with("bad") {
        Sentiment::Negative
    } else {
        Sentiment::Unknown
    };
    Some(Satisfaction {
        score,
        sentiment,
        comment: non_empty(raw.comment.as_deref()),
    })
}
