//! The environment is read in one place (`crates/evalgate-core/src/env.rs`), and the book's
//! Environment chapter documents exactly the variables it reads.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::book::{read, root};

/// Every `.rs` file under `dir`, recursively.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// One module resolves and validates the environment (`crates/evalgate-core/src/env.rs`): no
/// other source file reads or sets a variable (tests aside), every `EVALGATE_*` variable
/// it reads is in the book's Environment chapter, and every one the chapter names is read
/// or set somewhere.
#[test]
fn the_environment_is_read_in_one_place_and_documented() {
    let env_module = root().join("crates/evalgate-core/src/env.rs");
    let mut files = Vec::new();
    rust_files(&root().join("src"), &mut files);
    for krate in std::fs::read_dir(root().join("crates")).unwrap() {
        rust_files(&krate.unwrap().path().join("src"), &mut files);
    }
    let reads = [
        "env::var(",
        "env::var_os(",
        "env::vars(",
        "env::vars_os(",
        "env::set_var(",
        "env::remove_var(",
    ];
    let mut code = String::new();
    let mut elsewhere = Vec::new();
    for file in &files {
        let text = read(file);
        code.push_str(&text);
        if *file == env_module || file.file_name().is_some_and(|n| n == "tests.rs") {
            continue;
        }
        for (n, line) in text.lines().enumerate() {
            if line.trim_start() == "#[cfg(test)]" {
                break;
            }
            if reads.iter().any(|r| line.contains(r)) {
                elsewhere.push(format!("{}:{}: {}", file.display(), n + 1, line.trim()));
            }
        }
    }
    assert!(
        elsewhere.is_empty(),
        "read the environment through crates/evalgate-core/src/env.rs:\n{}",
        elsewhere.join("\n")
    );

    let chapter = read(&root().join("docs/src/environment.md"));
    for name in evalgate::env::READ {
        assert!(
            chapter.contains(&format!("`{name}`")),
            "{name} is read but not in docs/src/environment.md"
        );
    }
    let documented: BTreeSet<&str> = chapter
        .match_indices("EVALGATE_")
        .map(|(at, _)| {
            let rest = &chapter[at..];
            let end = rest
                .find(|c: char| !(c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'))
                .unwrap_or(rest.len());
            &rest[..end]
        })
        .collect();
    for name in documented {
        assert!(
            code.contains(name),
            "docs/src/environment.md documents {name}, which no code reads or sets"
        );
    }
}
