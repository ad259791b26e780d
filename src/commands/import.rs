//! `evalgate import <vendor> <files...>`: support tickets become draft cases.

use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::tickets::{ImportOptions, ImportReport, SkipReason, Vendor, import};
use evalgate::atomic_file::write_atomic;
use evalgate::errors::Error;
use evalgate::exit;
use evalgate::harness::default_out_dir;
use evalgate::suite::Suite;
use evalgate::terminal::{printable, shown};

/// Lines of each list the terminal shows; the report file has them all.
const SHOWN: usize = 20;

#[derive(clap::Args, Debug)]
pub(crate) struct ImportArgs {
    /// zendesk, intercom, freshdesk or helpscout.
    vendor: String,
    /// Export files (the vendor's API JSON: tickets, comments, conversations, ratings).
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Where drafts are written (default: <dir>/cases/inbox); must be inside <dir>/cases.
    #[arg(long)]
    out: Option<PathBuf>,
    /// The evals folder.
    #[arg(long, default_value = "evals")]
    dir: PathBuf,
    /// Jaccard similarity at which a ticket duplicates a case or an earlier ticket
    /// (default: the suite's decay.production.min_similarity, else 0.3).
    #[arg(long)]
    similarity: Option<f64>,
    /// Refuse export files larger than this many MiB.
    #[arg(long, default_value_t = 512)]
    max_file_mb: u64,
    /// `cost.json` of `evalgate cost`: drafts from its heavy-tail customers are tagged.
    #[arg(long)]
    heavy_tail: Option<PathBuf>,
    /// Where the import report (JSON) goes (default: $EVALGATE_OUT, else target/evalgate).
    #[arg(long)]
    report_dir: Option<PathBuf>,
}

pub(crate) fn run(args: ImportArgs) -> Result<ExitCode, Error> {
    let vendor = Vendor::parse(&args.vendor).map_err(Error::Usage)?;
    let suite = Suite::load(&args.dir)?;
    let similarity = args.similarity.unwrap_or_else(|| {
        suite
            .decay
            .production
            .as_ref()
            .map_or(evalgate::decay::DEFAULT_MIN_SIMILARITY, |p| {
                p.min_similarity
            })
    });
    let heavy_tail = match &args.heavy_tail {
        Some(path) => super::cost::heavy_tail_customers(path)?,
        None => HashSet::new(),
    };
    let options = ImportOptions {
        vendor,
        files: args.files,
        out: args.out.unwrap_or_else(|| suite.cases_dir.join("inbox")),
        similarity,
        max_file_bytes: args.max_file_mb.saturating_mul(1 << 20),
        heavy_tail,
        today: jiff::Zoned::now().date(),
    };
    let report = import(&suite, &options)?;
    let report_dir = match args.report_dir {
        Some(dir) => dir,
        None => default_out_dir()?,
    };
    std::fs::create_dir_all(&report_dir).map_err(|e| Error::write(&report_dir, e))?;
    let report_path = evalgate::layout::Layout::new(&report_dir).import_report();
    let json = serde_json::to_vec_pretty(&report).expect("the report serialises");
    write_atomic(&report_path, &json)?;
    print!("{}", render(&report, &shown(&options.out)));
    println!("report: {}", shown(&report_path));
    Ok(ExitCode::from(exit::PASS))
}

/// The terminal summary of an import.
fn render(report: &ImportReport, out: &str) -> String {
    let mut text = String::new();
    let _ = writeln!(
        text,
        "evalgate import {}: {} ticket(s) read from {} file(s)",
        report.vendor,
        report.tickets,
        report.files.len()
    );
    let grouped = report.tickets_in_drafts - report.written.len();
    let _ = writeln!(
        text,
        "  {} draft(s) written to {out} for {} ticket(s) ({grouped} grouped into them as near-duplicates)",
        report.written.len(),
        report.tickets_in_drafts,
    );
    let mut reasons: BTreeMap<SkipReason, usize> = BTreeMap::new();
    for skipped in &report.skipped {
        *reasons.entry(skipped.reason).or_default() += 1;
    }
    let not_grouped: Vec<String> = reasons
        .iter()
        .filter(|(reason, _)| **reason != SkipReason::Grouped)
        .map(|(reason, n)| format!("{n} {}", reason_text(*reason)))
        .collect();
    if !not_grouped.is_empty() {
        let _ = writeln!(text, "  skipped: {}", not_grouped.join(", "));
    }
    let redacted = if report.redactions.total() == 0 {
        "nothing".to_string()
    } else {
        report.redactions.to_string()
    };
    let _ = writeln!(text, "  redacted before writing: {redacted}");
    if !report.failure_modes.is_empty() {
        let modes: Vec<String> = report
            .failure_modes
            .iter()
            .map(|(mode, n)| format!("{} {n}", mode.name()))
            .collect();
        let _ = writeln!(text, "  failure guesses: {}", modes.join(", "));
    }
    if report.heavy_tail_drafts > 0 {
        let _ = writeln!(
            text,
            "  {} draft(s) from heavy-tail customers (tagged heavy-tail)",
            report.heavy_tail_drafts
        );
    }
    if !report.warnings.is_empty() {
        let _ = writeln!(text, "warnings ({}):", report.warnings.len());
        for warning in report.warnings.iter().take(SHOWN) {
            let _ = writeln!(
                text,
                "  {}: {}: {}",
                shown(&warning.file),
                printable(&warning.record),
                printable(&warning.problem)
            );
        }
        more(&mut text, report.warnings.len());
    }
    if !report.written.is_empty() {
        let _ = writeln!(text, "written:");
        for written in report.written.iter().take(SHOWN) {
            let grouped = if written.grouped.is_empty() {
                String::new()
            } else {
                format!(" (+{} near-duplicate(s))", written.grouped.len())
            };
            let _ = writeln!(
                text,
                "  {}{grouped}  failure guess: {}",
                printable(&written.file),
                written.failure.name()
            );
        }
        more(&mut text, report.written.len());
    }
    let listed: Vec<_> = report
        .skipped
        .iter()
        .filter(|s| s.reason != SkipReason::Grouped)
        .collect();
    if !listed.is_empty() {
        let _ = writeln!(text, "skipped:");
        for skipped in listed.iter().take(SHOWN) {
            let _ = writeln!(
                text,
                "  ticket {}: {}: {}",
                printable(&skipped.ticket),
                reason_text(skipped.reason),
                printable(&skipped.detail)
            );
        }
        more(&mut text, listed.len());
    }
    text
}

fn more(text: &mut String, total: usize) {
    if total > SHOWN {
        let _ = writeln!(text, "  ... and {} more in the report", total - SHOWN);
    }
}

fn reason_text(reason: SkipReason) -> &'static str {
    match reason {
        SkipReason::AlreadyImported => "already imported",
        SkipReason::DuplicatesCase => "duplicates an existing case",
        SkipReason::Grouped => "grouped with an earlier ticket",
        SkipReason::NoCustomerMessage => "without a customer message",
        SkipReason::FileExists => "its draft's file exists",
    }
}
