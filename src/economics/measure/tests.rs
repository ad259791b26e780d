use super::*;
use crate::economics::{markdown, terminal};

fn case(id: &str, usd: f64, branches: &[&str], failures: u32) -> CaseEconomics {
    CaseEconomics {
        case: id.to_string(),
        file: format!("evals/cases/{id}.yaml"),
        line: 1,
        verdict: Verdict::Pass,
        samples: 1,
        input_tokens: 100,
        output_tokens: 10,
        usd: Some(usd),
        unpriced_samples: 0,
        duration_ms: usd * 1000.0,
        branches: branches
            .iter()
            .map(|b| Decision::parse(b).unwrap())
            .collect(),
        reliable_branches: branches
            .iter()
            .map(|b| Decision::parse(b).unwrap())
            .collect(),
        active: true,
        unique_branches: Vec::new(),
        failures_caught: Some(failures),
        runs_in_history: Some(3),
        runs_not_passed: Some(failures),
        decay: Vec::new(),
        redundant: None,
    }
}

fn economics(cases: Vec<CaseEconomics>) -> Economics {
    Economics {
        run_id: "r".into(),
        total_usd: cases.iter().filter_map(|c| c.usd).sum(),
        total_duration_ms: 0.0,
        branches: 0,
        history: true,
        cases,
    }
}

#[test]
fn the_cover_reaches_every_branch_for_the_least_cost() {
    let run = economics(vec![
        case("a", 1.0, &["route.refund", "tool.lookup"], 0),
        case("b", 1.0, &["route.refund"], 0),
        case(
            "c",
            1.0,
            &["tool.issue_refund", "route.handoff", "tool.lookup"],
            0,
        ),
        case("d", 0.5, &["route.handoff"], 0),
        case("e", 0.1, &[], 0),
    ]);
    let cover = run.cover();
    // `b` reaches only what `a` reaches, for the same cost: `a` is kept, by id.
    assert_eq!(cover.cases, ["a", "c"]);
    assert_eq!((cover.branches, cover.without_branches), (4, 1));
    assert_eq!(cover.usd, 2.0);
    assert_eq!((cover.cost_basis, cover.optimal), (CostBasis::Usd, true));
}

#[test]
fn ties_go_to_the_cheaper_case_then_the_id() {
    let run = economics(vec![
        case("x", 2.0, &["route.refund"], 0),
        case("y", 1.0, &["route.refund"], 0),
        case("z", 1.0, &["route.refund"], 0),
    ]);
    assert_eq!(run.cover().cases, ["y"]);
}

#[test]
fn a_run_without_branches_needs_no_case() {
    let run = economics(vec![case("a", 1.0, &[], 0)]);
    let cover = run.cover();
    assert!(cover.cases.is_empty());
    assert_eq!(cover.without_branches, 1);
}

#[test]
fn a_branch_reached_in_only_some_samples_is_not_promised_and_drafts_are_not_candidates() {
    let mut flaky = case("flaky", 0.1, &["route.refund", "route.handoff"], 0);
    flaky
        .reliable_branches
        .retain(|d| d.to_string() == "route.refund");
    let mut draft = case("draft", 0.01, &["route.refund", "route.handoff"], 0);
    draft.active = false;
    let run = economics(vec![
        flaky,
        draft,
        case("steady", 1.0, &["route.refund"], 0),
    ]);
    let cover = run.cover();
    assert_eq!(cover.cases, ["flaky"]);
    assert_eq!(cover.branches, 1);
    assert_eq!(
        cover.unreliable_branches,
        [Decision::parse("route.handoff").unwrap()]
    );
}

/// Dollars cannot compare a priced case with an unpriced one; time was measured for both.
#[test]
fn a_case_with_unpriced_samples_makes_the_cover_count_time() {
    let mut unpriced = case("a", 0.0, &["route.refund"], 0);
    unpriced.usd = None;
    unpriced.unpriced_samples = 1;
    unpriced.duration_ms = 100.0;
    let run = economics(vec![unpriced, case("b", 5.0, &["route.refund"], 0)]);
    let cover = run.cover();
    assert_eq!(cover.cases, ["a"]);
    assert_eq!(cover.cost_basis, CostBasis::Time);
    assert_eq!((cover.usd, cover.unpriced_cases), (0.0, 1));
    let mut partly = case("c", 0.1, &["route.refund"], 0);
    partly.unpriced_samples = 1;
    let run = economics(vec![partly, case("d", 0.2, &["route.refund"], 0)]);
    assert_eq!(run.cover().cost_basis, CostBasis::Time);
}

