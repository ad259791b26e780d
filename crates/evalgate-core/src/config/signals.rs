//! The `signals:` part of the suite file — model prices, the time zone of the hour-of-day
//! breakdown, the significance of the verbosity test — and its validation into the
//! [`SignalsConfig`] a run is measured under (saved in the run's policy).

use std::collections::BTreeMap;

use jiff::tz::{Offset, TimeZone};
use serde::{Deserialize, Serialize};

use crate::observation::Usage;

/// The condition name of samples that ran under no named load condition.
pub const NO_CONDITION: &str = "none";

/// The time zone when the suite names none.
pub const DEFAULT_TIME_ZONE: &str = "UTC";

/// The significance of the verbosity-drift test when the suite sets none.
pub const DEFAULT_VERBOSITY_ALPHA: f64 = 0.01;

/// The `signals:` section as written.
///
/// ```yaml
/// prices:                  # USD per million tokens, by model name as reported or pinned
///   gpt-4o-2024-08-06: {input: 2.50, output: 10.00}
/// time_zone: America/New_York   # for the hour-of-day breakdown; default UTC
/// verbosity: {alpha: 0.01}      # significance of the verbosity-drift test; default 0.01
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SignalsFile {
    pub prices: BTreeMap<String, PriceFile>,
    pub time_zone: Option<String>,
    pub verbosity: Option<VerbosityFile>,
}

/// One model's price as written: USD per million tokens.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriceFile {
    pub input: f64,
    pub output: f64,
}

/// `verbosity:` as written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct VerbosityFile {
    pub alpha: Option<f64>,
}

/// A validated price: finite, non-negative USD per million tokens.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Price {
    /// USD per million input (prompt) tokens.
    pub input: f64,
    /// USD per million output (completion) tokens.
    pub output: f64,
}

impl Price {
    /// What `usage` costs at this price, in USD.
    pub fn cost(&self, usage: &Usage) -> f64 {
        usage.input_tokens as f64 * self.input / 1e6
            + usage.output_tokens as f64 * self.output / 1e6
    }
}

/// The validated signals configuration a run is measured under.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SignalsConfig {
    /// Prices by model name, as the agent reports it or the suite pins it.
    pub prices: BTreeMap<String, Price>,
    /// An IANA name (`America/New_York`), `UTC`, or a fixed offset (`+05:30`); accepted by
    /// [`time_zone`].
    pub time_zone: String,
    /// The verbosity-drift test flags a drift when its p-value is below this.
    pub verbosity_alpha: f64,
}

impl Default for SignalsConfig {
    fn default() -> Self {
        SignalsConfig {
            prices: BTreeMap::new(),
            time_zone: DEFAULT_TIME_ZONE.to_string(),
            verbosity_alpha: DEFAULT_VERBOSITY_ALPHA,
        }
    }
}

/// Checks the section as written and returns what a run is measured under. The error says
/// what is wrong and what to write instead.
pub fn validate(file: &SignalsFile) -> Result<SignalsConfig, String> {
    let mut prices = BTreeMap::new();
    for (model, price) in &file.prices {
        for (side, value) in [("input", price.input), ("output", price.output)] {
            if !(value.is_finite() && value >= 0.0) {
                return Err(format!(
                    "price of `{model}` {side} must be a number ≥ 0 (USD per million tokens), not {value}"
                ));
            }
        }
        prices.insert(
            model.clone(),
            Price {
                input: price.input,
                output: price.output,
            },
        );
    }
    let time_zone = match &file.time_zone {
        Some(name) => {
            time_zone(name)?;
            name.clone()
        }
        None => DEFAULT_TIME_ZONE.to_string(),
    };
    let verbosity_alpha = match file.verbosity.and_then(|v| v.alpha) {
        Some(alpha) if !(alpha > 0.0 && alpha < 1.0) => {
            return Err(format!(
                "`verbosity.alpha` must be a significance level in (0, 1), not {alpha}; write e.g. `alpha: 0.01`"
            ));
        }
        Some(alpha) => alpha,
        None => DEFAULT_VERBOSITY_ALPHA,
    };
    Ok(SignalsConfig {
        prices,
        time_zone,
        verbosity_alpha,
    })
}

