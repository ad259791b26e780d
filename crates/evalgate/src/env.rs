//! Reading the environment.

use crate::errors::Error;

/// The value of `name`, `None` when unset or empty; not UTF-8 is a usage error.
pub(crate) fn non_empty_env(name: &str) -> Result<Option<String>, Error> {
    match std::env::var(name) {
        Ok(v) if v.is_empty() => Ok(None),
        Ok(v) => Ok(Some(v)),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => {
            Err(Error::Usage(format!("{name} is not valid UTF-8")))
        }
    }
}
