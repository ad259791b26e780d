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
    /// Cases planned, begun (samples recorded) or expected of the run that have no case
    /// record.
    pub missing: Vec<String>,
    /// Of `missing`, the cases no process planned: the run was expected to hold them (every
    /// process ran one case, as under nextest, and the suite has them) but none started.
    pub never_started: usize,
    /// Cases the run set out to run, when that is known: every process recorded its plan,
    /// or the run was expected to hold the whole suite.
    pub planned: Option<usize>,
}

/// A case record as completion needs it: which case, and which process wrote it.
#[derive(Debug, Clone, Copy)]
pub struct Recorded<'a> {
    pub case: &'a str,
    pub pid: Option<u32>,
    pub started_at: jiff::Timestamp,
}

impl Recorded<'_> {
    /// Whether process `run` may have written it (pids are reused, but not by processes of
    /// one run running at once: a record of the same pid started before the process is
    /// another's). A record that does not name its process may be anyone's.
    fn by(&self, run: &RunRecord) -> bool {
        self.pid.is_none_or(|pid| pid == run.pid) && self.started_at >= run.started_at
    }
}

impl Completion {
    /// The completion of the records in `data`.
    pub fn of(data: &RunData) -> Completion {
        let recorded: Vec<Recorded> = data
            .cases
            .iter()
            .map(|c| Recorded {
                case: &c.case,
                pid: c.pid,
                started_at: c.started_at,
            })
            .collect();
        let begun: BTreeSet<&str> = data.samples.iter().map(|s| s.case.as_str()).collect();
        Completion::from_parts(
            &data.runs,
            &data.ends,
            &recorded,
            &begun,
            data.expected.as_deref(),
        )
    }

