//! What the cost is broken down by: `--by customer` or `--by model`.

use serde::Serialize;

/// What the cost is broken down by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupBy {
    /// Per customer (`--by customer`, the default): the `customer` field of each line.
    Customer,
    /// Per model (`--by model`): the `model` field.
    Model,
}

impl GroupBy {
    /// `customer` or `model`.
    pub fn noun(self) -> &'static str {
        match self {
            GroupBy::Customer => "customer",
            GroupBy::Model => "model",
        }
    }

    /// `customers` or `models`.
    pub fn plural(self) -> &'static str {
        match self {
            GroupBy::Customer => "customers",
            GroupBy::Model => "models",
        }
    }
}

impl std::str::FromStr for GroupBy {
    type Err = String;

    /// `customer` or `model`, as `--by` takes them.
    fn from_str(text: &str) -> Result<GroupBy, String> {
        match text {
            "customer" => Ok(GroupBy::Customer),
            "model" => Ok(GroupBy::Model),
            _ => Err(format!(
                "cannot break the cost down by `{text}`: write `customer` or `model`"
            )),
        }
    }
}
