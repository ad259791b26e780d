//! Where the paths evalgate writes for people and tools start from: the repository's root.
//! GitHub resolves an annotation's `file`, a `blob/<sha>/<path>` link and a coverage
//! service an LCOV `SF:` from the repository root, and a reader of JUnit's `file` (GitLab,
//! annotators) does the same — so a suite in a workspace member (`crates/agent/evals`) must
//! say `crates/agent/evals/cases/…`, not `evals/cases/…` as seen from the crate's folder.

use std::path::{Component, Path, PathBuf};

/// Where a suite's paths are shown from: the root they are written relative to, and the
/// working directory relative paths are resolved against — both read once, when the suite
/// loads, not for each of its paths.
#[derive(Debug, Clone)]
pub struct RepoRoot {
    root: PathBuf,
    cwd: PathBuf,
}

impl RepoRoot {
    /// The root for paths under `dir`: `GITHUB_WORKSPACE` when `dir` is in it (the checkout
    /// Actions resolves paths in), else the root of the git work tree holding `dir` (the
    /// nearest folder up with a `.git`), else the working directory (outside any
    /// repository, as users type paths).
    pub fn for_dir(dir: &Path) -> Option<RepoRoot> {
        let cwd = std::env::current_dir().ok()?;
        let dir = absolute(dir, &cwd);
        if let Some(workspace) = crate::env::github_workspace() {
            let workspace = absolute(&workspace, &cwd);
            // The workspace as given, or as the file system resolves it (a symlinked checkout).
            let resolved = workspace
                .canonicalize()
                .unwrap_or_else(|_| workspace.clone());
            for root in [workspace, resolved] {
                if dir.starts_with(&root) {
                    return Some(RepoRoot { root, cwd });
                }
            }
        }
        let git_root = dir
            .ancestors()
            .find(|a| a.join(".git").exists())
            .map(Path::to_path_buf);
        Some(RepoRoot {
            root: git_root.unwrap_or_else(|| cwd.clone()),
            cwd,
        })
    }

    /// `path` relative to the root when it is under it; else as given.
    pub fn relative(&self, path: &Path) -> PathBuf {
        absolute(path, &self.cwd)
            .strip_prefix(&self.root)
            .map(Path::to_path_buf)
            .unwrap_or_else(|_| path.to_path_buf())
    }
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
