//! The suite's `junit:` section: which JUnit readers `junit.xml` is written for.

use serde::{Deserialize, Serialize};

/// Which JUnit readers the file is written for (`junit: {schema: ...}` in the suite file).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum JunitSchema {
    /// Valid against the Jenkins/xunit junit-10 XSD, which validating readers enforce: a
    /// testcase's location and facts are in its `system-out` (and the location at the head
    /// of its failure's text), the run's facts in testsuite `<properties>`.
    #[default]
    #[serde(rename = "junit-10")]
    Junit10,
    /// Also `file`/`line` attributes and `<properties>` on every testcase, which GitLab,
    /// Jenkins' JUnit plugin and file/line annotators read but the junit-10 XSD rejects.
    #[serde(rename = "extended")]
    Extended,
}
