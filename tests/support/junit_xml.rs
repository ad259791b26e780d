//! Reading a testcase of evalgate's `junit.xml` in either schema (facts as `<properties>`
//! and `file`/`line` attributes, or, under junit-10, as the head of its `system-out`), and
//! validating the file against the vendored junit-10 XSD.

#![allow(dead_code)]

use roxmltree::Node;

pub fn property<'a>(case: Node<'a, 'a>, name: &str) -> Option<&'a str> {
    case.children()
        .filter(|c| c.has_tag_name("properties"))
        .flat_map(|p| p.children())
        .find(|p| p.has_tag_name("property") && p.attribute("name") == Some(name))
        .and_then(|p| p.attribute("value"))
}

/// A testcase's fact: its property (`extended`), else its `name: value` line at the head
/// of `system-out` (junit-10, which allows no properties on a testcase).
pub fn fact(case: Node<'_, '_>, name: &str) -> Option<String> {
    if let Some(value) = property(case, name) {
        return Some(value.to_string());
    }
    let prefix = format!("{name}: ");
    text(child(case, "system-out"))
        .lines()
        .take_while(|l| !l.is_empty())
        .find_map(|l| l.strip_prefix(&prefix).map(str::to_string))
}

/// Every fact of a testcase (see [`fact`]).
pub fn facts(case: Node<'_, '_>) -> std::collections::BTreeMap<String, String> {
    let mut all: std::collections::BTreeMap<String, String> = case
        .descendants()
        .filter(|n| n.has_tag_name("property"))
        .filter_map(|p| Some((p.attribute("name")?.into(), p.attribute("value")?.into())))
        .collect();
    if all.is_empty() {
        all = text(child(case, "system-out"))
            .lines()
            .take_while(|l| !l.is_empty())
            .filter_map(|l| l.split_once(": "))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
    }
    all
}

/// A testcase's `file` and `line`: its attributes (`extended`), else the `at file:line`
/// heading its `system-out` (junit-10).
pub fn location(case: Node<'_, '_>) -> (Option<String>, Option<String>) {
    if let Some(file) = case.attribute("file") {
        return (
            Some(file.to_string()),
            case.attribute("line").map(str::to_string),
        );
    }
    let out = text(child(case, "system-out"));
    let Some(at) = out.lines().next().and_then(|l| l.strip_prefix("at ")) else {
        return (None, None);
    };
    match at.rsplit_once(':') {
        Some((file, line)) => (Some(file.to_string()), Some(line.to_string())),
        None => (Some(at.to_string()), None),
    }
}

/// The vendored junit-10 XSD (tests/fixtures/junit, with its licence).
pub fn xsd() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/junit/jenkins-xunit-junit-10.xsd")
}

/// `junit2html` (PyPI) rendering `file`, as people read JUnit: `None` when it is not
/// installed (outside CI; CI installs it and must not skip).
pub fn junit2html(file: &std::path::Path) -> Option<String> {
    let html = file.with_extension("html");
    let out = installed_tool(
        std::process::Command::new("junit2html")
            .arg(file)
            .arg(&html),
        "junit2html (PyPI)",
    )?;
    assert!(
        out.status.success(),
        "junit2html failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(std::fs::read_to_string(&html).unwrap())
}

/// `xmllint --schema` on `file`: `None` when xmllint is not installed (outside CI; CI
/// installs it and must not skip), else whether it validates, with xmllint's words.
pub fn xmllint(file: &std::path::Path) -> Option<(bool, String)> {
    let out = installed_tool(
        std::process::Command::new("xmllint")
            .arg("--noout")
            .arg("--schema")
            .arg(xsd())
            .arg(file),
        "xmllint (libxml2-utils)",
    )?;
    Some((
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    ))
}

/// What `command` printed, or `None` when its program is not installed — allowed outside
/// CI only (`.ci/run` installs `what`, and a check it skips there is a check that lies).
fn installed_tool(command: &mut std::process::Command, what: &str) -> Option<std::process::Output> {
    match command.output() {
        Ok(out) => Some(out),
        Err(e) => {
            assert!(
                std::env::var_os("CI").is_none(),
                "{what} is needed in CI: {e}"
            );
            eprintln!("{what} is not installed: its check is skipped here ({e})");
            None
        }
    }
}

pub fn child<'a>(case: Node<'a, 'a>, tag: &str) -> Option<Node<'a, 'a>> {
    case.children().find(|c| c.has_tag_name(tag))
}

pub fn text<'a>(node: Option<Node<'a, 'a>>) -> &'a str {
    node.and_then(|n| n.text()).unwrap_or_default()
}
