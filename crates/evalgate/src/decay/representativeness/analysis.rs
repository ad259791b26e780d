//! The entry point: what an analysis takes, and how its parts fit together — the cases
//! indexed, the sample streamed through the workers, the tallies and clusters turned into
//! [`Representativeness`].

use std::path::PathBuf;

use super::case_index::CaseIndex;
use super::clusters::UncoveredClusters;
use super::field::TextField;
use super::findings::{CaseMatch, NearInput, Representativeness};
use super::jaccard::Threshold;
use super::matcher::MatchSetup;
use super::minhash::MinHasher;
use super::{matcher, production};
use crate::errors::Error;

/// A case as the comparison sees it.
#[derive(Debug, Clone)]
pub struct CaseText {
    /// The case id.
    pub id: String,
    /// The case's user messages, joined.
    pub text: String,
}

/// Where the production inputs are.
#[derive(Debug, Clone)]
pub struct ProductionSample {
    /// A JSON Lines file: one object per line.
    pub path: PathBuf,
    /// Where each line keeps the user's text: a top-level key (`input`) or a JSON pointer
    /// (`/messages/0/content`).
    pub field: String,
}

/// How the analysis judges and what it reports.
#[derive(Debug, Clone)]
pub struct RepresentativenessOptions {
    /// An input matches a case when the Jaccard similarity of their shingles is at least
    /// this, in (0, 1]. The default 0.3 sits between messages that share one common word
    /// (0.1–0.2 in short messages) and messages with the same content words (0.4 and
    /// more): "track order" and "cancel order" are 0.2 alike, "my parcel never arrived"
    /// and "parcel never arrived, tracking says delivered" 0.45.
    pub threshold: f64,
    /// Nearest matching inputs listed per case.
    pub nearest_per_case: usize,
    /// Clusters of uncovered inputs listed, largest first.
    pub clusters: usize,
    /// Example inputs listed per cluster.
    pub examples_per_cluster: usize,
}

impl Default for RepresentativenessOptions {
    fn default() -> Self {
        RepresentativenessOptions {
            threshold: 0.3,
            nearest_per_case: 3,
            clusters: 10,
            examples_per_cluster: 3,
        }
    }
}

/// Reads the production sample, matches each input against the cases, and reports what
/// the cases cover and what they miss. Errors: a bad threshold or field, an unreadable
/// file, a line that is not a JSON object with a string at the field (naming `path:line`),
/// or a sample without inputs.
pub fn analyse(
    cases: &[CaseText],
    sample: &ProductionSample,
    options: &RepresentativenessOptions,
) -> Result<Representativeness, Error> {
    let threshold = Threshold::new(options.threshold).map_err(Error::Usage)?;
    let field = TextField::parse(&sample.field).map_err(Error::Usage)?;
    let hasher = MinHasher::new();
    let index = CaseIndex::build(cases.iter().map(|case| case.text.as_str()), &hasher);
    let setup = MatchSetup {
        index: &index,
        hasher: &hasher,
        path: &sample.path,
        field: &field,
        threshold,
        nearest_per_case: options.nearest_per_case,
    };
    let clusters = UncoveredClusters::new(threshold, options.examples_per_cluster);
    let streamed = matcher::stream(&setup, clusters)?;
    if streamed.inputs == 0 {
        return Err(production::no_inputs(&sample.path));
    }
    let case_matches: Vec<CaseMatch> = cases
        .iter()
        .zip(streamed.tallies)
        .map(|(case, tally)| CaseMatch {
            case: case.id.clone(),
            matched_inputs: tally.matched_inputs,
            nearest: tally
                .nearest
                .into_iter()
                .map(|near| NearInput {
                    line: near.line,
                    text: near.excerpt,
                    similarity: near.similarity.value(),
                })
                .collect(),
        })
        .collect();
    Ok(Representativeness {
        inputs: streamed.inputs,
        uncovered: streamed.uncovered,
        uncovered_share: streamed.uncovered as f64 / streamed.inputs as f64,
        threshold: threshold.value(),
        clusters: streamed.clusters.largest(options.clusters),
        unmatched_cases: case_matches
            .iter()
            .filter(|case| case.matched_inputs == 0)
            .map(|case| case.case.clone())
            .collect(),
        cases: case_matches,
    })
}
