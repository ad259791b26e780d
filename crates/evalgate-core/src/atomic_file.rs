//! Writing a file so that no reader ever sees half of it: write a temporary file beside
//! it, then rename it over the target. Reports, the run policy and a stamped catalog are
//! all written this way.

use std::path::Path;

use crate::errors::Error;

/// Writes `bytes` to `path` with write-then-rename. The temporary file's name carries the
/// process id, so concurrent writers (one nextest process per case) never share one.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let tmp = path.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
    std::fs::write(&tmp, bytes).map_err(|e| Error::write(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| Error::write(path, e))
}
