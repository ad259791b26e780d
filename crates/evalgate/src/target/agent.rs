//! The in-process target: a Rust agent evaluated without any network.

use crate::observation::{Observation, Request};

/// The error an agent returns when it could not answer. The sample's verdict is `error`.
pub type AgentError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A Rust agent evaluated in-process. `respond` is called once per sample, possibly from
/// several threads at once (bounded by the suite's `concurrency`); it runs on a blocking
/// thread, so it may do blocking I/O.
///
/// ```
/// use evalgate::{Agent, AgentError, Observation, Request};
///
/// struct Echo;
/// impl Agent for Echo {
///     fn respond(&self, request: &Request) -> Result<Observation, AgentError> {
///         let text = request.last_user_message().unwrap_or_default();
///         Ok(Observation::new(text).with_decision("route", "echo"))
///     }
/// }
/// ```
pub trait Agent: Send + Sync + 'static {
    /// Answers one sample's request. An `Err` makes the sample's verdict `error`; a panic is caught
    /// and counts as one too.
    fn respond(&self, request: &Request) -> Result<Observation, AgentError>;
}
