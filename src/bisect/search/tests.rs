use super::*;

const AXES: [&str; 5] = ["index", "model", "prompt", "sampling", "tools"];

/// A probe over a world where each case's regression reproduces when its `cause` says so,
/// counting what it ran.
struct World<F: Fn(&str, &Config) -> Outcome> {
    cause: F,
    ran: Vec<Vec<String>>,
}

impl<F: Fn(&str, &Config) -> Outcome> Probe for World<F> {
    type Error = String;
    fn probe(
        &mut self,
        bad_axes: &Config,
        alike: &[Vec<String>],
        _family: usize,
    ) -> Result<Outcomes, String> {
        self.ran.push(bad_axes.iter().cloned().collect());
        Ok(alike
            .iter()
            .flatten()
            .map(|case| (case.clone(), (self.cause)(case, bad_axes)))
            .collect())
    }
}

fn axes() -> Vec<String> {
    AXES.iter().map(|a| a.to_string()).collect()
}

fn when(test: impl Fn(&Config) -> bool) -> impl Fn(&str, &Config) -> Outcome {
    move |_, c| {
        if test(c) {
            Outcome::Reproduces
        } else {
            Outcome::DoesNot
        }
    }
}

/// One case, `a`, in the world `cause` describes.
fn run<F: Fn(&str, &Config) -> Outcome>(cause: F, budget: usize) -> (Bisection, World<F>) {
    run_cases(&["a"], cause, budget)
}

fn run_cases<F: Fn(&str, &Config) -> Outcome>(
    cases: &[&str],
    cause: F,
    budget: usize,
) -> (Bisection, World<F>) {
    let mut world = World {
        cause,
        ran: Vec::new(),
    };
    let result = bisect(
        &axes(),
        &strings(cases),
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
    let for_a = |outcome| Outcomes::from([("a".to_string(), outcome)]);
    let mut known = BTreeMap::new();
    known.insert(
        axes().into_iter().collect::<Config>(),
        for_a(Outcome::Reproduces),
    );
    known.insert(Config::from(["model".to_string()]), for_a(Outcome::DoesNot));
    let mut world = World {
        cause: when(|c| c.contains("model") && c.contains("tools")),
        ran: Vec::new(),
    };
    let result = bisect(
        &axes(),
        &strings(&["a"]),
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

    let unclear = |_: &str, c: &Config| {
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

/// The case of issue 17: `p` fails under the new prompt alone, `mt` under the new model and
/// the new tools together. Judged on their pooled samples no configuration but all-bad
/// looked like the bad envelope; judged each on its own, both causes are named.
#[test]
fn two_independent_causes_are_each_named_for_the_cases_they_break() {
    let cause = |case: &str, c: &Config| {
        let broken = match case {
            "p" => c.contains("prompt"),
            _ => c.contains("model") && c.contains("tools"),
        };
        if broken {
            Outcome::Reproduces
        } else {
            Outcome::DoesNot
        }
    };
    let (result, world) = run_cases(&["mt", "p"], cause, 100);
    // All bad, the singles (settling `p`), the pairs (for `mt` alone).
    assert_eq!(world.ran.len(), 1 + 5 + 10);
    assert_eq!(
        result.groups,
        [
            CauseGroup {
                cases: strings(&["p"]),
                causes: vec![strings(&["prompt"])],
                rollback: strings(&["prompt"]),
            },
            CauseGroup {
                cases: strings(&["mt"]),
                causes: vec![strings(&["model", "tools"])],
                rollback: strings(&["model"]),
            },
        ]
    );
    assert_eq!(
        result.answer,
        Answer::Found {
            causes: vec![strings(&["model", "tools"]), strings(&["prompt"])],
            rollback: strings(&["model", "prompt"]),
        }
    );
    // The pairs are judged for `mt` only: `p` was settled by the singles.
    let pair = result
        .steps
        .iter()
        .find(|s| s.bad_axes == strings(&["model", "tools"]))
        .unwrap();
    assert_eq!(
        pair.outcomes,
        Outcomes::from([("mt".to_string(), Outcome::Reproduces)])
    );
    let table = result.to_string();
    for line in [
        "prompt                                   reproduces for p; does not for mt",
        "case p: main effect: prompt=bad alone reproduces",
        "case mt: fails only when model=bad AND tools=bad: interaction model×tools",
        "roll back: model, prompt (the fewest axes",
    ] {
        assert!(table.contains(line), "{line:?} missing:\n{table}");
    }
}

#[test]
fn cases_the_bad_envelope_does_not_reproduce_are_named_and_unclear_ones_leave_the_rest_standing() {
    let cause = |case: &str, c: &Config| match case {
        "quiet" => Outcome::DoesNot,
        "noisy" if c.len() == 1 && c.contains("sampling") => Outcome::CannotTell,
        "noisy" => {
            if c.len() == AXES.len() {
                Outcome::Reproduces
            } else {
                Outcome::DoesNot
            }
        }
        _ => when(|c| c.contains("index"))(case, c),
    };
    let (result, _) = run_cases(&["index", "noisy", "quiet"], cause, 100);
    assert_eq!(result.not_reproduced, strings(&["quiet"]));
    assert_eq!(result.groups.len(), 1);
    assert_eq!(result.groups[0].cases, strings(&["index"]));
    match &result.answer {
        Answer::Partial { why, remaining } => {
            assert_eq!(remaining, &[strings(&["sampling"])]);
            assert!(
                why.contains("cannot tell for sampling (case noisy)"),
                "{why}"
            );
        }
        other => panic!("{other:?}"),
    }
    let table = result.to_string();
    assert!(
        table.contains("case index: main effect: index=bad alone reproduces"),
        "{table}"
    );
    assert!(
        table.contains("case quiet: the bad envelope does not reproduce a regression"),
        "{table}"
    );
}
