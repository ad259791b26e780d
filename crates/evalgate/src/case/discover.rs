//! Finding case files. A full scan walks `cases/` once; `--exact` (how nextest runs every
//! test, one process each) loads only the one file the test name points at.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::{Case, Status};
use crate::errors::{ConfigError, Error, Position};
use crate::suite::Suite;

/// The ids a run's policy records from a full discovery (`RunPolicy::cases`): the active
/// ones (drafts and retired cases do not run by default, so a whole run need not cover
/// them).
pub fn active_ids<'a>(cases: impl IntoIterator<Item = &'a Case>) -> Vec<String> {
    cases
        .into_iter()
        .filter(|c| c.status == Status::Active)
        .map(|c| c.id.clone())
        .collect()
}

/// Which cases to load.
#[derive(Debug, Clone, Copy)]
pub enum Selection<'a> {
    All,
    /// One case, by id; falls back to a full scan when no file has the id as its path.
    Exact(&'a str),
}

/// What discovery touched: the proof that `--exact` does not scan the tree.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DiscoveryStats {
    pub dirs_listed: usize,
    pub files_parsed: usize,
}

const EXTENSIONS: [&str; 2] = ["yaml", "yml"];

/// Loads the cases under `suite.cases_dir` that `selection` asks for.
pub fn discover(
    suite: &Suite,
    selection: Selection<'_>,
) -> Result<(Vec<Case>, DiscoveryStats), Error> {
    let mut stats = DiscoveryStats::default();
    if let Selection::Exact(id) = selection
        && let Some(case) = load_by_path(suite, id, &mut stats)?
    {
        return Ok((vec![case], stats));
    }
    let root = &suite.cases_dir;
    let mut files = Vec::new();
    walk(root, &mut files, &mut stats, &mut Vec::new())?;
    files.sort();
    if files.is_empty() {
        return Err(ConfigError::new(
            root,
            "no case files (*.yaml, *.yml) found; refusing to report \"0 tests passed\"",
        )
        .with_help("add a case under this folder, or point EVALGATE_DIR at the right evals folder")
        .into());
    }
    stats.files_parsed += files.len();
    Ok((load_files(suite, &files)?, stats))
}

/// Every case under the suite's cases folder, none when it has no case files: for commands
/// that add cases (`evalgate import`) and must compare with what is there.
pub fn existing_cases(suite: &Suite) -> Result<Vec<Case>, Error> {
    if !suite.cases_dir.is_dir() {
        return Ok(Vec::new());
    }
    let mut files = Vec::new();
    walk(
        &suite.cases_dir,
        &mut files,
        &mut DiscoveryStats::default(),
        &mut Vec::new(),
    )?;
    files.sort();
    load_files(suite, &files)
}

/// Loads `files` (sorted), refusing duplicate ids.
fn load_files(suite: &Suite, files: &[PathBuf]) -> Result<Vec<Case>, Error> {
    let mut cases = Vec::with_capacity(files.len());
    let mut errors = Vec::new();
    for result in load_all(suite, files) {
        match result {
            Ok(variants) => cases.extend(variants),
            Err(e) => errors.push(e),
        }
    }
    let mut first_seen: HashMap<&str, &Case> = HashMap::new();
    for case in &cases {
        if let Some(first) = first_seen.insert(&case.id, case) {
            errors.push(
                ConfigError::new(&case.file, format!("duplicate case id `{}`", case.id))
                    .at(Position::new(case.line, 1), "")
                    .with_help(format!(
                        "`{}` is also the id of {}:{}; give one of them another `id:`",
                        case.id,
                        first.file.display(),
                        first.line
                    )),
            );
        }
    }
    match errors.len() {
        0 => Ok(cases),
        1 => Err(errors.remove(0).into()),
        _ => Err(Error::Configs(errors)),
    }
}

