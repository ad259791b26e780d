//! The suite's active cases, as commands that plan or bisect over them need them.

use evalgate::case::{Selection, Status, discover};
use evalgate::errors::Error;
use evalgate::suite::Suite;

/// The ids of the suite's active cases (drafts and retired cases left out), every case
/// file read.
pub(crate) fn active_case_ids(suite: &Suite) -> Result<Vec<String>, Error> {
    let (cases, _) = discover(suite, Selection::All)?;
    Ok(cases
        .into_iter()
        .filter(|c| c.status == Status::Active)
        .map(|c| c.id)
        .collect())
}
