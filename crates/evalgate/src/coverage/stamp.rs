//! `evalgate catalog stamp`: after a person re-reviewed the catalog against its changed
//! source files, record that: write each source's current SHA-256 and today's date as
//! `reviewed:`, editing only those values so comments and layout stay.

use std::path::Path;

use serde::Deserialize;

use super::catalog::{CATALOG_FILE, CatalogFile};
use crate::atomic_file::write_atomic;
use crate::digest::sha256_file;
use crate::errors::{Error, Position};
use crate::suite::SUITE_FILES;

/// A suite file, read only for its `catalog:`.
#[derive(Deserialize)]
struct WithCatalog {
    catalog: Option<CatalogFile>,
}

/// Stamps the catalog of the suite in `dir`; returns what changed, for people.
pub fn stamp(dir: &Path) -> Result<Vec<String>, Error> {
    let own_file = dir.join(CATALOG_FILE);
    let (path, file) = if own_file.exists() {
        let source = crate::yaml::read(&own_file)?;
        let file: CatalogFile = crate::yaml::parse(&own_file, &source)?;
        (own_file, file)
    } else {
        let suite = SUITE_FILES
            .iter()
            .map(|f| dir.join(f))
            .find(|p| p.exists())
            .ok_or_else(|| {
                Error::Usage(format!(
                    "no {CATALOG_FILE} or suite file in {}",
                    dir.display()
                ))
            })?;
        let source = crate::yaml::read(&suite)?;
        let with: WithCatalog = crate::yaml::parse(&suite, &source)?;
        let file = with.catalog.ok_or_else(|| {
            Error::Usage(format!(
                "the suite in {} has no branch catalog ({CATALOG_FILE} or `catalog:`)",
                dir.display()
            ))
        })?;
        (suite, file)
    };
    let base = path.parent().unwrap_or(Path::new("."));
    let mut source = std::fs::read_to_string(&path).map_err(|e| Error::read(&path, e))?;
    let mut edits: Vec<(Position, String)> = Vec::new();
    let mut changes = Vec::new();
    for entry in &file.sources {
        let file_path = base.join(&entry.path.value);
        let hash = sha256_file(&file_path).map_err(|e| Error::read(&file_path, e))?;
        if hash != entry.sha256.value.trim().trim_start_matches("sha256:") {
            changes.push(format!("{}: sha256 {hash}", entry.path.value));
            edits.push((Position::of(&entry.sha256.referenced), hash));
        }
    }
    let today = jiff::Zoned::now().date();
    match &file.reviewed {
        Some(reviewed) if reviewed.value == today => {}
        Some(reviewed) => edits.push((Position::of(&reviewed.referenced), today.to_string())),
        None => source.insert_str(0, &format!("reviewed: {today}\n")),
    }
    changes.push(format!("reviewed: {today}"));
    // Later positions first, so earlier ones stay valid.
    edits.sort_by_key(|(p, _)| std::cmp::Reverse((p.line, p.column)));
    let shift = u32::from(file.reviewed.is_none());
    for (position, value) in edits {
        replace_scalar(&mut source, position.line + shift, position.column, &value);
    }
    write_atomic(&path, source.as_bytes())?;
    changes.insert(0, format!("stamped {}", path.display()));
    Ok(changes)
}

/// Replaces the plain or quoted scalar starting at `line`:`column` (1-based) with `value`.
fn replace_scalar(source: &mut String, line: u32, column: u32, value: &str) {
    let line_start: usize = source
        .split_inclusive('\n')
        .take(line as usize - 1)
        .map(str::len)
        .sum();
    let rest = &source[line_start..];
    let line_text = rest.split('\n').next().unwrap_or_default();
    let start = line_text
        .char_indices()
        .nth(column as usize - 1)
        .map(|(i, _)| i)
        .unwrap_or(line_text.len());
    let scalar = &line_text[start..];
    let len = match scalar.chars().next() {
        Some(q @ ('"' | '\'')) => scalar[1..].find(q).map(|i| i + 2).unwrap_or(scalar.len()),
        _ => scalar
            .find(|c: char| c.is_whitespace() || matches!(c, ',' | '}' | ']' | '#'))
            .unwrap_or(scalar.len()),
    };
    let at = line_start + start;
    source.replace_range(at..at + len, value);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::coverage::BranchCatalog;

    #[test]
    fn stamping_rewrites_only_the_hashes_and_the_date() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("prompt.md"), "v2 of the planner prompt\n").unwrap();
        let old = "0".repeat(64);
        let yaml = format!(
            "# reviewed by the support team\nreviewed: 2026-01-02\nsources:\n  - path: prompt.md\n    sha256: \"{old}\"  # the prompt\npoints:\n  route: {{branches: {{refund: {{risk: high}}}}}}\n"
        );
        let path = dir.path().join(CATALOG_FILE);
        std::fs::write(&path, &yaml).unwrap();
        let changes = stamp(dir.path()).unwrap();
        assert!(changes.iter().any(|c| c.starts_with("prompt.md: sha256")));
        let text = std::fs::read_to_string(&path).unwrap();
        let hash = sha256_file(&dir.path().join("prompt.md")).unwrap();
        assert!(
            text.contains(&format!("    sha256: {hash}  # the prompt\n")),
            "{text}"
        );
        assert!(
            text.starts_with("# reviewed by the support team\nreviewed: "),
            "{text}"
        );
        assert!(!text.contains("2026-01-02"));
        let file: CatalogFile = crate::yaml::parse(&path, &text).unwrap();
        let catalog = BranchCatalog::from_file(file, &path, &text, dir.path()).unwrap();
        assert!(catalog.stale.is_empty());
    }
}
