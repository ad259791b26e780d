//! Whether a run's records are all of what it set out to do. Every process records the
//! cases it plans to run before it starts and an end marker when it is done: a process
//! killed midway (SIGKILL, out of memory, a CI timeout) leaves no end marker, one stopped
//! by SIGINT/SIGTERM says so in its marker, and a case it planned but never recorded did
//! not finish. Such a run is *incomplete*: never green, never a baseline, decay or memory
//! reference.

use std::collections::BTreeSet;

use serde::Serialize;

use super::{EndRecord, RunData, RunRecord};

/// What a run left undone, if anything.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Completion {
    /// Processes that recorded their plan but no end marker: killed.
    pub killed: usize,
    /// Processes stopped by SIGINT or SIGTERM.
    pub interrupted: usize,
    /// Cases planned, or begun (samples recorded), that have no case record.
    pub missing: Vec<String>,
    /// Cases the processes planned in all, when every one of them recorded its plan.
    pub planned: Option<usize>,
}

impl Completion {
    /// The completion of the records in `data`.
    pub fn of(data: &RunData) -> Completion {
        let recorded: BTreeSet<&str> = data.cases.iter().map(|c| c.case.as_str()).collect();
        let begun: BTreeSet<&str> = data.samples.iter().map(|s| s.case.as_str()).collect();
        Completion::from_parts(&data.runs, &data.ends, &recorded, &begun)
    }

    /// The completion of processes `runs` that wrote end markers `ends`, case records for
    /// `recorded` and samples of `begun`.
    pub(crate) fn from_parts(
        runs: &[RunRecord],
        ends: &[EndRecord],
        recorded: &BTreeSet<&str>,
        begun: &BTreeSet<&str>,
    ) -> Completion {
        let mut completion = Completion::default();
        let mut planned: BTreeSet<&str> = BTreeSet::new();
        let mut every_plan_known = !runs.is_empty();
        for run in runs {
            // Records of versions before plans and end markers: nothing to tell by.
            let Some(cases) = &run.planned else {
                every_plan_known = false;
                continue;
            };
            planned.extend(cases.iter().map(String::as_str));
            match ends.iter().find(|end| end.ends(run)) {
                None => completion.killed += 1,
                Some(end) if end.interrupted => completion.interrupted += 1,
                Some(_) => {}
            }
        }
        completion.planned = every_plan_known.then_some(planned.len());
        let mut missing: BTreeSet<&str> = planned
            .iter()
            .copied()
            .filter(|case| !recorded.contains(case))
            .collect();
        missing.extend(begun.iter().copied().filter(|c| !recorded.contains(c)));
        completion.missing = missing.into_iter().map(str::to_string).collect();
        completion
    }

    /// Whether the run did all it set out to do.
    pub fn is_complete(&self) -> bool {
        self.killed == 0 && self.interrupted == 0 && self.missing.is_empty()
    }

    /// Why the run is incomplete, in one sentence; `None` when it is complete.
    pub fn describe(&self) -> Option<String> {
        if self.is_complete() {
            return None;
        }
        let how = match (self.interrupted, self.killed) {
            (0, 0) => "cases it started have no result".to_string(),
            (i, 0) => format!("interrupted (SIGINT/SIGTERM){}", processes(i)),
            (0, k) => format!("killed before its end{}", processes(k)),
            (i, k) => format!("interrupted{} and killed{}", processes(i), processes(k)),
        };
        let cases = match self.planned {
            Some(planned) => format!(
                "{} of {planned} planned case(s) finished, {} did not",
                planned.saturating_sub(self.missing.len()),
                self.missing.len()
            ),
            None => format!("{} case(s) did not finish", self.missing.len()),
        };
        Some(format!(
            "the run is incomplete: {how}; {cases}. It is not a verdict on the suite"
        ))
    }
}

fn processes(n: usize) -> String {
    if n > 1 {
        format!(" ({n} processes)")
    } else {
        String::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(pid: u32, planned: Option<&[&str]>) -> RunRecord {
        let mut run: RunRecord = serde_json::from_value(serde_json::json!({
            "schema": 1, "run_id": "r", "suite": "s", "target": "http",
            "evalgate_version": "0", "pid": pid, "started_at": "2026-12-01T00:00:00Z",
            "concurrency": 1
        }))
        .unwrap();
        run.planned = planned.map(|p| p.iter().map(|c| c.to_string()).collect());
        run
    }

    fn set<'a>(ids: &[&'a str]) -> BTreeSet<&'a str> {
        ids.iter().copied().collect()
    }

    #[test]
    fn a_process_without_its_end_marker_was_killed_and_its_unrecorded_cases_are_missing() {
        let runs = [run(1, Some(&["a", "b", "c"]))];
        let c = Completion::from_parts(&runs, &[], &set(&["a"]), &set(&["a", "b"]));
        assert_eq!(c.killed, 1);
        assert_eq!(c.missing, ["b", "c"]);
        assert_eq!(c.planned, Some(3));
        assert!(!c.is_complete());
        assert_eq!(
            c.describe().unwrap(),
            "the run is incomplete: killed before its end; 1 of 3 planned case(s) finished, \
             2 did not. It is not a verdict on the suite"
        );
    }

    #[test]
    fn an_ended_process_that_recorded_every_planned_case_is_complete() {
        let runs = [run(1, Some(&["a", "b"])), run(2, Some(&["c"]))];
        let ends = [
            EndRecord::of(&runs[0], false),
            EndRecord::of(&runs[1], false),
        ];
        let c = Completion::from_parts(&runs, &ends, &set(&["a", "b", "c"]), &set(&["a"]));
        assert!(c.is_complete(), "{c:?}");
        assert_eq!(c.describe(), None);
        // The end marker of another process does not end this one.
        let c = Completion::from_parts(&runs, &ends[..1], &set(&["a", "b", "c"]), &set(&[]));
        assert_eq!(c.killed, 1);
    }

    #[test]
    fn an_interrupted_process_is_incomplete_even_when_its_cases_finished() {
        let runs = [run(1, Some(&["a"]))];
        let ends = [EndRecord::of(&runs[0], true)];
        let c = Completion::from_parts(&runs, &ends, &set(&["a"]), &set(&["a"]));
        assert_eq!(c.interrupted, 1);
        assert!(!c.is_complete());
    }

    #[test]
    fn records_without_plans_are_judged_by_their_unfinished_cases_only() {
        let runs = [run(1, None)];
        let c = Completion::from_parts(&runs, &[], &set(&["a"]), &set(&["a"]));
        assert!(c.is_complete());
        let c = Completion::from_parts(&runs, &[], &set(&["a"]), &set(&["a", "b"]));
        assert_eq!(c.missing, ["b"]);
        assert_eq!(c.planned, None);
    }
}
