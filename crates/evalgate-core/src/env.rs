//! Every environment variable evalgate reads, resolved and validated here and nowhere else:
//! its own `EVALGATE_*` (each name below; the book's Environment chapter lists the same
//! ones), what cargo, nextest, insta and CI systems set, and the variables a suite file
//! names (`${NAME}`). `tests/it/book.rs` holds the code to it: no other source file reads the
//! environment, and every name read here is documented.
//!
//! A bad value of one of evalgate's own variables is a usage error that names the variable
//! and the value (exit 2), never a silent default. Values are read when asked for: the
//! harness sets insta's variables for its own process ([`set_for_insta`]) before any
//! thread starts.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use crate::errors::Error;
use crate::verbosity::Verbosity;

/// The evals folder (default: `$CARGO_MANIFEST_DIR/evals`, else `./evals`).
pub const DIR: &str = "EVALGATE_DIR";
/// The output folder (default: `<cargo target dir>/evalgate`).
pub const OUT: &str = "EVALGATE_OUT";
/// The run id, shared by every process of one run (a folder name).
pub const RUN_ID: &str = "EVALGATE_RUN_ID";
/// The history store file; `off` turns history off.
pub const HISTORY: &str = "EVALGATE_HISTORY";
/// Tags a run is limited to, comma-separated (for nextest, which matches filters itself).
pub const TAGS: &str = "EVALGATE_TAGS";
/// Agent calls in flight, 1 to 4096, over the suite's `concurrency`.
pub const CONCURRENCY: &str = "EVALGATE_CONCURRENCY";
/// `quiet`, `normal` or `verbose`, over the suite's `output.verbosity`.
pub const VERBOSITY: &str = "EVALGATE_VERBOSITY";
/// The suite tier (`tiers/<name>.yaml`) a run is limited to.
pub const SUITE_TIER: &str = "EVALGATE_SUITE_TIER";
/// How long a first Ctrl-C waits for calls in flight (`2s`, `500ms`).
pub const INTERRUPT_GRACE: &str = "EVALGATE_INTERRUPT_GRACE";
/// The envelope axes a run passes to the agent, a JSON object of strings.
pub const AXES: &str = "EVALGATE_AXES";
/// The branch a run measured (default: CI's variables, else `.git`).
pub const BRANCH: &str = "EVALGATE_BRANCH";
/// The commit a run measured (default: CI's variables, else `.git`).
pub const COMMIT: &str = "EVALGATE_COMMIT";
/// Set: discovery says how many folders it listed and files it parsed.
pub const DEBUG_DISCOVERY: &str = "EVALGATE_DEBUG_DISCOVERY";

/// Every `EVALGATE_*` variable evalgate reads (what it sets for agents is in
/// `target/command.rs`).
pub const READ: [&str; 13] = [
    DIR,
    OUT,
    RUN_ID,
    HISTORY,
    TAGS,
    CONCURRENCY,
    VERBOSITY,
    SUITE_TIER,
    INTERRUPT_GRACE,
    AXES,
    BRANCH,
    COMMIT,
    DEBUG_DISCOVERY,
];

/// The value of `name`, `None` when unset or empty; not UTF-8 is a usage error.
fn non_empty(name: &str) -> Result<Option<String>, Error> {
    match std::env::var(name) {
        Ok(v) if v.is_empty() => Ok(None),
        Ok(v) => Ok(Some(v)),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => {
            Err(Error::Usage(format!("{name} is not valid UTF-8")))
        }
    }
}

/// The raw value of `name` when set and not empty (paths need not be UTF-8).
fn os(name: &str) -> Option<OsString> {
    std::env::var_os(name).filter(|v| !v.is_empty())
}

/// Whether `name` is set to anything but the empty string.
fn set(name: &str) -> bool {
    os(name).is_some()
}

/// `$EVALGATE_DIR`.
pub fn evals_dir() -> Result<Option<PathBuf>, Error> {
    Ok(non_empty(DIR)?.map(PathBuf::from))
}

/// `$EVALGATE_OUT`.
pub fn out_dir() -> Result<Option<PathBuf>, Error> {
    Ok(non_empty(OUT)?.map(PathBuf::from))
}

/// `$CARGO_MANIFEST_DIR` at run time: the package under test (cargo and nextest set it).
pub fn manifest_dir() -> Result<Option<PathBuf>, Error> {
    Ok(non_empty("CARGO_MANIFEST_DIR")?.map(PathBuf::from))
}

/// `$CARGO_TARGET_DIR`.
pub fn cargo_target_dir() -> Result<Option<PathBuf>, Error> {
    Ok(non_empty("CARGO_TARGET_DIR")?.map(PathBuf::from))
}

