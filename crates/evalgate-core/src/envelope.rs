//! The envelope: the version set that defines the agent under test (model snapshot, prompt
//! hash, tool-catalog hash, retrieval-index version, sampling config). The suite declares
//! what it pins; the agent reports what it ran. What the agent reports wins, because that is
//! what was measured — and a reported model that differs from the pinned one is a silent
//! model bump, flagged in the report.

use std::collections::BTreeMap;
use std::fmt;

use crate::digest::Sha256;
use serde::{Deserialize, Serialize};

use crate::observation::Observation;
use crate::record::{RunRecord, SampleRecord};

/// The key under which the model snapshot is pinned and reported.
pub const MODEL: &str = "model";

/// Versions of the agent under test, by axis (`model`, `prompt`, `tools`, `index`, `sampling`...).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Envelope(pub BTreeMap<String, String>);

/// A model reported by the agent that is not the one the suite pins.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ModelBump {
    /// The model the suite pins.
    pub pinned: String,
    /// The model the agent reported instead.
    pub reported: String,
    /// How many samples reported it.
    pub samples: u64,
}

impl fmt::Display for ModelBump {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "silent model bump: the suite pins model {:?}, the agent reported {:?} in {} sample(s)",
            self.pinned, self.reported, self.samples
        )
    }
}

/// The envelope a run was measured under, and where it departs from what was pinned.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RunEnvelope {
    /// The versions: what the suite declared, overridden by what the agent reported.
    pub envelope: Envelope,
    /// [`Envelope::id`] of `envelope`.
    pub id: String,
    /// Models the agent reported that are not the pinned one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub model_bumps: Vec<ModelBump>,
}

impl Envelope {
    /// A short, stable id: the first 12 hex digits of the SHA-256 of the sorted `key=value`
    /// lines. Two runs under the same versions have the same id.
    pub fn id(&self) -> String {
        let mut hasher = Sha256::new();
        for (key, value) in &self.0 {
            hasher.update(key.as_bytes());
            hasher.update(b"=");
            hasher.update(value.as_bytes());
            hasher.update(b"\n");
        }
        crate::digest::hex(&hasher.finish()[..6])
    }

    /// The envelope of one sample: what the suite declared, overridden by what the agent
    /// reported for this sample.
    pub fn of_sample(declared: &BTreeMap<String, String>, sample: &SampleRecord) -> Envelope {
        Envelope::reported(declared, &sample.envelope, sample.model.as_deref())
    }

    /// The envelope an observation was produced under, before it becomes a record (what a
    /// snapshot records): the same rule as [`Envelope::of_sample`].
    pub fn of_observation(
        declared: &BTreeMap<String, String>,
        observation: &Observation,
    ) -> Envelope {
        Envelope::reported(
            declared,
            &observation.envelope,
            observation.model.as_deref(),
        )
    }

    fn reported(
        declared: &BTreeMap<String, String>,
        reported: &BTreeMap<String, String>,
        model: Option<&str>,
    ) -> Envelope {
        let mut envelope = declared.clone();
        for (key, value) in reported {
            envelope.insert(key.clone(), value.clone());
        }
        if let Some(model) = model {
            envelope.insert(MODEL.to_string(), model.to_string());
        }
        Envelope(envelope)
    }

