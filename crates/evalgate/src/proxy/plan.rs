//! What the proxy does to each request, decided in arrival order from a seeded generator, so
//! a seed and a request order always give the same delays and the same injected statuses.

use std::time::Duration;

use super::config::{Condition, Injection};

/// The fate of one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct RequestPlan {
    /// Held this long before being forwarded or answered.
    pub(super) delay: Duration,
    /// Answered with the condition's status instead of being forwarded.
    pub(super) inject: bool,
}

/// Hands out [`RequestPlan`]s in arrival order.
#[derive(Debug)]
pub(super) struct Planner {
    rng: XorShift,
    seen: u64,
}

/// The path prefix of a session: `/s/<token>/…` is one sample's own stream of requests.
pub(super) const SESSION_PREFIX: &str = "/s/";

/// One planner per session, each seeded from the proxy's seed and the session's token, so
/// a sample's faults depend on the sample, not on how concurrent samples interleave; and
/// the requests each session made, so a caller can tell a sample that never came through
/// the proxy. Requests without a session share the proxy's own planner.
#[derive(Debug)]
pub(super) struct Sessions {
    seed: u64,
    shared: Planner,
    by_token: std::collections::HashMap<String, Planner>,
}

impl Sessions {
    pub(super) fn new(seed: u64) -> Self {
        Sessions {
            seed,
            shared: Planner::new(seed),
            by_token: std::collections::HashMap::new(),
        }
    }

    /// The plan of the next request of `session` (or of the shared stream).
    pub(super) fn next(&mut self, session: Option<&str>, condition: &Condition) -> RequestPlan {
        match session {
            None => self.shared.next(condition),
            Some(token) => {
                let seed = self.seed;
                self.by_token
                    .entry(token.to_string())
                    .or_insert_with(|| Planner::new(seed ^ stable_hash(token)))
                    .next(condition)
            }
        }
    }

    /// How many requests `token`'s session made.
    pub(super) fn requests(&self, token: &str) -> u64 {
        self.by_token.get(token).map_or(0, |p| p.seen)
    }
}

