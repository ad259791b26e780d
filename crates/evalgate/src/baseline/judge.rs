//! One case against its baseline: the p-value of a drop, valid for how the case's samples
//! were taken; whether its samples agree with the baseline; whether the comparison could
//! have called a regression at all; and from these, whether a case that does not pass its
//! own rule fails its test. The runner asks this while the case runs (to stop sampling and
//! to decide the test), the report afterwards (to adjust over every compared case).

use super::{Baseline, BaselinePolicy};
use crate::record::{CaseJudgement, Judge};
use crate::stats::{Evidence, LookDesign, fisher_exact_drop};
use crate::suite::InconclusivePolicy;
use crate::verdict::Verdict;

/// How a case's samples were taken, as far as comparing them goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SampleDesign {
    /// A fixed number planned; fewer taken when `sequential` stopped once the verdict and
    /// the comparison were settled.
    Fixed { planned: u32 },
    /// Looked at as they arrived, from `min` up to `max` samples.
    Looks { min: u32, max: u32 },
}

impl SampleDesign {
    /// The design a case record describes.
    pub(crate) fn of_record(record: &crate::record::CaseRecord) -> SampleDesign {
        match record.looks {
            Some([min, max]) => SampleDesign::Looks { min, max },
            None => SampleDesign::Fixed {
                planned: record.samples_planned.unwrap_or(record.samples),
            },
        }
    }

    fn looks(self) -> LookDesign {
        match self {
            SampleDesign::Fixed { planned } => LookDesign::fixed(planned),
            SampleDesign::Looks { min, max } => LookDesign::adaptive(min, max),
        }
    }
}

/// What comparing one case's samples with its baseline gave.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct CaseTest {
    /// One-sided p-value of a drop, valid for the design (before any adjustment).
    pub p_value: f64,
    /// The samples agreed with the baseline: a drop of the size the design is built to see
    /// has become implausible.
    pub agreed: bool,
    /// Were every sample it took (every one planned, for a fixed number) to fail, the
    /// comparison would call a regression.
    pub can_call_a_break: bool,
}

/// Compares `outcomes` (answered samples, in sample order: passed or not) with `evidence`.
/// `threshold` is the per-case level a regression must reach (α/m); `drop` the drop the
/// design is built to see.
pub(crate) fn test_case(
    evidence: Evidence,
    design: SampleDesign,
    outcomes: &[bool],
    drop: f64,
    threshold: f64,
) -> CaseTest {
    let looks = design.looks();
    match design {
        SampleDesign::Fixed { planned } if (outcomes.len() as u32) < planned => {
            // Stopped early: every completion of the remaining samples is possible. The
            // best one (all pass) gives the largest p-value, valid whatever stopped it; the
            // worst one (all fail) must still agree for the samples to count as agreeing.
            let (passes, _) = tally(outcomes);
            let remaining = planned - outcomes.len() as u32;
            let (before_passes, before_answered) = evidence;
            let best = fisher_exact_drop(
                u64::from(before_passes),
                u64::from(before_answered - before_passes),
                u64::from(passes + remaining),
                u64::from(outcomes.len() as u32 - passes),
            );
            let mut worst = outcomes.to_vec();
            worst.resize(planned as usize, false);
            CaseTest {
                p_value: best,
                agreed: looks.agreed(evidence, &worst, drop),
                can_call_a_break: looks.can_call_a_break(evidence, threshold),
            }
        }
        SampleDesign::Fixed { .. } => CaseTest {
            p_value: looks.p_value(evidence, outcomes),
            agreed: looks.agreed(evidence, outcomes, drop),
            can_call_a_break: looks.can_call_a_break(evidence, threshold),
        },
        // Looked at as they arrived: what the samples actually taken could have shown. A
        // case the run's budget stopped early could not have seen what its maximum would.
        SampleDesign::Looks { .. } => CaseTest {
            p_value: looks.p_value(evidence, outcomes),
            agreed: looks.agreed(evidence, outcomes, drop),
            can_call_a_break: evidence.0 == 0
                || looks.p_value(evidence, &vec![false; outcomes.len()]) <= threshold,
        },
    }
}

