//! Compiling a case's expectations into checks: each `expect:` item becomes a [`CheckKind`]
//! at its YAML position, refused at that line when it could never be judged (an invalid
//! regex or schema, a decision the catalog does not know, a recall probe of a fact the agent
//! is handed, an expectation whose feature this build lacks).

#[cfg(feature = "json-schema")]
use std::sync::Arc;

use std::time::Duration;

use super::model::{Expectation, Input};
use crate::coverage::BranchCatalog;
use crate::errors::Position;
use crate::observation::{Decision, Role, contains_word, user_messages};

/// Why a `json_schema:` expectation is a configuration error in a build without the
/// `json-schema` feature.
#[cfg(not(feature = "json-schema"))]
pub(crate) const JSON_SCHEMA_FEATURE: &str = "`json_schema` needs evalgate's `json-schema` feature, \
     which this build was compiled without: in Cargo.toml, \
     `evalgate = { version = \"0.1\", features = [\"json-schema\"] }`";

/// One compiled expectation and where it was written.
#[derive(Debug, Clone)]
pub(crate) struct Check {
    pub position: Position,
    pub kind: CheckKind,
}

#[derive(Debug, Clone)]
pub(crate) enum CheckKind {
    Equals(String),
    Contains(String),
    NotContains(String),
    Regex(regex::Regex),
    #[cfg(feature = "json-schema")]
    JsonSchema(Arc<jsonschema::Validator>),
    MaxLength(usize),
    Refusal(bool),
    MaxLatency(Duration),
    Branches(Vec<Decision>),
    NotBranches(Vec<Decision>),
    Path(Vec<Decision>),
    /// A recall probe: the answer must contain `fact`, which user turn `turn` (from 1) gave.
    Recalled {
        fact: String,
        turn: u32,
    },
    /// An expectation not written yet (drafts only): never met.
    Todo(String),
}

impl CheckKind {
    pub fn name(&self) -> &'static str {
        match self {
            CheckKind::Equals(_) => "equals",
            CheckKind::Contains(_) => "contains",
            CheckKind::NotContains(_) => "not_contains",
            CheckKind::Regex(_) => "regex",
            #[cfg(feature = "json-schema")]
            CheckKind::JsonSchema(_) => "json_schema",
            CheckKind::MaxLength(_) => "max_length",
            CheckKind::Refusal(_) => "refusal",
            CheckKind::MaxLatency(_) => "max_latency",
            CheckKind::Branches(_) => "branches",
            CheckKind::NotBranches(_) => "not_branches",
            CheckKind::Path(_) => "path",
            CheckKind::Recalled { .. } => "recalled",
            CheckKind::Todo(_) => "todo",
        }
    }

    /// The decisions this check names, if it is a check on decisions.
    pub fn decisions(&self) -> &[Decision] {
        match self {
            CheckKind::Branches(list) | CheckKind::NotBranches(list) | CheckKind::Path(list) => {
                list
            }
            _ => &[],
        }
    }
}

