//! One line of the usage file, a production call, read with typed serde structs that
//! borrow from the line: every documented field is read leniently (as a [`Scalar`]) so
//! that a wrong value is a warning of its own kind rather than an unreadable line, and
//! everything else on the line is skipped without being built.

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::de::{Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::warnings::WarningKind;

/// Token counts above this are taken for a logging bug, not a call: no model reads or
/// writes a trillion tokens at once, and the bound keeps every sum far from overflowing.
const MAX_TOKENS: u64 = 1_000_000_000_000;
/// Revenue above this for one call (USD) is taken for a logging bug; it also keeps the
/// revenue of one call within a `u64` of nano-dollars.
const MAX_REVENUE_USD: f64 = 1e9;
const NANOS_PER_USD: f64 = 1e9;

/// A production call as the tally needs it.
#[derive(Debug, PartialEq)]
pub(crate) struct Call<'a> {
    /// An integer id is kept as its decimal text: `42` and `"42"` are one customer.
    pub(crate) customer: Cow<'a, str>,
    pub(crate) model: Cow<'a, str>,
    pub(crate) input_tokens: u64,
    pub(crate) output_tokens: u64,
    /// The revenue attributed to the call, rounded to the nano-dollar, so that sums are
    /// exact integers whatever order the lines are added in.
    pub(crate) revenue_nanos: Option<u64>,
}

/// Why a line is not a call, as a warning.
#[derive(Debug, PartialEq)]
pub(crate) struct Problem {
    pub(crate) kind: WarningKind,
    /// What was found, for the examples (it may quote the line: untrusted text).
    pub(crate) detail: String,
}

impl Problem {
    fn new(kind: WarningKind, detail: impl Into<String>) -> Problem {
        Problem {
            kind,
            detail: detail.into(),
        }
    }
}

/// The documented fields of a line, as written.
#[derive(Deserialize)]
struct Line<'a> {
    #[serde(borrow)]
    customer: Option<Scalar<'a>>,
    #[serde(borrow)]
    model: Option<Scalar<'a>>,
    #[serde(borrow, alias = "prompt_tokens")]
    input_tokens: Option<Scalar<'a>>,
    #[serde(borrow, alias = "completion_tokens")]
    output_tokens: Option<Scalar<'a>>,
    #[serde(borrow)]
    revenue_usd: Option<Scalar<'a>>,
}

/// Any JSON value but `null` (which reads as an absent field), as far as a field of the
/// usage file cares.
#[derive(Debug, PartialEq)]
enum Scalar<'a> {
    Text(Cow<'a, str>),
    Unsigned(u64),
    Negative(i64),
    /// A number with a fraction or an exponent, or an integer too large for 64 bits.
    Fraction(f64),
    /// A boolean, an array or an object: what it is.
    Other(&'static str),
}

impl<'de: 'a, 'a> Deserialize<'de> for Scalar<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ScalarVisitor(std::marker::PhantomData))
    }
}

struct ScalarVisitor<'a>(std::marker::PhantomData<Scalar<'a>>);

impl<'de: 'a, 'a> Visitor<'de> for ScalarVisitor<'a> {
    type Value = Scalar<'a>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<Scalar<'a>, E> {
        Ok(Scalar::Other("a boolean"))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Scalar<'a>, E> {
        Ok(u64::try_from(v).map_or(Scalar::Negative(v), Scalar::Unsigned))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Scalar<'a>, E> {
        Ok(Scalar::Unsigned(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Scalar<'a>, E> {
        Ok(Scalar::Fraction(v))
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Scalar<'a>, E> {
        Ok(Scalar::Text(Cow::Borrowed(v)))
    }

    fn visit_str<E>(self, v: &str) -> Result<Scalar<'a>, E> {
        Ok(Scalar::Text(Cow::Owned(v.to_owned())))
    }

    fn visit_string<E>(self, v: String) -> Result<Scalar<'a>, E> {
        Ok(Scalar::Text(Cow::Owned(v)))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Scalar<'a>, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Scalar::Other("an array"))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Scalar<'a>, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Scalar::Other("an object"))
    }
}