/// Whether curtailed sampling (`sequential`) of `planned` samples may stop after
/// `outcomes`, as far as the comparison goes: the call is the same for every completion —
/// a regression even if every remaining sample passes (p ≤ α/m), or none even if every
/// one fails (p > α, the largest level any adjustment uses).
pub(crate) fn comparison_settled(
    evidence: Evidence,
    outcomes: &[bool],
    planned: u32,
    threshold: f64,
    alpha: f64,
) -> bool {
    let (passes, failures) = tally(outcomes);
    let remaining = planned.saturating_sub(outcomes.len() as u32);
    let (before_passes, before_answered) = evidence;
    let p = |passes: u32, failures: u32| {
        fisher_exact_drop(
            u64::from(before_passes),
            u64::from(before_answered - before_passes),
            u64::from(passes),
            u64::from(failures),
        )
    };
    p(passes + remaining, failures) <= threshold || p(passes, failures + remaining) > alpha
}

fn tally(outcomes: &[bool]) -> (u32, u32) {
    let passes = outcomes.iter().filter(|&&o| o).count() as u32;
    (passes, outcomes.len() as u32 - passes)
}

/// A run's baseline as the runner uses it: each case's evidence, and the per-case level.
#[derive(Debug, Clone)]
pub(crate) struct RunBaseline {
    pub baseline: Baseline,
    pub policy: BaselinePolicy,
}

impl RunBaseline {
    /// The evidence for case `id`, when the baseline holds it with answered samples.
    pub(crate) fn evidence(&self, id: &str) -> Option<Evidence> {
        self.baseline
            .case(id)
            .map(|c| c.evidence())
            .filter(|e| e.1 > 0)
    }

    /// The level one case's p-value must reach to be a regression whatever the others
    /// show: α over the number of cases the baseline holds (Bonferroni, which every
    /// correction's calls include).
    pub(crate) fn threshold(&self) -> f64 {
        self.policy.alpha / self.baseline.held_cases().max(1) as f64
    }
}

/// How a case was compared with `evidence` of its baseline: `test` against `threshold`,
/// its test decided by `judge`.
pub(crate) fn judgement(
    evidence: Evidence,
    test: CaseTest,
    threshold: f64,
    judge: Judge,
) -> CaseJudgement {
    CaseJudgement::new(
        [evidence.0, evidence.1],
        test.p_value,
        threshold,
        test.agreed,
        test.can_call_a_break,
        judge,
    )
}