/// The greedy pick by most new branches took `wide` first, then needed `left` and `right`
/// anyway: three cases where two reach every branch, for six times the cost.
#[test]
fn the_cover_keeps_no_removable_case_and_is_the_cheapest() {
    let run = economics(vec![
        case(
            "wide",
            1.0,
            &[
                "route.refund",
                "route.handoff",
                "tool.lookup",
                "tool.issue_refund",
            ],
            0,
        ),
        case(
            "left",
            0.1,
            &["route.refund", "route.handoff", "route.clarify"],
            0,
        ),
        case(
            "right",
            0.1,
            &["tool.lookup", "tool.issue_refund", "escalate.human"],
            0,
        ),
    ]);
    let cover = run.cover();
    assert_eq!(cover.cases, ["left", "right"]);
    assert!((cover.usd - 0.2).abs() < 1e-12, "{}", cover.usd);
    assert!(cover.optimal);
}

/// One dear case reaching three branches costs more than three cheap ones reaching one
/// each: a tier is for running often, so its cost comes before its size.
#[test]
fn the_cover_weighs_cost_before_size() {
    let run = economics(vec![
        case(
            "dear",
            5.0,
            &["route.refund", "route.handoff", "tool.lookup"],
            0,
        ),
        case("x", 0.1, &["route.refund"], 0),
        case("y", 0.1, &["route.handoff"], 0),
        case("z", 0.1, &["tool.lookup"], 0),
    ]);
    let cover = run.cover();
    assert_eq!(cover.cases, ["x", "y", "z"]);
    assert!((cover.usd - 0.3).abs() < 1e-12, "{}", cover.usd);
}

fn redundant(run: &Economics) -> Vec<&str> {
    run.redundant().map(|c| c.case.as_str()).collect()
}

#[test]
fn a_redundant_case_passed_every_run_and_its_branches_stay_reached_without_it() {
    let sometimes = |id: &str| {
        let mut c = case(id, 0.4, &["route.clarify"], 0);
        c.reliable_branches.clear();
        c
    };
    let mut inconclusive = case("inconclusive", 0.5, &["route.refund"], 0);
    inconclusive.runs_not_passed = Some(1);
    let mut draft = case("draft", 0.5, &["route.refund"], 0);
    draft.active = false;
    let mut run = economics(vec![
        case("wide", 0.2, &["route.refund", "tool.lookup"], 0),
        case("alone", 0.1, &["route.handoff"], 0),
        // Reaches only what `wide` reaches, and never failed.
        case("copy", 0.5, &["route.refund"], 0),
        // The same, but it failed once: it may catch the next one.
        case("caught", 0.5, &["route.refund"], 1),
        inconclusive,
        draft,
        // Twins: the cheaper one is in the cover, the dearer one can go.
        case("twin1", 0.1, &["tool.issue_refund"], 0),
        case("twin2", 0.3, &["tool.issue_refund"], 0),
        // Each reaches `route.clarify` in some samples, as only the other does: either
        // could go, not both, so neither is called redundant.
        sometimes("pair1"),
        sometimes("pair2"),
        // Checks wording only: branch coverage says nothing about it.
        case("wording", 0.1, &[], 0),
    ]);
    run.judge_redundancy();
    assert_eq!(redundant(&run), ["copy", "twin2"]);
    assert_eq!(
        run.cases
            .iter()
            .filter(|c| c.redundant == Some(false))
            .count(),
        run.cases.len() - 2
    );
    let text = terminal(&run, &run.cover());
    assert!(text.contains("redundant (2, $0.800 per run)"), "{text}");
    assert!(!text.contains("redundant: none"), "{text}");
}

#[test]
fn without_history_redundancy_is_not_judged_and_none_is_never_claimed() {
    let mut run = economics(vec![
        case("wide", 0.2, &["route.refund", "tool.lookup"], 0),
        case("copy", 0.5, &["route.refund"], 0),
    ]);
    run.history = false;
    for c in &mut run.cases {
        (c.failures_caught, c.runs_not_passed, c.runs_in_history) = (None, None, None);
    }
    run.judge_redundancy();
    assert!(run.cases.iter().all(|c| c.redundant.is_none()));
    let cover = run.cover();
    let text = terminal(&run, &cover);
    assert!(text.contains("redundant: not judged"), "{text}");
    assert!(!text.contains("redundant: none"), "{text}");
    assert!(markdown(&run, &cover).contains("Redundant: not judged"));
    // With history, the same suite has a redundant case.
    run.history = true;
    for c in &mut run.cases {
        (c.failures_caught, c.runs_not_passed, c.runs_in_history) = (Some(0), Some(0), Some(1));
    }
    run.judge_redundancy();
    assert_eq!(redundant(&run), ["copy"]);
}

#[test]
fn none_redundant_is_said_only_when_judged() {
    let mut run = economics(vec![
        case("a", 0.2, &["route.refund"], 0),
        case("b", 0.5, &["route.refund"], 2),
    ]);
    run.judge_redundancy();
    assert!(redundant(&run).is_empty());
    let text = terminal(&run, &run.cover());
    assert!(text.contains("redundant: none"), "{text}");
}
