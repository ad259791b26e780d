//! Each helpdesk's export files read into [`Ticket`](crate::tickets::model::Ticket)s.
//!
//! A file that cannot be read as one of the vendor's export files stops the import
//! ([`export_file`], [`shape`]); a record that cannot be used is left out with a
//! [`RecordWarning`](crate::tickets::model::RecordWarning). Files are joined: a ticket's
//! comments, conversations or rating may be in other files than the ticket ([`read`]).
//! Each vendor's module ([`zendesk`], [`intercom`], [`freshdesk`], [`helpscout`]) reads
//! only the fields it needs into typed structs ([`fields`]) and builds tickets with the
//! steps they share ([`assemble`]). Keys an export has that the vendor's objects do not
//! are reported ([`known_keys`]): what they hold is not imported.

mod assemble;
mod export_file;
mod fields;
mod freshdesk;
mod helpscout;
mod intercom;
mod known_keys;
mod read;
mod shape;
mod zendesk;

use std::path::PathBuf;

use crate::tickets::model::{Parsed, Vendor};
use evalgate::errors::Error;

/// Reads the export files of `vendor`, joined into tickets. Any file that cannot be read
/// as one of the vendor's export files (missing, larger than `max_file_bytes`, not UTF-8,
/// not JSON, of another shape) fails the whole import, so that nothing is written from
/// part of an export; records that cannot be used are left out with a warning.
pub(crate) fn read_exports(
    vendor: Vendor,
    paths: &[PathBuf],
    max_file_bytes: u64,
) -> Result<Parsed, Error> {
    match vendor {
        Vendor::Zendesk => read::read_all::<zendesk::Import>(paths, max_file_bytes),
        Vendor::Intercom => read::read_all::<intercom::Import>(paths, max_file_bytes),
        Vendor::Freshdesk => read::read_all::<freshdesk::Import>(paths, max_file_bytes),
        Vendor::HelpScout => read::read_all::<helpscout::Import>(paths, max_file_bytes),
    }
}

#[cfg(test)]
mod tests;
