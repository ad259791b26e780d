//! The analysis end to end on small files: warnings, cut-offs, losses, determinism
//! whatever the chunking, and the escaping of hostile ids in every output.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::analyse::{Streaming, analyse_with};
use super::outputs::csv;
use super::*;
use evalgate::errors::Error;
use evalgate::signals::Price;

pub(super) fn prices() -> BTreeMap<String, Price> {
    BTreeMap::from([
        (
            "big".to_string(),
            Price {
                input: 10.0,
                output: 30.0,
            },
        ),
        (
            "small".to_string(),
            Price {
                input: 0.15,
                output: 0.6,
            },
        ),
    ])
}

pub(super) struct File {
    pub(super) _dir: tempfile::TempDir,
    pub(super) path: PathBuf,
}

pub(super) fn file(text: &str) -> File {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("usage.jsonl");
    std::fs::write(&path, text).unwrap();
    File { _dir: dir, path }
}

pub(super) fn run(
    path: &Path,
    by: GroupBy,
    workers: usize,
    lines: Option<usize>,
) -> CostConcentration {
    analyse_with(
        path,
        by,
        &prices(),
        Streaming {
            workers,
            lines_per_batch: lines,
        },
    )
    .unwrap()
}

pub(super) fn call(customer: &str, model: &str, input: u64, output: u64) -> String {
    format!(
        r#"{{"customer":"{customer}","model":"{model}","input_tokens":{input},"output_tokens":{output}}}"#
    )
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

#[test]
fn costs_are_tokens_at_the_price_per_million() {
    let f = file(&[
        call("acme", "big", 1_000_000, 0),
        call("acme", "small", 0, 1_000_000),
        r#"{"customer":7,"model":"big","prompt_tokens":500000,"completion_tokens":100000,"revenue_usd":2.5}"#.into(),
    ]
    .join("\n"));
    let report = analyse(&f.path, GroupBy::Customer, &prices()).unwrap();
    assert_eq!(report.groups, 2);
    assert_eq!(report.valid_lines, 3);
    let acme = report.all.iter().find(|g| g.id == "acme").unwrap();
    assert!(close(acme.cost_usd, 10.6), "{}", acme.cost_usd);
    assert_eq!(
        (acme.input_tokens, acme.output_tokens, acme.calls),
        (1_000_000, 1_000_000, 2)
    );
    assert_eq!(acme.revenue_usd, None);
    let seven = report.all.iter().find(|g| g.id == "7").unwrap();
    assert!(close(seven.cost_usd, 8.0), "{}", seven.cost_usd);
    assert_eq!(seven.revenue_usd, Some(2.5));
    assert!(close(report.total_cost_usd, 18.6));
    assert_eq!(report.total_revenue_usd, Some(2.5));
    assert_eq!(report.all[0].id, "acme");
    assert_eq!(report.all[0].rank, 1);
    assert!(close(report.all[0].share, 10.6 / 18.6));
}

#[test]
fn every_bad_record_kind_is_a_counted_warning_with_its_lines() {
    let lines = [
        call("a", "big", 10, 1),                                        // 1 ok
        "{not json".into(),                                             // 2
        "".into(),                                                      // 3 blank
        r#"{"model":"big","input_tokens":1}"#.into(),                   // 4
        r#"{"customer":"b","input_tokens":1}"#.into(),                  // 5
        r#"{"customer":"b","model":"big","input_tokens":-3}"#.into(),   // 6
        r#"{"customer":"b","model":"big","output_tokens":2.5}"#.into(), // 7
        r#"{"customer":"b","model":"big"}"#.into(),                     // 8
        r#"{"customer":"b","model":"big","input_tokens":1,"revenue_usd":-1}"#.into(), // 9
        call("c", "mystery", 100, 20),                                  // 10
        call("d", "mystery", 5, 1),                                     // 11
        "[1, 2]".into(),                                                // 12
        "   ".into(),                                                   // 13 blank
        call("a", "small", 1, 1),                                       // 14 ok
    ];
    let f = file(&lines.join("\n"));
    let report = run(&f.path, GroupBy::Customer, 2, Some(3));
    assert_eq!(report.lines, 12);
    assert_eq!(report.blank_lines, 2);
    assert_eq!(report.valid_lines, 2);
    assert_eq!(report.skipped_lines, 10);
    let path = f.path.display().to_string();
    let got: Vec<(WarningKind, u64, Vec<String>)> = (report.warnings.iter())
        .map(|w| {
            let at = w.examples.iter().map(|e| e.at.replace(&path, "")).collect();
            (w.kind, w.lines, at)
        })
        .collect();
    use WarningKind::*;
    let lines = |l: &[&str]| l.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(
        got,
        [
            (MalformedJson, 2, lines(&[":2", ":12"])),
            (MissingCustomer, 1, lines(&[":4"])),
            (MissingModel, 1, lines(&[":5"])),
            (BadTokens, 2, lines(&[":6", ":7"])),
            (NoTokens, 1, lines(&[":8"])),
            (BadRevenue, 1, lines(&[":9"])),
            (UnpricedModel, 2, lines(&[":10", ":11"])),
        ]
    );
    assert_eq!(report.unpriced_models.len(), 1);
    let mystery = &report.unpriced_models[0];
    assert_eq!(
        (
            mystery.model.as_str(),
            mystery.lines,
            mystery.input_tokens,
            mystery.output_tokens
        ),
        ("mystery", 2, 105, 21)
    );
    // Unpriced lines are left out of the groups altogether.
    assert_eq!(report.groups, 1);
    let text = terminal(&report);
    assert!(text.contains("10 of 12 lines left out"), "{text}");
    assert!(
        text.contains("mystery (2 lines, 105 tokens in, 21 out)"),
        "{text}"
    );
}

#[test]
fn only_the_first_few_examples_of_a_kind_are_kept() {
    let text: String = (0..50).map(|_| "oops\n").collect();
    let f = file(&format!("{text}{}\n", call("a", "big", 1, 1)));
    let report = run(&f.path, GroupBy::Customer, 3, Some(4));
    let malformed = &report.warnings[0];
    assert_eq!(malformed.lines, 50);
    let at: Vec<String> = malformed.examples.iter().map(|e| e.at.clone()).collect();
    let path = f.path.display();
    assert_eq!(
        at,
        (1..=5).map(|l| format!("{path}:{l}")).collect::<Vec<_>>()
    );
}

#[test]
fn a_file_without_a_priced_call_is_an_error_saying_what_the_lines_were() {
    let none = analyse(
        Path::new("/no/such/usage.jsonl"),
        GroupBy::Customer,
        &prices(),
    );
    assert!(
        matches!(&none, Err(Error::Usage(m)) if m.contains("cannot read the usage file /no/such/usage.jsonl")),
        "{none:?}"
    );
    let empty = file("\n  \n");
    let e = analyse(&empty.path, GroupBy::Customer, &prices()).unwrap_err();
    assert!(
        matches!(&e, Error::Usage(m) if m.contains("has no lines")),
        "{e}"
    );
    let bad = file(&format!("{{\n{}\n", call("a", "mystery", 1, 1)));
    let e = analyse(&bad.path, GroupBy::Customer, &prices()).unwrap_err();
    let Error::Usage(message) = &e else {
        panic!("{e:?}")
    };
    assert!(message.contains("2 lines read"), "{message}");
    assert!(message.contains("1 with malformed JSON"), "{message}");
    assert!(message.contains("1 with an unpriced model"), "{message}");
    assert!(
        message.contains("usage.jsonl:1: EOF while parsing"),
        "{message}"
    );
    assert_eq!(e.exit_code(), evalgate::exit::CONFIG);
}

/// `n` customers `c0000`…: customer i spends (i + 1)² tokens of `big`.
pub(super) fn customers(n: usize) -> String {
    (0..n)
        .map(|i| call(&format!("c{i:04}"), "big", ((i + 1) * (i + 1)) as u64, 0) + "\n")
        .collect()
}

#[test]
fn top_shares_say_when_there_are_too_few_customers() {
    let f = file(&customers(150));
    let report = run(&f.path, GroupBy::Customer, 2, None);
    let [one, tenth, hundredth] = &report.top_shares[..] else {
        panic!("three cut-offs")
    };
    assert_eq!((one.percent, one.groups), (1.0, 1));
    let top_cost = 150.0 * 150.0 * 10.0 / 1e6;
    assert!(close(one.cost_usd.unwrap(), top_cost));
    assert!(close(one.share.unwrap(), top_cost / report.total_cost_usd));
    assert_eq!(one.unavailable, None);
    assert_eq!((tenth.groups, tenth.cost_usd, tenth.share), (0, None, None));
    assert_eq!(
        tenth.unavailable.as_deref(),
        Some("fewer than 1000 customers: the top 0.1 % is not even one")
    );
    assert_eq!(
        hundredth.unavailable.as_deref(),
        Some("fewer than 10000 customers: the top 0.01 % is not even one")
    );
    // The heavy tail is the top 1 %, at least one.
    assert_eq!(report.heavy_tail, ["c0149"]);
    let summary = super::markdown::render(&report);
    assert!(
        summary.contains("| 0.1 % | fewer than 1000 customers"),
        "{summary}"
    );
    // The cut-off is a point of the curve.
    assert!(report.lorenz.iter().any(|p| p.groups == 149.0 / 150.0));
}

#[test]
fn cut_offs_count_floor_of_n_times_p() {
    let f = file(&customers(2_345));
    let report = run(&f.path, GroupBy::Customer, 2, None);
    let groups: Vec<u64> = report.top_shares.iter().map(|t| t.groups).collect();
    assert_eq!(groups, [23, 2, 0]);
    assert_eq!(report.heavy_tail.len(), 23);
    assert_eq!(report.heavy_tail[0], "c2344");
    assert!(report.lorenz.len() <= 256);
    for k in [23, 2] {
        let x = (2_345 - k) as f64 / 2_345.0;
        let point = report.lorenz.iter().find(|p| p.groups == x).unwrap();
        let share = report.top_shares.iter().find(|t| t.groups == k).unwrap();
        assert!(close(1.0 - point.cost, share.share.unwrap()));
    }
    let gini = report.gini.unwrap();
    // Costs growing as i²: the Gini of u² on [0, 1] is 2 / (2 + 2) = 0.5.
    assert!((gini - 0.5).abs() < 0.001, "{gini}");
    assert_eq!(report.top.len(), TOP_LISTED);
}

#[test]
fn customers_costing_more_than_their_revenue_are_listed_by_loss() {
    let line = |customer: &str, input: u64, revenue: Option<f64>| {
        let revenue = revenue.map_or(String::new(), |r| format!(r#","revenue_usd":{r}"#));
        format!(r#"{{"customer":"{customer}","model":"big","input_tokens":{input}{revenue}}}"#)
    };
    // At $10 per million input tokens: 100,000 tokens cost $1.
    let f = file(
        &[
            line("loses-a-lot", 500_000, Some(1.0)), // $5 cost, $1 revenue
            line("loses-a-lot", 0, Some(0.5)),       // another call: revenue $1.5 in all
            line("loses-a-little", 200_000, Some(1.75)), // $2 vs $1.75
            line("profitable", 100_000, Some(3.0)),
            line("no-revenue", 900_000, None),
            line("even", 100_000, Some(1.0)),
        ]
        .join("\n"),
    );
    let report = run(&f.path, GroupBy::Customer, 2, Some(1));
    let losses = &report.losses;
    assert_eq!(losses.groups, 2);
    assert!(close(losses.total_loss_usd, 3.5 + 0.25));
    let ids: Vec<&str> = losses.largest.iter().map(|l| l.id.as_str()).collect();
    assert_eq!(ids, ["loses-a-lot", "loses-a-little"]);
    let first = &losses.largest[0];
    assert!(close(first.cost_usd, 5.0) && close(first.revenue_usd, 1.5));
    assert!(close(first.loss_usd, 3.5));
    assert_eq!(report.total_revenue_usd, Some(1.0 + 0.5 + 1.75 + 3.0 + 1.0));
    let summary = super::markdown::render(&report);
    assert!(
        summary.contains("**2 customers cost more than their revenue**"),
        "{summary}"
    );
    assert!(terminal(&report).contains("WARNING 2 customers cost more than their revenue"));
}

#[test]
fn customers_without_revenue_are_listed_as_revenue_unknown_by_cost() {
    let line = |customer: &str, input: u64, revenue: Option<f64>| {
        let revenue = revenue.map_or(String::new(), |r| format!(r#","revenue_usd":{r}"#));
        format!(r#"{{"customer":"{customer}","model":"big","input_tokens":{input}{revenue}}}"#)
    };
    // At $10 per million input tokens: 100,000 tokens cost $1. The costliest customer
    // reported no revenue; nor did a cheaper one and one whose calls cost nothing.
    let f = file(
        &[
            line("no-revenue", 900_000, None),
            line("loses", 300_000, Some(1.0)),
            line("quiet", 50_000, None),
            line("profitable", 100_000, Some(3.0)),
            line("free", 0, None),
        ]
        .join("\n"),
    );
    let report = run(&f.path, GroupBy::Customer, 2, Some(1));
    let json = serde_json::to_value(&report).unwrap();
    let unknown = &json["losses"]["revenue_unknown"];
    assert_eq!(unknown["groups"], 2, "{json:#}");
    assert!(close(unknown["cost_usd"].as_f64().unwrap(), 9.5));
    let costliest: Vec<(&str, f64)> = (unknown["costliest"].as_array().unwrap().iter())
        .map(|g| (g["id"].as_str().unwrap(), g["cost_usd"].as_f64().unwrap()))
        .collect();
    assert_eq!(costliest, [("no-revenue", 9.0), ("quiet", 0.5)]);
    // The customers whose revenue is known and short are still the losses.
    assert_eq!(json["losses"]["groups"], 1);

    let text = terminal(&report);
    assert!(
        text.lines().any(|line| line
            == "evalgate: WARNING 2 customers reported no revenue, so whether they cost more \
                than they bring is unknown ($9.50 of cost): no-revenue $9.00, quiet $0.500"),
        "{text}"
    );
    let summary = super::markdown::render(&report);
    assert!(
        summary.contains("**2 customers reported no revenue** ($9.50 of cost)"),
        "{summary}"
    );
    assert!(summary.contains("| no\\-revenue | $9.00 |"), "{summary}");
}

#[test]
fn a_file_without_any_revenue_says_losses_are_unknown() {
    let f = file(
        &[
            call("acme", "big", 100_000, 0),
            call("initech", "small", 10, 0),
        ]
        .join("\n"),
    );
    let report = run(&f.path, GroupBy::Customer, 1, None);
    assert_eq!(report.total_revenue_usd, None);
    let unknown = &report.losses.revenue_unknown;
    assert_eq!(unknown.groups, 2);
    let ids: Vec<&str> = unknown.costliest.iter().map(|g| g.id.as_str()).collect();
    assert_eq!(ids, ["acme", "initech"]);
    let text = terminal(&report);
    assert!(
        text.contains(
            "evalgate: no line reported `revenue_usd`, so whether any of the 2 customers costs \
             more than it brings is unknown"
        ),
        "{text}"
    );
    let summary = super::markdown::render(&report);
    assert!(
        summary.contains("No line reported `revenue_usd`: whether any customer costs more"),
        "{summary}"
    );
}

/// A mixed file: 3,000 lines over 400 customers (a few heavy), three models, revenue on
/// some lines, and bad lines of every kind scattered through.
fn mixed() -> String {
    let mut text = String::new();
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for i in 0..3_000u64 {
        let r = next();
        let customer = if r % 5 == 0 { r % 7 } else { r % 400 };
        let model = ["big", "small", "small", "mystery"][(next() % 4) as usize];
        let revenue = if i % 3 == 0 {
            format!(r#","revenue_usd":{}.{:03}"#, next() % 4, next() % 1000)
        } else {
            String::new()
        };
        let line = match i % 97 {
            13 => "{\"customer\": \"x\"".to_string(),
            14 => r#"{"customer":"x","model":"big","input_tokens":-1}"#.to_string(),
            15 => r#"{"model":"big","input_tokens":1}"#.to_string(),
            16 => String::new(),
            _ => format!(
                r#"{{"customer":"cust-{customer}","model":"{model}","input_tokens":{},"output_tokens":{}{revenue}}}"#,
                next() % 100_000,
                next() % 7_919
            ),
        };
        let _ = writeln!(text, "{line}");
    }
    text
}

#[test]
fn results_are_the_same_whatever_the_chunking_and_the_threads() {
    let f = file(&mixed());
    for by in [GroupBy::Customer, GroupBy::Model] {
        let reference = run(&f.path, by, 1, None);
        assert!(reference.valid_lines > 1_000);
        assert!(!reference.warnings.is_empty());
        let reference_csv = csv(&reference);
        let reference_json = serde_json::to_string(&reference).unwrap();
        for workers in [1, 2, 3, 8] {
            for lines in [1, 7, 64, 1024] {
                let report = run(&f.path, by, workers, Some(lines));
                assert!(
                    report == reference,
                    "{by:?}: {workers} workers, {lines} lines a batch"
                );
                assert_eq!(csv(&report), reference_csv);
                assert_eq!(serde_json::to_string(&report).unwrap(), reference_json);
            }
        }
    }
}

#[test]
fn group_by_reads_as_written_on_the_command_line() {
    assert_eq!("customer".parse(), Ok(GroupBy::Customer));
    assert_eq!("model".parse(), Ok(GroupBy::Model));
    let e = "tenant".parse::<GroupBy>().unwrap_err();
    assert!(
        e.contains("`tenant`") && e.contains("`customer` or `model`"),
        "{e}"
    );
}

#[test]
fn by_model_groups_the_calls_per_model() {
    let f = file(&mixed());
    let by_model = run(&f.path, GroupBy::Model, 2, None);
    let by_customer = run(&f.path, GroupBy::Customer, 2, None);
    let ids: Vec<&str> = by_model.all.iter().map(|g| g.id.as_str()).collect();
    assert_eq!(ids, ["big", "small"]);
    assert_eq!(by_model.valid_lines, by_customer.valid_lines);
    assert!(close(by_model.total_cost_usd, by_customer.total_cost_usd));
    assert!(close(
        by_model.total_revenue_usd.unwrap(),
        by_customer.total_revenue_usd.unwrap()
    ));
    assert!(csv(&by_model).starts_with("rank,model,calls"));
}
