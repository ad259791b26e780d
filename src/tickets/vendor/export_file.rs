//! Reading one export file: the problems that make the whole file unusable (missing, too
//! large, not UTF-8, not JSON, not of this vendor's shape) are errors, since an import
//! that silently left out a file would make cases from part of the tickets.

use std::io::Read as _;
use std::path::Path;

use serde::de::DeserializeOwned;

use super::shape;
use crate::tickets::model::Vendor;
use evalgate::errors::Error;

const BYTES_PER_MIB: f64 = 1024.0 * 1024.0;

/// The bytes of `path`, checked to be UTF-8, without a byte-order mark.
pub(crate) fn read(path: &Path, max_file_bytes: u64) -> Result<Vec<u8>, Error> {
    let shown = path.display();
    let file = std::fs::File::open(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Error::Usage(format!("{shown}: no such file")),
        _ => Error::Usage(format!("{shown}: cannot open the export file: {e}")),
    })?;
    let metadata = file
        .metadata()
        .map_err(|e| Error::Usage(format!("{shown}: cannot read the export file: {e}")))?;
    if metadata.is_dir() {
        return Err(Error::Usage(format!(
            "{shown}: is a folder; give the export's JSON files themselves"
        )));
    }
    if metadata.len() > max_file_bytes {
        return Err(too_large(path, metadata.len(), max_file_bytes));
    }
    // The size can change between the check and the read (or not be known, for a pipe):
    // reading one byte past the limit tells.
    let mut bytes = Vec::with_capacity(usize::try_from(metadata.len()).unwrap_or(0));
    file.take(max_file_bytes.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| Error::Usage(format!("{shown}: cannot read the export file: {e}")))?;
    if bytes.len() as u64 > max_file_bytes {
        return Err(too_large(path, bytes.len() as u64, max_file_bytes));
    }
    check_utf8(path, &bytes)?;
    if bytes.starts_with(b"\xEF\xBB\xBF") {
        bytes.drain(..3);
    }
    Ok(bytes)
}

fn too_large(path: &Path, size: u64, limit: u64) -> Error {
    Error::Usage(format!(
        "{}: the file is {:.1} MiB ({size} bytes), more than the limit of {:.1} MiB for one \
         export file; split the export into smaller files or raise the limit with \
         --max-file-mb",
        path.display(),
        size as f64 / BYTES_PER_MIB,
        limit as f64 / BYTES_PER_MIB,
    ))
}

fn check_utf8(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let shown = path.display();
    if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") {
        return Err(Error::Usage(format!(
            "{shown}: the file is UTF-16, not UTF-8; save or convert it as UTF-8 \
             (e.g. `iconv -f UTF-16 -t UTF-8`)"
        )));
    }
    let Err(e) = std::str::from_utf8(bytes) else {
        return Ok(());
    };
    let offset = e.valid_up_to();
    let before = &bytes[..offset];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |newline| newline + 1);
    Err(Error::Usage(format!(
        "{shown}:{line}: the file is not UTF-8: byte 0x{:02X} at offset {offset} (line {line}, \
         byte {} of the line) is not valid UTF-8; export it as UTF-8 or convert it \
         (e.g. `iconv -f WINDOWS-1252 -t UTF-8`)",
        bytes[offset],
        offset - line_start + 1,
    )))
}

/// The file read as `T`. A syntax error says where; a value of the wrong type says where
/// too, unless the file looks like another vendor's export, which is then what is said.
pub(crate) fn parse<T: DeserializeOwned>(
    path: &Path,
    bytes: &[u8],
    vendor: Vendor,
) -> Result<T, Error> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(Error::Usage(format!(
            "{}: the file is empty; expected {} export",
            path.display(),
            shape::a_title(vendor)
        )));
    }
    serde_json::from_slice(bytes).map_err(|e| json_error(path, bytes, vendor, &e))
}

fn json_error(path: &Path, bytes: &[u8], vendor: Vendor, e: &serde_json::Error) -> Error {
    let (line, column) = (e.line(), e.column());
    let full = e.to_string();
    let message = full
        .strip_suffix(&format!(" at line {line} column {column}"))
        .unwrap_or(&full);
    let shown = path.display();
    match e.classify() {
        serde_json::error::Category::Data => {
            if let Some(wrong) = shape::foreign_shape(path, bytes, vendor) {
                return wrong;
            }
            Error::Usage(format!(
                "{shown}:{line}:{column}: unexpected value for {} export: {message}",
                shape::a_title(vendor)
            ))
        }
        _ => {
            let hint = if message.starts_with("trailing characters") {
                "; one JSON document per file is expected (JSON Lines is not an export shape)"
            } else {
                ""
            };
            Error::Usage(format!(
                "{shown}:{line}:{column}: not JSON: {message}{hint}"
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usage(result: Result<Vec<u8>, Error>) -> String {
        match result {
            Err(Error::Usage(message)) => message,
            other => panic!("expected a usage error, got {other:?}"),
        }
    }

    #[test]
    fn bad_utf8_says_offset_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("latin1.json");
        std::fs::write(&path, b"{\n  \"subject\": \"caf\xE9\"\n}").unwrap();
        let message = usage(read(&path, 1 << 20));
        assert!(
            message.starts_with(&format!("{}:2:", path.display())),
            "{message}"
        );
        assert!(
            message.contains("byte 0xE9 at offset 19 (line 2, byte 18"),
            "{message}"
        );
    }

    #[test]
    fn a_byte_order_mark_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bom.json");
        std::fs::write(&path, b"\xEF\xBB\xBF[]").unwrap();
        assert_eq!(read(&path, 1 << 20).unwrap(), b"[]");
    }

    #[test]
    fn size_limit_and_missing_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.json");
        std::fs::write(&path, vec![b' '; 3 * 1024 * 1024]).unwrap();
        let message = usage(read(&path, 1024 * 1024));
        assert!(message.contains("3.0 MiB (3145728 bytes)"), "{message}");
        assert!(message.contains("limit of 1.0 MiB"), "{message}");
        assert!(message.contains("--max-file-mb"), "{message}");
        let message = usage(read(&dir.path().join("none.json"), 10));
        assert!(message.ends_with("none.json: no such file"), "{message}");
        let message = usage(read(dir.path(), 10));
        assert!(message.contains("is a folder"), "{message}");
    }
}
