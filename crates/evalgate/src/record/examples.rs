//! Records for tests and benches: the example records of each line kind (with the types,
//! in `evalgate-core`'s `record::examples`), and a whole run's data built from them.

pub use evalgate_core::record::examples::*;

use super::{CaseRecord, RunData, RunRecord, SampleRecord};

impl RunData {
    /// Run `run_id`: one process, and each of `cases` passed on `samples` samples (each
    /// case's record counting them).
    pub fn example(run_id: &str, cases: &[&str], samples: u32) -> RunData {
        RunData {
            runs: vec![RunRecord::example(run_id)],
            samples: cases
                .iter()
                .flat_map(|case| (0..samples).map(move |i| SampleRecord::example(run_id, case, i)))
                .collect(),
            cases: cases
                .iter()
                .map(|case| CaseRecord {
                    samples,
                    passes: samples,
                    ..CaseRecord::example(run_id, case)
                })
                .collect(),
            ..RunData::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn examples_are_records_of_this_schema_that_read_back_as_written() {
        let data = RunData::example("r1", &["refunds/a", "status/b"], 3);
        assert_eq!(data.samples.len(), 6);
        assert_eq!(data.cases[1].passes, 3);
        for record in data.records() {
            let line = serde_json::to_string(&record).unwrap();
            let back: super::super::Record = serde_json::from_str(&line).unwrap();
            assert_eq!(back, record, "{line}");
        }
        assert_eq!(at(0).to_string(), "2026-11-28T00:00:00Z");
    }
}
