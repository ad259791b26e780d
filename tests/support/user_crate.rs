//! A user's crate as the README shows it: `evalgate` as a dev-dependency (by path) and a
//! `harness = false` test target `evals`, with this repository's Cargo.lock so the same
//! dependency versions build. Include it with
//! `#[path = "support/user_crate.rs"] mod user_crate;`.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// This repository's `evalgate` crate.
pub fn evalgate_crate() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("crates/evalgate")
}

/// The crate a test or bench writes: its name, the `evalgate` crate it depends on, the
/// features it turns on (none: the defaults, as the README shows), and the Cargo.lock to
/// use.
pub struct UserCrate<'a> {
    pub name: &'a str,
    pub evalgate: &'a Path,
    pub features: &'a [&'a str],
    /// `false`: `default-features = false` (no run history).
    pub default_features: bool,
    pub lock: Option<&'a Path>,
}

/// Writes `krate` into `root`: its Cargo.toml depending on the `evalgate` crate, an empty
/// `src/lib.rs`, `tests/evals.rs` holding `harness`, and the lock (when given) as its
/// Cargo.lock.
pub fn write(root: &Path, krate: &UserCrate<'_>, harness: &str) {
    let mut features = if krate.features.is_empty() {
        String::new()
    } else {
        format!(", features = {:?}", krate.features)
    };
    if !krate.default_features {
        features.push_str(", default-features = false");
    }
    std::fs::write(
        root.join("Cargo.toml"),
        format!(
            "[package]\nname = \"{}\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n\
             [dev-dependencies]\nevalgate = {{ path = {:?}{features} }}\n\n\
             [[test]]\nname = \"evals\"\nharness = false\n\n[workspace]\n",
            krate.name,
            krate.evalgate.display().to_string()
        ),
    )
    .unwrap();
    for (file, text) in [("src/lib.rs", ""), ("tests/evals.rs", harness)] {
        let path = root.join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    if let Some(lock) = krate.lock {
        std::fs::copy(lock, root.join("Cargo.lock")).unwrap();
    }
}

/// This repository's Cargo.lock.
pub fn our_lock() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.lock")
}

/// The target folder the tests' user crates share (under ours, so the evalgate they build
/// stays incremental between tests and runs).
pub fn shared_target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"))
        .join("user-project")
}
