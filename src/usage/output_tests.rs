//! The four outputs of `evalgate cost` (JSON, CSV, SVG, Markdown) and its terminal lines:
//! written, well formed, and with hostile ids kept inert in every one.

use std::collections::BTreeMap;

use evalgate::signals::Price;

use super::outputs::{csv, csv_field};
use super::tests::{File, call, customers, file, run};
use super::*;

/// Ids an attacker would put in a usage file: markup, table and CSV syntax, line breaks
/// with GitHub workflow commands, a spreadsheet formula.
const HOSTILE: [&str; 6] = [
    "<script>alert(1)</script>",
    "a|b|c",
    "say \"hi\", then",
    "line\nbreak\r\n::error::pwned",
    "::error file=x::injected",
    "=HYPERLINK(\"http://x\")",
];

fn hostile_report() -> (File, CostConcentration) {
    let lines: Vec<String> = (HOSTILE.iter().enumerate())
        .map(|(i, id)| {
            serde_json::json!({
                "customer": id,
                "model": "big",
                "input_tokens": (i + 1) * 1000,
                "revenue_usd": 0.001,
            })
            .to_string()
        })
        .chain([serde_json::json!({"customer": "x", "model": "<img src=x>|::warning::", "input_tokens": 1}).to_string()])
        .collect();
    let f = file(&lines.join("\n"));
    let report = run(&f.path, GroupBy::Customer, 2, None);
    (f, report)
}

#[test]
fn csv_fields_are_quoted_and_kept_from_running_as_formulas() {
    assert_eq!(csv_field("plain"), "plain");
    assert_eq!(csv_field("a,b"), "\"a,b\"");
    assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
    assert_eq!(csv_field("two\nlines"), "\"two\nlines\"");
    assert_eq!(csv_field("=1+1"), "'=1+1");
    assert_eq!(csv_field("@SUM(A1)"), "'@SUM(A1)");
    assert_eq!(csv_field("-42"), "-42");
    let (_f, report) = hostile_report();
    let text = csv(&report);
    // Read back with the RFC 4180 rules: every id comes back whole, in its own field.
    let mut ids = Vec::new();
    let mut rest = text.split_once('\n').unwrap().1;
    while !rest.is_empty() {
        let (_rank, after) = rest.split_once(',').unwrap();
        let (id, after) = if let Some(quoted) = after.strip_prefix('"') {
            let mut end = 0;
            let bytes = quoted.as_bytes();
            loop {
                if bytes[end] == b'"' && bytes.get(end + 1) == Some(&b'"') {
                    end += 2;
                } else if bytes[end] == b'"' {
                    break;
                } else {
                    end += 1;
                }
            }
            (quoted[..end].replace("\"\"", "\""), &quoted[end + 2..])
        } else {
            let (id, after) = after.split_once(',').unwrap();
            (id.to_string(), after)
        };
        assert_eq!(after.split_once('\n').unwrap().0.split(',').count(), 6);
        ids.push(id);
        rest = after.split_once('\n').unwrap().1;
    }
    let mut expected: Vec<String> = HOSTILE.iter().map(|s| s.to_string()).collect();
    expected[5] = format!("'{}", HOSTILE[5]);
    ids.sort();
    expected.sort();
    assert_eq!(ids, expected);
}

#[test]
fn the_svg_is_well_formed_xml_whatever_the_file_name() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("<evil> & \"co\" \u{1b}[31m.jsonl");
    std::fs::write(&path, customers(300)).unwrap();
    let report = run(&path, GroupBy::Customer, 2, None);
    let svg = super::svg::render(&report);
    let doc = roxmltree::Document::parse(&svg).unwrap_or_else(|e| panic!("{e}\n{svg}"));
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    let texts: Vec<&str> = (doc.descendants())
        .filter(|n| n.has_tag_name("text"))
        .filter_map(|n| n.text())
        .collect();
    assert!(
        texts.iter().any(|t| t.contains("<evil> & \"co\"")),
        "{texts:?}"
    );
    assert!(texts.iter().any(|t| t.starts_with("Gini 0.")), "{texts:?}");
    assert!(
        texts
            .iter()
            .any(|t| t.starts_with("costliest 1 % (3 customers): ")),
        "{texts:?}"
    );
    let polyline = doc
        .descendants()
        .find(|n| n.has_tag_name("polyline"))
        .unwrap();
    let points = polyline.attribute("points").unwrap().split(' ').count();
    assert_eq!(points, report.lorenz.len());
    // And with nothing to draw (one customer of a free model), still a document.
    let free = BTreeMap::from([(
        "free".to_string(),
        Price {
            input: 0.0,
            output: 0.0,
        },
    )]);
    let f = file(&call("a", "free", 10, 10));
    let report = analyse(&f.path, GroupBy::Customer, &free).unwrap();
    assert_eq!(report.gini, None);
    assert!(report.lorenz.is_empty());
    roxmltree::Document::parse(&super::svg::render(&report)).unwrap();
}

#[test]
fn hostile_ids_stay_inert_in_markdown_and_the_terminal() {
    let (_f, report) = hostile_report();
    let md = super::markdown::render(&report);
    assert!(!md.contains("<script>") && !md.contains("<img"), "{md}");
    assert!(md.contains("&lt;script&gt;"), "{md}");
    for line in md
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("|---"))
    {
        // Every row of a table has its columns: an id's `|` is escaped.
        let cells = line.matches(" | ").count() + 1;
        let unescaped = line.replace("\\|", "");
        assert_eq!(unescaped.matches(" | ").count() + 1, cells, "{line}");
    }
    // In the costliest and the losses tables.
    let rows: Vec<&str> = md.lines().filter(|l| l.contains("script")).collect();
    assert_eq!(rows.len(), 2, "{md}");
    assert!(!md.lines().any(|l| l.starts_with("::")), "{md}");
    assert!(md.contains("```mermaid\nxychart-beta\n"), "{md}");
    let text = terminal(&report);
    assert!(text.lines().all(|l| l.starts_with("evalgate: ")), "{text}");
    assert!(text.contains("line\\nbreak\\r\\n::error::pwned"), "{text}");
    assert!(text.contains("<img src=x>|::warning::"), "{text}");
}

#[test]
fn the_four_files_are_written() {
    let (f, report) = hostile_report();
    let out = f._dir.path().join("out");
    let paths = write_outputs(&report, &out).unwrap();
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&paths.json).unwrap()).unwrap();
    assert_eq!(json["groups"], 6);
    assert_eq!(json["by"], "customer");
    assert_eq!(json["heavy_tail"].as_array().unwrap().len(), 1);
    assert_eq!(json["heavy_tail"][0], HOSTILE[5]);
    assert!(json.get("all").is_none());
    assert_eq!(json["warnings"][0]["kind"], "unpriced_model");
    assert_eq!(
        json["top_shares"][1]["unavailable"],
        "fewer than 1000 customers: the top 0.1 % is not even one"
    );
    let csv = std::fs::read_to_string(&paths.csv).unwrap();
    assert!(csv.starts_with(
        "rank,customer,calls,input_tokens,output_tokens,cost_usd,revenue_usd,share\n"
    ));
    roxmltree::Document::parse(&std::fs::read_to_string(&paths.svg).unwrap()).unwrap();
    let md = std::fs::read_to_string(&paths.summary).unwrap();
    assert!(md.starts_with("### Cost concentration by customer"));
    let names: Vec<String> = (std::fs::read_dir(&out).unwrap())
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 4, "no temporary file left: {names:?}");
}