/// Every case's test name starts with this: `evals::<case id>`.
/// A decision a case names must be a branch of the catalog: a typo in `not_branches` would
/// otherwise be a check that always passes.
pub(super) fn check_against_catalog(
    kind: &CheckKind,
    catalog: &BranchCatalog,
) -> Result<(), (String, String)> {
    let Some(unknown) = kind
        .decisions()
        .iter()
        .find(|d| !catalog.contains(d) && !catalog.is_removed(d))
    else {
        return Ok(());
    };
    let message = format!(
        "`{}` names `{unknown}`, which is not in the branch catalog {}",
        kind.name(),
        catalog.file
    );
    let help = match catalog.point(&unknown.point) {
        Some(point) => format!(
            "the branches of `{}` are: {}; or add `{}` to the catalog",
            point.name,
            point
                .branches
                .iter()
                .map(|b| b.name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            unknown.branch
        ),
        None => format!(
            "the catalog's decision points are: {}; or add `{}` to the catalog",
            catalog
                .points
                .iter()
                .map(|p| p.name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            unknown.point
        ),
    };
    Err((message, help))
}

/// A recall probe is honest only when the last user message asks about a fact an earlier
/// one gave, and the agent is not handed the fact otherwise: not in the last message, a
/// system message, `vars` or the customer (which the agent reads on every turn). Earlier
/// assistant messages may repeat it: they are part of the conversation it remembers.
pub(super) fn recall_probe(fact: &str, input: &Input) -> Result<CheckKind, String> {
    let fact = fact.trim();
    if fact.is_empty() {
        return Err("`recalled` names no fact".into());
    }
    let says = |text: &str| contains_word(text, fact);
    let users = user_messages(&input.messages);
    let Some((probe, earlier)) = users.split_last().filter(|(_, e)| !e.is_empty()) else {
        return Err(
            "`recalled` is a recall probe: the input needs an earlier user message giving \
             the fact and a last one asking about it"
                .into(),
        );
    };
    if says(probe) {
        return Err(format!(
            "the last user message itself says {fact:?}: a recall probe must ask about it \
             without giving it away"
        ));
    }
    if input
        .messages
        .iter()
        .any(|m| m.role == Role::System && says(&m.content))
    {
        return Err(format!(
            "a system message says {fact:?}: the agent reads it on every turn, so answering \
             needs no memory"
        ));
    }
    if input.customer.as_deref().is_some_and(says) {
        return Err(format!(
            "`input.customer` is {fact:?}: the agent is handed it on every turn, so \
             answering needs no memory"
        ));
    }
    if let Some((key, _)) = input
        .vars
        .iter()
        .find(|(_, v)| says(&v.as_str().map_or_else(|| v.to_string(), str::to_string)))
    {
        return Err(format!(
            "`vars.{key}` holds {fact:?}: the agent is handed it on every turn, so answering \
             needs no memory"
        ));
    }
    match earlier.iter().position(|m| says(m)) {
        Some(index) => Ok(CheckKind::Recalled {
            fact: fact.to_string(),
            turn: index as u32 + 1,
        }),
        None => Err(format!(
            "no user message before the last says {fact:?} (as a word of its own): there is \
             nothing to recall"
        )),
    }
}

pub(super) fn compile(expectation: &Expectation, input: &Input) -> Result<CheckKind, String> {
    Ok(match expectation {
        Expectation::Recalled(fact) => recall_probe(fact, input)?,
        Expectation::Equals(s) => CheckKind::Equals(s.clone()),
        Expectation::Contains(s) => CheckKind::Contains(s.clone()),
        Expectation::NotContains(s) => CheckKind::NotContains(s.clone()),
        Expectation::Regex(pattern) => CheckKind::Regex(
            regex::RegexBuilder::new(pattern)
                .size_limit(1 << 20)
                .build()
                .map_err(|e| {
                    // The regex crate's message draws its own caret over several lines;
                    // keep its last line, the reason, since we point at the YAML ourselves.
                    let text = e.to_string();
                    let reason = text
                        .lines()
                        .rev()
                        .find(|l| !l.trim().is_empty())
                        .unwrap_or("");
                    format!(
                        "invalid regex: {}",
                        reason.trim().trim_start_matches("error: ")
                    )
                })?,
        ),
        #[cfg(feature = "json-schema")]
        Expectation::JsonSchema(schema) => CheckKind::JsonSchema(Arc::new(
            jsonschema::validator_for(schema).map_err(|e| format!("invalid JSON Schema: {e}"))?,
        )),
        // Never skipped: a suite that asks for a schema and gets no check would be green
        // for a reason it did not ask for.
        #[cfg(not(feature = "json-schema"))]
        Expectation::JsonSchema(_) => return Err(JSON_SCHEMA_FEATURE.to_string()),
        Expectation::MaxLength(n) => CheckKind::MaxLength(*n),
        Expectation::Refusal(b) => CheckKind::Refusal(*b),
        Expectation::MaxLatency(d) => CheckKind::MaxLatency(d.0),
        Expectation::Branches(list) | Expectation::NotBranches(list) | Expectation::Path(list)
            if list.is_empty() =>
        {
            return Err(format!("`{}` lists no decisions", expectation.name()));
        }
        Expectation::Branches(list) => CheckKind::Branches(list.clone()),
        Expectation::NotBranches(list) => CheckKind::NotBranches(list.clone()),
        Expectation::Path(list) => CheckKind::Path(list.clone()),
        Expectation::Todo(note) => CheckKind::Todo(note.clone()),
    })
}
