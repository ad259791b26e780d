//! Where the paths evalgate writes for people and tools start from: the repository's root.
//! GitHub resolves an annotation's `file`, a `blob/<sha>/<path>` link and a coverage
//! service an LCOV `SF:` from the repository root, and a reader of JUnit's `file` (GitLab,
//! annotators) does the same — so a suite in a workspace member (`crates/agent/evals`) must
//! say `crates/agent/evals/cases/…`, not `evals/cases/…` as seen from the crate's folder.

use std::path::{Component, Path, PathBuf};

/// The folder paths under `dir` are shown relative to: `GITHUB_WORKSPACE` when `dir` is in
/// it (the checkout Actions resolves paths in), else the root of the git work tree holding
/// `dir` (the nearest folder up with a `.git`), else the working directory (outside any
/// repository, as users type paths).
pub(crate) fn base_for(dir: &Path) -> Option<PathBuf> {
    let cwd = std::env::current_dir().ok()?;
    let dir = absolute(dir, &cwd);
    if let Some(workspace) = std::env::var_os("GITHUB_WORKSPACE").filter(|w| !w.is_empty()) {
        let workspace = absolute(Path::new(&workspace), &cwd);
        // The workspace as given, or as the file system resolves it (a symlinked checkout).
        let resolved = workspace
            .canonicalize()
            .unwrap_or_else(|_| workspace.clone());
        for base in [workspace, resolved] {
            if dir.starts_with(&base) {
                return Some(base);
            }
        }
    }
    let git_root = dir
        .ancestors()
        .find(|a| a.join(".git").exists())
        .map(Path::to_path_buf);
    git_root.or(Some(cwd))
}

/// `path` relative to `base` when it is under it; else as given.
pub(crate) fn relative_to(path: &Path, base: Option<&Path>) -> PathBuf {
    let Some(base) = base else {
        return path.to_path_buf();
    };
    let Ok(cwd) = std::env::current_dir() else {
        return path.to_path_buf();
    };
    let absolute = absolute(path, &cwd);
    absolute
        .strip_prefix(base)
        .map(Path::to_path_buf)
        .unwrap_or_else(|_| path.to_path_buf())
}

/// `path` made absolute against `cwd`, with `.` and `..` resolved lexically (no file system
/// lookups: the path need not exist).
fn absolute(path: &Path, cwd: &Path) -> PathBuf {
    let joined = if path.is_relative() {
        cwd.join(path)
    } else {
        path.to_path_buf()
    };
    let mut out = PathBuf::new();
    for component in joined.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dots_resolve_without_touching_the_file_system() {
        let cwd = Path::new("/repo/crates/agent");
        assert_eq!(
            absolute(Path::new("./evals/../evals/cases/a.yaml"), cwd),
            Path::new("/repo/crates/agent/evals/cases/a.yaml")
        );
        assert_eq!(absolute(Path::new("/x/./y/../z"), cwd), Path::new("/x/z"));
    }
}
