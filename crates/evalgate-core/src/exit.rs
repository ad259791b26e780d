//! Process exit codes, the same for the `cargo test` harness and the `evalgate` binary.

/// Every case passed (and, once gates exist, every gate).
pub const PASS: u8 = 0;
/// At least one case failed, errored or was inconclusive under `inconclusive: fail`.
pub const FAILED: u8 = 1;
/// The command line, the suite file or a case file is wrong; nothing ran.
pub const CONFIG: u8 = 2;
/// evalgate could not do its job (records or reports could not be written).
pub const INTERNAL: u8 = 3;
