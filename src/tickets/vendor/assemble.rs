//! The steps every vendor takes to turn its records into a [`Ticket`]: message text out of
//! a body, dates read with a warning when they are bad, tags without duplicates, the
//! people the ticket names, turns in order, and the last check that there is a customer
//! message to make a case from.

use std::path::Path;

use super::fields::{When, non_empty};
use crate::tickets::html;
use crate::tickets::model::{Person, RecordWarning, Speaker, Ticket, Turn, Vendor};

/// Where record warnings of one file go.
pub(crate) struct Log<'a> {
    file: &'a Path,
    warnings: &'a mut Vec<RecordWarning>,
}

impl<'a> Log<'a> {
    pub(crate) fn new(file: &'a Path, warnings: &'a mut Vec<RecordWarning>) -> Self {
        Log { file, warnings }
    }

    pub(crate) fn file(&self) -> &'a Path {
        self.file
    }

    pub(crate) fn warn(&mut self, record: &str, problem: impl Into<String>) {
        self.warnings.push(RecordWarning {
            file: self.file.to_path_buf(),
            record: record.to_owned(),
            problem: problem.into(),
        });
    }
}

/// What a message's body fields held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Body {
    /// No body field at all (or only `null`s): worth a warning.
    Missing,
    /// A body that is empty once converted (an image, an attachment only): dropped quietly.
    Empty,
    Text(String),
}

impl Body {
    /// The first candidate with text in it, in the vendor's order of preference (its
    /// plain-text field before its HTML one).
    pub(crate) fn of(candidates: &[Option<&str>]) -> Body {
        let mut present = false;
        for candidate in candidates.iter().flatten() {
            present = true;
            let text = plain_text(candidate);
            if !text.is_empty() {
                return Body::Text(text);
            }
        }
        if present { Body::Empty } else { Body::Missing }
    }
}

/// A body as plain text: converted when it is HTML, trimmed otherwise.
pub(crate) fn plain_text(body: &str) -> String {
    if html::looks_like_html(body) {
        html::to_text(body)
    } else {
        body.trim().to_owned()
    }
}

/// The instant of an optional date field; a date that cannot be read is a warning, and
/// the record is kept without it.
pub(crate) fn timestamp(
    when: Option<&When>,
    field: &str,
    record: &str,
    log: &mut Log<'_>,
) -> Option<jiff::Timestamp> {
    let when = when.filter(|when| !when.is_blank())?;
    match when.timestamp() {
        Ok(timestamp) => Some(timestamp),
        Err(why) => {
            log.warn(
                record,
                format!("unreadable `{field}`: {why}; kept without it"),
            );
            None
        }
    }
}

/// Tags trimmed, empty ones dropped, each kept once where it first appears.
pub(crate) fn unique_tags(tags: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut unique: Vec<String> = Vec::new();
    for tag in tags {
        let tag = tag.trim();
        if !tag.is_empty() && !unique.iter().any(|seen| seen == tag) {
            unique.push(tag.to_owned());
        }
    }
    unique
}

/// A person built from whatever name and address fields a vendor has; `None` when none of
/// them holds text (there is nothing to redact then).
pub(crate) fn person(
    name: Option<&str>,
    first: Option<&str>,
    last: Option<&str>,
    email: Option<&str>,
    phone: Option<&str>,
    requester: bool,
) -> Option<Person> {
    let person = Person {
        name: non_empty(name),
        first: non_empty(first),
        last: non_empty(last),
        email: non_empty(email),
        phone: non_empty(phone),
        requester,
    };
    let named = person.name.is_some() || person.first.is_some() || person.last.is_some();
    (named || person.email.is_some() || person.phone.is_some()).then_some(person)
}

/// The people of one ticket, each once: the same address (or, without one, the same
/// name) seen twice is one person, with the fields of both.
#[derive(Debug, Default)]
pub(crate) struct People {
    list: Vec<Person>,
}

impl People {
    pub(crate) fn add(&mut self, person: Option<Person>) {
        let Some(person) = person else { return };
        match self
            .list
            .iter_mut()
            .find(|known| same_person(known, &person))
        {
            Some(known) => merge(known, person),
            None => self.list.push(person),
        }
    }

    pub(crate) fn has_requester(&self) -> bool {
        self.list.iter().any(|person| person.requester)
    }

    /// The requester first, then the others in the order they were met.
    pub(crate) fn into_vec(mut self) -> Vec<Person> {
        // A stable sort: `false < true`, so requesters come first and others keep order.
        self.list.sort_by_key(|person| !person.requester);
        self.list
    }
}

