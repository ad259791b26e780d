//! Seeded simulations of a bisection against noisy cases: how often it names the right
//! causes (power) and how often it names a wrong one (false causes), the figures the book's
//! "Regression bisection" chapter (docs/src/bisect.md)
//! gives. Each world holds cases whose samples fail at a "good" rate unless the
//! configuration holds their cause, then at a "bad" rate; the probe draws rounds of samples
//! and decides as `evalgate bisect` does ([`decide_cases`], rounds until every case is
//! decided, at most `rounds`), against good and bad references of `rounds` rounds each.
//! `cargo test --lib bisect::simulation -- --nocapture` prints the figures.

use std::collections::BTreeMap;

use super::*;
use crate::bisect::*;
use evalgate::stats::random::XorShift;

const AXES: [&str; 5] = ["index", "model", "prompt", "sampling", "tools"];
const SEEDS: u64 = 200;
const ALPHA: f64 = 0.05;

/// A simulated suite: each case and the axes that break it together.
struct World {
    causes: Vec<(&'static str, &'static [&'static str])>,
    /// Failure probability of a sample whose case's cause is not (is) in the configuration.
    good_rate: f64,
    bad_rate: f64,
    /// Samples of each case per round, and rounds at most.
    samples: u32,
    rounds: u32,
    /// Each look at `ALPHA` itself, not shared out over the level and the looks.
    uncorrected: bool,
}

impl World {
    fn cause(&self, case: &str) -> Config {
        let (_, axes) = self.causes.iter().find(|(c, _)| *c == case).unwrap();
        axes.iter().map(|a| a.to_string()).collect()
    }

    fn cases(&self) -> Vec<String> {
        self.causes.iter().map(|(c, _)| c.to_string()).collect()
    }
}

/// Draws rounds of samples for a configuration.
struct Noisy<'w> {
    world: &'w World,
    random: XorShift,
    good: Tallies,
    bad: Tallies,
    /// Samples drawn so far, the references' included.
    drawn: u64,
}

impl Noisy<'_> {
    fn round(&mut self, config: &Config, cases: &[String]) -> Tallies {
        let world = self.world;
        (cases.iter())
            .map(|case| {
                let rate = if world.cause(case).is_subset(config) {
                    world.bad_rate
                } else {
                    world.good_rate
                };
                let failures = u64::from(self.random.passes(world.samples, rate));
                let samples = u64::from(world.samples);
                self.drawn += samples;
                (case.clone(), Tally { samples, failures })
            })
            .collect()
    }

    fn rounds(
        &mut self,
        config: &Config,
        cases: &[String],
        stop: impl Fn(&Tallies) -> bool,
    ) -> Tallies {
        let mut total = Tallies::new();
        for _ in 0..self.world.rounds {
            for (case, tally) in self.round(config, cases) {
                *total.entry(case).or_default() += tally;
            }
            if stop(&total) {
                break;
            }
        }
        total
    }
}

impl Probe for Noisy<'_> {
    type Error = std::convert::Infallible;

    fn probe(
        &mut self,
        bad_axes: &Config,
        alike: &[Vec<String>],
        family: usize,
    ) -> Result<Outcomes, Self::Error> {
        let (good, bad) = (self.good.clone(), self.bad.clone());
        let significance = if self.world.uncorrected {
            Significance::of(ALPHA)
        } else {
            Significance::per_look(ALPHA, family, self.world.rounds)
        };
        let decided = |t: &Tallies| decide_cases(alike, t, &good, &bad, significance);
        let cases: Vec<String> = alike.concat();
        let total = self.rounds(bad_axes, &cases, |t| {
            !decided(t).values().any(|o| *o == Outcome::CannotTell)
        });
        Ok(decided(&total))
    }
}

/// What the runs of one world came to.
#[derive(Debug, Default)]
struct Figures {
    /// Every case named with exactly its own cause, and nothing else.
    right: u64,
    /// At least one cause named that is not the case's.
    false_cause: u64,
    /// An answer whose rollback stops every case's cause (whatever causes it named).
    rollback_stops: u64,
    /// No answer (the samples could not tell for some case).
    partial: u64,
    configurations: u64,
    samples: u64,
}

