use super::*;

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
        decay: Vec::new(),
        redundant: false,
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
fn the_cover_reaches_every_branch_with_the_fewest_cases_greedy_finds() {
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
    assert_eq!(cover.cases, ["c", "a"]);
    assert_eq!((cover.branches, cover.without_branches), (4, 1));
    assert_eq!(cover.usd, 2.0);
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

#[test]
fn an_unpriced_case_loses_a_tie_to_a_priced_one() {
    let mut unpriced = case("a", 0.0, &["route.refund"], 0);
    unpriced.usd = None;
    let run = economics(vec![unpriced, case("b", 5.0, &["route.refund"], 0)]);
    assert_eq!(run.cover().cases, ["b"]);
}
