//! Comparing a sample's output with its case's snapshot, and deciding what may be written.
//!
//! evalgate compares itself (the normalised output against the `.snap` file's output) and
//! asks insta to write only where writing is allowed:
//!
//! - under CI (`CI` set to anything but `""`, `0` or `false`, or `TF_BUILD` set — insta's
//!   own rule) insta's writer is never called: nothing is written, whatever `INSTA_UPDATE`,
//!   `INSTA_FORCE_PASS` or an `insta.yaml` say, and a missing or different snapshot fails;
//! - locally, insta decides as for any test: `.snap.new` for review by default, in place
//!   under `INSTA_UPDATE=always`, a pass under `INSTA_FORCE_PASS` (what `cargo insta test`
//!   sets so it can collect every change).
//!
//! All samples of a case compare with one snapshot. Only the first sample that differs
//! hands its output to insta: a later one would overwrite that pending snapshot, and a later
//! matching one would let insta delete it.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use super::SnapshotSettings;
use super::assert::{Assertion, Decided, assert};
use super::normalise::normalise;
use super::stored::{self, Info, StoredSnapshot};
use crate::case::Case;
use crate::envelope::Envelope;
use crate::observation::Observation;
use crate::suite::Suite;
use crate::target::Secrets;

/// Whether snapshots may be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// insta's rules: pending `.snap.new` files, `INSTA_UPDATE`, `INSTA_FORCE_PASS`.
    Local,
    /// Compare only; nothing is ever written and every difference fails.
    Ci,
}

impl Mode {
    /// The mode of this process's environment, by insta's definition of CI.
    pub(crate) fn from_env() -> Mode {
        if crate::env::ci_by_insta_rule() {
            Mode::Ci
        } else {
            Mode::Local
        }
    }
}

/// A sample's output, ready to compare.
#[derive(Debug, Clone)]
pub(crate) struct Produced {
    /// Normalised and redacted.
    pub text: String,
    /// What the output was produced under, recorded in a new snapshot's header.
    pub envelope: Envelope,
}

/// The outcome of comparing one sample's output with its snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Comparison {
    /// The `.snap` file, as shown to users.
    pub shown: PathBuf,
    pub passed: bool,
    /// `None` when the output matches the snapshot.
    pub difference: Option<Difference>,
    pub action: Action,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Difference {
    /// No snapshot was accepted yet.
    Missing,
    /// The first line (1-based) that differs; `None` where one side has no such line.
    Line {
        number: usize,
        snapshot: Option<String>,
        output: Option<String>,
    },
}

/// What happened besides the comparison.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Action {
    Nothing,
    /// Under CI: nothing written, on purpose.
    CiNothingWritten,
    /// insta wrote the output here (shown path) for `cargo insta review`.
    Pending(PathBuf),
    /// insta replaced the snapshot in place (`INSTA_UPDATE=always`, `unseen`, `force`).
    Updated,
    /// insta let the difference pass (`INSTA_FORCE_PASS`, set by `cargo insta test`).
    ForcePassed,
    /// An earlier sample of the case already handed its output to insta.
    EarlierSample,
    /// The comparison could not be made.
    Error(String),
}

/// The snapshots of a run: settings, what the suite declares, and what this process has
/// done so far.
pub(crate) struct Snapshots {
    settings: SnapshotSettings,
    /// The snapshot folder, absolute (for insta).
    dir: PathBuf,
    /// The snapshot folder, as shown to users.
    shown_dir: PathBuf,
    declared: BTreeMap<String, String>,
    secrets: Secrets,
    mode: Mode,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Which case owns each snapshot file: two ids can map to one file name.
    owners: HashMap<PathBuf, String>,
    /// Cases whose output insta already saw differ, and whether insta let it pass.
    handed_over: HashMap<String, bool>,
}

impl Snapshots {
    pub(crate) fn new(suite: &Suite, mode: Mode, secrets: Secrets) -> Snapshots {
        let settings = suite.snapshots.clone();
        let dir = std::path::absolute(&settings.dir).unwrap_or_else(|_| settings.dir.clone());
        Snapshots {
            shown_dir: suite.display_path(&settings.dir),
            dir,
            declared: suite.envelope.clone(),
            secrets,
            settings,
            mode,
            state: Mutex::new(State::default()),
        }
    }