fn same_person(a: &Person, b: &Person) -> bool {
    match (&a.email, &b.email) {
        (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
        (None, None) => {
            let named = a.name.is_some() || a.first.is_some() || a.last.is_some();
            named && (&a.name, &a.first, &a.last) == (&b.name, &b.first, &b.last)
        }
        _ => false,
    }
}

fn merge(known: &mut Person, other: Person) {
    known.name = known.name.take().or(other.name);
    known.first = known.first.take().or(other.first);
    known.last = known.last.take().or(other.last);
    known.email = known.email.take().or(other.email);
    known.phone = known.phone.take().or(other.phone);
    known.requester |= other.requester;
}

/// Turns oldest first. The sort is stable, and a turn without a date stays right after
/// the turn before it, so messages the export gives in order keep it where dates are
/// missing or equal.
pub(crate) fn sort_oldest_first(turns: &mut Vec<Turn>) {
    let mut last = jiff::Timestamp::MIN;
    let in_order = turns.iter().all(|turn| {
        let at = turn.at.unwrap_or(last);
        let later = at >= last;
        last = at;
        later
    });
    if in_order {
        return;
    }
    last = jiff::Timestamp::MIN;
    let mut keyed: Vec<(jiff::Timestamp, Turn)> = turns
        .drain(..)
        .map(|turn| {
            last = turn.at.unwrap_or(last);
            (last, turn)
        })
        .collect();
    keyed.sort_by_key(|(key, _)| *key);
    turns.extend(keyed.into_iter().map(|(_, turn)| turn));
}

/// The ticket with its turns in order, or `None` (and a warning) when no turn is the
/// customer's: a conversation the customer took no part in makes no case.
pub(crate) fn finish(mut ticket: Ticket, log: &mut Log<'_>) -> Option<Ticket> {
    sort_oldest_first(&mut ticket.turns);
    if ticket
        .turns
        .iter()
        .any(|turn| turn.speaker == Speaker::Customer)
    {
        return Some(ticket);
    }
    let record = match ticket.vendor {
        Vendor::Intercom | Vendor::HelpScout => format!("conversation {}", ticket.id),
        Vendor::Zendesk | Vendor::Freshdesk => format!("ticket {}", ticket.id),
    };
    log.warn(
        &record,
        "no customer message in it (nothing to make a case from); skipped",
    );
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn turn(text: &str, at: Option<&str>) -> Turn {
        Turn {
            speaker: Speaker::Customer,
            text: text.into(),
            at: at.map(|at| at.parse().unwrap()),
        }
    }

    #[test]
    fn undated_turns_stay_after_their_predecessor() {
        let mut turns = vec![
            turn("c", Some("2024-01-03T00:00:00Z")),
            turn("c2", None),
            turn("a", Some("2024-01-01T00:00:00Z")),
            turn("b", Some("2024-01-02T00:00:00Z")),
            turn("b2", Some("2024-01-02T00:00:00Z")),
        ];
        sort_oldest_first(&mut turns);
        let order: Vec<&str> = turns.iter().map(|t| t.text.as_str()).collect();
        assert_eq!(order, ["a", "b", "b2", "c", "c2"]);
    }

    #[test]
    fn bodies_prefer_the_first_field_with_text() {
        assert_eq!(
            Body::of(&[Some("  plain "), Some("<p>html</p>")]),
            Body::Text("plain".into())
        );
        assert_eq!(
            Body::of(&[Some(""), Some("<p>html &amp; more</p>")]),
            Body::Text("html & more".into())
        );
        assert_eq!(Body::of(&[None, Some("<p><img src=x></p>")]), Body::Empty);
        assert_eq!(Body::of(&[None, None]), Body::Missing);
    }

    #[test]
    fn people_merge_by_address_and_put_the_requester_first() {
        let mut people = People::default();
        people.add(person(
            Some("Agent"),
            None,
            None,
            Some("a@x.com"),
            None,
            false,
        ));
        people.add(person(None, None, None, None, None, false));
        people.add(person(
            None,
            Some("Jo"),
            None,
            Some("JO@x.com"),
            None,
            false,
        ));
        people.add(person(
            Some("Jo Doe"),
            None,
            None,
            Some("jo@x.com"),
            None,
            true,
        ));
        let people = people.into_vec();
        assert_eq!(people.len(), 2);
        assert!(people[0].requester);
        assert_eq!(people[0].name.as_deref(), Some("Jo Doe"));
        assert_eq!(people[0].first.as_deref(), Some("Jo"));
        assert_eq!(people[1].email.as_deref(), Some("a@x.com"));
    }

    #[test]
    fn tags_are_unique_and_keep_their_order() {
        let tags = ["b", "a", " b ", "", "c", "a"].map(String::from);
        assert_eq!(unique_tags(tags), ["b", "a", "c"]);
    }
}