/// Parses `files` on every core (most of a large suite's start-up is YAML parsing),
/// keeping their order so errors and ids come out the same on every machine.
fn load_all(suite: &Suite, files: &[PathBuf]) -> Vec<Result<Vec<Case>, ConfigError>> {
    crate::parallel::map(files, 64, |path| {
        let rel = path.strip_prefix(&suite.cases_dir).unwrap_or(path);
        Case::load(path, suite.display_path(path), rel, suite)
    })
}

/// The `--exact` fast path: `cases/<id>.yaml` (or `.yml`), if that file has this id — or,
/// for a variant id (`<id>@tier=secondary`), the file of the case before the `@`.
fn load_by_path(
    suite: &Suite,
    id: &str,
    stats: &mut DiscoveryStats,
) -> Result<Option<Case>, ConfigError> {
    let base = id.split(super::VARIANT_SEPARATOR).next().unwrap_or(id);
    if base.is_empty() || base.split('/').any(|seg| seg.is_empty() || seg == "..") {
        return Ok(None);
    }
    for ext in EXTENSIONS {
        let rel = PathBuf::from(format!("{base}.{ext}"));
        let path = suite.cases_dir.join(&rel);
        if !path.is_file() {
            continue;
        }
        stats.files_parsed += 1;
        let variants = Case::load(&path, suite.display_path(&path), &rel, suite)?;
        if let Some(case) = variants.into_iter().find(|c| c.id == id) {
            return Ok(Some(case));
        }
    }
    Ok(None)
}

/// Lists the case files under `dir`, following symlinked folders. `seen` holds the real
/// path of every folder listed so far: a folder reached twice (a symlink loop, or two links
/// to one folder, which would make every case in it two cases) is an error, never skipped.
fn walk(
    dir: &Path,
    files: &mut Vec<PathBuf>,
    stats: &mut DiscoveryStats,
    seen: &mut Vec<(PathBuf, PathBuf)>,
) -> Result<(), Error> {
    let real = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    if let Some((_, first)) = seen.iter().find(|(r, _)| *r == real) {
        let how = if dir.starts_with(first) {
            "a symlink loop"
        } else {
            "two paths to one folder would make each case in it two cases"
        };
        return Err(ConfigError::new(
            dir,
            format!(
                "this folder is {} again ({how}); cases are read once",
                first.display()
            ),
        )
        .with_help("remove the symlink, or point it at a folder no other path reaches")
        .into());
    }
    seen.push((real, dir.to_path_buf()));
    stats.dirs_listed += 1;
    let entries = std::fs::read_dir(dir).map_err(|e| {
        ConfigError::new(dir, format!("cannot read the cases folder: {e}")).with_help(
            "create evals/cases/ with at least one case, or set EVALGATE_DIR to your evals folder",
        )
    })?;
    for entry in entries {
        let entry = entry.map_err(|e| ConfigError::new(dir, format!("cannot list folder: {e}")))?;
        let path = entry.path();
        let file_type = entry
            .file_type()
            .map_err(|e| ConfigError::new(&path, format!("cannot read file type: {e}")))?;
        let name = entry.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        let is_dir = if file_type.is_symlink() {
            match std::fs::metadata(&path) {
                Ok(target) => target.is_dir(),
                // A broken link: read as a case file when named like one (reading reports
                // it); anything else cannot be told from a folder, and is not skipped
                // without a word.
                Err(_) if is_case_file(&path) => false,
                Err(e) => {
                    eprintln!(
                        "evalgate: warning: {}: a symlink whose target cannot be read ({e}); \
                         if it was a folder of cases, they are not in this run",
                        path.display()
                    );
                    false
                }
            }
        } else {
            file_type.is_dir()
        };
        if is_dir {
            walk(&path, files, stats, seen)?;
        } else if is_case_file(&path) {
            // Symlinks (even broken ones) are included: reading them reports the problem.
            files.push(path);
        }
    }
    Ok(())
}

/// Whether `path` is named like a case file.
fn is_case_file(path: &Path) -> bool {
    path.extension()
        .is_some_and(|ext| EXTENSIONS.iter().any(|e| ext == *e))
}
