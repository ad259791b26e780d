use super::*;

const AXES: [&str; 5] = ["index", "model", "prompt", "sampling", "tools"];

/// A probe over a world where the regression reproduces when `cause` says so, counting
/// what it ran.
struct World<F: Fn(&Config) -> Outcome> {
    cause: F,
    ran: Vec<Vec<String>>,
}

impl<F: Fn(&Config) -> Outcome> Probe for World<F> {
    type Error = String;
    fn probe(&mut self, bad_axes: &Config) -> Result<Outcome, String> {
        self.ran.push(bad_axes.iter().cloned().collect());
        Ok((self.cause)(bad_axes))
    }
}

fn axes() -> Vec<String> {
    AXES.iter().map(|a| a.to_string()).collect()
}

fn when(test: impl Fn(&Config) -> bool) -> impl Fn(&Config) -> Outcome {
    move |c| {
        if test(c) {
            Outcome::Reproduces
        } else {
            Outcome::DoesNot
        }
    }
}

fn run<F: Fn(&Config) -> Outcome>(cause: F, budget: usize) -> (Bisection, World<F>) {
    let mut world = World {
        cause,
        ran: Vec::new(),
    };
    let result = bisect(
        &axes(),
        &BTreeMap::new(),
        Budget {
            configurations: budget,
        },
        &mut world,
    )
    .unwrap();
    (result, world)
}

fn strings(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

#[test]
fn a_two_factor_interaction_takes_at_most_one_plus_five_plus_ten_configurations() {
    let (result, world) = run(when(|c| c.contains("model") && c.contains("tools")), 100);
    assert_eq!(world.ran.len(), 16);
    assert!(world.ran.len() <= 1 + 5 + 10);
    assert_eq!(
        result.answer,
        Answer::Found {
            causes: vec![strings(&["model", "tools"])],
            rollback: strings(&["model"]),
        }
    );
    let table = result.to_string();
    assert!(
        table.contains("fails only when model=bad AND tools=bad: interaction model×tools"),
        "{table}"
    );
    // Deterministic order: all bad, the singles, then the pairs lexicographically.
    assert_eq!(world.ran[0], strings(&AXES));
    assert_eq!(world.ran[1], strings(&["index"]));
    assert_eq!(world.ran[6], strings(&["index", "model"]));
}

#[test]
fn a_single_axis_takes_fewer_configurations() {
    let (result, world) = run(when(|c| c.contains("prompt")), 100);
    assert_eq!(world.ran.len(), 1 + 5);
    assert_eq!(
        result.answer,
        Answer::Found {
            causes: vec![strings(&["prompt"])],
            rollback: strings(&["prompt"]),
        }
    );
    assert!(
        result
            .to_string()
            .contains("main effect: prompt=bad alone reproduces")
    );
}

#[test]
fn two_independent_causes_must_both_be_rolled_back_and_overlapping_pairs_share_an_axis() {
    let (result, _) = run(when(|c| c.contains("model") || c.contains("index")), 100);
    assert_eq!(
        result.answer,
        Answer::Found {
            causes: vec![strings(&["index"]), strings(&["model"])],
            rollback: strings(&["index", "model"]),
        }
    );
    let pairs = |c: &Config| {
        (c.contains("model") && c.contains("tools"))
            || (c.contains("tools") && c.contains("prompt"))
    };
    let (result, _) = run(when(pairs), 100);
    assert_eq!(
        result.answer,
        Answer::Found {
            causes: vec![strings(&["model", "tools"]), strings(&["prompt", "tools"])],
            rollback: strings(&["tools"]),
        }
    );
}

#[test]
fn triples_run_only_when_no_pair_reproduces() {
    let three = |c: &Config| c.contains("model") && c.contains("tools") && c.contains("index");
    let (result, world) = run(when(three), 100);
    assert_eq!(world.ran.len(), 1 + 5 + 10 + 10);
    assert_eq!(
        result.answer,
        Answer::Found {
            causes: vec![strings(&["index", "model", "tools"])],
            rollback: strings(&["index"]),
        }
    );
}

#[test]
fn no_regression_under_the_bad_envelope_stops_at_once() {
    let (result, world) = run(when(|_| false), 100);
    assert_eq!(world.ran.len(), 1);
    assert_eq!(result.answer, Answer::NotReproduced);
}

#[test]
fn a_spent_budget_reports_the_partial_result_and_what_remains() {
    let (result, world) = run(when(|c| c.contains("model") && c.contains("tools")), 8);
    assert_eq!(world.ran.len(), 8);
    match &result.answer {
        Answer::Partial { why, remaining } => {
            assert!(why.contains("budget of 8"), "{why}");
            // 2 of the 10 pairs ran: 8 remain.
            assert_eq!(remaining.len(), 8);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(result.steps.len(), 8);
}

#[test]
fn outcomes_known_from_history_are_reused_and_unclear_ones_stop_the_plan() {
    let mut known = BTreeMap::new();
    known.insert(axes().into_iter().collect::<Config>(), Outcome::Reproduces);
    known.insert(Config::from(["model".to_string()]), Outcome::DoesNot);
    let mut world = World {
        cause: when(|c| c.contains("model") && c.contains("tools")),
        ran: Vec::new(),
    };
    let result = bisect(
        &axes(),
        &known,
        Budget {
            configurations: 100,
        },
        &mut world,
    )
    .unwrap();
    assert_eq!(world.ran.len(), 14);
    assert_eq!(result.ran(), 14);
    assert_eq!(result.steps.iter().filter(|s| s.known).count(), 2);

    let unclear = |c: &Config| {
        if c.len() == 1 && c.contains("sampling") {
            Outcome::CannotTell
        } else if c.len() == AXES.len() {
            Outcome::Reproduces
        } else {
            Outcome::DoesNot
        }
    };
    let (result, world) = run(unclear, 100);
    assert_eq!(world.ran.len(), 6);
    match result.answer {
        Answer::Partial { remaining, .. } => assert_eq!(remaining, [strings(&["sampling"])]),
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_statistics_decide_reproduces_does_not_or_cannot_tell() {
    let t = |failures, samples| Tally { samples, failures };
    let (good, bad) = (t(0, 20), t(18, 20));
    assert_eq!(decide(t(17, 20), good, bad, 0.05), Outcome::Reproduces);
    assert_eq!(decide(t(1, 20), good, bad, 0.05), Outcome::DoesNot);
    assert_eq!(decide(t(1, 2), good, bad, 0.05), Outcome::CannotTell);
}

#[test]
fn envelopes_must_name_the_same_axes_and_differ_on_one() {
    let envelope = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    let good = envelope(&[("model", "m-1"), ("tools", "t-3"), ("prompt", "p")]);
    let bad = envelope(&[("model", "m-2"), ("tools", "t-4"), ("prompt", "p")]);
    assert_eq!(
        differing_axes(&good, &bad).unwrap(),
        strings(&["model", "tools"])
    );
    let other = envelope(&[("model", "m-2"), ("index", "i")]);
    let e = differing_axes(&good, &other).unwrap_err();
    assert!(e.contains("only in the good one: prompt, tools"), "{e}");
    assert!(e.contains("only in the bad one: index"), "{e}");
    assert!(
        differing_axes(&good, &good)
            .unwrap_err()
            .contains("the same")
    );
}
