//! `evalgate import`: support tickets to draft cases, in four steps. Every ticket is read
//! and redacted, its input chosen and its failure mode guessed (on every core); then, in
//! export order, a ticket already imported or resembling an existing case is skipped and
//! a near-duplicate of an earlier ticket joins that ticket's draft; then every draft is
//! written as YAML and parsed back by the case loader (on every core); only when all of
//! that succeeded are files created — each new, never over an existing one.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::draft::{Draft, input_of, message};
use super::failure::{self, FailureMode};
use super::model::{RecordWarning, Ticket, Vendor};
use super::redact::{Names, RedactionCounts, Redactor};
use super::vendor;
use evalgate::case::{Case, Status, existing_cases};
use evalgate::decay::similar::{Fingerprinted, Similarity};
use evalgate::errors::Error;
use evalgate::observation::{Role, user_text};
use evalgate::suite::Suite;

/// What to import and how.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    pub vendor: Vendor,
    pub files: Vec<PathBuf>,
    /// Where the drafts go: a folder inside the suite's `cases/`.
    pub out: PathBuf,
    /// A ticket resembling an existing case, or an earlier ticket, at this Jaccard
    /// similarity or more is a duplicate (the suite's `decay.production.min_similarity`,
    /// else 0.3: the representativeness threshold).
    pub similarity: f64,
    /// Export files larger than this are refused.
    pub max_file_bytes: u64,
    /// Customers in the heavy tail of production cost (`evalgate cost`'s `cost.json`).
    pub heavy_tail: HashSet<String>,
    pub today: jiff::civil::Date,
}

/// Why a ticket became no draft of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    /// A case already names it in `source` (an earlier import).
    AlreadyImported,
    /// Its input resembles an existing case.
    DuplicatesCase,
    /// A near-duplicate of an earlier ticket of this import: listed in its draft.
    Grouped,
    /// No customer message to make an input of.
    NoCustomerMessage,
    /// A file of its draft's name exists already (it is never overwritten).
    FileExists,
}

/// One ticket that was not written as a draft, and why.
#[derive(Debug, Clone, Serialize)]
pub struct Skipped {
    pub ticket: String,
    pub reason: SkipReason,
    /// The case or ticket it duplicates, with the similarity.
    pub detail: String,
}

/// One draft written.
#[derive(Debug, Clone, Serialize)]
pub struct Written {
    pub file: String,
    pub ticket: String,
    pub grouped: Vec<String>,
    pub failure: FailureMode,
    pub heavy_tail: bool,
}

/// What an import did.
#[derive(Debug, Clone, Serialize)]
pub struct ImportReport {
    pub vendor: Vendor,
    pub files: Vec<String>,
    pub tickets: usize,
    pub written: Vec<Written>,
    pub skipped: Vec<Skipped>,
    pub warnings: Vec<RecordWarning>,
    pub redactions: RedactionCounts,
    /// Drafts per guessed failure mode.
    pub failure_modes: BTreeMap<FailureMode, usize>,
    pub heavy_tail_drafts: usize,
    /// Tickets grouped into the drafts written (the drafts' own tickets included).
    pub tickets_in_drafts: usize,
}

/// A ticket made ready: its input chosen and redacted, its failure guessed.
struct Prepared {
    draft: Draft,
    /// The input's customer messages, as similarity compares them.
    text: Fingerprinted,
}