/// FNV-1a: a hash stable across processes and runs (the std hasher is seeded per process),
/// for seeds and session tokens.
pub fn stable_hash(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Splits `/s/<token>/rest` into the token and `/rest`; other paths have no session.
pub(super) fn session_of(path_and_query: &str) -> (Option<&str>, &str) {
    let Some(after) = path_and_query.strip_prefix(SESSION_PREFIX) else {
        return (None, path_and_query);
    };
    let end = after.find(['/', '?']).unwrap_or(after.len());
    let token = &after[..end];
    if token.is_empty() {
        return (None, path_and_query);
    }
    let rest = &after[end..];
    (Some(token), if rest.is_empty() { "/" } else { rest })
}

impl Planner {
    pub(super) fn new(seed: u64) -> Self {
        Planner {
            rng: XorShift::new(seed),
            seen: 0,
        }
    }

    /// The plan of the next request. Every request draws the same number of values (one per
    /// random knob the condition has), so plan `n` depends only on the seed and `n`.
    pub(super) fn next(&mut self, condition: &Condition) -> RequestPlan {
        let index = self.seen;
        self.seen += 1;
        let jitter = if condition.jitter.is_zero() {
            Duration::ZERO
        } else {
            condition.jitter.mul_f64(self.rng.next_unit())
        };
        let inject = match condition.status.map(|s| s.when) {
            None => false,
            Some(Injection::First(n)) => index < n,
            Some(Injection::Share(share)) => self.rng.next_unit() < share.get(),
        };
        RequestPlan {
            delay: condition.latency + jitter,
            inject,
        }
    }
}

/// xorshift64*: small, fast and good enough to spread delays and pick requests; not for secrets.
#[derive(Debug)]
struct XorShift(u64);

impl XorShift {
    fn new(seed: u64) -> Self {
        // splitmix64 of the seed: nearby seeds give unrelated streams, and the state is
        // never 0 (xorshift's fixed point).
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        XorShift(if z == 0 { 0x2545_F491_4F6C_DD1D } else { z })
    }

    fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in [0, 1).
    fn next_unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_session_is_the_first_path_segment_after_s() {
        assert_eq!(
            session_of("/s/abc/v1/chat?x=1"),
            (Some("abc"), "/v1/chat?x=1")
        );
        assert_eq!(session_of("/s/abc"), (Some("abc"), "/"));
        assert_eq!(session_of("/s/abc?x=1"), (Some("abc"), "?x=1"));
        assert_eq!(session_of("/v1/chat"), (None, "/v1/chat"));
        assert_eq!(session_of("/s//v1"), (None, "/s//v1"));
    }

    #[test]
    fn sessions_plan_apart_whatever_the_interleaving_and_count_their_requests() {
        let condition = crate::proxy::validate(
            "flaky",
            &crate::proxy::ConditionFile {
                status: Some(429),
                share: Some(0.5),
                first: None,
                ..Default::default()
            },
        )
        .unwrap();
        let draws = |order: &[&str]| {
            let mut sessions = Sessions::new(7);
            let mut by: std::collections::BTreeMap<String, Vec<bool>> = Default::default();
            for token in order {
                let plan = sessions.next(Some(token), &condition);
                by.entry(token.to_string()).or_default().push(plan.inject);
            }
            (by, sessions.requests("a"), sessions.requests("zz"))
        };
        let (one, a, none) = draws(&["a", "b", "a", "b", "a", "b"]);
        let (other, _, _) = draws(&["b", "b", "b", "a", "a", "a"]);
        assert_eq!(
            one, other,
            "each session's faults depend on the session only"
        );
        assert_eq!((a, none), (3, 0));
    }

    use super::*;
    use crate::proxy::config::{ConditionFile, validate};

    fn condition(file: ConditionFile) -> Condition {
        validate("c", &file).unwrap()
    }

    fn plans(condition: &Condition, seed: u64, n: usize) -> Vec<RequestPlan> {
        let mut planner = Planner::new(seed);
        (0..n).map(|_| planner.next(condition)).collect()
    }

    #[test]
    fn jitter_stays_within_latency_plus_jitter_and_repeats_per_seed() {
        let condition = condition(ConditionFile {
            latency: Some("100ms".into()),
            jitter: Some("50ms".into()),
            ..ConditionFile::default()
        });
        let first = plans(&condition, 7, 1000);
        assert_eq!(first, plans(&condition, 7, 1000));
        assert_ne!(first, plans(&condition, 8, 1000));
        let delays: Vec<Duration> = first.iter().map(|p| p.delay).collect();
        assert!(delays.iter().all(|d| *d >= Duration::from_millis(100)));
        assert!(delays.iter().all(|d| *d < Duration::from_millis(150)));
        // Spread over the whole range, not stuck at one end.
        assert!(delays.iter().any(|d| *d < Duration::from_millis(110)));
        assert!(delays.iter().any(|d| *d > Duration::from_millis(140)));
        assert!(first.iter().all(|p| !p.inject));
    }

    #[test]
    fn share_injects_about_that_share() {
        let condition = condition(ConditionFile {
            status: Some(429),
            share: Some(0.3),
            ..ConditionFile::default()
        });
        for seed in [0, 1, u64::MAX] {
            let injected = plans(&condition, seed, 10_000)
                .iter()
                .filter(|p| p.inject)
                .count();
            assert!(
                (2_700..3_300).contains(&injected),
                "seed {seed}: {injected}"
            );
        }
    }

    #[test]
    fn first_injects_only_the_first_requests() {
        let condition = condition(ConditionFile {
            status: Some(503),
            first: Some(2),
            ..ConditionFile::default()
        });
        let injected: Vec<bool> = plans(&condition, 1, 5).iter().map(|p| p.inject).collect();
        assert_eq!(injected, [true, true, false, false, false]);
    }
}
