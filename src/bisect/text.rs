//! The table a person reads: every configuration run with its outcome, then the causes —
//! per group of cases when the cases do not all share them — and what to roll back.

use std::fmt;

use super::{Answer, Bisection, Outcome, Outcomes};

impl fmt::Display for Bisection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{:<40} outcome", "axes switched to bad")?;
        for step in &self.steps {
            let known = if step.known { " (measured before)" } else { "" };
            writeln!(
                f,
                "{:<40} {}{known}",
                step.bad_axes.join(" + "),
                outcomes(&step.outcomes)
            )?;
        }
        // One group of every case: its causes are the bisection's, said without cases.
        let one_group = self.groups.len() == 1 && self.groups[0].cases == self.cases;
        for group in &self.groups {
            let cases = if one_group {
                String::new()
            } else {
                format!("{}: ", cases(&group.cases))
            };
            for cause in &group.causes {
                if cause.len() == 1 {
                    writeln!(f, "{cases}main effect: {}=bad alone reproduces", cause[0])?;
                } else {
                    writeln!(
                        f,
                        "{cases}fails only when {}: interaction {}",
                        cause
                            .iter()
                            .map(|a| format!("{a}=bad"))
                            .collect::<Vec<_>>()
                            .join(" AND "),
                        cause.join("×")
                    )?;
                }
            }
        }
        if !self.not_reproduced.is_empty() && !matches!(self.answer, Answer::NotReproduced) {
            writeln!(
                f,
                "{}: the bad envelope does not reproduce a regression",
                cases(&self.not_reproduced)
            )?;
        }
        match &self.answer {
            Answer::Found { rollback, .. } => writeln!(
                f,
                "roll back: {} (the fewest axes that stop every configuration that reproduces)",
                rollback.join(", ")
            ),
            Answer::NotReproduced => {
                writeln!(f, "the bad envelope does not reproduce the regression")
            }
            Answer::Partial { why, remaining } => writeln!(
                f,
                "no answer yet: {why}; {} configuration(s) remain",
                remaining.len()
            ),
        }
    }
}

/// `case a` or `cases a, b`.
fn cases(cases: &[String]) -> String {
    format!(
        "case{} {}",
        if cases.len() == 1 { "" } else { "s" },
        cases.join(", ")
    )
}

/// The outcome of one configuration: one word when every case agrees, else the cases of
/// each outcome (`reproduces for a; does not for b`).
fn outcomes(outcomes: &Outcomes) -> String {
    let word = |outcome: Outcome| match outcome {
        Outcome::Reproduces => "reproduces",
        Outcome::DoesNot => "does not",
        Outcome::CannotTell => "cannot tell",
    };
    let mut values = outcomes.values().copied();
    let first = values.next().unwrap_or(Outcome::CannotTell);
    if values.all(|o| o == first) {
        return word(first).to_string();
    }
    [Outcome::Reproduces, Outcome::CannotTell, Outcome::DoesNot]
        .into_iter()
        .filter_map(|outcome| {
            let of: Vec<&str> = (outcomes.iter())
                .filter(|(_, o)| **o == outcome)
                .map(|(case, _)| case.as_str())
                .collect();
            (!of.is_empty()).then(|| format!("{} for {}", word(outcome), of.join(", ")))
        })
        .collect::<Vec<_>>()
        .join("; ")
}
