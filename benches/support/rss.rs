//! Peak RSS growth of a stretch of work, for the benches.

use super::proc_status::status_kib;

/// Peak RSS growth of this process over a stretch of work, from /proc/self/status. The
/// high-water mark is reset first (`5` to /proc/self/clear_refs, Linux 4.0+) so the peak is
/// that of the stretch; where the reset fails the growth is over the earlier peak.
pub struct Rss {
    before_kib: u64,
    reset: bool,
}

impl Rss {
    pub fn start() -> Rss {
        let reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
        Rss {
            before_kib: status_kib(if reset { "VmRSS:" } else { "VmHWM:" }),
            reset,
        }
    }

    pub fn growth(&self) -> Mib {
        Mib {
            kib: status_kib("VmHWM:").saturating_sub(self.before_kib),
            note: if self.reset {
                ""
            } else {
                " (over the earlier peak)"
            },
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Mib {
    kib: u64,
    note: &'static str,
}

impl std::fmt::Display for Mib {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:.1} MB{}", self.kib as f64 / 1024.0, self.note)
    }
}
