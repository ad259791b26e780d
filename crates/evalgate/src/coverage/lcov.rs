//! Planner coverage as an LCOV tracefile over the catalog YAML, so `genhtml` and coverage
//! services render it like code coverage: each decision point is a function (`FN`) on its
//! line, each branch a branch record (`BRDA`) and a line (`DA`) on its own line, and the
//! hit counts are samples.

use std::fmt::Write;

use super::compute::Coverage;

/// The LCOV text, or `None` when there is no catalog to point at.
pub fn lcov(coverage: &Coverage, test_name: &str) -> Option<String> {
    let file = coverage.catalog.as_ref()?;
    let mut out = String::new();
    let _ = writeln!(out, "TN:{}", test_name_of(test_name));
    let _ = writeln!(out, "SF:{file}");
    let mut lines: Vec<(u32, u64)> = Vec::new();
    for point in &coverage.points {
        let line = point.line.unwrap_or(1);
        let _ = writeln!(out, "FN:{line},{}", lcov_name(&point.name));
    }
    for point in &coverage.points {
        let _ = writeln!(out, "FNDA:{},{}", point.samples, lcov_name(&point.name));
        lines.push((point.line.unwrap_or(1), point.samples));
    }
    let _ = writeln!(out, "FNF:{}", coverage.points.len());
    let _ = writeln!(
        out,
        "FNH:{}",
        coverage.points.iter().filter(|p| p.covered > 0).count()
    );
    let mut found = 0;
    let mut hit = 0;
    for (block, point) in coverage.points.iter().enumerate() {
        for (index, branch) in point.branches.iter().enumerate() {
            let line = branch.line.unwrap_or(1);
            let _ = writeln!(out, "BRDA:{line},{block},{index},{}", branch.samples);
            found += 1;
            hit += usize::from(branch.samples > 0);
            lines.push((line, branch.samples));
        }
    }
    let _ = writeln!(out, "BRF:{found}");
    let _ = writeln!(out, "BRH:{hit}");
    lines.sort_unstable();
    lines.dedup_by_key(|(line, _)| *line);
    for (line, hits) in &lines {
        let _ = writeln!(out, "DA:{line},{hits}");
    }
    let _ = writeln!(out, "LF:{}", lines.len());
    let _ = writeln!(out, "LH:{}", lines.iter().filter(|(_, h)| *h > 0).count());
    out.push_str("end_of_record\n");
    Some(out)
}

/// LCOV names are one token: no commas (field separator) and no line breaks.
/// A `TN:` name as lcov documents them: letters, digits and `_` only (`demo-suite` →
/// `demo_suite`); lcov 2's tools warn about anything else.
fn test_name_of(name: &str) -> String {
    let name: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if name.is_empty() {
        "evals".into()
    } else {
        name
    }
}

fn lcov_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c == ',' || c.is_whitespace() || c.is_control() {
                '_'
            } else {
                c
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::coverage::{BranchCatalog, CoverageBuilder};
    use crate::observation::Decision;
    use std::path::Path;

    #[test]
    fn branches_map_to_their_catalog_lines_with_sample_counts() {
        let yaml = "points:\n  route:\n    branches:\n      refund: {risk: high}\n      handoff: {}\n  tool:\n    branches:\n      lookup_order: {}\n";
        let path = Path::new("evals/branches.yaml");
        let catalog = BranchCatalog::from_file(
            crate::yaml::parse(path, yaml).unwrap(),
            path,
            yaml,
            Path::new("."),
        )
        .unwrap();
        let mut b = CoverageBuilder::new(Some(&catalog));
        for _ in 0..3 {
            b.sample("c", &[Decision::new("route", "refund")]);
        }
        let text = lcov(&b.finish(), "demo suite").unwrap();
        assert_eq!(
            text,
            "TN:demo_suite\nSF:evals/branches.yaml\nFN:2,route\nFN:6,tool\n\
             FNDA:3,route\nFNDA:0,tool\nFNF:2\nFNH:1\n\
             BRDA:4,0,0,3\nBRDA:5,0,1,0\nBRDA:8,1,0,0\nBRF:3\nBRH:1\n\
             DA:2,3\nDA:4,3\nDA:5,0\nDA:6,0\nDA:8,0\nLF:5\nLH:2\nend_of_record\n"
        );
        assert_eq!(lcov(&CoverageBuilder::new(None).finish(), "x"), None);
    }

    #[test]
    fn test_names_are_letters_digits_and_underscores() {
        assert_eq!(test_name_of("demo-suite"), "demo_suite");
        assert_eq!(test_name_of(".tmp-x.y z"), "_tmp_x_y_z");
        assert_eq!(test_name_of("café"), "caf_");
        assert_eq!(test_name_of(""), "evals");
    }
}
