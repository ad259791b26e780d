//! SIGINT and SIGTERM (Ctrl-C, a CI job cancelled, nextest's timeout): stop starting
//! samples, let the ones in flight finish within a short grace, then give up on them — so
//! the run still ends with its records, an end marker saying it was interrupted, and every
//! report. A second signal, or one while no run is taking samples (its reports are being
//! written), stops the process at once: agent processes killed, no reports (the run's
//! reports then still say it did not finish).
//!
//! One listener thread serves the whole process, so a program that runs the harness twice
//! handles signals in both runs.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
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

/// The run taking samples now, and its grace, if any.
static ACTIVE: Mutex<Option<(Arc<Interrupt>, Duration)>> = Mutex::new(None);

/// The listener thread, started once; why it could not be, if so.
static LISTENER: OnceLock<Result<(), String>> = OnceLock::new();

/// While it lives, signals interrupt its run; dropped, they stop the process at once.
pub(crate) struct Listening(());

impl Drop for Listening {
    fn drop(&mut self) {
        *ACTIVE.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }
}

impl Interrupt {
    pub(crate) fn new() -> Interrupt {
        Interrupt {
            requested: AtomicBool::new(false),
            over: watch::Sender::new(false),
        }
    }

    /// Makes SIGINT and SIGTERM interrupt this run, with `grace` for the samples in flight,
    /// until the returned guard is dropped.
    pub(crate) fn listen(self: &Arc<Self>, grace: Duration) -> Result<Listening, Error> {
        LISTENER
            .get_or_init(start_listener)
            .clone()
            .map_err(|e| Error::Internal(format!("cannot listen for SIGINT/SIGTERM: {e}")))?;
        *ACTIVE.lock().unwrap_or_else(|p| p.into_inner()) = Some((Arc::clone(self), grace));
        Ok(Listening(()))
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

/// Starts the thread that waits for signals, on a runtime of its own.
fn start_listener() -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let signals = {
        let _guard = runtime.enter();
        Signals::new().map_err(|e| e.to_string())?
    };
    std::thread::Builder::new()
        .name("evalgate-signals".into())
        .spawn(move || runtime.block_on(listen(signals)))
        .map_err(|e| e.to_string())?;
    Ok(())
}

async fn listen(mut signals: Signals) {
    loop {
        let name = signals.next().await;
        let active = ACTIVE.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let Some((interrupt, grace)) = active.filter(|(i, _)| !i.requested()) else {
            stop_now(name, "stopping at once");
        };
        interrupt.request();
        eprintln!(
            "evalgate: {name}: no new samples start; samples in flight have {} to finish \
             (again to stop at once)",
            crate::duration::show(grace)
        );
        tokio::select! {
            () = tokio::time::sleep(grace) => {
                interrupt.over.send_replace(true);
            }
            again = signals.next() => stop_now(again, "again: stopping at once"),
        }
    }
}

/// Ends the process now: agent processes killed, nothing more written.
fn stop_now(name: &str, how: &str) -> ! {
    crate::target::kill_agent_processes();
    eprintln!("evalgate: {name} {how}, without reports");
    std::process::exit(i32::from(EXIT));
}

/// The `$EVALGATE_INTERRUPT_GRACE` duration (`2s`, `500ms`), else [`DEFAULT_GRACE`].
pub(crate) fn grace_from_env() -> Result<Duration, Error> {
    Ok(crate::env::interrupt_grace()?.unwrap_or(DEFAULT_GRACE))
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