/// Reads the exports and writes the drafts; see the module documentation.
pub fn import(suite: &Suite, options: &ImportOptions) -> Result<ImportReport, Error> {
    let rel_out = out_folder(suite, options)?;
    let parsed = vendor::read_exports(options.vendor, &options.files, options.max_file_bytes)?;
    let existing = existing_cases(suite)?;
    let redactor = Redactor::new();
    let mut similarity = Similarity::new(options.similarity).map_err(Error::Usage)?;
    // Each export file as shown, once per file rather than once per ticket.
    let shown_files: HashMap<&Path, String> = options
        .files
        .iter()
        .map(|f| (f.as_path(), evalgate::terminal::shown(f)))
        .collect();
    let prepared: Vec<(String, Option<Prepared>)> =
        evalgate::parallel::map(&parsed.tickets, 256, |ticket| {
            let file = shown_files
                .get(ticket.file.as_path())
                .cloned()
                .unwrap_or_else(|| evalgate::terminal::shown(&ticket.file));
            let prepared =
                prepare(ticket, file, &redactor, options).map(|(draft, text)| Prepared {
                    draft,
                    text: similarity.fingerprint(&text),
                });
            (ticket.id.clone(), prepared)
        });
    let tickets = parsed.tickets.len();
    let warnings = parsed.warnings;
    // The tickets' text is in the drafts now; what remains is a lot of memory.
    drop(parsed.tickets);

    let (imported, cases) = imported_and_active(&existing);
    let Chosen { drafts, skipped } = choose(
        suite,
        options,
        &rel_out,
        &mut similarity,
        prepared,
        imported,
        &cases,
    );
    let written = write_drafts(suite, options, &rel_out, &drafts)?;
    let mut redactions = RedactionCounts::default();
    let mut failure_modes = BTreeMap::new();
    for draft in &drafts {
        redactions.add(&draft.redactions);
        *failure_modes.entry(draft.guess.mode).or_insert(0) += 1;
    }
    Ok(ImportReport {
        vendor: options.vendor,
        files: options
            .files
            .iter()
            .map(|f| f.display().to_string())
            .collect(),
        tickets,
        heavy_tail_drafts: drafts.iter().filter(|d| d.heavy_tail).count(),
        tickets_in_drafts: drafts.iter().map(|d| 1 + d.grouped.len()).sum(),
        written,
        skipped,
        warnings,
        redactions,
        failure_modes,
    })
}

/// `--out` under the suite's cases folder, without `..`, relative to the cases folder.
fn out_folder(suite: &Suite, options: &ImportOptions) -> Result<PathBuf, Error> {
    if options
        .out
        .components()
        .any(|c| matches!(c, std::path::Component::ParentDir))
    {
        return Err(Error::Usage(format!(
            "--out {}: give the folder without `..`",
            options.out.display()
        )));
    }
    Ok(options
        .out
        .strip_prefix(&suite.cases_dir)
        .map_err(|_| {
            Error::Usage(format!(
                "--out {} is not inside the suite's cases folder {}: drafts there would never be \
                 seen by the suite",
                options.out.display(),
                suite.cases_dir.display()
            ))
        })?
        .to_path_buf())
}

/// The tickets the suite's cases were made from (by vendor and reference, with the case
/// each went into), and the cases that run (one per file: a case with `tiers:` or
/// `conditions:` loads as its variants only; a retired case never runs, so a new ticket like
/// it is not covered by it).
#[allow(clippy::type_complexity)]
fn imported_and_active(existing: &[Case]) -> (HashMap<(String, String), String>, Vec<&Case>) {
    let mut seen_files = HashSet::new();
    let files_cases: Vec<&Case> = existing
        .iter()
        .filter(|c| seen_files.insert(c.file.clone()))
        .collect();
    let mut imported: HashMap<(String, String), String> = HashMap::new();
    for case in &files_cases {
        let id = case.variant_of.as_deref().unwrap_or(&case.id);
        if let Some(source) = &case.source
            && source.kind == "ticket"
            && let Some(vendor) = &source.vendor
        {
            for reference in source.reference.iter().chain(&source.grouped) {
                imported.insert((vendor.clone(), reference.clone()), format!("case {id}"));
            }
        }
    }
    let cases: Vec<&Case> = files_cases
        .into_iter()
        .filter(|c| !matches!(c.status, Status::Retired { .. }))
        .collect();
    (imported, cases)
}

/// The drafts to write, and every ticket that gets none with why.
struct Chosen {
    drafts: Vec<Draft>,
    skipped: Vec<Skipped>,
}

