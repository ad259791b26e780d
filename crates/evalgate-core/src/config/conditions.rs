//! Load conditions as the suite file writes them (`conditions:` → [`ConditionFile`]) and as the
//! proxy runs them ([`Condition`], validated once, saved into the run's policy JSON).

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// One entry of the suite's `conditions:` map, as written. Durations stay text here so
/// [`validate`] can say which key is not a duration.
///
/// ```yaml
/// conditions:
///   peak_hours:
///     latency: 400ms
///     jitter: 200ms
///   rate_limited:
///     status: 429
///     retry_after: 2s
///     share: 0.3
///   slow_stream:
///     chunk_delay: 50ms
///   cut_stream:
///     truncate_after: 200
/// ```
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConditionFile {
    /// Added before each request is forwarded (or answered with `status`).
    pub latency: Option<String>,
    /// Plus a seeded uniform `0..jitter` on top of `latency`.
    pub jitter: Option<String>,
    /// 429, 503 or 529, answered without contacting the upstream.
    pub status: Option<u16>,
    /// `Retry-After` sent with `status`, in whole seconds rounded up.
    pub retry_after: Option<String>,
    /// Share of requests answered with `status`, in (0, 1]; default 1.
    pub share: Option<f64>,
    /// Instead of `share`: the first N requests get `status`, later ones pass.
    pub first: Option<u64>,
    /// Delay between forwarded chunks of the upstream response body.
    pub chunk_delay: Option<String>,
    /// Bytes of the response body forwarded before the connection is cut.
    pub truncate_after: Option<u64>,
}

/// A validated load condition: what the proxy does to every request it sees.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Condition {
    /// The key in `conditions:`, matching `[a-z0-9_-]+`.
    pub name: String,
    /// Fixed delay before forwarding (zero: none).
    #[serde(
        default,
        with = "duration_text",
        skip_serializing_if = "Duration::is_zero"
    )]
    pub latency: Duration,
    /// Upper bound of the seeded uniform delay added to `latency` (zero: none).
    #[serde(
        default,
        with = "duration_text",
        skip_serializing_if = "Duration::is_zero"
    )]
    pub jitter: Duration,
    /// Requests answered with an error status instead of being forwarded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<StatusFault>,
    /// Delay between forwarded chunks of the response body (zero: none).
    #[serde(
        default,
        with = "duration_text",
        skip_serializing_if = "Duration::is_zero"
    )]
    pub chunk_delay: Duration,
    /// Response body bytes forwarded before the connection is cut.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub truncate_after: Option<u64>,
}

/// An injected error status and which requests get it.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct StatusFault {
    /// The status to answer with.
    pub code: FaultStatus,
    /// Sent as `Retry-After` in whole seconds, rounded up.
    #[serde(
        default,
        with = "optional_duration_text",
        skip_serializing_if = "Option::is_none"
    )]
    pub retry_after: Option<Duration>,
    /// Which requests get it.
    pub when: Injection,
}

impl StatusFault {
    /// The `Retry-After` value: whole seconds, rounded up.
    pub fn retry_after_secs(&self) -> Option<u64> {
        self.retry_after
            .map(|d| d.as_secs() + u64::from(d.subsec_nanos() > 0))
    }
}

/// The statuses providers answer when they cannot serve a request right now.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "u16", into = "u16")]
pub enum FaultStatus {
    /// 429: rate limited.
    TooManyRequests,
    /// 503: service unavailable.
    ServiceUnavailable,
    /// 529: overloaded (Anthropic).
    Overloaded,
}

impl FaultStatus {
    /// The numeric HTTP status: 429, 503 or 529.
    pub fn code(self) -> u16 {
        match self {
            FaultStatus::TooManyRequests => 429,
            FaultStatus::ServiceUnavailable => 503,
            FaultStatus::Overloaded => 529,
        }
    }

    /// The `error.type` a provider puts in the JSON body of this status.
    pub fn error_type(self) -> &'static str {
        match self {
            FaultStatus::TooManyRequests => "rate_limit_error",
            FaultStatus::ServiceUnavailable => "service_unavailable_error",
            FaultStatus::Overloaded => "overloaded_error",
        }
    }
}