/// `$EVALGATE_RUN_ID`, else `$NEXTEST_RUN_ID` (so every nextest process of one run writes
/// into one folder); either must be able to name a folder.
pub fn run_id() -> Result<Option<String>, Error> {
    for var in [RUN_ID, "NEXTEST_RUN_ID"] {
        if let Some(id) = non_empty(var)? {
            if id.contains(['/', '\\']) || id == "." || id == ".." {
                return Err(Error::Usage(format!("{var}={id:?} cannot name a folder")));
            }
            return Ok(Some(id));
        }
    }
    Ok(None)
}

/// Whether this process is one of nextest's (one per case).
pub fn under_nextest() -> bool {
    set("NEXTEST_RUN_ID")
}

/// What `$EVALGATE_HISTORY` says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HistoryVar {
    /// Unset or empty: the suite's `history.path`, else the default.
    Unset,
    /// `off`.
    Off,
    /// A store file.
    Path(PathBuf),
}

/// `$EVALGATE_HISTORY`.
pub fn history() -> Result<HistoryVar, Error> {
    Ok(match non_empty(HISTORY)? {
        None => HistoryVar::Unset,
        Some(v) if v == "off" => HistoryVar::Off,
        Some(v) => HistoryVar::Path(PathBuf::from(v)),
    })
}

/// `$EVALGATE_TAGS`, comma-separated; an empty tag is a usage error.
pub fn tags() -> Result<Option<Vec<String>>, Error> {
    let Some(list) = non_empty(TAGS)? else {
        return Ok(None);
    };
    let mut tags = Vec::new();
    for tag in list.split(',').map(str::trim) {
        if tag.is_empty() {
            return Err(Error::Usage(format!(
                "{TAGS}={list:?} has an empty tag; write e.g. `refunds,billing`"
            )));
        }
        tags.push(tag.to_string());
    }
    Ok(Some(tags))
}

/// `$EVALGATE_CONCURRENCY`, 1 to 4096.
pub fn concurrency() -> Result<Option<usize>, Error> {
    let Some(value) = non_empty(CONCURRENCY)? else {
        return Ok(None);
    };
    value
        .parse::<usize>()
        .ok()
        .filter(|n| (1..=4096).contains(n))
        .map(Some)
        .ok_or_else(|| {
            Error::Usage(format!(
                "{CONCURRENCY}={value:?} is not a number between 1 and 4096"
            ))
        })
}

/// `$EVALGATE_VERBOSITY`.
pub fn verbosity() -> Result<Option<Verbosity>, Error> {
    let Some(value) = non_empty(VERBOSITY)? else {
        return Ok(None);
    };
    Verbosity::named(&value).map(Some).ok_or_else(|| {
        Error::Usage(format!(
            "{VERBOSITY}={value:?} is not a verbosity; use quiet, normal or verbose"
        ))
    })
}

/// `$EVALGATE_SUITE_TIER`: a tier's name (whether it exists is the suite's to say).
pub fn suite_tier() -> Result<Option<String>, Error> {
    non_empty(SUITE_TIER)
}

/// `$EVALGATE_INTERRUPT_GRACE`.
pub fn interrupt_grace() -> Result<Option<Duration>, Error> {
    let Some(text) = non_empty(INTERRUPT_GRACE)? else {
        return Ok(None);
    };
    crate::duration::parse(&text).map(Some).map_err(|e| {
        Error::Usage(format!(
            "{INTERRUPT_GRACE}={text:?} is not a duration ({e}); write e.g. `5s` or `500ms`"
        ))
    })
}

/// `$EVALGATE_AXES`: a JSON object of strings, each axis one a target can pass on; none
/// when unset.
pub fn axes() -> Result<BTreeMap<String, String>, Error> {
    let Some(text) = non_empty(AXES)? else {
        return Ok(BTreeMap::new());
    };
    let axes: BTreeMap<String, String> = serde_json::from_str(&text).map_err(|e| {
        Error::Usage(format!(
            "{AXES} must be a JSON object of strings, like {{\"model\": \"m-2\"}}: {e}"
        ))
    })?;
    check_axes(&axes).map_err(Error::Usage)?;
    Ok(axes)
}

/// Refuses an axis a target could not set: every axis travels as a header name and an
/// environment variable name, so it is letters, digits, `-` and `_`.
pub fn check_axes(axes: &BTreeMap<String, String>) -> Result<(), String> {
    for (axis, value) in axes {
        if axis.is_empty()
            || !axis
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(format!(
                "envelope axis `{axis}` cannot be passed to an agent: name axes with letters, \
                 digits, `-` and `_`"
            ));
        }
        if value.chars().any(char::is_control) {
            return Err(format!(
                "the value of envelope axis `{axis}` has a control character"
            ));
        }
    }
    Ok(())
}

