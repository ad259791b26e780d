//! The loop shared by every vendor: each file read and handed to the vendor's importer,
//! its unknown keys reported, then the tickets built once all files are in.

use std::path::{Path, PathBuf};

use super::known_keys::{Keys, unknown_keys};
use super::{export_file, shape};
use crate::tickets::model::{Parsed, RecordWarning, Ticket, Vendor};
use evalgate::errors::Error;

/// One vendor's reader: files are added one by one, and the tickets are built once all
/// are in, since a ticket's comments or rating may be in a file after its own.
pub(super) trait Importer: Default {
    const VENDOR: Vendor;

    /// The keys of the top of its export files: the objects a file holds (or an array of
    /// them), and what they hold.
    const KNOWN: &'static Keys;

    /// Takes the records of one file. An error means the file is not one of this
    /// vendor's export files; a bad record is a warning.
    fn add_file(
        &mut self,
        path: &Path,
        bytes: &[u8],
        warnings: &mut Vec<RecordWarning>,
    ) -> Result<(), Error>;

    /// The tickets, in the order of the files and of the records in each.
    fn finish(self, warnings: &mut Vec<RecordWarning>) -> Vec<Ticket>;
}

pub(super) fn read_all<I: Importer>(
    paths: &[PathBuf],
    max_file_bytes: u64,
) -> Result<Parsed, Error> {
    if paths.is_empty() {
        return Err(Error::Usage(format!(
            "no export file given: list the JSON files of the {} export",
            I::VENDOR
        )));
    }
    let mut importer = I::default();
    let mut warnings = Vec::new();
    for path in paths {
        // One file's bytes at a time: memory holds the text kept, not the export.
        let bytes = export_file::read(path, max_file_bytes)?;
        importer.add_file(path, &bytes, &mut warnings)?;
        warn_unknown_keys::<I>(path, &bytes, &mut warnings);
    }
    let tickets = importer.finish(&mut warnings);
    Ok(Parsed { tickets, warnings })
}

/// A warning for each unknown key of the file (one per path but for array positions, with
/// how often it came back).
fn warn_unknown_keys<I: Importer>(path: &Path, bytes: &[u8], warnings: &mut Vec<RecordWarning>) {
    for key in unknown_keys(bytes, I::KNOWN) {
        let more = match key.more {
            0 => String::new(),
            more => format!(" ({more} more like it: {})", key.pattern),
        };
        warnings.push(RecordWarning {
            file: path.to_path_buf(),
            record: key.path,
            problem: format!(
                "unknown key of {} {}; its value is not imported{more}",
                shape::a_title(I::VENDOR),
                key.object
            ),
        });
    }
}
