//! What the integration tests share: temp suites and the binary run on them, mock agents,
//! readers of the reports, a pseudo-terminal, a user's crate. benches/ include single files
//! of it with `#[path]`.

pub mod junit_xml;
pub mod mock_agent;
pub mod reports;
pub mod suite;
#[cfg(target_os = "linux")]
pub mod terminal;
pub mod test_lines;
pub mod user_crate;
