//! SIGINT and SIGTERM (Ctrl-C, a CI job cancelled, nextest's timeout): stop starting
//! samples, let the ones in flight finish within a short grace, then give up on them — so
//! the run still ends with its records, an end marker saying it was interrupted, and every
//! report. A second signal stops the process at once.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::watch;

use crate::errors::Error;

/// How long samples in flight may take to finish after a signal, unless
/// `$EVALGATE_INTERRUPT_GRACE` says otherwise.
pub(crate) const DEFAULT_GRACE: Duration = Duration::from_secs(5);

/// The exit code of an interrupted run: 128 + SIGINT, as shells report Ctrl-C.
pub(crate) const EXIT: u8 = 130;

/// Whether the run was told to stop, shared by the runner and the signal listener.
pub(crate) struct Interrupt {
    requested: AtomicBool,
    /// Becomes true when the grace is over: cases still running are given up.
    over: watch::Sender<bool>,
}

impl Interrupt {
    pub(crate) fn new() -> Interrupt {
        Interrupt {
            requested: AtomicBool::new(false),
            over: watch::Sender::new(false),
        }
    }

    /// Listens for SIGINT and SIGTERM on `runtime` for as long as it runs.
    pub(crate) fn listen(
        self: &std::sync::Arc<Self>,
        runtime: &tokio::runtime::Handle,
        grace: Duration,
    ) -> Result<(), Error> {
        let _guard = runtime.enter();
        let mut signals = Signals::new()
            .map_err(|e| Error::Internal(format!("cannot listen for SIGINT/SIGTERM: {e}")))?;
        let interrupt = std::sync::Arc::clone(self);
        runtime.spawn(async move {
            let name = signals.next().await;
            interrupt.request();
            eprintln!(
                "evalgate: {name}: no new samples start; samples in flight have {} to finish \
                 (again to stop at once)",
                humantime::format_duration(grace)
            );
            tokio::select! {
                () = tokio::time::sleep(grace) => {
                    interrupt.over.send_replace(true);
                    let again = signals.next().await;
                    eprintln!("evalgate: {again} again: stopping at once, without reports");
                }
                again = signals.next() => {
                    eprintln!("evalgate: {again} again: stopping at once, without reports");
                }
            }
            std::process::exit(i32::from(EXIT));
        });
        Ok(())
    }

    /// Stops the run as a signal would (and lets in-flight samples finish first).
    pub(crate) fn request(&self) {
        self.requested.store(true, Ordering::SeqCst);
    }

    /// Whether the run was told to stop: no sample may start.
    pub(crate) fn requested(&self) -> bool {
        self.requested.load(Ordering::SeqCst)
    }

    /// Resolves when the grace after a signal is over.
    pub(crate) async fn grace_over(&self) {
        let mut over = self.over.subscribe();
        // Only fails when the sender is gone, which outlives every waiter.
        let _ = over.wait_for(|over| *over).await;
    }
}

/// Gives SIGINT and SIGTERM back their default action (end the process) once the runtime
/// listening for them is gone: a Ctrl-C while the reports are written must not be swallowed.
pub(crate) fn restore_default_action() {
    #[cfg(unix)]
    // SAFETY: signal(2) with SIG_DFL installs no handler of ours; nothing listens any more.
    unsafe {
        libc::signal(libc::SIGINT, libc::SIG_DFL);
        libc::signal(libc::SIGTERM, libc::SIG_DFL);
    }
}

/// The `$EVALGATE_INTERRUPT_GRACE` duration (`2s`, `500ms`), else [`DEFAULT_GRACE`].
pub(crate) fn grace_from_env() -> Result<Duration, Error> {
    const VAR: &str = "EVALGATE_INTERRUPT_GRACE";
    match crate::env::non_empty_env(VAR)? {
        None => Ok(DEFAULT_GRACE),
        Some(text) => humantime::parse_duration(&text).map_err(|e| {
            Error::Usage(format!(
                "{VAR}={text:?} is not a duration ({e}); write e.g. `5s` or `500ms`"
            ))
        }),
    }
}

#[cfg(unix)]
struct Signals {
    int: tokio::signal::unix::Signal,
    term: tokio::signal::unix::Signal,
}

#[cfg(unix)]
impl Signals {
    fn new() -> std::io::Result<Signals> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Signals {
            int: signal(SignalKind::interrupt())?,
            term: signal(SignalKind::terminate())?,
        })
    }

    /// The next signal's name.
    async fn next(&mut self) -> &'static str {
        tokio::select! {
            _ = self.int.recv() => "SIGINT",
            _ = self.term.recv() => "SIGTERM",
        }
    }
}

#[cfg(not(unix))]
struct Signals;

#[cfg(not(unix))]
impl Signals {
    fn new() -> std::io::Result<Signals> {
        Ok(Signals)
    }

    async fn next(&mut self) -> &'static str {
        let _ = tokio::signal::ctrl_c().await;
        "Ctrl-C"
    }
}
