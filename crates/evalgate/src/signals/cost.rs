//! What the run cost: tokens at the suite's prices, per sample, case and customer, and how
//! concentrated the spend is (a few cases burning most of the budget is worth knowing).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Pins;
use super::answered;
use super::config::Price;
use super::distribution::Percentiles;
use crate::record::SampleRecord;

/// The customer of samples whose case names none.
pub const NO_CUSTOMER: &str = "(none)";

/// The model of a sample that reported none in a run that pins none.
pub const UNKNOWN_MODEL: &str = "(unknown)";

/// The cost signals of a run, in USD.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Cost {
    /// What every priced sample cost together.
    pub total_usd: f64,
    /// Tokens of every sample that reported usage, priced or not.
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// The cost of one priced sample.
    pub per_sample: Option<Percentiles>,
    /// The cost of one case (its priced samples together), over cases with a priced sample.
    pub per_case: Option<Percentiles>,
    /// The case that cost the most.
    pub most_expensive: Option<CaseCost>,
    /// The share of `total_usd` spent by the most expensive 1 % of cases (at least one).
    pub top_1_percent: Option<TopShare>,
    /// The share spent by the most expensive 10 % of cases (at least one).
    pub top_10_percent: Option<TopShare>,
    /// By case id, for cases with a sample that reported usage.
    pub cases: BTreeMap<String, Spend>,
    /// By customer (`(none)` for cases that name none).
    pub customers: BTreeMap<String, Spend>,
    /// Samples that reported usage but whose model has no price.
    pub unpriced: u64,
    /// Those samples by model.
    pub unpriced_models: BTreeMap<String, u64>,
    /// Answered samples that reported no usage: their cost is unknown, not zero.
    pub no_usage: u64,
}

/// What a case or a customer spent.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Spend {
    /// The cost of its priced samples.
    pub usd: f64,
    /// Its samples that reported usage.
    pub samples: u64,
    /// Of those, the ones without a price (not in `usd`).
    pub unpriced: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
}

/// One case and what it cost.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CaseCost {
    pub case: String,
    pub usd: f64,
}

/// The most expensive cases and their part of the total.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TopShare {
    /// How many cases.
    pub cases: u64,
    pub usd: f64,
    /// `usd` over the run's total.
    pub share: f64,
}

/// The model a sample is billed as: the one it reported, else the run's pinned model. A
/// reported model without a price leaves the sample unpriced rather than billed at the
/// pinned model's price, which would hide a bump to a dearer model.
pub fn billed_model<'a>(sample: &'a SampleRecord, pinned: Option<&'a str>) -> Option<&'a str> {
    sample.model.as_deref().or(pinned)
}

/// What one sample cost in USD: None when it reported no usage or its model has no price.
pub fn sample_cost(
    sample: &SampleRecord,
    pinned: Option<&str>,
    prices: &BTreeMap<String, Price>,
) -> Option<f64> {
    let usage = sample.usage.as_ref()?;
    let price = prices.get(billed_model(sample, pinned)?)?;
    Some(price.cost(usage))
}

impl Spend {
    fn add(&mut self, sample: &SampleRecord, cost: Option<f64>) {
        let Some(usage) = &sample.usage else { return };
        self.samples += 1;
        self.input_tokens += usage.input_tokens;
        self.output_tokens += usage.output_tokens;
        match cost {
            Some(usd) => self.usd += usd,
            None => self.unpriced += 1,
        }
    }
}

impl Cost {
    pub(crate) fn of(
        samples: &[SampleRecord],
        pins: &Pins,
        prices: &BTreeMap<String, Price>,
    ) -> Cost {
        let mut whole = Spend::default();
        let mut cases: BTreeMap<String, Spend> = BTreeMap::new();
        let mut customers: BTreeMap<String, Spend> = BTreeMap::new();
        let mut unpriced_models: BTreeMap<String, u64> = BTreeMap::new();
        let mut sample_costs = Vec::new();
        let mut no_usage = 0;
        for sample in samples {
            if sample.usage.is_none() {
                no_usage += u64::from(answered(sample));
                continue;
            }
            let pinned = pins.of_sample(sample);
            let cost = sample_cost(sample, pinned, prices);
            match cost {
                Some(usd) => sample_costs.push(usd),
                None => {
                    let model = billed_model(sample, pinned).unwrap_or(UNKNOWN_MODEL);
                    *unpriced_models.entry(model.to_string()).or_default() += 1;
                }
            }
            whole.add(sample, cost);
            cases
                .entry(sample.case.clone())
                .or_default()
                .add(sample, cost);
            let customer = sample.customer.as_deref().unwrap_or(NO_CUSTOMER);
            customers
                .entry(customer.to_string())
                .or_default()
                .add(sample, cost);
        }
        // Most expensive first; ties by id so the order does not depend on the records'.
        let mut ranked: Vec<(&str, f64)> = cases
            .iter()
            .filter(|(_, spend)| spend.samples > spend.unpriced)
            .map(|(case, spend)| (case.as_str(), spend.usd))
            .collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        Cost {
            total_usd: whole.usd,
            input_tokens: whole.input_tokens,
            output_tokens: whole.output_tokens,
            per_sample: Percentiles::of(sample_costs),
            per_case: Percentiles::of(ranked.iter().map(|(_, usd)| *usd)),
            most_expensive: ranked.first().map(|(case, usd)| CaseCost {
                case: case.to_string(),
                usd: *usd,
            }),
            top_1_percent: top_share(&ranked, 100, whole.usd),
            top_10_percent: top_share(&ranked, 10, whole.usd),
            cases,
            customers,
            unpriced: whole.unpriced,
            unpriced_models,
            no_usage,
        }
    }
}

/// The share of `total` spent by the first `len / per` of `ranked` (at least one case):
/// `per` = 100 for the top 1 %. None when nothing was spent.
fn top_share(ranked: &[(&str, f64)], per: usize, total: f64) -> Option<TopShare> {
    if ranked.is_empty() || total <= 0.0 {
        return None;
    }
    let cases = (ranked.len() / per).max(1);
    let usd: f64 = ranked[..cases].iter().map(|(_, usd)| usd).sum();
    Some(TopShare {
        cases: cases as u64,
        usd,
        share: usd / total,
    })
}