    /// The version of axis `key`, e.g. `model`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    /// `key=value, …` for people.
    pub fn describe(&self) -> String {
        self.0
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl RunEnvelope {
    /// The envelope of a run: the declared versions (the first run record's, shards of one
    /// suite declare the same), overridden per axis by the value most samples reported
    /// (ties: the smallest, so the result does not depend on record order).
    pub fn of_run<'a>(
        runs: &[RunRecord],
        samples: impl IntoIterator<Item = &'a SampleRecord>,
    ) -> RunEnvelope {
        let declared = runs.first().map(|r| r.envelope.clone()).unwrap_or_default();
        let mut reported: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
        for sample in samples {
            for (key, value) in &sample.envelope {
                *reported
                    .entry(key.clone())
                    .or_default()
                    .entry(value.clone())
                    .or_default() += 1;
            }
            if let Some(model) = &sample.model {
                *reported
                    .entry(MODEL.to_string())
                    .or_default()
                    .entry(model.clone())
                    .or_default() += 1;
            }
        }
        let mut envelope = declared.clone();
        for (key, values) in &reported {
            let most = values
                .iter()
                .max_by(|a, b| a.1.cmp(b.1).then_with(|| b.0.cmp(a.0)))
                .map(|(v, _)| v.clone());
            if let Some(value) = most {
                envelope.insert(key.clone(), value);
            }
        }
        let model_bumps = match (declared.get(MODEL), reported.get(MODEL)) {
            (Some(pinned), Some(models)) => models
                .iter()
                .filter(|(model, _)| *model != pinned)
                .map(|(model, &samples)| ModelBump {
                    pinned: pinned.clone(),
                    reported: model.clone(),
                    samples,
                })
                .collect(),
            _ => Vec::new(),
        };
        let envelope = Envelope(envelope);
        RunEnvelope {
            id: envelope.id(),
            envelope,
            model_bumps,
        }
    }
}

/// The variable naming the envelope axes a run passes to the agent: a JSON object of
/// strings, `{"model": "gpt-4o-2024-11-20", "tools": "catalog-7"}`.
pub const AXES_ENV: &str = crate::env::AXES;

pub use crate::env::check_axes;

/// The environment variable a `command` agent reads an axis from: `EVALGATE_AXIS_MODEL`.
pub fn axis_env(axis: &str) -> String {
    let name: String = axis
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("EVALGATE_AXIS_{name}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(model: Option<&str>, prompt: Option<&str>) -> SampleRecord {
        let mut record = SampleRecord {
            model: model.map(str::to_string),
            ..SampleRecord::example("r", "c", 0)
        };
        if let Some(p) = prompt {
            record.envelope.insert("prompt".into(), p.into());
        }
        record
    }

    fn run(declared: &[(&str, &str)]) -> RunRecord {
        serde_json::from_value(serde_json::json!({
            "schema": 1, "run_id": "r", "suite": "s", "target": "http",
            "evalgate_version": "0", "pid": 1, "started_at": "2026-11-28T00:00:00Z",
            "concurrency": 1,
            "envelope": declared.iter().map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<BTreeMap<_, _>>(),
        }))
        .unwrap()
    }

    #[test]
    fn reported_versions_win_and_a_different_model_is_a_bump() {
        let runs = [run(&[("model", "m-1"), ("index", "kb-1")])];
        let samples = [
            sample(Some("m-2"), Some("p1")),
            sample(Some("m-2"), Some("p1")),
            sample(Some("m-1"), Some("p1")),
        ];
        let e = RunEnvelope::of_run(&runs, &samples);
        assert_eq!(e.envelope.get("model"), Some("m-2"));
        assert_eq!(e.envelope.get("index"), Some("kb-1"));
        assert_eq!(e.envelope.get("prompt"), Some("p1"));
        assert_eq!(
            e.model_bumps,
            vec![ModelBump {
                pinned: "m-1".into(),
                reported: "m-2".into(),
                samples: 2
            }]
        );
    }

    #[test]
    fn an_observation_and_its_record_have_the_same_envelope() {
        let declared: BTreeMap<String, String> = [
            ("model".into(), "m-1".into()),
            ("index".into(), "kb-1".into()),
        ]
        .into();
        let observation = Observation::new("hi")
            .with_model("m-2")
            .with_envelope("prompt", "p1");
        let record = sample(Some("m-2"), Some("p1"));
        let e = Envelope::of_observation(&declared, &observation);
        assert_eq!(e, Envelope::of_sample(&declared, &record));
        assert_eq!(e.describe(), "index=kb-1, model=m-2, prompt=p1");
    }

    #[test]
    fn the_pinned_model_reported_is_no_bump_and_ids_are_stable() {
        let runs = [run(&[("model", "m-1")])];
        let a = RunEnvelope::of_run(&runs, &[sample(Some("m-1"), None)]);
        let b = RunEnvelope::of_run(&runs, &[]);
        assert!(a.model_bumps.is_empty());
        assert_eq!(a.id, b.id, "reporting the pinned model changes nothing");
        assert_eq!(a.id.len(), 12);
        let c = RunEnvelope::of_run(&runs, &[sample(Some("m-1"), Some("p2"))]);
        assert_ne!(a.id, c.id);
    }
}