impl Scalar<'_> {
    /// What the value is, for a warning.
    fn kind(&self) -> String {
        match self {
            Scalar::Text(_) => "a string".into(),
            Scalar::Unsigned(v) => v.to_string(),
            Scalar::Negative(v) => v.to_string(),
            Scalar::Fraction(v) => v.to_string(),
            Scalar::Other(kind) => (*kind).into(),
        }
    }
}

/// The call on one line (not blank), or its first problem in this order: not a JSON
/// object, no customer, no model, bad token counts, no token count at all, bad revenue.
pub(crate) fn read_call(line: &[u8]) -> Result<Call<'_>, Problem> {
    // serde would also read a struct from a JSON array, by position.
    if line.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(Problem::new(
            WarningKind::MalformedJson,
            "not a JSON object",
        ));
    }
    let fields: Line<'_> = serde_json::from_slice(line).map_err(|e| {
        // serde_json says "… at line 1 column 7": the line is the file's.
        let text = e.to_string();
        let reason = text.rsplit_once(" at line ").map_or(&*text, |(r, _)| r);
        Problem::new(
            WarningKind::MalformedJson,
            format!("{reason} at column {}", e.column()),
        )
    })?;
    let customer = match fields.customer {
        Some(Scalar::Text(id)) if !id.is_empty() => id,
        Some(Scalar::Unsigned(id)) => Cow::Owned(id.to_string()),
        Some(Scalar::Negative(id)) => Cow::Owned(id.to_string()),
        Some(Scalar::Text(_)) => {
            return Err(Problem::new(
                WarningKind::MissingCustomer,
                "`customer` is empty",
            ));
        }
        None => return Err(Problem::new(WarningKind::MissingCustomer, "no `customer`")),
        Some(other) => {
            return Err(Problem::new(
                WarningKind::MissingCustomer,
                format!("`customer` is {}, not a string or an integer", other.kind()),
            ));
        }
    };
    let model = match fields.model {
        Some(Scalar::Text(model)) if !model.is_empty() => model,
        Some(Scalar::Text(_)) => {
            return Err(Problem::new(WarningKind::MissingModel, "`model` is empty"));
        }
        None => return Err(Problem::new(WarningKind::MissingModel, "no `model`")),
        Some(other) => {
            return Err(Problem::new(
                WarningKind::MissingModel,
                format!("`model` is {}, not a string", other.kind()),
            ));
        }
    };
    if fields.input_tokens.is_none() && fields.output_tokens.is_none() {
        return Err(Problem::new(
            WarningKind::NoTokens,
            "neither `input_tokens` nor `output_tokens` (or `prompt_tokens`, \
             `completion_tokens`): the call's cost is unknown, not zero",
        ));
    }
    let input_tokens = tokens("input_tokens", fields.input_tokens)?;
    let output_tokens = tokens("output_tokens", fields.output_tokens)?;
    let revenue_nanos = match fields.revenue_usd {
        None => None,
        Some(Scalar::Unsigned(usd)) if usd as f64 <= MAX_REVENUE_USD => {
            Some(usd * NANOS_PER_USD as u64)
        }
        Some(Scalar::Fraction(usd)) if (0.0..=MAX_REVENUE_USD).contains(&usd) => {
            Some((usd * NANOS_PER_USD).round() as u64)
        }
        Some(other) => {
            return Err(Problem::new(
                WarningKind::BadRevenue,
                format!(
                    "`revenue_usd` is {}, not a number of USD between 0 and {MAX_REVENUE_USD:e}",
                    other.kind()
                ),
            ));
        }
    };
    Ok(Call {
        customer,
        model,
        input_tokens,
        output_tokens,
        revenue_nanos,
    })
}