/// The time zone `name` denotes: `UTC`, a fixed offset (`+05:30`, `-08:00`, `+09`), or an
/// IANA name looked up in the system's time zone database (`/usr/share/zoneinfo`, or
/// `$TZDIR`). Fixed offsets and `UTC` work without a database.
pub fn time_zone(name: &str) -> Result<TimeZone, String> {
    if name == "UTC" || name == "Z" {
        return Ok(TimeZone::UTC);
    }
    if name.starts_with(['+', '-']) {
        return fixed_offset(name).map(TimeZone::fixed).ok_or_else(|| {
            format!(
                "time zone `{name}` is not a fixed offset: write ±HH:MM between -25:59 and +25:59, e.g. `+05:30`"
            )
        });
    }
    TimeZone::get(name).map_err(|_| {
        let database = if jiff::tz::db().is_definitively_empty() {
            " (no time zone database was found on this machine: install tzdata or set $TZDIR, or use a fixed offset)"
        } else {
            ""
        };
        format!(
            "unknown time zone `{name}`{database}: write an IANA name such as `America/New_York`, `UTC`, or a fixed offset such as `+05:30`"
        )
    })
}

/// `±HH`, `±HH:MM` or `±HHMM`.
fn fixed_offset(text: &str) -> Option<Offset> {
    let (sign, rest) = match text.split_at(1) {
        ("+", rest) => (1, rest),
        ("-", rest) => (-1, rest),
        _ => return None,
    };
    let (hours, minutes) = match (rest.len(), rest.split_once(':')) {
        (_, Some((h, m))) => (h, m),
        (2, None) => (rest, "00"),
        (4, None) => rest.split_at(2),
        _ => return None,
    };
    let digits = |s: &str| s.len() == 2 && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(hours) || !digits(minutes) {
        return None;
    }
    let (hours, minutes): (i32, i32) = (hours.parse().ok()?, minutes.parse().ok()?);
    if minutes >= 60 {
        return None;
    }
    Offset::from_seconds(sign * (hours * 3600 + minutes * 60)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(yaml: &str) -> Result<SignalsFile, String> {
        serde_saphyr::from_str(yaml).map_err(|e| e.to_string())
    }

    #[test]
    fn a_full_section_validates() {
        let file = parse(
            "prices:\n  gpt-4o-2024-08-06: {input: 2.50, output: 10.00}\n  demo-model-2: {input: 0.15, output: 0.60}\ntime_zone: America/New_York\nverbosity: {alpha: 0.05}\n",
        )
        .unwrap();
        let config = validate(&file).unwrap();
        assert_eq!(
            config.prices["gpt-4o-2024-08-06"],
            Price {
                input: 2.5,
                output: 10.0
            }
        );
        assert_eq!(config.prices["demo-model-2"].output, 0.6);
        assert_eq!(config.time_zone, "America/New_York");
        assert_eq!(config.verbosity_alpha, 0.05);
    }

    #[test]
    fn an_empty_section_is_the_default() {
        let config = validate(&parse("{}").unwrap()).unwrap();
        assert_eq!(config, SignalsConfig::default());
        assert_eq!(config.time_zone, "UTC");
        assert_eq!(config.verbosity_alpha, 0.01);
        assert!(config.prices.is_empty());
    }

    #[test]
    fn unknown_keys_are_rejected() {
        assert!(parse("price: {}").unwrap_err().contains("price"));
        assert!(parse("prices: {m: {input: 1, output: 2, cached: 3}}").is_err());
        assert!(
            parse("prices: {m: {input: 1}}").is_err(),
            "output is required"
        );
        assert!(parse("verbosity: {alpha: 0.1, beta: 2}").is_err());
    }

    #[test]
    fn bad_prices_say_which_model_and_side() {
        let file = |input: f64, output: f64| SignalsFile {
            prices: BTreeMap::from([("m".to_string(), PriceFile { input, output })]),
            ..SignalsFile::default()
        };
        let error = validate(&file(-1.0, 2.0)).unwrap_err();
        assert!(
            error.starts_with("price of `m` input must be a number ≥ 0 (USD per million tokens)"),
            "{error}"
        );
        let error = validate(&file(1.0, f64::NAN)).unwrap_err();
        assert!(error.starts_with("price of `m` output must be"), "{error}");
        assert!(validate(&file(1.0, f64::INFINITY)).is_err());
        assert!(validate(&file(0.0, 0.0)).is_ok(), "free models are fine");
    }

    #[test]
    fn alpha_must_be_inside_zero_one() {
        for alpha in [0.0, 1.0, -0.1, 1.5, f64::NAN] {
            let file = SignalsFile {
                verbosity: Some(VerbosityFile { alpha: Some(alpha) }),
                ..SignalsFile::default()
            };
            let error = validate(&file).unwrap_err();
            assert!(error.contains("`verbosity.alpha`"), "{error}");
        }
        let file = SignalsFile {
            verbosity: Some(VerbosityFile { alpha: None }),
            ..SignalsFile::default()
        };
        assert_eq!(validate(&file).unwrap().verbosity_alpha, 0.01);
    }

    #[test]
    fn time_zones_names_offsets_and_unknowns() {
        let offset = |name: &str| time_zone(name).unwrap().to_fixed_offset().unwrap();
        assert_eq!(offset("UTC"), Offset::UTC);
        assert_eq!(offset("+05:30").seconds(), 5 * 3600 + 1800);
        assert_eq!(offset("-08:00").seconds(), -8 * 3600);
        assert_eq!(offset("+0930").seconds(), 9 * 3600 + 1800);
        assert_eq!(offset("+09").seconds(), 9 * 3600);
        for bad in ["+5:30", "+05:60", "+26:00", "+", "-08:00:00", "+ab:cd"] {
            let error = time_zone(bad).unwrap_err();
            assert!(error.contains("not a fixed offset"), "{bad}: {error}");
        }
        let error = time_zone("Mars/Olympus_Mons").unwrap_err();
        assert!(
            error.starts_with("unknown time zone `Mars/Olympus_Mons`"),
            "{error}"
        );
        let file = SignalsFile {
            time_zone: Some("Mars/Olympus_Mons".into()),
            ..SignalsFile::default()
        };
        assert!(validate(&file).unwrap_err().contains("unknown time zone"));
        if jiff::tz::db().is_definitively_empty() {
            eprintln!("no time zone database on this machine: IANA names not checked");
            return;
        }
        assert!(time_zone("America/New_York").is_ok());
        assert!(time_zone("Asia/Kolkata").is_ok());
    }

    #[test]
    fn the_config_round_trips_through_json() {
        let config = validate(&SignalsFile {
            prices: BTreeMap::from([(
                "m".to_string(),
                PriceFile {
                    input: 1.0,
                    output: 2.0,
                },
            )]),
            time_zone: Some("+05:30".into()),
            verbosity: None,
        })
        .unwrap();
        let json = serde_json::to_string(&config).unwrap();
        assert_eq!(
            serde_json::from_str::<SignalsConfig>(&json).unwrap(),
            config
        );
        assert_eq!(
            serde_json::from_str::<SignalsConfig>("{}").unwrap(),
            SignalsConfig::default()
        );
    }

    #[test]
    fn a_price_costs_per_million_tokens() {
        let price = Price {
            input: 2.5,
            output: 10.0,
        };
        let usage = Usage {
            input_tokens: 1_000,
            output_tokens: 200,
        };
        assert!((price.cost(&usage) - (0.0025 + 0.002)).abs() < 1e-15);
    }
}
