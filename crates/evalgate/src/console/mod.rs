//! What a run shows while it runs: libtest's line for each case the moment the case
//! finishes (in libtest's formats, so people, `cargo test` tooling and nextest read what
//! they know), and, on a terminal, a progress line redrawn in place.
//!
//! libtest-mimic still parses the arguments, filters and lists the tests; the lines are
//! written here because its runner prints a test only when one of its worker threads takes
//! it up, in the order the trials were given — with every case already running on the
//! async runtime, a slow case named first held back the lines of every case behind it.

mod display;
mod progress;
mod test_lines;

pub(crate) use display::{CaseLine, Console};