fn simulate(world: &World) -> Figures {
    let axes: Vec<String> = AXES.iter().map(|a| a.to_string()).collect();
    let all_bad: Config = axes.iter().cloned().collect();
    let cases = world.cases();
    let mut figures = Figures::default();
    for seed in 1..=SEEDS {
        let mut probe = Noisy {
            world,
            random: XorShift(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15)),
            good: Tallies::new(),
            bad: Tallies::new(),
            drawn: 0,
        };
        probe.good = probe.rounds(&Config::new(), &cases, |_| false);
        probe.bad = probe.rounds(&all_bad, &cases, |_| false);
        let known = BTreeMap::from([(
            all_bad.clone(),
            decide_bad_envelope(&cases, &probe.good, &probe.bad, Significance::of(ALPHA)),
        )]);
        let budget = Budget { configurations: 64 };
        let Ok(result) = bisect(&axes, &cases, &known, budget, &mut probe);
        let named: BTreeMap<&str, &Vec<Vec<String>>> = (result.groups.iter())
            .flat_map(|g| g.cases.iter().map(move |c| (c.as_str(), &g.causes)))
            .collect();
        let own = |case: &str| -> Vec<String> { world.cause(case).into_iter().collect() };
        let wrong = (named.iter()).any(|(case, causes)| causes.iter().any(|c| *c != own(case)));

        let all_right = cases.iter().all(|case| {
            named
                .get(case.as_str())
                .is_some_and(|causes| **causes == [own(case)])
        });
        figures.right += u64::from(all_right && matches!(result.answer, Answer::Found { .. }));
        figures.false_cause += u64::from(wrong);
        figures.partial += u64::from(matches!(result.answer, Answer::Partial { .. }));
        if let Answer::Found { rollback, .. } = &result.answer {
            let stops = |case: &String| world.cause(case).iter().any(|a| rollback.contains(a));
            figures.rollback_stops += u64::from(cases.iter().all(stops));
        }
        figures.configurations += result.ran() as u64;
        figures.samples += probe.drawn;
    }
    figures
}

/// One line of the book's table (docs/src/bisect.md).
fn report(name: &str, world: &World, figures: &Figures) {
    let percent = |n: u64| 100.0 * n as f64 / SEEDS as f64;
    println!(
        "| {name} | {} / {} | {} | {} | {:.1} % | {:.1} % | {:.1} % | {:.1} % | {:.1} | {:.0} |",
        world.good_rate,
        world.bad_rate,
        world.samples,
        world.rounds,
        percent(figures.right),
        percent(figures.false_cause),
        percent(figures.rollback_stops),
        percent(figures.partial),
        figures.configurations as f64 / SEEDS as f64,
        figures.samples as f64 / SEEDS as f64,
    );
}

/// Issue 17's suite: one case broken by the new prompt, one by the new model reading the
/// new tools, with noisy pass rates.
fn two_causes(good_rate: f64, bad_rate: f64, rounds: u32) -> World {
    World {
        causes: vec![("p", &["prompt"]), ("mt", &["model", "tools"])],
        good_rate,
        bad_rate,
        samples: 5,
        rounds,
        uncorrected: false,
    }
}

/// Six cases of one sample a round sharing one cause: alone, none can ever be decided;
/// pooled, they are.
fn shared_cause(rounds: u32) -> World {
    World {
        causes: ["a", "b", "c", "d", "e", "f"]
            .into_iter()
            .map(|case| (case, &["model", "tools"][..]))
            .collect(),
        good_rate: 0.1,
        bad_rate: 0.8,
        samples: 1,
        rounds,
        uncorrected: false,
    }
}

#[test]
fn two_independent_causes_are_named_with_few_false_causes() {
    for rounds in [4, 8] {
        let world = two_causes(0.1, 0.8, rounds);
        let figures = simulate(&world);
        report("two causes", &world, &figures);
        assert!(figures.false_cause <= SEEDS * 5 / 100, "{figures:?}");
        assert!(figures.right >= SEEDS * 70 / 100, "{figures:?}");
        assert!(figures.rollback_stops >= figures.right, "{figures:?}");
    }
}

#[test]
fn without_sharing_alpha_out_a_level_names_false_causes_often() {
    for world in [two_causes(0.1, 0.8, 4), shared_cause(4)] {
        let corrected = simulate(&world);
        let world = World {
            uncorrected: true,
            ..world
        };
        let uncorrected = simulate(&world);
        report("uncorrected", &world, &uncorrected);
        assert!(
            uncorrected.false_cause >= SEEDS * 15 / 100,
            "{uncorrected:?}"
        );
        assert!(
            uncorrected.false_cause > 3 * corrected.false_cause,
            "{uncorrected:?} {corrected:?}"
        );
    }
}

#[test]
fn noisier_cases_are_more_often_undecided_than_misnamed() {
    for rounds in [4, 8] {
        let world = two_causes(0.2, 0.6, rounds);
        let figures = simulate(&world);
        report("two causes, noisier", &world, &figures);
        assert!(figures.false_cause <= SEEDS * 5 / 100, "{figures:?}");
    }
}

#[test]
fn cases_sharing_one_cause_keep_the_power_of_their_pooled_samples() {
    for rounds in [4, 8] {
        let world = shared_cause(rounds);
        let figures = simulate(&world);
        report("one shared cause, 6 cases", &world, &figures);
        assert!(figures.right >= SEEDS * 80 / 100, "{figures:?}");
        assert!(figures.false_cause <= SEEDS * 5 / 100, "{figures:?}");
    }
}