    /// The snapshot text and envelope of an observation (no I/O).
    pub(crate) fn produced(&self, observation: &Observation) -> Produced {
        Produced {
            text: normalise(
                &observation.output,
                &self.secrets,
                &self.settings.redactions,
            ),
            envelope: Envelope::of_observation(&self.declared, observation),
        }
    }

    /// The `.snap` file of a case, as shown to users.
    pub(crate) fn shown_path(&self, case_id: &str) -> PathBuf {
        self.shown_dir.join(stored::file_name(case_id))
    }

    /// Compares one sample's output with the case's snapshot. Blocking: reads and may
    /// write files, and waits for the other samples' comparisons.
    pub(crate) fn compare(&self, case: &Case, produced: &Produced) -> Comparison {
        let path = self.dir.join(stored::file_name(&case.id));
        let outcome = |passed, difference, action| Comparison {
            shown: self.shown_path(&case.id),
            passed,
            difference,
            action,
        };
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(owner) = state.owners.get(&path)
            && owner != &case.id
        {
            return outcome(
                false,
                None,
                Action::Error(format!(
                    "case `{owner}` has the same snapshot file; give one of them another `id:`"
                )),
            );
        }
        state.owners.insert(path.clone(), case.id.clone());
        let difference = match StoredSnapshot::read(&path) {
            Ok(None) => Some(Difference::Missing),
            Ok(Some(stored)) => first_difference(&stored.body, &produced.text),
            Err(e) => {
                return outcome(
                    false,
                    None,
                    Action::Error(format!("cannot read {}: {e}", path.display())),
                );
            }
        };
        let earlier = state.handed_over.get(&case.id).copied();
        if self.mode == Mode::Ci {
            remember_reference(&path);
            let action = match difference {
                Some(_) => Action::CiNothingWritten,
                None => Action::Nothing,
            };
            return outcome(difference.is_none(), difference, action);
        }
        match (difference, earlier) {
            // insta would delete the pending snapshot of the earlier sample.
            (None, Some(_)) => {
                remember_reference(&path);
                outcome(true, None, Action::Nothing)
            }
            (Some(difference), Some(passed)) => {
                remember_reference(&path);
                outcome(passed, Some(difference), Action::EarlierSample)
            }
            (None, None) => match self.assert(case, produced) {
                Decided::Passed => outcome(true, None, Action::Nothing),
                Decided::Failed => outcome(
                    false,
                    None,
                    Action::Error("insta reports a difference evalgate does not see".into()),
                ),
                Decided::Error(e) => outcome(false, None, Action::Error(e)),
            },
            (Some(difference), None) => {
                let (passed, action) = match self.assert(case, produced) {
                    Decided::Failed => (false, self.pending(&path, &case.id)),
                    Decided::Passed => {
                        let now = StoredSnapshot::read(&path).ok().flatten();
                        if now.is_some_and(|s| first_difference(&s.body, &produced.text).is_none())
                        {
                            (true, Action::Updated)
                        } else {
                            (true, Action::ForcePassed)
                        }
                    }
                    Decided::Error(e) => (false, Action::Error(e)),
                };
                state.handed_over.insert(case.id.clone(), passed);
                outcome(passed, Some(difference), action)
            }
        }
    }

    /// insta's assertion for one sample, then the `source:` of what insta wrote set to the
    /// case file's `snapshot:` line: the pending `.snap.new`, and the `.snap` when insta
    /// changed it (updated in place). An accepted `.snap` insta left alone is never
    /// rewritten.
    fn assert(&self, case: &Case, produced: &Produced) -> Decided {
        let path = self.dir.join(stored::file_name(&case.id));
        let accepted = std::fs::read(&path).ok();
        let line = case.key_lines.get("snapshot").copied().unwrap_or(case.line);
        let decided = self.assert_with_insta(case, produced);
        let pending = path.with_extension("snap.new");
        let updated = std::fs::read(&path)
            .ok()
            .filter(|now| Some(now) != accepted.as_ref());
        for (file, written) in [(&pending, pending.exists()), (&path, updated.is_some())] {
            if written && let Err(e) = stored::name_the_case_as_source(file, line) {
                eprintln!("evalgate: {}", e.render());
            }
        }
        decided
    }

