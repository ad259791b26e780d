//! Rubrics: versioned files (`evals/rubrics/<id>.yaml`) that say how a case's labels were
//! decided. A case names the rubric and version it was labelled under (`rubric: tone@2`);
//! when the rubric moves on, the case's labels are stale.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::errors::ConfigError;

/// A rubric file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RubricFile {
    version: u32,
    /// When this version was adopted.
    changed: Option<jiff::civil::Date>,
    description: Option<String>,
    #[serde(default)]
    criteria: Vec<String>,
}

/// The version of a rubric in force.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rubric {
    pub id: String,
    pub version: u32,
    pub changed: Option<jiff::civil::Date>,
    pub description: Option<String>,
    pub criteria: Vec<String>,
    /// The rubric file, as shown to users.
    pub file: PathBuf,
}

/// A case's `rubric: <id>@<version>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RubricRef {
    pub id: String,
    pub version: u32,
}

impl RubricRef {
    /// Parses `id@version`; the message says what is wrong.
    pub fn parse(text: &str) -> Result<RubricRef, String> {
        let (id, version) = text.rsplit_once('@').ok_or_else(|| {
            format!("`rubric: {text}` must name the version labelled under, e.g. `{text}@1`")
        })?;
        let version = version
            .parse::<u32>()
            .map_err(|_| format!("`rubric: {text}`: `{version}` is not a version number"))?;
        if id.is_empty() {
            return Err(format!("`rubric: {text}` has no rubric id before `@`"));
        }
        Ok(RubricRef {
            id: id.to_string(),
            version,
        })
    }
}

/// Loads every `*.yaml`/`*.yml` in `dir` (none when the folder does not exist), by id
/// (the file stem).
pub fn load_rubrics(
    dir: &Path,
    display: impl Fn(&Path) -> PathBuf,
) -> Result<BTreeMap<String, Rubric>, ConfigError> {
    let mut rubrics = BTreeMap::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(rubrics),
        Err(e) => {
            return Err(ConfigError::new(
                &display(dir),
                format!("cannot read the rubrics folder: {e}"),
            ));
        }
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
        .collect();
    paths.sort();
    for path in paths {
        let shown = display(&path);
        let source = crate::yaml::read(&path).map_err(|e| ConfigError {
            path: shown.clone(),
            ..e
        })?;
        let file: RubricFile = crate::yaml::parse(&shown, &source)?;
        let id = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        rubrics.insert(
            id.clone(),
            Rubric {
                id,
                version: file.version,
                changed: file.changed,
                description: file.description,
                criteria: file.criteria,
                file: shown,
            },
        );
    }
    Ok(rubrics)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reference_names_id_and_version() {
        assert_eq!(
            RubricRef::parse("support-quality@2"),
            Ok(RubricRef {
                id: "support-quality".into(),
                version: 2
            })
        );
        assert!(
            RubricRef::parse("support-quality")
                .unwrap_err()
                .contains("@1")
        );
        assert!(
            RubricRef::parse("tone@two")
                .unwrap_err()
                .contains("not a version")
        );
    }
}
