//! What an analysis reports, serialised as is into the decay report.

use serde::Serialize;

/// What the analysis found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Representativeness {
    /// Production inputs read (blank lines are not inputs).
    pub inputs: u64,
    /// Inputs that no case resembles at `threshold` or more.
    pub uncovered: u64,
    /// `uncovered / inputs`.
    pub uncovered_share: f64,
    /// The similarity at which an input matches a case.
    pub threshold: f64,
    /// The largest groups of alike uncovered inputs, largest first.
    pub clusters: Vec<UncoveredCluster>,
    /// Every case, in the order given.
    pub cases: Vec<CaseMatch>,
    /// The ids of the cases no input matches, in the order given.
    pub unmatched_cases: Vec<String>,
}

/// Uncovered inputs that each resemble the cluster's first one at the threshold or more:
/// about what one more case, written like the first example, would cover.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UncoveredCluster {
    /// How many uncovered inputs the cluster holds.
    pub size: u64,
    /// `size` may count up to this many inputs of smaller clusters that were dropped to
    /// keep memory bounded; 0 unless the uncovered traffic had more distinct clusters than
    /// the table holds (thousands).
    pub overcount: u64,
    /// The first distinct inputs of the cluster, cut to 200 characters.
    pub examples: Vec<String>,
}

/// What one case matches in the traffic.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CaseMatch {
    /// The case id.
    pub case: String,
    /// Inputs at `threshold` or more from this case (an input may match several cases).
    pub matched_inputs: u64,
    /// The most similar matching inputs, most similar first, then earliest in the file.
    pub nearest: Vec<NearInput>,
}

/// A production input near a case.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NearInput {
    /// 1-based line of the production file.
    pub line: u64,
    /// The input, cut to 200 characters.
    pub text: String,
    /// The Jaccard similarity of the input's and the case's shingles, in 0..=1.
    pub similarity: f64,
}