    fn assert_with_insta(&self, case: &Case, produced: &Produced) -> Decided {
        let name = stored::snapshot_name(&case.id);
        let description = match &case.description {
            Some(text) => format!("{}: {}", case.id, text.trim()),
            None => case.id.clone(),
        };
        assert(&Assertion {
            dir: &self.dir,
            name: &name,
            text: &produced.text,
            description,
            input_file: std::path::absolute(&case.file).ok(),
            info: Info {
                case: &case.id,
                envelope: &produced.envelope,
                date: jiff::Zoned::now().date(),
            },
        })
    }

    /// The pending snapshot insta wrote next to `path`, if it is there (insta writes
    /// elsewhere under `INSTA_PENDING_DIR`, and nothing under `INSTA_UPDATE=no`).
    fn pending(&self, path: &Path, case_id: &str) -> Action {
        if path.with_extension("snap.new").exists() {
            Action::Pending(self.shown_path(case_id).with_extension("snap.new"))
        } else {
            Action::Nothing
        }
    }
}

/// `None` when `snapshot` and `output` are the same output, else the first line that
/// differs. Both are already normalised; trailing whitespace at the end never counts.
fn first_difference(snapshot: &str, output: &str) -> Option<Difference> {
    let (snapshot, output) = (snapshot.trim_end(), output.trim_end());
    if snapshot == output {
        return None;
    }
    let mut old = snapshot.split('\n');
    let mut new = output.split('\n');
    let mut number = 1;
    loop {
        let (a, b) = (old.next(), new.next());
        if a != b {
            return Some(Difference::Line {
                number,
                snapshot: a.map(str::to_string),
                output: b.map(str::to_string),
            });
        }
        number += 1;
    }
}

/// Tells `cargo insta test --unreferenced` that this run used the snapshot, where insta
/// itself is not called (under CI, and for later samples of a case): cargo-insta passes a
/// file in `INSTA_SNAPSHOT_REFERENCES_FILE` and treats every `.snap` not listed there as
/// unreferenced. Best effort, like insta's own: a snapshot left out shows up as
/// unreferenced, never silently as used.
fn remember_reference(path: &Path) {
    let Some(file) = crate::env::insta_references_file() else {
        return;
    };
    let written = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(&file)
        .and_then(|mut f| f.write_all(format!("{}\n", path.display()).as_bytes()));
    if let Err(e) = written {
        eprintln!(
            "evalgate: cannot record the snapshot {} as referenced in {}: {e}",
            path.display(),
            Path::new(&file).display()
        );
    }
}

#[cfg(all(test, feature = "snapshots"))]
mod tests {
    use super::*;

    /// A suite in a temp dir with the cases `ids` (all `snapshot: true`).
    fn suite(ids: &[&str]) -> (tempfile::TempDir, Suite, Vec<Case>) {
        let dir = tempfile::tempdir().unwrap();
        let evals = dir.path().join("evals");
        std::fs::create_dir_all(evals.join("cases")).unwrap();
        std::fs::write(
            evals.join("evalgate.yaml"),
            "envelope: {model: m-1, prompt: p-1}\nsnapshots:\n  redact: {numbers: true}\n",
        )
        .unwrap();
        let suite = Suite::load(&evals).unwrap();
        let cases = ids
            .iter()
            .map(|id| {
                let rel = PathBuf::from(format!("{}.yaml", id.replace('/', "-")));
                let path = evals.join("cases").join(&rel);
                std::fs::write(
                    &path,
                    format!(
                        "id: {id}\nsnapshot: true\ninput:\n  messages: [{{role: user, content: hi}}]\n\
                         expect: [{{contains: \"\"}}]\n"
                    ),
                )
                .unwrap();
                Case::load(&path, path.clone(), &rel, &suite)
                    .unwrap()
                    .remove(0)
            })
            .collect();
        (dir, suite, cases)
    }

