//! Reading the reports a run wrote: `coverage.json` and its gate results.

#![allow(dead_code)]

use std::path::Path;

use serde_json::Value;

/// A JSON report file, parsed.
pub fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

/// The result of the gate named `name` in a parsed `coverage.json`.
pub fn gate<'a>(coverage: &'a Value, name: &str) -> &'a Value {
    coverage["gates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["name"] == name)
        .unwrap_or_else(|| panic!("no gate {name}: {coverage:#}"))
}
