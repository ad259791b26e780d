//! Decisions recorded from inside an in-process agent, so that instrumenting a planner is
//! one line per branch: [`decision!`](crate::decision) at the branch, or a `tracing` event
//! with `decision` and `branch` fields picked up by [`DecisionLayer`].
//!
//! The harness runs each in-process call inside `collect`: a collector for that sample
//! on the calling thread, and an `evalgate.sample` span that carries the same collector, so
//! threads and tasks the agent starts inside the span (`Span::current()`,
//! `.in_current_span()`) record into the right sample. Outside an eval run there is no
//! collector and both ways record nothing, so the lines stay in production code.
//!
//! Nothing is dropped silently: a half-specified event or a decision that no case could
//! name becomes a warning of the sample instead of a decision.

use std::cell::RefCell;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id};
use tracing::{Event, Metadata, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::{LookupSpan, Registry};

use crate::observation::Decision;

/// The span the harness wraps each in-process call in (fields `case`, `sample`).
const SAMPLE_SPAN: &str = "evalgate.sample";
const DECISION_FIELD: &str = "decision";
const BRANCH_FIELD: &str = "branch";

/// Records a planner decision, `point.branch`, for the sample being evaluated: what a
/// case's `branches:` / `not_branches:` and the coverage report see.
///
/// ```
/// use evalgate::{Agent, AgentError, Observation, Request};
///
/// struct Router;
/// impl Agent for Router {
///     fn respond(&self, request: &Request) -> Result<Observation, AgentError> {
///         let text = request.last_user_message().unwrap_or_default();
///         if text.contains("refund") {
///             evalgate::decision!("route", "refund");
///             let tool = String::from("issue_refund");
///             evalgate::decision!("tool", tool);
///             return Ok(Observation::new("refund issued"));
///         }
///         evalgate::decision!("route", "handoff");
///         Ok(Observation::new("a person will take over"))
///     }
/// }
/// ```
///
/// Either argument may be anything `AsRef<str>` (`&str`, `String`, an enum deriving it) or
/// `Display` (numbers, ids). Outside an eval run the line does nothing and its arguments
/// are not evaluated, so it costs a thread-local check and stays in production code.
/// During a run it records into the sample of the calling thread, else into the sample
/// whose span is current (a thread or task the agent started inside it).
#[macro_export]
macro_rules! decision {
    ($point:expr, $branch:expr $(,)?) => {{
        if $crate::instrument::recording() {
            #[allow(unused_imports)]
            use $crate::instrument::__private::{TextViaAsRef as _, TextViaDisplay as _};
            $crate::instrument::record_decision(
                &(&$crate::instrument::__private::Arg(&$point)).text(),
                &(&$crate::instrument::__private::Arg(&$branch)).text(),
            );
        }
    }};
}

/// Whether a [`decision!`](crate::decision) on this thread would be recorded.
#[doc(hidden)]
pub fn recording() -> bool {
    thread_collector().is_some() || span_collector().is_some()
}

/// Records `point.branch` for the current sample (what [`decision!`](crate::decision)
/// calls); does nothing outside an eval run.
#[doc(hidden)]
#[track_caller]
pub fn record_decision(point: &str, branch: &str) {
    let Some(collector) = thread_collector().or_else(span_collector) else {
        return;
    };
    let at = std::panic::Location::caller();
    collector.record(point, branch, || {
        format!("`decision!` at {}:{}", at.file(), at.line())
    });
}

/// Turns a macro argument into text, preferring `AsRef<str>` (no copy) over `Display`
/// (autoref specialisation: the `AsRef` impl is found one autoref step earlier).
#[doc(hidden)]
pub mod __private {
    use std::borrow::Cow;
    use std::fmt::Display;

    pub struct Arg<'a, T: ?Sized>(pub &'a T);

    pub trait TextViaAsRef {
        fn text(&self) -> Cow<'_, str>;
    }

    impl<T: AsRef<str> + ?Sized> TextViaAsRef for Arg<'_, T> {
        fn text(&self) -> Cow<'_, str> {
            Cow::Borrowed(self.0.as_ref())
        }
    }

    pub trait TextViaDisplay {
        fn text(&self) -> Cow<'_, str>;
    }

    impl<T: Display + ?Sized> TextViaDisplay for &Arg<'_, T> {
        fn text(&self) -> Cow<'_, str> {
            Cow::Owned(self.0.to_string())
        }
    }
}

