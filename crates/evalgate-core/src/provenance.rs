//! Which branch and commit of the user's repository a run measured, so that a pull request
//! can be compared with the latest run of its base branch in the history store.
//!
//! CI says it in its environment; on a developer's machine the repository's `.git` says it.
//! `.git` is read directly (HEAD, loose refs, packed-refs) rather than by starting `git`:
//! under nextest every test is a process, and a missing `git` must not matter.

use std::path::{Path, PathBuf};

use crate::errors::Error;

/// The branch and commit a run measured, as far as they can be told.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Provenance {
    pub branch: Option<String>,
    pub commit: Option<String>,
    /// The commit came from the environment (CI, `EVALGATE_COMMIT`), so it names the
    /// checkout exactly; from `.git` it names HEAD, and the working tree may differ.
    pub exact: bool,
}

impl Provenance {
    /// `$EVALGATE_BRANCH` / `$EVALGATE_COMMIT` first; then GitHub Actions (the pull
    /// request's head branch, else the pushed branch; `GITHUB_SHA`); then GitLab CI; then
    /// the `.git` of the repository holding `dir`. A detached HEAD has no branch.
    pub fn detect(dir: &Path) -> Result<Provenance, Error> {
        let (mut branch, mut commit) = crate::env::branch_and_commit()?;
        let exact = commit.is_some();
        if (branch.is_none() || commit.is_none())
            && let Some(git) = GitDir::find(dir)
        {
            let head = git.head();
            if branch.is_none() {
                branch = head.as_ref().and_then(Head::branch);
            }
            if commit.is_none() {
                commit = head.and_then(|h| git.commit_of(&h));
            }
        }
        Ok(Provenance {
            branch,
            commit,
            exact,
        })
    }
}

/// What `HEAD` points at.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Head {
    /// `ref: refs/heads/<branch>` (or another ref).
    Ref(String),
    /// A detached HEAD: a commit id.
    Detached(String),
}

impl Head {
    fn branch(&self) -> Option<String> {
        match self {
            Head::Ref(r) => r.strip_prefix("refs/heads/").map(str::to_string),
            Head::Detached(_) => None,
        }
    }
}

/// A repository's git folder, and the common folder refs live in (they differ for a
/// linked worktree).
#[derive(Debug)]
struct GitDir {
    git: PathBuf,
    common: PathBuf,
}

impl GitDir {
    /// The `.git` of the repository holding `dir`: a folder, or a file `gitdir: <path>`
    /// (worktrees, submodules).
    fn find(dir: &Path) -> Option<GitDir> {
        let start = std::path::absolute(dir).ok()?;
        for ancestor in start.ancestors() {
            let candidate = ancestor.join(".git");
            let git = if candidate.is_dir() {
                candidate
            } else if candidate.is_file() {
                let text = std::fs::read_to_string(&candidate).ok()?;
                let target = text.strip_prefix("gitdir:")?.trim();
                ancestor.join(target)
            } else {
                continue;
            };
            let common = match std::fs::read_to_string(git.join("commondir")) {
                Ok(text) => git.join(text.trim()),
                Err(_) => git.clone(),
            };
            return Some(GitDir { git, common });
        }
        None
    }

    fn head(&self) -> Option<Head> {
        let text = std::fs::read_to_string(self.git.join("HEAD")).ok()?;
        let text = text.trim();
        match text.strip_prefix("ref:") {
            Some(r) => Some(Head::Ref(r.trim().to_string())),
            None if is_object_id(text) => Some(Head::Detached(text.to_string())),
            None => None,
        }
    }

    /// The commit `head` names: a loose ref, else a line of `packed-refs`. A branch with no
    /// commit yet has none.
    fn commit_of(&self, head: &Head) -> Option<String> {
        let name = match head {
            Head::Detached(id) => return Some(id.clone()),
            Head::Ref(name) => name,
        };
        // A ref name never contains `..`; refusing it keeps a crafted HEAD inside `.git`.
        if name.contains("..") {
            return None;
        }
        for folder in [&self.git, &self.common] {
            if let Ok(text) = std::fs::read_to_string(folder.join(name)) {
                let id = text.trim();
                return is_object_id(id).then(|| id.to_string());
            }
        }
        let packed = std::fs::read_to_string(self.common.join("packed-refs")).ok()?;
        packed.lines().find_map(|line| {
            let (id, r) = line.split_once(' ')?;
            (r == name && is_object_id(id)).then(|| id.to_string())
        })
    }
}

/// A SHA-1 or SHA-256 object id in hex.
fn is_object_id(text: &str) -> bool {
    matches!(text.len(), 40 | 64) && text.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "0123456789abcdef0123456789abcdef01234567";
    const B: &str = "89abcdef0123456789abcdef0123456789abcdef";

    fn repo(head: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let git = dir.path().join(".git");
        std::fs::create_dir_all(git.join("refs/heads/feature")).unwrap();
        std::fs::write(git.join("HEAD"), head).unwrap();
        std::fs::write(git.join("refs/heads/main"), format!("{A}\n")).unwrap();
        std::fs::write(
            git.join("packed-refs"),
            format!("# pack-refs with: peeled fully-peeled sorted\n{B} refs/heads/feature/x\n"),
        )
        .unwrap();
        std::fs::create_dir_all(dir.path().join("evals/cases")).unwrap();
        dir
    }

    fn of(dir: &Path) -> (Option<String>, Option<String>) {
        let git = GitDir::find(dir).expect("a .git above");
        let head = git.head();
        (
            head.as_ref().and_then(Head::branch),
            head.and_then(|h| git.commit_of(&h)),
        )
    }

    #[test]
    fn a_branch_and_its_loose_ref_are_read_from_a_folder_below_the_repository() {
        let dir = repo("ref: refs/heads/main\n");
        assert_eq!(
            of(&dir.path().join("evals/cases")),
            (Some("main".into()), Some(A.into()))
        );
    }

    #[test]
    fn a_packed_ref_and_a_slash_in_the_branch_name_are_read() {
        let dir = repo("ref: refs/heads/feature/x\n");
        assert_eq!(of(dir.path()), (Some("feature/x".into()), Some(B.into())));
    }

    #[test]
    fn a_detached_head_has_a_commit_and_no_branch() {
        let dir = repo(&format!("{B}\n"));
        assert_eq!(of(dir.path()), (None, Some(B.into())));
    }

    #[test]
    fn a_linked_worktree_reads_its_own_head_and_the_common_refs() {
        let dir = repo("ref: refs/heads/main\n");
        let worktree_git = dir.path().join(".git/worktrees/wt");
        std::fs::create_dir_all(&worktree_git).unwrap();
        std::fs::write(worktree_git.join("HEAD"), "ref: refs/heads/feature/x\n").unwrap();
        std::fs::write(worktree_git.join("commondir"), "../..\n").unwrap();
        let checkout = dir.path().join("wt");
        std::fs::create_dir_all(&checkout).unwrap();
        std::fs::write(
            checkout.join(".git"),
            format!("gitdir: {}\n", worktree_git.display()),
        )
        .unwrap();
        assert_eq!(of(&checkout), (Some("feature/x".into()), Some(B.into())));
    }

    #[test]
    fn an_unborn_branch_or_a_ref_escaping_git_has_no_commit() {
        let dir = repo("ref: refs/heads/new\n");
        assert_eq!(of(dir.path()), (Some("new".into()), None));
        let dir = repo("ref: refs/heads/../../../../etc/hostname\n");
        assert_eq!(of(dir.path()).1, None);
    }
}