/// A token count: absent is 0 (an embedding call has no output tokens).
fn tokens(name: &str, value: Option<Scalar<'_>>) -> Result<u64, Problem> {
    match value {
        None => Ok(0),
        Some(Scalar::Unsigned(n)) if n <= MAX_TOKENS => Ok(n),
        Some(other) => Err(Problem::new(
            WarningKind::BadTokens,
            format!(
                "`{name}` is {}, not a whole number of tokens between 0 and {MAX_TOKENS:e}",
                other.kind()
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(line: &str) -> WarningKind {
        read_call(line.as_bytes()).unwrap_err().kind
    }

    #[test]
    fn a_documented_line_is_read_borrowing_its_strings() {
        let call = read_call(
            br#"{"customer":"acme","model":"m","input_tokens":10,"output_tokens":2,"revenue_usd":0.5,"extra":[1,{"a":null}]}"#,
        )
        .unwrap();
        assert!(matches!(call.customer, Cow::Borrowed("acme")));
        assert!(matches!(call.model, Cow::Borrowed("m")));
        assert_eq!((call.input_tokens, call.output_tokens), (10, 2));
        assert_eq!(call.revenue_nanos, Some(500_000_000));
    }

    #[test]
    fn aliases_integer_ids_and_escapes_are_accepted() {
        let call = read_call(
            br#"{"customer":42,"model":"gpt\u002d4o","prompt_tokens":7,"completion_tokens":3}"#,
        )
        .unwrap();
        assert_eq!(call.customer, "42");
        assert_eq!(call.model, "gpt-4o");
        assert_eq!((call.input_tokens, call.output_tokens), (7, 3));
        assert_eq!(call.revenue_nanos, None);
        let only_input = read_call(br#"{"customer":"a","model":"m","input_tokens":5}"#).unwrap();
        assert_eq!((only_input.input_tokens, only_input.output_tokens), (5, 0));
    }

    #[test]
    fn each_problem_has_its_kind() {
        use WarningKind::*;
        assert_eq!(kind("{"), MalformedJson);
        assert_eq!(kind("[\"a\",\"m\",1,2]"), MalformedJson);
        assert_eq!(kind("42"), MalformedJson);
        assert_eq!(
            kind(r#"{"customer":"a","model":"m","input_tokens":1,"prompt_tokens":1}"#),
            MalformedJson
        );
        assert_eq!(kind(r#"{"model":"m","input_tokens":1}"#), MissingCustomer);
        assert_eq!(
            kind(r#"{"customer":null,"model":"m","input_tokens":1}"#),
            MissingCustomer
        );
        assert_eq!(
            kind(r#"{"customer":1.5,"model":"m","input_tokens":1}"#),
            MissingCustomer
        );
        assert_eq!(
            kind(r#"{"customer":"","model":"m","input_tokens":1}"#),
            MissingCustomer
        );
        assert_eq!(kind(r#"{"customer":"a","input_tokens":1}"#), MissingModel);
        assert_eq!(
            kind(r#"{"customer":"a","model":["m"],"input_tokens":1}"#),
            MissingModel
        );
        for tokens in [
            "-1",
            "1.5",
            "\"12\"",
            "12.0",
            "1e3",
            "99999999999999999999999",
        ] {
            assert_eq!(
                kind(&format!(
                    r#"{{"customer":"a","model":"m","input_tokens":{tokens}}}"#
                )),
                BadTokens,
                "{tokens}"
            );
        }
        assert_eq!(kind(r#"{"customer":"a","model":"m"}"#), NoTokens);
        for revenue in ["-0.01", "\"1\"", "true", "1e300"] {
            assert_eq!(
                kind(&format!(
                    r#"{{"customer":"a","model":"m","input_tokens":1,"revenue_usd":{revenue}}}"#
                )),
                BadRevenue,
                "{revenue}"
            );
        }
    }

    #[test]
    fn a_malformed_line_says_where_in_the_line() {
        let problem = read_call(br#"{"customer": oops}"#).unwrap_err();
        assert_eq!(problem.detail, "expected value at column 14");
    }
}