/// What one sample's agent call recorded besides its observation.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct Collected {
    /// In the order they were recorded.
    pub decisions: Vec<Decision>,
    /// Decisions that could not be recorded, and why.
    pub warnings: Vec<String>,
}

/// One sample's collector, shared by the thread that calls the agent and the sample span.
#[derive(Debug, Default)]
struct Collector(Mutex<Collected>);

impl Collector {
    /// Records `point.branch`, or a warning when no case could ever name it. `at` says
    /// where it came from, for the warning.
    fn record(&self, point: &str, branch: &str, at: impl FnOnce() -> String) {
        let problem = if point.is_empty() {
            Some("the decision point is empty".to_string())
        } else if branch.is_empty() {
            Some(format!("decision point `{point}` has an empty branch"))
        } else if point.contains('.') {
            Some(format!(
                "decision point `{point}` contains a dot; a case's `point.branch` splits at \
                 the first dot, so `{point}.{branch}` could never match: use a point without dots"
            ))
        } else {
            None
        };
        match problem {
            None => self.lock().decisions.push(Decision::new(point, branch)),
            Some(problem) => self.warn(format!("{}: {problem}; no decision recorded", at())),
        }
    }

    /// Adds a warning once: an agent looping over the same mistake says it once.
    fn warn(&self, warning: String) {
        let mut collected = self.lock();
        if !collected.warnings.contains(&warning) {
            collected.warnings.push(warning);
        }
    }

