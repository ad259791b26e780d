//! Production cost concentration (`evalgate cost <usage.jsonl> --by customer`): which
//! customers (or models) the production spend goes to, from a JSON Lines file of calls
//! priced at the suite's `prices:`. The file is streamed through a worker per core
//! with the machinery of the representativeness analysis ([`analyse`]); each line is read
//! leniently (`call`) and a line that is not a priced call is a counted warning
//! (`warnings`); each call's cost is an exact integer of pico-dollars, so the workers'
//! tallies (`tally`) merge to the same result whatever the thread timing. The report
//! (`concentration`, `lorenz`) gives the shares of the costliest 1 %, 0.1 % and
//! 0.01 %, the Gini coefficient and Lorenz curve, the losses and the heavy tail; it is
//! written as JSON, CSV, SVG and a step-summary Markdown (`outputs`, `svg`,
//! `markdown`) and as terminal lines (`text`). Memory grows with the number of
//! distinct customers, never with the number of lines.

mod analyse;
mod call;
mod concentration;
mod group_by;
mod lorenz;
mod markdown;
mod outputs;
mod svg;
mod tally;
mod text;
mod warnings;

pub use analyse::analyse;
pub use concentration::{
    CostConcentration, GroupCost, Loss, Losses, RevenueUnknown, TOP_LISTED, TopShare,
    UnknownRevenueGroup, UnpricedModel,
};
pub use group_by::GroupBy;
pub use lorenz::LorenzPoint;
pub(crate) use markdown::render as markdown;
pub(crate) use outputs::write_outputs;
pub(crate) use text::terminal;
pub use warnings::{WarningExample, WarningGroup, WarningKind};

#[cfg(test)]
mod output_tests;
#[cfg(test)]
mod tests;