    /// The completion of processes `runs` that wrote end markers `ends`, case records
    /// `recorded` and samples of `begun`; `expected`: the cases the run should hold when
    /// the processes' own plans cannot tell (one process per case).
    pub fn from_parts(
        runs: &[RunRecord],
        ends: &[EndRecord],
        recorded: &[Recorded],
        begun: &BTreeSet<&str>,
        expected: Option<&[String]>,
    ) -> Completion {
        let mut completion = Completion::default();
        let mut planned: BTreeSet<&str> = BTreeSet::new();
        let mut every_plan_known = !runs.is_empty();
        let has_record: BTreeSet<&str> = recorded.iter().map(|r| r.case).collect();
        for run in runs {
            // Records of versions before plans and end markers: nothing to tell by.
            let Some(cases) = &run.planned else {
                every_plan_known = false;
                continue;
            };
            planned.extend(cases.iter().map(String::as_str));
            let ended = match ends.iter().find(|end| end.ends(run)) {
                None => Ended::Killed,
                Some(end) if end.interrupted => Ended::Interrupted,
                Some(_) => continue,
            };
            // A process cut short whose every case another process then recorded (nextest
            // retrying a test after its timeout) left nothing undone.
            let retried = cases.iter().all(|case| {
                recorded
                    .iter()
                    .any(|r| r.case == case.as_str() && !r.by(run))
            });
            if retried && !cases.is_empty() {
                continue;
            }
            match ended {
                Ended::Killed => completion.killed += 1,
                Ended::Interrupted => completion.interrupted += 1,
            }
        }
        let mut missing: BTreeSet<&str> = planned
            .iter()
            .copied()
            .filter(|case| !has_record.contains(case))
            .collect();
        missing.extend(begun.iter().copied().filter(|c| !has_record.contains(c)));
        completion.planned = every_plan_known.then_some(planned.len());
        if let Some(expected) = expected {
            for case in expected {
                if !has_record.contains(case.as_str()) && missing.insert(case) {
                    completion.never_started += usize::from(!planned.contains(case.as_str()));
                }
            }
            planned.extend(expected.iter().map(String::as_str));
            completion.planned = Some(planned.len());
        }
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
            (0, 0) if self.never_started > 0 => format!(
                "{} case(s) of the suite never started (a cancelled nextest run, `--max-fail`, \
                 or a filter: pass `--partial` to report a filtered run)",
                self.never_started
            ),
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

enum Ended {
    Killed,
    Interrupted,
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
        RunRecord {
            pid,
            planned: planned.map(|p| p.iter().map(|c| c.to_string()).collect()),
            ..RunRecord::example("r")
        }
    }

    fn set<'a>(ids: &[&'a str]) -> BTreeSet<&'a str> {
        ids.iter().copied().collect()
    }

    /// Case records written by process `pid` after it started.
    fn by(pid: u32, ids: &[&'static str]) -> Vec<Recorded<'static>> {
        ids.iter()
            .map(|case| Recorded {
                case,
                pid: Some(pid),
                started_at: "2026-12-01T00:00:01Z".parse().unwrap(),
            })
            .collect()
    }

    #[test]
    fn a_process_without_its_end_marker_was_killed_and_its_unrecorded_cases_are_missing() {
        let runs = [run(1, Some(&["a", "b", "c"]))];
        let c = Completion::from_parts(&runs, &[], &by(1, &["a"]), &set(&["a", "b"]), None);
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
        let c = Completion::from_parts(&runs, &ends, &by(1, &["a", "b", "c"]), &set(&["a"]), None);
        assert!(c.is_complete(), "{c:?}");
        assert_eq!(c.describe(), None);
        // The end marker of another process does not end this one.
        let c = Completion::from_parts(&runs, &ends[..1], &by(2, &["c"]), &set(&[]), None);
        assert_eq!(c.killed, 1);
    }

    #[test]
    fn an_interrupted_process_is_incomplete_even_when_its_cases_finished() {
        let runs = [run(1, Some(&["a"]))];
        let ends = [EndRecord::of(&runs[0], true)];
        let c = Completion::from_parts(&runs, &ends, &by(1, &["a"]), &set(&["a"]), None);
        assert_eq!(c.interrupted, 1);
        assert!(!c.is_complete());
    }

    #[test]
    fn records_without_plans_are_judged_by_their_unfinished_cases_only() {
        let runs = [run(1, None)];
        let c = Completion::from_parts(&runs, &[], &by(1, &["a"]), &set(&["a"]), None);
        assert!(c.is_complete());
        let c = Completion::from_parts(&runs, &[], &by(1, &["a"]), &set(&["a", "b"]), None);
        assert_eq!(c.missing, ["b"]);
        assert_eq!(c.planned, None);
    }

    #[test]
    fn a_process_cut_short_whose_cases_another_process_recorded_was_retried() {
        // nextest: attempt 1 (pid 1) timed out and was terminated; attempt 2 (pid 2) passed.
        let runs = [run(1, Some(&["a"])), run(2, Some(&["a"]))];
        let ends = [
            EndRecord::of(&runs[0], true),
            EndRecord::of(&runs[1], false),
        ];
        let c = Completion::from_parts(&runs, &ends, &by(2, &["a"]), &set(&["a"]), None);
        assert!(c.is_complete(), "{c:?}");
        // Killed rather than terminated: the same.
        let c = Completion::from_parts(&runs, &ends[1..], &by(2, &["a"]), &set(&["a"]), None);
        assert!(c.is_complete(), "{c:?}");
        // Its own records do not make up for an interruption.
        let c = Completion::from_parts(&runs[..1], &ends[..1], &by(1, &["a"]), &set(&["a"]), None);
        assert_eq!(c.interrupted, 1);
    }

    #[test]
    fn expected_cases_no_process_planned_never_started() {
        // One process per case; the suite has three, two processes ran.
        let runs = [run(1, Some(&["a"])), run(2, Some(&["b"]))];
        let ends = [
            EndRecord::of(&runs[0], false),
            EndRecord::of(&runs[1], false),
        ];
        let mut recorded = by(1, &["a"]);
        recorded.extend(by(2, &["b"]));
        let suite = ["a".to_string(), "b".to_string(), "c".to_string()];
        let c = Completion::from_parts(&runs, &ends, &recorded, &set(&[]), Some(&suite));
        assert_eq!((c.never_started, c.planned), (1, Some(3)));
        assert_eq!(c.missing, ["c"]);
        assert!(
            c.describe()
                .unwrap()
                .contains("1 case(s) of the suite never started")
        );
        let c = Completion::from_parts(&runs, &ends, &recorded, &set(&[]), Some(&suite[..2]));
        assert!(c.is_complete());
    }
}