    fn take(&self) -> Collected {
        std::mem::take(&mut *self.lock())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Collected> {
        // Only pushes happen under the lock, so a poisoned one holds consistent data.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

thread_local! {
    static CURRENT: RefCell<Option<Arc<Collector>>> = const { RefCell::new(None) };
}

fn thread_collector() -> Option<Arc<Collector>> {
    CURRENT.with_borrow(|current| current.clone())
}

/// The collector of the innermost sample span around the current span, when the current
/// subscriber has a [`DecisionLayer`] over a [`Registry`].
fn span_collector() -> Option<Arc<Collector>> {
    tracing::dispatcher::get_default(|dispatch| {
        dispatch.downcast_ref::<DecisionLayer>()?;
        let registry = dispatch.downcast_ref::<Registry>()?;
        let current = dispatch.current_span();
        let span = registry.span(current.id()?)?;
        span.scope().find_map(|s| sample_collector(&s.extensions()))
    })
}

/// The span extension that ties a sample span to its collector.
struct SampleCollector(Arc<Collector>);

fn sample_collector(
    extensions: &tracing_subscriber::registry::Extensions<'_>,
) -> Option<Arc<Collector>> {
    extensions
        .get::<SampleCollector>()
        .map(|c| Arc::clone(&c.0))
}

/// Puts a collector on this thread and puts the previous one back when dropped, also
/// when the agent panics.
struct Installed {
    previous: Option<Arc<Collector>>,
}

impl Installed {
    fn new(collector: Arc<Collector>) -> Installed {
        Installed {
            previous: CURRENT.replace(Some(collector)),
        }
    }
}

impl Drop for Installed {
    fn drop(&mut self) {
        CURRENT.set(self.previous.take());
    }
}

/// Runs `f` (one agent call of sample `sample` of case `case`) with a fresh collector on
/// this thread and inside an `evalgate.sample` span, and returns what it recorded.
/// Whatever was installed before is back when this returns or unwinds.
pub(crate) fn collect<R>(case: &str, sample: u32, f: impl FnOnce() -> R) -> (R, Collected) {
    let collector = Arc::new(Collector::default());
    let result = {
        // The span must be created after the collector is installed: the layer reads the
        // thread's collector when the span is created.
        let _installed = Installed::new(Arc::clone(&collector));
        tracing::info_span!("evalgate.sample", case, sample).in_scope(f)
    };
    (result, collector.take())
}

/// A `tracing` layer that records every event with both a `decision` and a `branch` field
/// as a decision of the sample being evaluated:
///
/// ```
/// tracing::info!(decision = "route", branch = "handoff", "handing off to a person");
/// ```
///
/// The event belongs to the sample whose `evalgate.sample` span encloses it, so events of
/// threads and tasks that the agent started inside the span with `Span::current()` or
/// `.in_current_span()` are attributed to the right sample; else to the sample of the
/// calling thread. Outside an eval run it records nothing. An event with only one of the
/// two fields records no decision but a warning of the sample.
///
/// The harness installs it as the global subscriber ([`install_decision_layer`]) when
/// none is set. A program with its own subscriber adds it there instead, over a registry:
///
/// ```
/// use tracing_subscriber::layer::SubscriberExt;
///
/// let subscriber = tracing_subscriber::registry().with(evalgate::DecisionLayer::default());
/// tracing::subscriber::set_global_default(subscriber).expect("no subscriber yet");
/// ```
///
/// Events that a filter in front of the layer drops (a global level filter, `tracing`'s
/// `max_level_*` features) never reach it: keep decision events at a level that passes.
#[derive(Debug, Default, Clone)]
pub struct DecisionLayer {
    _private: (),
}

impl<S> Layer<S> for DecisionLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        if attrs.metadata().name() != SAMPLE_SPAN {
            return;
        }
        if let (Some(collector), Some(span)) = (thread_collector(), ctx.span(id)) {
            span.extensions_mut().insert(SampleCollector(collector));
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let metadata = event.metadata();
        let fields = metadata.fields();
        if fields.field(DECISION_FIELD).is_none() && fields.field(BRANCH_FIELD).is_none() {
            return;
        }
        let from_span = ctx
            .event_scope(event)
            .and_then(|mut scope| scope.find_map(|span| sample_collector(&span.extensions())));
        let Some(collector) = from_span.or_else(thread_collector) else {
            return;
        };
        let mut found = DecisionFields::default();
        event.record(&mut found);
        let at = || format!("tracing event at {}", location(metadata));
        match (found.decision, found.branch) {
            (Some(point), Some(branch)) => collector.record(&point, &branch, at),
            (Some(point), None) => collector.warn(format!(
                "{} has `decision = {point:?}` but no `branch`; no decision recorded \
                 (e.g. `tracing::info!(decision = {point:?}, branch = \"...\")`)",
                at()
            )),
            (None, Some(branch)) => collector.warn(format!(
                "{} has `branch = {branch:?}` but no `decision`; no decision recorded \
                 (e.g. `tracing::info!(decision = \"...\", branch = {branch:?})`)",
                at()
            )),
            (None, None) => collector.warn(format!(
                "{} declares `decision`/`branch` without values; no decision recorded",
                at()
            )),
        }
    }
}

/// `src/agent.rs:42`, or the event's target when it has no file.
fn location(metadata: &Metadata<'_>) -> String {
    match (metadata.file(), metadata.line()) {
        (Some(file), Some(line)) => format!("{file}:{line}"),
        (Some(file), None) => file.to_string(),
        _ => format!("in `{}`", metadata.target()),
    }
}

/// The `decision` and `branch` values of an event, however they were recorded.
#[derive(Default)]
struct DecisionFields {
    decision: Option<String>,
    branch: Option<String>,
}

impl DecisionFields {
    fn slot(&mut self, field: &Field) -> Option<&mut Option<String>> {
        match field.name() {
            DECISION_FIELD => Some(&mut self.decision),
            BRANCH_FIELD => Some(&mut self.branch),
            _ => None,
        }
    }
}

impl Visit for DecisionFields {
    fn record_str(&mut self, field: &Field, value: &str) {
        if let Some(slot) = self.slot(field) {
            *slot = Some(value.to_string());
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if let Some(slot) = self.slot(field) {
            *slot = Some(unquoted(format!("{value:?}")));
        }
    }
}

/// `"route"` (a string recorded with `?`) → `route`.
fn unquoted(text: String) -> String {
    match text
        .strip_prefix('"')
        .and_then(|inner| inner.strip_suffix('"'))
    {
        Some(inner) => inner.to_string(),
        None => text,
    }
}

/// Makes a registry with a [`DecisionLayer`] the global subscriber, unless one is set
/// already; returns whether it did. The harness calls it for in-process agents. A program
/// with its own subscriber adds `.with(evalgate::DecisionLayer::default())` to it instead.
pub fn install_decision_layer() -> bool {
    let subscriber = tracing_subscriber::registry().with(DecisionLayer::default());
    tracing::subscriber::set_global_default(subscriber).is_ok()
}

#[cfg(test)]
mod tests {
    use std::sync::Barrier;

    use tracing::Dispatch;

    use super::*;

    fn decisions(collected: &Collected) -> Vec<String> {
        collected.decisions.iter().map(|d| d.to_string()).collect()
    }

    /// A subscriber with the layer, as the harness installs it, for this test only.
    fn subscriber() -> Dispatch {
        Dispatch::new(tracing_subscriber::registry().with(DecisionLayer::default()))
    }

    #[test]
    fn decision_macro_outside_a_run_does_nothing_and_evaluates_nothing() {
        let mut evaluated = false;
        crate::decision!("route", {
            evaluated = true;
            "handoff"
        });
        assert!(!evaluated, "arguments are evaluated only during a run");
        assert!(!recording());
        let ((), collected) = collect("c", 0, || {});
        assert_eq!(collected, Collected::default());
    }

    #[test]
    fn collect_gathers_macro_decisions_in_order_with_any_text_argument() {
        /// Like an enum deriving `strum::AsRefStr`: text without `Display`.
        struct Refund;
        impl AsRef<str> for Refund {
            fn as_ref(&self) -> &str {
                "refund"
            }
        }
        let tool = String::from("lookup_order");
        let ((), collected) = collect("c", 0, || {
            crate::decision!("route", "handoff");
            crate::decision!("tool", tool);
            crate::decision!("tool", &tool);
            crate::decision!("route", Refund);
            crate::decision!(String::from("attempt"), 2u32);
            crate::decision!("tier", format_args!("{}-{}", "primary", 1));
        });
        assert_eq!(
            decisions(&collected),
            [
                "route.handoff",
                "tool.lookup_order",
                "tool.lookup_order",
                "route.refund",
                "attempt.2",
                "tier.primary-1"
            ]
        );
        assert!(collected.warnings.is_empty());
    }

    #[test]
    fn a_decision_no_case_could_name_is_a_warning_with_its_place() {
        let ((), collected) = collect("c", 0, || {
            crate::decision!("", "handoff");
            crate::decision!("route", "");
            crate::decision!("route.v2", "handoff");
            crate::decision!("route", "handoff.now");
        });
        assert_eq!(decisions(&collected), ["route.handoff.now"]);
        assert_eq!(collected.warnings.len(), 3, "{:#?}", collected.warnings);
        assert!(
            collected.warnings[0].starts_with("`decision!` at crates/evalgate/src/instrument.rs:")
        );
        assert!(collected.warnings[2].contains("`route.v2` contains a dot"));
    }

    #[test]
    fn collect_restores_the_outer_collector_after_a_nested_one_and_after_a_panic() {
        let ((), outer) = collect("outer", 0, || {
            crate::decision!("outer", "before");
            let ((), inner) = collect("inner", 0, || crate::decision!("inner", "only"));
            assert_eq!(decisions(&inner), ["inner.only"]);
            let panicked = std::panic::catch_unwind(|| {
                collect("inner", 1, || {
                    crate::decision!("inner", "panicking");
                    panic!("agent bug");
                })
            });
            assert!(panicked.is_err());
            crate::decision!("outer", "after");
        });
        assert_eq!(decisions(&outer), ["outer.before", "outer.after"]);
        assert!(!recording());
    }

    #[test]
    fn concurrent_samples_on_eight_threads_do_not_mix() {
        let dispatch = subscriber();
        let start = Barrier::new(8);
        std::thread::scope(|scope| {
            for thread in 0..8u32 {
                let (dispatch, start) = (&dispatch, &start);
                scope.spawn(move || {
                    tracing::dispatcher::with_default(dispatch, || {
                        start.wait();
                        for round in 0..20 {
                            let ((), collected) = collect("c", thread, || {
                                crate::decision!("thread", thread);
                                std::thread::yield_now();
                                tracing::info!(decision = "round", branch = round);
                            });
                            assert_eq!(
                                decisions(&collected),
                                [format!("thread.{thread}"), format!("round.{round}")]
                            );
                        }
                    })
                });
            }
        });
    }

    #[test]
    fn a_tracing_event_inside_a_sample_is_a_decision() {
        let ((), collected) = tracing::dispatcher::with_default(&subscriber(), || {
            collect("c", 0, || {
                tracing::info!(decision = "route", branch = "handoff", "handing off");
                tracing::info!(decision = ?"debug", branch = %"display");
                let tool = String::from("lookup_order");
                tracing::debug!(decision = "tool", branch = tool);
                tracing::info!(unrelated = "field", "not a decision");
            })
        });
        assert_eq!(
            decisions(&collected),
            ["route.handoff", "debug.display", "tool.lookup_order"]
        );
        assert!(collected.warnings.is_empty(), "{:?}", collected.warnings);
    }

    #[test]
    fn events_of_a_thread_that_enters_the_sample_span_belong_to_that_sample() {
        let dispatch = subscriber();
        let ((), collected) = tracing::dispatcher::with_default(&dispatch, || {
            collect("c", 3, || {
                let span = tracing::Span::current();
                let helper = dispatch.clone();
                std::thread::spawn(move || {
                    // A spawned thread starts without the test's scoped subscriber; under
                    // the harness the global one is everywhere.
                    tracing::dispatcher::with_default(&helper, || {
                        let _entered = span.enter();
                        let _child = tracing::info_span!("lookup").entered();
                        tracing::info!(decision = "tool", branch = "x");
                        crate::decision!("macro", "from_thread");
                    })
                })
                .join()
                .unwrap();
                // A thread that does not enter the span is no part of the sample.
                let stray = dispatch.clone();
                std::thread::spawn(move || {
                    tracing::dispatcher::with_default(&stray, || {
                        tracing::info!(decision = "stray", branch = "event");
                        crate::decision!("stray", "macro");
                    })
                })
                .join()
                .unwrap();
            })
        });
        assert_eq!(decisions(&collected), ["tool.x", "macro.from_thread"]);
    }

    #[test]
    fn a_half_specified_event_is_a_warning_not_a_decision() {
        let ((), collected) = tracing::dispatcher::with_default(&subscriber(), || {
            collect("c", 0, || {
                // Said once, however often it happens.
                for _ in 0..3 {
                    tracing::info!(decision = "route", "forgot the branch");
                }
                tracing::warn!(branch = "handoff");
            })
        });
        assert!(collected.decisions.is_empty());
        assert_eq!(collected.warnings.len(), 2, "{:#?}", collected.warnings);
        let first = &collected.warnings[0];
        assert!(
            first.starts_with("tracing event at crates/evalgate/src/instrument.rs:"),
            "{first}"
        );
        assert!(
            first.contains("`decision = \"route\"` but no `branch`"),
            "{first}"
        );
        assert!(collected.warnings[1].contains("`branch = \"handoff\"` but no `decision`"));
    }

    #[test]
    fn events_outside_a_sample_are_not_recorded_anywhere() {
        tracing::dispatcher::with_default(&subscriber(), || {
            tracing::info!(decision = "route", branch = "handoff");
            let ((), collected) = collect("c", 0, || {});
            assert_eq!(collected, Collected::default());
        });
    }
}
