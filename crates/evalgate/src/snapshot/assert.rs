//! One call of insta's assertion: `Settings` bound to this thread for this call only
//! (explicit name, absolute folder, no module prefix, our `info`, a contents-only
//! comparator), insta's panic on a mismatch caught and turned into a value. insta then does
//! what it does for any test: writes `.snap.new` (or updates in place, per `INSTA_UPDATE`),
//! removes a stale `.snap.new` when the output matches, prints its diff, and records the
//! snapshot as referenced for `cargo insta test --unreferenced`.

#[cfg(feature = "snapshots")]
use std::cell::Cell;
use std::path::{Path, PathBuf};
#[cfg(feature = "snapshots")]
use std::sync::Once;

use super::stored::Info;

/// What to assert.
#[cfg_attr(not(feature = "snapshots"), allow(dead_code))]
pub(crate) struct Assertion<'a> {
    /// The snapshot folder, absolute: a relative one would be resolved against this source
    /// file of evalgate, not the user's project.
    pub dir: &'a Path,
    /// The snapshot name (the file name without `.snap`).
    pub name: &'a str,
    pub text: &'a str,
    pub description: String,
    /// The case file, absolute (insta stores it relative to the workspace).
    pub input_file: Option<PathBuf>,
    pub info: Info<'a>,
}

/// What insta decided.
#[derive(Debug, PartialEq, Eq)]
#[cfg_attr(not(feature = "snapshots"), allow(dead_code))]
pub(crate) enum Decided {
    /// No panic: the output matched, or insta updated the snapshot in place, or it was told
    /// to pass anyway (`INSTA_FORCE_PASS`).
    Passed,
    /// insta's mismatch panic.
    Failed,
    /// Any other panic: an I/O error writing the file, a bad `INSTA_*` value.
    Error(String),
}

#[cfg(feature = "snapshots")]
/// insta's panic message on a mismatch starts with this.
const MISMATCH: &str = "snapshot assertion for";

#[cfg(feature = "snapshots")]
/// insta compares contents and, under `INSTA_REQUIRE_FULL_MATCH`, metadata too. Our
/// metadata holds the envelope and date of the accepted output, which legitimately differ
/// from today's: the snapshot is about the output, so only contents count.
#[derive(Clone)]
struct ContentsOnly;

#[cfg(feature = "snapshots")]
impl insta::Comparator for ContentsOnly {
    fn matches(&self, reference: &insta::Snapshot, test: &insta::Snapshot) -> bool {
        insta::DefaultComparator.matches(reference, test)
    }

    fn matches_fully(&self, reference: &insta::Snapshot, test: &insta::Snapshot) -> bool {
        self.matches(reference, test)
    }

    fn dyn_clone(&self) -> Box<dyn insta::Comparator> {
        Box::new(self.clone())
    }
}

#[cfg(feature = "snapshots")]
thread_local! {
    /// Set while insta runs on this thread: its expected panic is not printed.
    static QUIET: Cell<bool> = const { Cell::new(false) };
}

#[cfg(feature = "snapshots")]
/// Keeps insta's mismatch panic off stderr: caught, it is a failed check with its own
/// message, not a crash report (with a backtrace under `RUST_BACKTRACE`). Every other panic
/// goes to the hook that was there before.
fn install_quiet_hook() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !QUIET.with(Cell::get) {
                previous(info);
            }
        }));
    });
}

#[cfg(feature = "snapshots")]
/// Runs insta's assertion for `assertion` on this thread.
pub(crate) fn assert(assertion: &Assertion<'_>) -> Decided {
    install_quiet_hook();
    let mut settings = insta::Settings::new();
    settings.set_snapshot_path(assertion.dir);
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.set_description(assertion.description.as_str());
    if let Some(file) = &assertion.input_file {
        settings.set_input_file(file);
    }
    settings.set_info(&assertion.info);
    settings.set_comparator(Box::new(ContentsOnly));
    let name = assertion.name.to_string();
    let text = assertion.text;
    QUIET.with(|q| q.set(true));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        settings.bind(|| insta::assert_snapshot!(name, text));
    }));
    QUIET.with(|q| q.set(false));
    match result {
        Ok(()) => Decided::Passed,
        Err(payload) => {
            let message = payload
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| payload.downcast_ref::<&str>().copied())
                .unwrap_or("insta panicked");
            if message.starts_with(MISMATCH) {
                Decided::Failed
            } else {
                Decided::Error(format!("insta: {message}"))
            }
        }
    }
}

/// Without insta (the `snapshots` feature), no snapshot is compared: an error, never a
/// pass. A case with `snapshot: true` is refused when the suite loads, before this.
#[cfg(not(feature = "snapshots"))]
pub(crate) fn assert(_: &Assertion<'_>) -> Decided {
    Decided::Error(crate::case::SNAPSHOTS_FEATURE.into())
}