impl TryFrom<u16> for FaultStatus {
    type Error = String;

    fn try_from(code: u16) -> Result<Self, String> {
        match code {
            429 => Ok(FaultStatus::TooManyRequests),
            503 => Ok(FaultStatus::ServiceUnavailable),
            529 => Ok(FaultStatus::Overloaded),
            other => Err(format!("`status` must be 429, 503 or 529, not {other}")),
        }
    }
}

impl From<FaultStatus> for u16 {
    fn from(status: FaultStatus) -> u16 {
        status.code()
    }
}

/// Which requests get the injected status.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Injection {
    /// Each request independently, with this probability (seeded).
    Share(Share),
    /// The first N requests the proxy sees; later ones are forwarded.
    First(u64),
}

/// A probability in (0, 1].
#[derive(Clone, Copy, Debug, PartialEq, PartialOrd, Serialize, Deserialize)]
#[serde(try_from = "f64", into = "f64")]
pub struct Share(f64);

impl Share {
    /// Every request.
    pub const ALL: Share = Share(1.0);

    /// The probability, in (0, 1].
    pub fn get(self) -> f64 {
        self.0
    }
}

impl TryFrom<f64> for Share {
    type Error = String;

    fn try_from(value: f64) -> Result<Self, String> {
        // Written so NaN fails too.
        if value > 0.0 && value <= 1.0 {
            Ok(Share(value))
        } else {
            Err(format!("`share` must be in (0, 1], not {value}"))
        }
    }
}

impl From<Share> for f64 {
    fn from(share: Share) -> f64 {
        share.0
    }
}

/// Checks one entry of `conditions:` and turns it into a [`Condition`]. Messages name the
/// condition and the key: "condition `rate_limited`: `share` must be in (0, 1], not 1.5".
pub fn validate(name: &str, file: &ConditionFile) -> Result<Condition, String> {
    let valid_name = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    if !valid_name {
        return Err(format!(
            "condition name `{name}` must match [a-z0-9_-]+ (lowercase letters, digits, `_`, `-`)"
        ));
    }
    let fail = |message: String| format!("condition `{name}`: {message}");
    let duration = |key: &str, text: &Option<String>| -> Result<Duration, String> {
        match text {
            None => Ok(Duration::ZERO),
            Some(text) => crate::duration::parse(text).map_err(|e| {
                fail(format!(
                    "`{key}` is not a duration: `{text}` ({e}); write e.g. `400ms`, `2s`"
                ))
            }),
        }
    };
    let latency = duration("latency", &file.latency)?;
    let jitter = duration("jitter", &file.jitter)?;
    let chunk_delay = duration("chunk_delay", &file.chunk_delay)?;
    let retry_after = match &file.retry_after {
        None => None,
        Some(_) => Some(duration("retry_after", &file.retry_after)?),
    };

    let status = match file.status {
        None => {
            for (key, given) in [
                ("retry_after", file.retry_after.is_some()),
                ("share", file.share.is_some()),
                ("first", file.first.is_some()),
            ] {
                if given {
                    return Err(fail(format!(
                        "`{key}` applies to an injected `status`; add `status: 429` (or 503, 529)"
                    )));
                }
            }
            None
        }
        Some(code) => {
            let code = FaultStatus::try_from(code).map_err(&fail)?;
            let when = match (file.share, file.first) {
                (Some(_), Some(_)) => {
                    return Err(fail(
                        "`share` and `first` are alternatives; give one of them".into(),
                    ));
                }
                (Some(share), None) => Injection::Share(Share::try_from(share).map_err(&fail)?),
                (None, Some(0)) => {
                    return Err(fail(
                        "`first` must be at least 1 (leave `status` out for no injected status)"
                            .into(),
                    ));
                }
                (None, Some(first)) => Injection::First(first),
                (None, None) => Injection::Share(Share::ALL),
            };
            Some(StatusFault {
                code,
                retry_after,
                when,
            })
        }
    };

    let condition = Condition {
        name: name.to_string(),
        latency,
        jitter,
        status,
        chunk_delay,
        truncate_after: file.truncate_after,
    };
    if !condition.has_effect() {
        return Err(fail(
            "has no effect; give at least one of `latency`, `jitter`, `status`, `chunk_delay`, \
             `truncate_after` (zero durations do nothing)"
                .into(),
        ));
    }
    Ok(condition)
}

