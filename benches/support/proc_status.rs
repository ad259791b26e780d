//! This process's memory figures from `/proc/self/status`.

/// A `kB` field of `/proc/self/status` (`VmHWM:`, `VmRSS:`) in KiB, or 0 where /proc is not
/// available.
pub fn status_kib(field: &str) -> u64 {
    let text = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    text.lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}