/// The branch and commit CI says a run measured: `$EVALGATE_BRANCH` / `$EVALGATE_COMMIT`
/// first; then GitHub Actions (the pull request's head branch, else the pushed branch;
/// `GITHUB_SHA`); then GitLab CI. `None` where none says (then `.git` may).
pub fn branch_and_commit() -> Result<(Option<String>, Option<String>), Error> {
    let mut branch = non_empty(BRANCH)?;
    if branch.is_none() {
        branch = non_empty("GITHUB_HEAD_REF")?;
    }
    if branch.is_none() && non_empty("GITHUB_REF_TYPE")?.as_deref() == Some("branch") {
        branch = non_empty("GITHUB_REF_NAME")?;
    }
    if branch.is_none() {
        branch = non_empty("CI_COMMIT_BRANCH")?;
    }
    let mut commit = non_empty(COMMIT)?;
    for var in ["GITHUB_SHA", "CI_COMMIT_SHA"] {
        if commit.is_none() {
            commit = non_empty(var)?;
        }
    }
    Ok((branch, commit))
}

/// Whether discovery should say what it listed and parsed.
pub fn debug_discovery() -> bool {
    std::env::var_os(DEBUG_DISCOVERY).is_some()
}

/// Whether this process runs as a GitHub Actions step.
pub fn github_actions() -> bool {
    std::env::var_os("GITHUB_ACTIONS").is_some_and(|v| v == "true")
}

/// `$GITHUB_STEP_SUMMARY`: the file a step's summary is appended to.
pub fn step_summary_file() -> Option<PathBuf> {
    os("GITHUB_STEP_SUMMARY").map(PathBuf::from)
}

/// `https://github.com/owner/repo/blob/<sha>`, when GitHub Actions says all three.
pub fn github_blob() -> Option<String> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    match (
        var("GITHUB_SERVER_URL"),
        var("GITHUB_REPOSITORY"),
        var("GITHUB_SHA"),
    ) {
        (Some(server), Some(repo), Some(sha)) => Some(format!("{server}/{repo}/blob/{sha}")),
        _ => None,
    }
}

/// `$GITHUB_WORKSPACE`: the checkout GitHub Actions resolves paths in.
pub fn github_workspace() -> Option<PathBuf> {
    os("GITHUB_WORKSPACE").map(PathBuf::from)
}

/// Whether a CI system is said to be running this (`CI` or Azure's `TF_BUILD`, non-empty).
pub fn ci() -> bool {
    set("CI") || set("TF_BUILD")
}

/// CI by insta's own rule: `CI` set to anything but `""`, `0` or `false`, or `TF_BUILD` set.
pub fn ci_by_insta_rule() -> bool {
    match std::env::var("CI").ok().as_deref() {
        Some("" | "0" | "false") => false,
        Some(_) => true,
        None => std::env::var_os("TF_BUILD").is_some(),
    }
}

/// Whether the terminal says it draws nothing but text (`TERM=dumb`).
pub fn dumb_terminal() -> bool {
    os("TERM").is_some_and(|t| t == "dumb")
}

/// `$INSTA_SNAPSHOT_REFERENCES_FILE`: where cargo-insta collects the snapshots a run used.
pub fn insta_references_file() -> Option<PathBuf> {
    std::env::var_os("INSTA_SNAPSHOT_REFERENCES_FILE").map(PathBuf::from)
}

/// Whether the user set insta's workspace root and its output (each, even to `""`).
pub fn insta_settings() -> (bool, bool) {
    (
        std::env::var_os("INSTA_WORKSPACE_ROOT").is_some(),
        std::env::var_os("INSTA_OUTPUT").is_some(),
    )
}

/// Sets `INSTA_WORKSPACE_ROOT` (when given) and `INSTA_OUTPUT=none` (when `quiet`) for this
/// process. Call it before any thread starts.
pub fn set_for_insta(root: Option<PathBuf>, quiet: bool) {
    // SAFETY: setting a variable races only with reads that bypass std's environment lock
    // (C code calling `getenv` on another thread). The harness calls this before it starts
    // its runtime and libtest's workers; a thread the caller started earlier (`evalgate
    // demo`'s loopback server) is waiting for connections, not reading the environment.
    unsafe {
        if let Some(root) = root {
            std::env::set_var("INSTA_WORKSPACE_ROOT", root);
        }
        if quiet {
            std::env::set_var("INSTA_OUTPUT", "none");
        }
    }
}

/// The value of a variable a suite file names (`${NAME}`), when set.
pub fn suite_variable(name: &str) -> Option<String> {
    std::env::var(name).ok()
}
