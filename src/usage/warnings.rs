//! What is said about lines that are not calls: counted by kind, never fatal, with the
//! first few of each kind (by line number, whichever worker met them) as examples.

use serde::Serialize;

/// Examples kept per kind.
pub(crate) const EXAMPLES_PER_KIND: usize = 5;

/// Why a line was left out of the cost. A line is counted under its first problem, in
/// this order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum WarningKind {
    /// Not a JSON object (or not JSON at all, or a field given twice).
    MalformedJson,
    /// No `customer`, or one that is empty or not a string or an integer.
    MissingCustomer,
    /// No `model`, or one that is empty or not a string.
    MissingModel,
    /// A token count that is negative, fractional, not a number or implausibly large.
    BadTokens,
    /// Neither token count: the call's cost is unknown, not zero.
    NoTokens,
    /// A `revenue_usd` that is negative, not a number or implausibly large.
    BadRevenue,
    /// A model the price table does not have: its tokens are reported per model.
    UnpricedModel,
}

impl WarningKind {
    /// Every kind, in the order a line's first problem is looked for.
    pub const ALL: [WarningKind; 7] = [
        WarningKind::MalformedJson,
        WarningKind::MissingCustomer,
        WarningKind::MissingModel,
        WarningKind::BadTokens,
        WarningKind::NoTokens,
        WarningKind::BadRevenue,
        WarningKind::UnpricedModel,
    ];

    /// A short plural phrase for reports ("3 lines with malformed JSON").
    pub fn describe(self) -> &'static str {
        match self {
            WarningKind::MalformedJson => "malformed JSON",
            WarningKind::MissingCustomer => "no customer",
            WarningKind::MissingModel => "no model",
            WarningKind::BadTokens => "bad token counts",
            WarningKind::NoTokens => "no token counts",
            WarningKind::BadRevenue => "bad revenue",
            WarningKind::UnpricedModel => "an unpriced model",
        }
    }
}

/// The lines of one kind.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct WarningGroup {
    /// Why these lines were left out.
    pub kind: WarningKind,
    /// How many lines.
    pub lines: u64,
    /// The first few, in file order.
    pub examples: Vec<WarningExample>,
}

impl WarningGroup {
    /// "3 with malformed JSON".
    pub fn summary(&self) -> String {
        format!("{} with {}", self.lines, self.kind.describe())
    }
}

/// One line left out, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct WarningExample {
    /// `path:line`.
    pub at: String,
    /// What was wrong; may quote the line (untrusted text).
    pub detail: String,
}

/// One worker's warnings, or all of them once merged.
#[derive(Debug, Default)]
pub(crate) struct WarningTally {
    counts: [u64; WarningKind::ALL.len()],
    /// Per kind, the lowest line numbers met, sorted.
    examples: [Vec<(u64, String)>; WarningKind::ALL.len()],
}

impl WarningTally {
    /// Counts line `line`; `detail` is only built when it becomes an example.
    pub(crate) fn note(&mut self, kind: WarningKind, line: u64, detail: impl FnOnce() -> String) {
        self.counts[kind as usize] += 1;
        let examples = &mut self.examples[kind as usize];
        if examples.len() == EXAMPLES_PER_KIND
            && examples.last().is_some_and(|(last, _)| *last < line)
        {
            return;
        }
        examples.push((line, detail()));
        examples.sort_by_key(|(line, _)| *line);
        examples.truncate(EXAMPLES_PER_KIND);
    }

    pub(crate) fn merge(&mut self, other: WarningTally) {
        for (kind, (count, examples)) in other.counts.into_iter().zip(other.examples).enumerate() {
            self.counts[kind] += count;
            let mine = &mut self.examples[kind];
            mine.extend(examples);
            mine.sort_by_key(|(line, _)| *line);
            mine.truncate(EXAMPLES_PER_KIND);
        }
    }

    /// The kinds met, in [`WarningKind::ALL`] order, each example located in `path`.
    pub(crate) fn into_groups(self, path: &str) -> Vec<WarningGroup> {
        WarningKind::ALL
            .into_iter()
            .zip(self.counts.into_iter().zip(self.examples))
            .filter(|(_, (count, _))| *count > 0)
            .map(|(kind, (lines, examples))| WarningGroup {
                kind,
                lines,
                examples: examples
                    .into_iter()
                    .map(|(line, detail)| WarningExample {
                        at: format!("{path}:{line}"),
                        detail,
                    })
                    .collect(),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lowest_lines_are_kept_whatever_the_order_met() {
        let mut a = WarningTally::default();
        let mut b = WarningTally::default();
        for line in [40, 7, 90, 3, 12] {
            a.note(WarningKind::BadTokens, line, || format!("a{line}"));
        }
        for line in [1, 50, 8, 2] {
            b.note(WarningKind::BadTokens, line, || format!("b{line}"));
        }
        b.note(WarningKind::NoTokens, 5, || "n".into());
        a.merge(b);
        let groups = a.into_groups("u.jsonl");
        assert_eq!(groups.len(), 2);
        assert_eq!(groups[0].kind, WarningKind::BadTokens);
        assert_eq!(groups[0].lines, 9);
        let at: Vec<&str> = groups[0].examples.iter().map(|e| e.at.as_str()).collect();
        assert_eq!(
            at,
            [
                "u.jsonl:1",
                "u.jsonl:2",
                "u.jsonl:3",
                "u.jsonl:7",
                "u.jsonl:8"
            ]
        );
        assert_eq!(groups[1].examples[0].detail, "n");
    }

    #[test]
    fn details_past_the_examples_are_not_built() {
        let mut tally = WarningTally::default();
        for line in 1..=EXAMPLES_PER_KIND as u64 {
            tally.note(WarningKind::MalformedJson, line, String::new);
        }
        tally.note(WarningKind::MalformedJson, 99, || {
            panic!("built a detail that is not kept")
        });
        let groups = tally.into_groups("u.jsonl");
        assert_eq!(groups[0].lines, EXAMPLES_PER_KIND as u64 + 1);
        assert_eq!(groups[0].examples.len(), EXAMPLES_PER_KIND);
    }
}
