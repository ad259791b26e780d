//! Capability SLIs: how often the agent refuses, keeps to its JSON schema, is cut off by the
//! token limit, and is served by a model other than the one pinned.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::rate::Rate;
use super::{Pins, ordinary};
use crate::record::SampleRecord;

/// The check whose samples count towards schema conformance.
const SCHEMA_CHECK: &str = "json_schema";

/// The finish reason of an answer cut by the token limit.
const TRUNCATED: &str = "length";

/// The capability SLIs of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Slis {
    /// Refusals over answered samples whose refusal is known (reported or detected).
    pub refusals: Rate,
    /// Samples whose every `json_schema` check passed, over answered samples that ran one.
    pub schema_conformance: Rate,
    /// `finish_reason: length` over answered samples that reported a finish reason.
    pub truncations: Rate,
    /// Samples served by a model other than the pinned one.
    pub model_bumps: ModelBumps,
}

/// Samples whose reported model is not the run's pinned `envelope.model`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ModelBumps {
    /// Samples that reported a model other than their run's pin.
    pub samples: u64,
    /// Samples that reported a model and whose run pins one: the ones that could be told.
    pub checked: u64,
    /// The pinned models (one, unless shards disagree).
    pub pinned: Vec<String>,
    /// The other models reported, with how many samples each.
    pub models: BTreeMap<String, u64>,
}

impl Slis {
    pub(crate) fn of(samples: &[SampleRecord], pins: &Pins) -> Slis {
        let (mut refused, mut refusal_known) = (0, 0);
        let (mut conforming, mut schema_checked) = (0, 0);
        let (mut truncated, mut finished) = (0, 0);
        for sample in samples.iter().filter(|s| ordinary(s)) {
            if let Some(refusal) = sample.refusal {
                refusal_known += 1;
                refused += u64::from(refusal);
            }
            let mut schema = sample
                .checks
                .iter()
                .filter(|c| c.expectation == SCHEMA_CHECK)
                .peekable();
            if schema.peek().is_some() {
                schema_checked += 1;
                conforming += u64::from(schema.all(|c| c.passed));
            }
            if let Some(reason) = &sample.finish_reason {
                finished += 1;
                truncated += u64::from(reason == TRUNCATED);
            }
        }
        Slis {
            refusals: Rate::of(refused, refusal_known),
            schema_conformance: Rate::of(conforming, schema_checked),
            truncations: Rate::of(truncated, finished),
            model_bumps: ModelBumps::of(samples, pins),
        }
    }
}

impl ModelBumps {
    /// Over every sample, errored ones too: an error served by another model is still a bump.
    fn of(samples: &[SampleRecord], pins: &Pins) -> ModelBumps {
        let mut bumps = ModelBumps::default();
        let mut pinned = std::collections::BTreeSet::new();
        for sample in samples {
            let (Some(reported), Some(pin)) = (&sample.model, pins.of_sample(sample)) else {
                continue;
            };
            bumps.checked += 1;
            pinned.insert(pin.to_string());
            if reported != pin {
                bumps.samples += 1;
                *bumps.models.entry(reported.clone()).or_default() += 1;
            }
        }
        bumps.pinned = pinned.into_iter().collect();
        bumps
    }
}
