//! `evalgate catalog suggest`: a first catalog for a human to review, from an OpenAI-style
//! tools JSON (every tool a branch of `tool`) and from the decisions seen in run records.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::Path;

use serde_json::Value;

use crate::digest::sha256_file;
use crate::errors::Error;
use crate::observation::Decision;

/// What the suggestion knows of one branch.
#[derive(Default)]
struct Seen {
    description: Option<String>,
    in_tools: bool,
    samples: u64,
    cases: std::collections::BTreeSet<String>,
}

/// The proposed catalog as YAML, from a tools JSON (`(path, path as shown in sources:)`)
/// and the `(case, decisions)` of recorded samples.
pub fn suggest<'a>(
    tools: Option<(&Path, &str)>,
    samples: Option<impl IntoIterator<Item = (&'a str, &'a [Decision])>>,
) -> Result<String, Error> {
    let mut points: BTreeMap<String, BTreeMap<String, Seen>> = BTreeMap::new();
    let mut sources = Vec::new();
    if let Some((path, shown)) = tools {
        for (name, description) in read_tools(path)? {
            let seen = points
                .entry("tool".into())
                .or_default()
                .entry(name)
                .or_default();
            seen.in_tools = true;
            seen.description = description;
        }
        let hash = sha256_file(path).map_err(|e| Error::read(path, e))?;
        sources.push((shown.to_string(), hash));
    }
    let from_records = samples.is_some();
    for (case, decisions) in samples.into_iter().flatten() {
        for Decision { point, branch } in decisions {
            let seen = points
                .entry(point.clone())
                .or_default()
                .entry(branch.clone())
                .or_default();
            seen.samples += 1;
            seen.cases.insert(case.to_string());
        }
    }
    if points.is_empty() {
        return Err(Error::Usage(
            "nothing to suggest from: the tools file lists no tools and the run records show no decisions"
                .into(),
        ));
    }
    let mut out = String::new();
    out.push_str(
        "# A branch catalog proposed by `evalgate catalog suggest`. Review every branch:\n\
         # describe it, set its risk (high branches must be covered), delete what the planner\n\
         # cannot do, add what it can that no run showed. Save as evals/branches.yaml.\n",
    );
    if !sources.is_empty() {
        out.push_str("sources:\n");
        for (path, hash) in &sources {
            let _ = writeln!(out, "  - path: {}\n    sha256: {hash}", yaml_string(path));
        }
    }
    out.push_str("points:\n");
    for (point, branches) in &points {
        let _ = writeln!(out, "  {}:\n    branches:", yaml_key(point));
        for (branch, seen) in branches {
            let mut fields = vec!["risk: medium".to_string()];
            if let Some(d) = &seen.description {
                fields.push(format!("description: {}", yaml_string(d)));
            }
            let mut why = Vec::new();
            if seen.in_tools {
                why.push("a tool in the tools file".to_string());
            }
            if seen.samples > 0 {
                why.push(format!(
                    "seen in {} sample(s) of {} case(s)",
                    seen.samples,
                    seen.cases.len()
                ));
            } else if from_records {
                why.push("never seen in the run".into());
            }
            let _ = writeln!(
                out,
                "      {}: {{{}}}  # {}",
                yaml_key(branch),
                fields.join(", "),
                why.join("; ")
            );
        }
    }
    Ok(out)
}

/// `(name, description)` of every function tool in an OpenAI-style tools JSON: a list of
/// `{"type": "function", "function": {...}}`, an object with such a `tools` list, or a
/// legacy `functions` list of `{name, description}`.
fn read_tools(path: &Path) -> Result<Vec<(String, Option<String>)>, Error> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Error::Usage(format!(
            "cannot read the tools file {}: {e}",
            path.display()
        ))
    })?;
    let json: Value = serde_json::from_str(&text)
        .map_err(|e| Error::Usage(format!("{}: not JSON: {e}", path.display())))?;
    let list = match &json {
        Value::Array(list) => list,
        Value::Object(map) => match map.get("tools").or_else(|| map.get("functions")) {
            Some(Value::Array(list)) => list,
            _ => {
                return Err(Error::Usage(format!(
                    "{}: no tools: expected a list of tools, or an object with a `tools` list",
                    path.display()
                )));
            }
        },
        _ => {
            return Err(Error::Usage(format!(
                "{}: no tools: expected a list of tools",
                path.display()
            )));
        }
    };
    let mut tools = Vec::with_capacity(list.len());
    for (i, tool) in list.iter().enumerate() {
        let function = tool.get("function").unwrap_or(tool);
        let name = function.get("name").and_then(Value::as_str).ok_or_else(|| {
            Error::Usage(format!(
                "{}: tool {i} has no `function.name` (OpenAI tool format: {{\"type\": \"function\", \"function\": {{\"name\": ...}}}})",
                path.display()
            ))
        })?;
        let description = function
            .get("description")
            .and_then(Value::as_str)
            .map(|d| d.lines().next().unwrap_or_default().to_string());
        tools.push((name.to_string(), description));
    }
    Ok(tools)
}

/// A double-quoted YAML scalar (JSON string syntax is valid YAML).
fn yaml_string(text: &str) -> String {
    serde_json::to_string(text).expect("a string serializes")
}

fn yaml_key(text: &str) -> String {
    let plain = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if plain {
        text.to_string()
    } else {
        yaml_string(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::catalog::{BranchCatalog, CatalogFile};

    #[test]
    fn a_suggestion_from_tools_and_records_is_a_valid_catalog() {
        let dir = tempfile::tempdir().unwrap();
        let tools = dir.path().join("tools.json");
        std::fs::write(
            &tools,
            r#"{"tools": [
                {"type": "function", "function": {"name": "lookup_order", "description": "Find an order.\nMore."}},
                {"type": "function", "function": {"name": "issue_refund"}}
            ]}"#,
        )
        .unwrap();
        let decisions: Vec<Decision> = ["route.refund", "tool.lookup_order", "route.weird:key"]
            .iter()
            .map(|d| Decision::parse(d).unwrap())
            .collect();
        let samples = [("refund-1", decisions.as_slice())];
        let yaml = suggest(Some((&tools, "tools.json")), Some(samples)).unwrap();
        assert!(yaml.contains("description: \"Find an order.\""), "{yaml}");
        assert!(yaml.contains("never seen in the run"), "{yaml}");
        let path = dir.path().join("branches.yaml");
        let file: CatalogFile = crate::yaml::parse(&path, &yaml).unwrap();
        let catalog = BranchCatalog::from_file(file, &path, &yaml, dir.path()).unwrap();
        assert!(catalog.stale.is_empty(), "the hash is the file's");
        let names: Vec<String> = catalog.decisions().map(|(d, _)| d.to_string()).collect();
        assert_eq!(
            names,
            [
                "route.refund",
                "route.weird:key",
                "tool.issue_refund",
                "tool.lookup_order"
            ]
        );
        std::fs::write(&tools, "[]").unwrap();
        assert!(suggest(Some((&tools, "t")), None::<[(&str, &[Decision]); 0]>).is_err());
        std::fs::write(&tools, r#"[{"type": "function"}]"#).unwrap();
        let e = suggest(Some((&tools, "t")), None::<[(&str, &[Decision]); 0]>).unwrap_err();
        assert!(e.render().contains("function.name"));
    }
}