/// Each prepared ticket becomes a draft, joins the group of an earlier similar one, or is
/// skipped: no customer message, imported before, like an existing case, or its file exists.
fn choose(
    suite: &Suite,
    options: &ImportOptions,
    rel_out: &Path,
    similarity: &mut Similarity,
    prepared: Vec<(String, Option<Prepared>)>,
    mut imported: HashMap<(String, String), String>,
    cases: &[&Case],
) -> Chosen {
    let mut skipped = Vec::new();
    let case_texts: Vec<String> = cases.iter().map(|c| user_text(&c.messages)).collect();
    let mut known = similarity.index(case_texts.iter().map(String::as_str));
    let mut grouping = similarity.grouping();
    // Per ticket that reached the grouping (by its ordinal there): its draft, or its
    // group leader's.
    let mut draft_of: Vec<usize> = Vec::new();
    let mut drafts: Vec<Draft> = Vec::new();
    for (id, prepared) in prepared {
        let Some(prepared) = prepared else {
            skipped.push(Skipped {
                detail: format!("{id} has no message from the customer"),
                ticket: id,
                reason: SkipReason::NoCustomerMessage,
            });
            continue;
        };
        let key = (options.vendor.name().to_string(), id);
        if let Some(case) = imported.get(&key) {
            skipped.push(Skipped {
                ticket: key.1,
                reason: SkipReason::AlreadyImported,
                detail: case.clone(),
            });
            continue;
        }
        if let Some((case, value)) = similarity.most_similar(&mut known, &prepared.text) {
            skipped.push(Skipped {
                ticket: key.1,
                reason: SkipReason::DuplicatesCase,
                detail: format!(
                    "case {} (similarity {value:.2})",
                    cases[case].variant_of.as_deref().unwrap_or(&cases[case].id)
                ),
            });
            continue;
        }
        let file = draft_file(rel_out, &prepared.draft);
        if suite.cases_dir.join(&file).exists() {
            skipped.push(Skipped {
                ticket: key.1,
                reason: SkipReason::FileExists,
                detail: file.display().to_string(),
            });
            continue;
        }
        let ordinal = draft_of.len() as u64;
        // A ticket without words (emoji, punctuation) resembles nothing: its own draft.
        let leader = if prepared.text.is_empty() {
            ordinal
        } else {
            similarity.group(&mut grouping, ordinal, prepared.text)
        };
        if leader != ordinal {
            let draft = draft_of[leader as usize];
            draft_of.push(draft);
            drafts[draft].grouped.push(key.1.clone());
            skipped.push(Skipped {
                ticket: key.1,
                reason: SkipReason::Grouped,
                detail: format!("ticket {}", drafts[draft].ticket_id),
            });
            continue;
        }
        draft_of.push(drafts.len());
        imported.insert(key, "an earlier record of this import".to_string());
        drafts.push(prepared.draft);
    }
    Chosen { drafts, skipped }
}

/// Writes the drafts, all or none: each is loaded as a case first, no two may share a file,
/// and when one cannot be written the others of this import are removed.
fn write_drafts(
    suite: &Suite,
    options: &ImportOptions,
    rel_out: &Path,
    drafts: &[Draft],
) -> Result<Vec<Written>, Error> {
    let files: Vec<(PathBuf, String)> = evalgate::parallel::map(drafts, 256, |draft| {
        (draft_file(rel_out, draft), draft.yaml(options.today))
    });
    let mut names = HashSet::new();
    for (rel, _) in &files {
        if !names.insert(rel) {
            return Err(Error::Usage(format!(
                "two tickets would both be written to {}: their ids differ only in characters \
                 a file name cannot hold",
                rel.display()
            )));
        }
    }
    let checked = evalgate::parallel::map(&files, 256, |(rel, yaml)| {
        let path = suite.cases_dir.join(rel);
        Case::from_source(yaml, suite.display_path(&path), rel, suite)
    });
    for (result, (rel, _)) in checked.into_iter().zip(&files) {
        result.map_err(|e| {
            Error::Internal(format!(
                "the draft for {} is not a valid case ({e}); nothing was written",
                rel.display()
            ))
        })?;
    }
    std::fs::create_dir_all(&options.out)
        .map_err(|e| Error::Usage(format!("cannot create {}: {e}", options.out.display())))?;
    let results = evalgate::parallel::map(&files, 256, |(rel, yaml)| {
        let path = suite.cases_dir.join(rel);
        create_new(&path, yaml.as_bytes()).map(|()| path)
    });
    // All or nothing: when one draft cannot be written, the others of this import go too.
    if let Some(problem) = results.iter().find_map(|r| r.as_ref().err()) {
        let problem = problem.to_string();
        for path in results.iter().filter_map(|r| r.as_ref().ok()) {
            let _ = std::fs::remove_file(path);
        }
        return Err(Error::Internal(format!(
            "{problem}; no draft of this import was kept"
        )));
    }
    let written = results
        .into_iter()
        .flatten()
        .zip(drafts)
        .map(|(path, draft)| Written {
            file: suite.display_path(&path).display().to_string(),
            ticket: draft.ticket_id.clone(),
            grouped: draft.grouped.clone(),
            failure: draft.guess.mode,
            heavy_tail: draft.heavy_tail,
        })
        .collect();
    Ok(written)
}