/// Whether a case with `verdict` fails its test. An error always does. Judged by the
/// comparison with its baseline, a case fails when it regressed (whatever its own rule
/// says: its pass rate dropped), and a case that does not pass its rule fails only then —
/// or when the comparison could not have told (a thin baseline, too few samples), where its
/// rule decides, as without a baseline.
pub(crate) fn fails_test(
    verdict: Verdict,
    judgement: Option<&CaseJudgement>,
    inconclusive: InconclusivePolicy,
) -> bool {
    let compared = judgement.filter(|j| j.judged_by == Judge::Comparison);
    match verdict {
        Verdict::Error => true,
        _ if compared.is_some_and(CaseJudgement::regressed) => true,
        Verdict::Pass => false,
        Verdict::Fail | Verdict::Inconclusive => match compared {
            Some(j) if j.conclusive() => false,
            _ => verdict == Verdict::Fail || inconclusive == InconclusivePolicy::Fail,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcomes(pattern: &str) -> Vec<bool> {
        pattern.chars().map(|c| c == 'P').collect()
    }

    /// The deterministic example under `sequential` (curtailed) sampling: baseline
    /// 10/10; samples 1–2 fail, 3–10 pass. After two failures the verdict of all ten
    /// (`at_least 10`) is settled, but the comparison is not (all ten: p = 0.24; two
    /// failures then eight failures: p = 5e-6): sampling goes on until it is, and the call
    /// is the fixed-n call — no regression.
    #[test]
    fn curtailed_sampling_stops_only_once_the_comparison_is_settled() {
        let all = outcomes("FFPPPPPPPP");
        let (threshold, alpha) = (0.05, 0.05);
        let settled_at = (1..=10)
            .find(|&n| comparison_settled((10, 10), &all[..n], 10, threshold, alpha))
            .unwrap();
        assert_eq!(
            settled_at, 9,
            "two failures and seven passes: 7/10 at worst, p = 0.29"
        );
        let stopped = test_case(
            (10, 10),
            SampleDesign::Fixed { planned: 10 },
            &all[..settled_at],
            1.0,
            threshold,
        );
        let full = test_case(
            (10, 10),
            SampleDesign::Fixed { planned: 10 },
            &all,
            1.0,
            threshold,
        );
        assert!(full.p_value > threshold && stopped.p_value > threshold);
        // Five failures first: a regression whatever the other five do (p ≤ 0.0163 at
        // best) — settled, and called both ways.
        let bad = outcomes("FFFFFFFPPP");
        let at = (1..=10)
            .find(|&n| comparison_settled((10, 10), &bad[..n], 10, threshold, alpha))
            .unwrap();
        let stopped = test_case(
            (10, 10),
            SampleDesign::Fixed { planned: 10 },
            &bad[..at],
            1.0,
            threshold,
        );
        let full = test_case(
            (10, 10),
            SampleDesign::Fixed { planned: 10 },
            &bad,
            1.0,
            threshold,
        );
        assert!(
            at < 10 && stopped.p_value <= threshold && full.p_value <= threshold,
            "{at}"
        );
    }

    /// A case looked at as it arrived and stopped early (by the run's budget, say) could
    /// see only what the samples it took could show: one failure against 10/10 is no
    /// regression and cannot be, so its rule decides — not what 32 failures would have shown.
    #[test]
    fn an_adaptive_case_is_judged_on_the_samples_it_took() {
        let design = SampleDesign::Looks { min: 1, max: 32 };
        let threshold = 0.05 / 20.0;
        let one = test_case((10, 10), design, &[false], 1.0, threshold);
        assert!(!one.agreed && !one.can_call_a_break, "{one:?}");
        let all = test_case((10, 10), design, &[false; 32], 1.0, threshold);
        assert!(all.can_call_a_break && all.p_value <= threshold, "{all:?}");
    }

    fn judgement(
        p_value: f64,
        agreed: bool,
        can_call_a_break: bool,
        judged_by: Judge,
    ) -> CaseJudgement {
        CaseJudgement::new(
            [20, 20],
            p_value,
            0.0025,
            agreed,
            can_call_a_break,
            judged_by,
        )
    }

    #[test]
    fn a_failing_case_is_red_when_it_regressed_or_the_comparison_could_not_tell() {
        use Verdict::{Error, Fail, Inconclusive, Pass};
        let (fail, warn) = (InconclusivePolicy::Fail, InconclusivePolicy::Warn);
        let (by, rule) = (Judge::Comparison, Judge::Rule);
        // (verdict, p-value, agreed, could call a break, judged by, inconclusive policy,
        // fails its test)
        let table = [
            // Fails as on the baseline, and the comparison could have seen a drop: not red.
            (Fail, 0.3, true, false, by, fail, false),
            (Inconclusive, 0.3, false, true, by, fail, false),
            // Regressed: red.
            (Fail, 0.001, false, true, by, fail, true),
            // Could not tell (thin baseline, no agreement): its rule decides.
            (Fail, 0.3, false, false, by, fail, true),
            (Inconclusive, 0.3, false, false, by, warn, false),
            // Judged by the rule: as without a baseline.
            (Fail, 0.3, true, true, rule, fail, true),
            // A pass fails only when it regressed (its rule is met, its rate dropped).
            (Pass, 0.3, false, true, by, fail, false),
            (Pass, 0.0001, false, true, by, fail, true),
            (Pass, 0.0001, false, true, rule, fail, false),
            // An error always fails.
            (Error, 1.0, true, true, by, fail, true),
        ];
        for (verdict, p, agreed, can_call, judged_by, inconclusive, fails) in table {
            let j = judgement(p, agreed, can_call, judged_by);
            assert_eq!(
                fails_test(verdict, Some(&j), inconclusive),
                fails,
                "{verdict} {j:?} {inconclusive:?}"
            );
        }
        // No baseline: the rule.
        assert!(fails_test(Inconclusive, None, fail));
        assert!(!fails_test(Pass, None, fail));
    }
}