    fn files(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .map(|entries| {
                entries
                    .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }

    #[test]
    fn under_ci_a_missing_or_different_snapshot_fails_and_nothing_is_written() {
        let (_dir, suite, cases) = suite(&["refunds/over-limit"]);
        let snapshots = Snapshots::new(&suite, Mode::Ci, Secrets::default());
        let produced = snapshots.produced(&Observation::new("Refund 649 sent.\nBye"));
        assert_eq!(produced.text, "Refund [number] sent.\nBye");
        assert_eq!(produced.envelope.describe(), "model=m-1, prompt=p-1");

        let missing = snapshots.compare(&cases[0], &produced);
        assert!(!missing.passed);
        assert_eq!(missing.difference, Some(Difference::Missing));
        assert_eq!(missing.action, Action::CiNothingWritten);
        assert!(
            missing
                .shown
                .ends_with("snapshots/refunds__over-limit.snap")
        );
        assert!(files(&suite.snapshots.dir).is_empty(), "nothing written");

        std::fs::create_dir_all(&suite.snapshots.dir).unwrap();
        let path = suite.snapshots.dir.join("refunds__over-limit.snap");
        std::fs::write(&path, "---\nsource: x\n---\nRefund [number] sent.\nBye\n").unwrap();
        let matched = snapshots.compare(&cases[0], &produced);
        assert_eq!((matched.passed, &matched.difference), (true, &None));

        std::fs::write(
            &path,
            "---\nsource: x\n---\nRefund [number] sent.\nSee you\n",
        )
        .unwrap();
        let differs = snapshots.compare(&cases[0], &produced);
        assert!(!differs.passed);
        assert_eq!(
            differs.difference,
            Some(Difference::Line {
                number: 2,
                snapshot: Some("See you".into()),
                output: Some("Bye".into()),
            })
        );
        assert_eq!(files(&suite.snapshots.dir), ["refunds__over-limit.snap"]);
    }

    #[test]
    fn two_cases_with_one_snapshot_file_are_refused() {
        let (_dir, suite, cases) = suite(&["a/b", "a__b"]);
        let snapshots = Snapshots::new(&suite, Mode::Ci, Secrets::default());
        let produced = snapshots.produced(&Observation::new("x"));
        assert!(matches!(
            snapshots.compare(&cases[0], &produced).action,
            Action::CiNothingWritten
        ));
        let clash = snapshots.compare(&cases[1], &produced);
        assert!(!clash.passed);
        assert!(
            matches!(&clash.action, Action::Error(e) if e.contains("case `a/b`")),
            "{clash:?}"
        );
    }

    #[test]
    fn locally_a_match_passes_and_leaves_the_snapshot_as_accepted() {
        let (_dir, suite, cases) = suite(&["greeting"]);
        let snapshots = Snapshots::new(&suite, Mode::Local, Secrets::default());
        std::fs::create_dir_all(&suite.snapshots.dir).unwrap();
        let path = suite.snapshots.dir.join("greeting.snap");
        // Accepted under another envelope, on another day: only the output counts.
        let accepted = "---\nsource: src/snapshot/assert.rs\ninfo:\n  case: greeting\n  \
                        envelope:\n    model: m-0\n  date: 2026-01-02\n---\nHello [number]\n";
        std::fs::write(&path, accepted).unwrap();
        let produced = snapshots.produced(&Observation::new("Hello 7  \r\n"));
        let matched = snapshots.compare(&cases[0], &produced);
        assert!(matched.passed, "{matched:?}");
        assert_eq!(matched.difference, None);
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            accepted,
            "not rewritten"
        );
        assert_eq!(files(&suite.snapshots.dir), ["greeting.snap"]);
    }

    #[test]
    fn the_first_differing_line_is_found() {
        assert_eq!(first_difference("a\nb", "a\nb  "), None);
        assert_eq!(
            first_difference("a\nb", "a"),
            Some(Difference::Line {
                number: 2,
                snapshot: Some("b".into()),
                output: None
            })
        );
    }
}