impl Condition {
    fn has_effect(&self) -> bool {
        !self.latency.is_zero()
            || !self.jitter.is_zero()
            || self.status.is_some()
            || !self.chunk_delay.is_zero()
            || self.truncate_after.is_some()
    }
}

/// Durations in the policy JSON as people read them (`"400ms"`), not `{secs, nanos}`.
mod duration_text {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&crate::duration::show(*d))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let text = String::deserialize(d)?;
        crate::duration::parse(&text).map_err(serde::de::Error::custom)
    }
}

mod optional_duration_text {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => super::duration_text::serialize(d, s),
            None => s.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Duration>, D::Error> {
        match Option::<String>::deserialize(d)? {
            None => Ok(None),
            Some(text) => crate::duration::parse(&text)
                .map(Some)
                .map_err(serde::de::Error::custom),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::Path;

    use super::*;

    /// Parses a `conditions:` map the way the suite file does and validates every entry.
    fn conditions(yaml: &str) -> Result<Vec<Condition>, String> {
        let files: BTreeMap<String, ConditionFile> =
            crate::yaml::parse(Path::new("evals/evalgate.yaml"), yaml)
                .map_err(|e| e.to_string())?;
        files
            .iter()
            .map(|(name, file)| validate(name, file))
            .collect()
    }

    fn one(yaml: &str) -> Result<Condition, String> {
        conditions(yaml).map(|mut all| all.remove(0))
    }

    fn error(yaml: &str) -> String {
        one(yaml).expect_err("the condition must be rejected")
    }

    #[test]
    fn reads_every_kind_of_condition() {
        let all = conditions(
            "peak_hours:\n  latency: 400ms\n  jitter: 200ms\n\
             rate_limited:\n  status: 429\n  retry_after: 1500ms\n  share: 0.3\n\
             warm_up:\n  status: 529\n  first: 2\n\
             slow_stream:\n  chunk_delay: 50ms\n\
             cut_stream:\n  truncate_after: 200\n",
        )
        .unwrap();
        let by_name: BTreeMap<&str, &Condition> =
            all.iter().map(|c| (c.name.as_str(), c)).collect();

        let peak = by_name["peak_hours"];
        assert_eq!(
            (peak.latency, peak.jitter, peak.status),
            (Duration::from_millis(400), Duration::from_millis(200), None)
        );
        let limited = by_name["rate_limited"].status.unwrap();
        assert_eq!(limited.code, FaultStatus::TooManyRequests);
        assert_eq!(limited.when, Injection::Share(Share(0.3)));
        assert_eq!(limited.retry_after_secs(), Some(2), "rounded up");
        let warm_up = by_name["warm_up"].status.unwrap();
        assert_eq!(
            (warm_up.code.code(), warm_up.when, warm_up.retry_after),
            (529, Injection::First(2), None)
        );
        assert_eq!(
            by_name["slow_stream"].chunk_delay,
            Duration::from_millis(50)
        );
        assert_eq!(by_name["cut_stream"].truncate_after, Some(200));
    }

    #[test]
    fn status_alone_answers_every_request() {
        let condition = one("down:\n  status: 503\n").unwrap();
        let status = condition.status.unwrap();
        assert_eq!(
            (status.code, status.when),
            (
                FaultStatus::ServiceUnavailable,
                Injection::Share(Share::ALL)
            )
        );
    }

    #[test]
    fn conditions_combine() {
        let condition =
            one("bad_day:\n  latency: 1s\n  status: 429\n  share: 0.1\n  truncate_after: 10\n")
                .unwrap();
        assert_eq!(condition.latency, Duration::from_secs(1));
        assert!(condition.status.is_some());
        assert_eq!(condition.truncate_after, Some(10));
    }

    #[test]
    fn rejects_a_status_providers_do_not_send_for_load() {
        assert_eq!(
            error("rate_limited:\n  status: 500\n"),
            "condition `rate_limited`: `status` must be 429, 503 or 529, not 500"
        );
    }

    #[test]
    fn rejects_a_share_outside_zero_to_one() {
        for share in ["0", "1.5", "-0.2", ".nan"] {
            let message = error(&format!("flaky:\n  status: 429\n  share: {share}\n"));
            assert!(
                message.starts_with("condition `flaky`: `share` must be in (0, 1]"),
                "{message}"
            );
        }
        assert!(one("flaky:\n  status: 429\n  share: 1\n").is_ok());
    }

    #[test]
    fn rejects_share_and_first_together() {
        assert_eq!(
            error("flaky:\n  status: 429\n  share: 0.5\n  first: 2\n"),
            "condition `flaky`: `share` and `first` are alternatives; give one of them"
        );
        assert!(
            error("flaky:\n  status: 429\n  first: 0\n").contains("`first` must be at least 1")
        );
    }

    #[test]
    fn rejects_injection_keys_without_a_status() {
        for key in ["retry_after: 2s", "share: 0.5", "first: 2"] {
            let message = error(&format!("flaky:\n  latency: 1s\n  {key}\n"));
            assert!(
                message.contains("applies to an injected `status`"),
                "{message}"
            );
        }
    }

    #[test]
    fn rejects_text_that_is_not_a_duration() {
        let message = error("peak_hours:\n  latency: soon\n");
        assert!(
            message.starts_with("condition `peak_hours`: `latency` is not a duration: `soon`"),
            "{message}"
        );
        for key in ["jitter", "chunk_delay"] {
            let message = error(&format!("c:\n  {key}: 5 parsecs\n"));
            assert!(
                message.contains(&format!("`{key}` is not a duration")),
                "{message}"
            );
        }
        let message = error("c:\n  status: 429\n  retry_after: later\n");
        assert!(
            message.contains("`retry_after` is not a duration"),
            "{message}"
        );
    }

    #[test]
    fn rejects_a_condition_without_effect() {
        for yaml in ["calm: {}\n", "calm:\n  latency: 0s\n  chunk_delay: 0ms\n"] {
            let message = error(yaml);
            assert!(
                message.starts_with("condition `calm`: has no effect"),
                "{message}"
            );
        }
    }

    #[test]
    fn rejects_names_outside_the_allowed_characters() {
        for name in ["Peak", "peak hours", "", "pic/k", "café"] {
            let message = validate(
                name,
                &ConditionFile {
                    latency: Some("1s".into()),
                    ..ConditionFile::default()
                },
            )
            .unwrap_err();
            assert!(message.contains("must match [a-z0-9_-]+"), "{message}");
        }
        assert!(
            validate(
                "peak_hours-2",
                &ConditionFile {
                    latency: Some("1s".into()),
                    ..ConditionFile::default()
                }
            )
            .is_ok()
        );
    }

    #[test]
    fn rejects_unknown_keys() {
        let message = conditions("peak:\n  latancy: 1s\n").unwrap_err();
        assert!(message.contains("latancy"), "{message}");
    }

    #[test]
    fn round_trips_through_the_policy_json() {
        let condition = one(
            "bad_day:\n  latency: 400ms\n  jitter: 1s 500ms\n  status: 529\n  retry_after: 2s\n  \
             first: 3\n  chunk_delay: 50ms\n  truncate_after: 200\n",
        )
        .unwrap();
        let json = serde_json::to_string(&condition).unwrap();
        assert_eq!(
            json,
            r#"{"name":"bad_day","latency":"400ms","jitter":"1s 500ms","status":{"code":529,"retry_after":"2s","when":{"first":3}},"chunk_delay":"50ms","truncate_after":200}"#
        );
        assert_eq!(serde_json::from_str::<Condition>(&json).unwrap(), condition);

        let minimal = one("flaky:\n  status: 429\n  share: 0.25\n").unwrap();
        let json = serde_json::to_string(&minimal).unwrap();
        assert_eq!(
            json,
            r#"{"name":"flaky","status":{"code":429,"when":{"share":0.25}}}"#
        );
        assert_eq!(serde_json::from_str::<Condition>(&json).unwrap(), minimal);
        let bad = json.replace("0.25", "2.0");
        assert!(serde_json::from_str::<Condition>(&bad).is_err());
    }
}