/// The ticket as a draft and the text its input is compared by, or None when no customer
/// message can be its input.
fn prepare(
    ticket: &Ticket,
    file: String,
    redactor: &Redactor,
    options: &ImportOptions,
) -> Option<(Draft, String)> {
    let input = input_of(&ticket.turns)?;
    let names = Names::of(&ticket.people);
    let mut counts = RedactionCounts::default();
    let mut redact = |text: &str| redactor.redact(text, &names, &mut counts);
    let messages: Vec<_> = input
        .turns
        .iter()
        .map(|turn| message(turn, redact(&turn.text)))
        .collect();
    let failed_reply = input.failed_reply.map(|turn| redact(&turn.text));
    let subject = ticket.subject.as_deref().map(&mut redact);
    let satisfaction = ticket.satisfaction.clone().map(|mut rating| {
        rating.comment = rating.comment.as_deref().map(&mut redact);
        rating
    });
    let tags: Vec<String> = ticket.tags.iter().map(|t| redact(t)).collect();
    let heavy_tail = ticket
        .customer
        .as_ref()
        .is_some_and(|c| options.heavy_tail.contains(c));
    let customer = ticket.customer.as_deref().map(&mut redact);
    let customer_texts: Vec<&str> = messages
        .iter()
        .filter(|m| m.role == Role::User)
        .map(|m| m.content.as_str())
        .collect();
    let guess = failure::guess(&tags, &customer_texts);
    let text = user_text(&messages);
    Some((
        Draft {
            ticket_id: ticket.id.clone(),
            vendor: ticket.vendor.name(),
            url: ticket.url.clone(),
            updated: ticket
                .updated
                .map(|t| t.to_zoned(jiff::tz::TimeZone::UTC).date()),
            status: ticket.status.clone(),
            created: ticket
                .created
                .map(|t| t.to_zoned(jiff::tz::TimeZone::UTC).date()),
            subject,
            tags,
            customer,
            messages,
            failed_reply,
            satisfaction,
            guess,
            heavy_tail,
            grouped: Vec::new(),
            redactions: counts,
            left_out: input.left_out,
            internal_notes: ticket.internal_notes,
            file,
        },
        text,
    ))
}

/// Where a draft goes, under `cases/`: `<out>/<vendor>-<ticket id>.yaml`.
fn draft_file(rel_out: &Path, draft: &Draft) -> PathBuf {
    rel_out.join(format!(
        "{}-{}.yaml",
        draft.vendor,
        file_safe(&draft.ticket_id)
    ))
}

/// A ticket id as part of a file name: letters, digits, `-` and `_` kept, the rest `_`.
fn file_safe(id: &str) -> String {
    id.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(80)
        .collect()
}

/// Writes a file that must not exist yet, whole or not at all: the bytes go to a temporary
/// file beside it, which is then linked to the name (a link never replaces a file) and
/// removed, so no reader (and no crash) ever sees half a case.
fn create_new(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let tmp = path.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
    let written = std::fs::write(&tmp, bytes).and_then(|()| std::fs::hard_link(&tmp, path));
    let _ = std::fs::remove_file(&tmp);
    written.map_err(|e| {
        Error::Internal(format!(
            "cannot create {} ({e}); an existing file is never overwritten",
            path.display()
        ))
    })
}
