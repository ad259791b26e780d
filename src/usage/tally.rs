//! Adding the calls up. Each worker keeps its own [`UsageTally`] (no lock on the hot
//! path); they are merged once the file is read.
//!
//! Cost is accumulated as an integer number of pico-dollars: a price in USD per million
//! tokens is a whole number of pico-dollars per token whenever it has at most six decimals
//! (every published price list), so each call's cost is exact and so is every sum, in any
//! order: the result does not depend on how the file was cut into batches or which worker
//! took which. Summing each call's cost as a float would (floating-point addition depends
//! on the order), and micro-dollars would round the cost of a short call on a cheap model
//! (10 tokens at $0.15 per million is 1.5 µ$) to nothing. It also keeps one number per
//! customer instead of tokens per customer and model.
//!
//! Memory: one entry per distinct group (customer or model) per worker, plus one per
//! distinct model; never per line.

use std::collections::{BTreeMap, HashMap};

use super::call::read_call;
use super::group_by::GroupBy;
use super::warnings::{WarningKind, WarningTally};
use evalgate::decay::{Batch, BatchWorker, is_blank};
use evalgate::errors::Error;
use evalgate::signals::Price;

/// Pico-dollars per USD.
pub(crate) const PICOS_PER_USD: f64 = 1e12;

/// A price as whole pico-dollars per token (USD per million tokens × 10⁶), rounded where
/// it has more than six decimals. Prices are validated finite and ≥ 0 when the suite is
/// loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct PicoPrice {
    input: u128,
    output: u128,
}

impl PicoPrice {
    fn of(price: &Price) -> PicoPrice {
        let per_token = |usd_per_million: f64| (usd_per_million * 1e6).round() as u128;
        PicoPrice {
            input: per_token(price.input),
            output: per_token(price.output),
        }
    }

    fn cost(&self, input: u64, output: u64) -> u128 {
        u128::from(input) * self.input + u128::from(output) * self.output
    }
}

/// Calls and tokens.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TokenSums {
    pub(crate) calls: u64,
    pub(crate) input: u64,
    pub(crate) output: u64,
}

impl TokenSums {
    /// Saturating: only a hostile file could reach `u64::MAX` tokens.
    fn add(&mut self, other: TokenSums) {
        self.calls = self.calls.saturating_add(other.calls);
        self.input = self.input.saturating_add(other.input);
        self.output = self.output.saturating_add(other.output);
    }
}

/// A model met in the file.
#[derive(Debug)]
struct ModelEntry {
    name: Box<str>,
    price: Option<PicoPrice>,
    /// The lines left out for want of a price.
    unpriced: TokenSums,
}

/// What one customer (or model) has used so far.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct GroupTally {
    pub(crate) sums: TokenSums,
    pub(crate) cost_picos: u128,
    /// In nano-dollars; None until one of its calls reports revenue.
    pub(crate) revenue_nanos: Option<u64>,
}

impl GroupTally {
    fn add(&mut self, other: GroupTally) {
        self.sums.add(other.sums);
        self.cost_picos = self.cost_picos.saturating_add(other.cost_picos);
        if let Some(nanos) = other.revenue_nanos {
            self.revenue_nanos = Some(self.revenue_nanos.unwrap_or(0).saturating_add(nanos));
        }
    }
}

/// A model without a price, and what was left out for it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Unpriced {
    pub(crate) model: String,
    pub(crate) sums: TokenSums,
}

/// The calls of the lines a worker was handed, or of the whole file once merged.
#[derive(Debug)]
pub(crate) struct UsageTally<'p> {
    by: GroupBy,
    prices: &'p BTreeMap<String, Price>,
    models: Vec<ModelEntry>,
    model_index: HashMap<Box<str>, usize>,
    groups: HashMap<Box<str>, GroupTally>,
    /// Lines that are not blank.
    pub(crate) lines: u64,
    pub(crate) blank_lines: u64,
    /// Lines added to the cost.
    pub(crate) valid_lines: u64,
    pub(crate) warnings: WarningTally,
}

