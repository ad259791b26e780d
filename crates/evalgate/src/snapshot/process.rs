//! Process setup for insta: which cargo workspace the snapshots belong to, and keeping
//! insta's own report off the test list.
//!
//! insta's macros find the workspace from `CARGO_MANIFEST_DIR` as it was when the crate
//! calling them was compiled — evalgate, whose folder is a registry checkout for a user,
//! not the user's project — and run `cargo metadata` there, once per process (once per
//! case under nextest). `INSTA_WORKSPACE_ROOT` at run time wins over that, so evalgate sets
//! it to the user's workspace: insta then reads the project's `insta.yaml`, and stores the
//! case file in the snapshot relative to the project.
//!
//! insta prints its "Snapshot Summary" box to stdout from the thread that asserted: with
//! cases running in parallel it lands between another case's `test … ...` and its result,
//! and its `Source:` names evalgate's file. The case's failure already says what differs,
//! where the new output is and how to review it, so evalgate sets `INSTA_OUTPUT=none`
//! unless the user chose an output; `cargo insta review` shows the full diff.

use std::path::{Path, PathBuf};

/// Sets `INSTA_WORKSPACE_ROOT` and `INSTA_OUTPUT=none` for insta, each unless it is set
/// already (by the user: a hermetic build, a wish to see insta's box), and nothing when no
/// selected case has a snapshot. Call it before the harness starts any thread, so the
/// environment is not written while another thread reads it.
pub(crate) fn prepare_process(evals_dir: &Path, snapshot_cases: bool) {
    if !snapshot_cases {
        return;
    }
    let (workspace_set, output_set) = crate::env::insta_settings();
    let root = (!workspace_set).then(|| {
        let manifest = crate::env::manifest_dir().ok().flatten();
        workspace_root(&package_dir(manifest, evals_dir))
    });
    crate::env::set_for_insta(root, !output_set);
}

/// The package under test: cargo and nextest say it (`CARGO_MANIFEST_DIR` at run time);
/// outside cargo (`evalgate run`), the folder holding the evals folder.
fn package_dir(manifest_dir: Option<PathBuf>, evals_dir: &Path) -> PathBuf {
    if let Some(dir) = manifest_dir {
        return dir;
    }
    let evals = std::path::absolute(evals_dir).unwrap_or_else(|_| evals_dir.to_path_buf());
    evals.parent().map(Path::to_path_buf).unwrap_or(evals)
}

/// The cargo workspace `package` belongs to: the nearest folder at or above it whose
/// `Cargo.toml` has a `[workspace]` table, else the package itself. (Cargo also allows
/// `package.workspace = "..."` pointers; a project using one can set
/// `INSTA_WORKSPACE_ROOT` itself.)
fn workspace_root(package: &Path) -> PathBuf {
    for dir in package.ancestors() {
        let Ok(manifest) = std::fs::read_to_string(dir.join("Cargo.toml")) else {
            continue;
        };
        if manifest
            .lines()
            .map(str::trim)
            .any(|l| l == "[workspace]" || l.starts_with("[workspace."))
        {
            return dir.to_path_buf();
        }
    }
    package.to_path_buf()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_workspace_is_the_nearest_manifest_with_a_workspace_table() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let member = root.join("crates/agent");
        std::fs::create_dir_all(member.join("evals")).unwrap();
        std::fs::write(member.join("Cargo.toml"), "[package]\nname = \"agent\"\n").unwrap();
        assert_eq!(
            workspace_root(&member),
            member,
            "a lone package is its own workspace"
        );
        std::fs::write(
            root.join("Cargo.toml"),
            "[workspace]\nmembers = [\"crates/*\"]\n",
        )
        .unwrap();
        assert_eq!(workspace_root(&member), root);
        assert_eq!(
            package_dir(Some(member.clone()), Path::new("elsewhere")),
            member
        );
        assert_eq!(package_dir(None, &member.join("evals")), member);
    }
}
