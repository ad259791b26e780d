//! Finding where a monotone condition starts to hold — the fewest samples that decide a
//! verdict, that reach a power, the first pass count that agrees with a baseline — by
//! doubling and then bisection, so that each search asks the condition a logarithmic number
//! of times.

/// The smallest n in `from..=limit` for which `holds`, if any, where `holds` is false below
/// some n and true from it on.
pub fn first_holding(from: u32, limit: u32, holds: impl Fn(u32) -> bool) -> Option<u32> {
    if from > limit {
        return None;
    }
    if holds(from) {
        return Some(from);
    }
    // Doubling steps from `from`: the last that failed, and the first that held.
    let (mut failed, mut step) = (from, 1_u32);
    let held = loop {
        let next = from.saturating_add(step).min(limit);
        if holds(next) {
            break next;
        }
        if next == limit {
            return None;
        }
        failed = next;
        step = step.saturating_mul(2);
    };
    let (mut low, mut high) = (failed, held);
    while high - low > 1 {
        let middle = low + (high - low) / 2;
        if holds(middle) {
            high = middle;
        } else {
            low = middle;
        }
    }
    Some(high)
}

/// The largest n in `0..=limit` for which `holds`, if any, where `holds` is true up to
/// some n and false above it.
pub fn last_holding(limit: u32, holds: impl Fn(u32) -> bool) -> Option<u32> {
    match first_holding(0, limit, |n| !holds(n)) {
        Some(0) => None,
        Some(n) => Some(n - 1),
        None => Some(limit),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_edge_of_every_monotone_condition() {
        for limit in 0..40_u32 {
            for edge in 0..=limit + 1 {
                let asked = std::cell::Cell::new(0);
                let holds = |n: u32| {
                    asked.set(asked.get() + 1);
                    n >= edge
                };
                let expected = (edge <= limit).then_some(edge);
                assert_eq!(
                    first_holding(0, limit, holds),
                    expected,
                    "{edge} of {limit}"
                );
                assert!(asked.get() <= 2 + 2 * 6, "asked {} times", asked.get());
                let below = |n: u32| n < edge;
                let last = edge.checked_sub(1).map(|e| e.min(limit));
                assert_eq!(last_holding(limit, below), last, "{edge} of {limit}");
            }
        }
        // From a start other than 0, and a start beyond the limit.
        assert_eq!(first_holding(5, 100, |n| n >= 37), Some(37));
        assert_eq!(first_holding(50, 100, |n| n >= 37), Some(50));
        assert_eq!(first_holding(101, 100, |_| true), None);
    }
}