impl<'p> UsageTally<'p> {
    pub(crate) fn new(by: GroupBy, prices: &'p BTreeMap<String, Price>) -> UsageTally<'p> {
        UsageTally {
            by,
            prices,
            models: Vec::new(),
            model_index: HashMap::new(),
            groups: HashMap::new(),
            lines: 0,
            blank_lines: 0,
            valid_lines: 0,
            warnings: WarningTally::default(),
        }
    }

    /// Adds line number `line` of the file.
    pub(crate) fn add_line(&mut self, line: u64, bytes: &[u8]) {
        if is_blank(bytes) {
            self.blank_lines += 1;
            return;
        }
        self.lines += 1;
        let call = match read_call(bytes) {
            Ok(call) => call,
            Err(problem) => {
                self.warnings.note(problem.kind, line, || problem.detail);
                return;
            }
        };
        let model = self.model(&call.model);
        let sums = TokenSums {
            calls: 1,
            input: call.input_tokens,
            output: call.output_tokens,
        };
        let Some(price) = model.price else {
            model.unpriced.add(sums);
            self.warnings.note(WarningKind::UnpricedModel, line, || {
                format!("model `{}` has no price", call.model)
            });
            return;
        };
        self.valid_lines += 1;
        let key: &str = match self.by {
            GroupBy::Customer => &call.customer,
            GroupBy::Model => &call.model,
        };
        let group = match self.groups.get_mut(key) {
            Some(group) => group,
            None => self.groups.entry(key.into()).or_default(),
        };
        group.add(GroupTally {
            sums,
            cost_picos: price.cost(call.input_tokens, call.output_tokens),
            revenue_nanos: call.revenue_nanos,
        });
    }

    /// The model's entry, added the first time it is met.
    fn model(&mut self, name: &str) -> &mut ModelEntry {
        let index = match self.model_index.get(name) {
            Some(&index) => index,
            None => {
                self.models.push(ModelEntry {
                    name: name.into(),
                    price: self.prices.get(name).map(PicoPrice::of),
                    unpriced: TokenSums::default(),
                });
                self.model_index.insert(name.into(), self.models.len() - 1);
                self.models.len() - 1
            }
        };
        &mut self.models[index]
    }

    /// Adds another worker's tally to this one.
    pub(crate) fn merge(&mut self, other: UsageTally<'_>) {
        self.lines += other.lines;
        self.blank_lines += other.blank_lines;
        self.valid_lines += other.valid_lines;
        self.warnings.merge(other.warnings);
        for theirs in other.models {
            self.model(&theirs.name).unpriced.add(theirs.unpriced);
        }
        for (id, theirs) in other.groups {
            self.groups.entry(id).or_default().add(theirs);
        }
    }

    /// Every group and what it used, in no particular order.
    pub(crate) fn drain_groups(&mut self) -> impl Iterator<Item = (Box<str>, GroupTally)> + '_ {
        self.groups.drain()
    }

    /// The models without a price that lines used, by name.
    pub(crate) fn unpriced(&self) -> Vec<Unpriced> {
        let mut unpriced: Vec<Unpriced> = (self.models.iter())
            .filter(|m| m.price.is_none())
            .map(|m| Unpriced {
                model: m.name.to_string(),
                sums: m.unpriced,
            })
            .collect();
        unpriced.sort_by(|a, b| a.model.cmp(&b.model));
        unpriced
    }
}

impl<'p> BatchWorker for UsageTally<'p> {
    type Outcome = ();
    type Tallies = UsageTally<'p>;

    fn process(&mut self, batch: &Batch) -> Result<(), Error> {
        for (line, bytes) in batch.lines() {
            self.add_line(line, bytes);
        }
        Ok(())
    }

    fn into_tallies(self) -> UsageTally<'p> {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_with_six_decimals_are_exact_pico_dollars_per_token() {
        let price = PicoPrice::of(&Price {
            input: 0.15,
            output: 0.037_512,
        });
        assert_eq!(
            price,
            PicoPrice {
                input: 150_000,
                output: 37_512
            }
        );
        // 10 tokens at $0.15 per million: 1.5 µ$, exactly.
        assert_eq!(price.cost(10, 0), 1_500_000);
        assert_eq!(
            PicoPrice::of(&Price {
                input: 2.5,
                output: 10.0
            })
            .cost(1_000_000, 1),
            2_500_000_000_000 + 10_000_000
        );
    }
}
