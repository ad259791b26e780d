//! `analyse` on small samples with known answers, and on bad input.

use std::io::Write as _;
use std::path::Path;

use super::*;
use crate::errors::Error;

fn case(id: &str, text: &str) -> CaseText {
    CaseText {
        id: id.into(),
        text: text.into(),
    }
}

fn support_cases() -> Vec<CaseText> {
    vec![
        case(
            "refunds/damaged",
            "My blender arrived damaged, I want a refund",
        ),
        case("orders/late", "My order has not arrived yet, where is it?"),
        case(
            "account/close",
            "Please close my account and delete my personal data",
        ),
    ]
}

/// A sample file of one JSON object per text, `{"input": text}`.
fn write_sample(dir: &Path, texts: &[&str]) -> ProductionSample {
    let path = dir.join("production.jsonl");
    let mut file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    for text in texts {
        writeln!(file, "{}", serde_json::json!({ "input": text })).unwrap();
    }
    file.flush().unwrap();
    ProductionSample {
        path,
        field: "input".into(),
    }
}

fn analyse_texts(cases: &[CaseText], texts: &[&str]) -> Representativeness {
    let dir = tempfile::tempdir().unwrap();
    let sample = write_sample(dir.path(), texts);
    analyse(cases, &sample, &RepresentativenessOptions::default()).unwrap()
}

fn error_for(file_text: &str, field: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("prod.jsonl");
    std::fs::write(&path, file_text).unwrap();
    let sample = ProductionSample {
        path,
        field: field.into(),
    };
    match analyse(
        &support_cases(),
        &sample,
        &RepresentativenessOptions::default(),
    ) {
        Err(Error::Data(e)) => e
            .to_string()
            .replace(&dir.path().display().to_string(), "DIR"),
        other => panic!("expected a data error, got {other:?}"),
    }
}

#[test]
fn an_input_identical_to_a_case_matches_it_with_similarity_one() {
    let report = analyse_texts(
        &support_cases(),
        &["my blender arrived DAMAGED — I want a refund!"],
    );
    assert_eq!((report.inputs, report.uncovered), (1, 0));
    let damaged = &report.cases[0];
    assert_eq!(damaged.matched_inputs, 1);
    assert_eq!(damaged.nearest.len(), 1);
    assert_eq!(damaged.nearest[0].line, 1);
    assert_eq!(damaged.nearest[0].similarity, 1.0);
    assert_eq!(
        damaged.nearest[0].text,
        "my blender arrived DAMAGED — I want a refund!"
    );
}

#[test]
fn unrelated_text_is_uncovered_and_cases_no_input_resembles_are_unmatched() {
    let report = analyse_texts(
        &support_cases(),
        &[
            "my blender arrived damaged and I want a refund",
            "what is the capital of Mongolia",
            "write me a haiku about autumn leaves",
            "where is my order, it has not arrived yet",
        ],
    );
    assert_eq!((report.inputs, report.uncovered), (4, 2));
    assert_eq!(report.uncovered_share, 0.5);
    assert_eq!(report.threshold, 0.3);
    assert_eq!(report.unmatched_cases, ["account/close"]);
    let examples: Vec<&str> = report
        .clusters
        .iter()
        .flat_map(|c| c.examples.iter().map(String::as_str))
        .collect();
    assert_eq!(
        examples,
        [
            "what is the capital of Mongolia",
            "write me a haiku about autumn leaves"
        ]
    );
}

#[test]
fn uncovered_clusters_group_near_identical_inputs_largest_first() {
    let report = analyse_texts(
        &support_cases(),
        &[
            "can I pay with bitcoin",
            "how do I export my invoices to a spreadsheet",
            "How do I export my invoices to a spreadsheet?",
            "can I pay with bitcoin?",
            "how do I export my invoices to a spreadsheet please",
            "how do i export all my invoices to a spreadsheet",
            "is there a student discount",
        ],
    );
    assert_eq!(report.uncovered, 7);
    let clusters: Vec<(u64, &str)> = report
        .clusters
        .iter()
        .map(|c| (c.size, c.examples[0].as_str()))
        .collect();
    assert_eq!(
        clusters,
        [
            (4, "how do I export my invoices to a spreadsheet"),
            (2, "can I pay with bitcoin"),
            (1, "is there a student discount"),
        ]
    );
    assert_eq!(report.clusters[0].examples.len(), 3);
}

#[test]
fn each_case_counts_its_matches_and_lists_the_nearest_first() {
    let cases = vec![case("orders/late", "my order has not arrived yet")];
    let report = analyse_texts(
        &cases,
        &[
            "order not arrived yet, tracking number 123",
            "my order has not arrived yet",
            "My order has not arrived yet!!",
            "order not arrived",
            "my order has not arrived yet?",
        ],
    );
    let late = &report.cases[0];
    assert_eq!(late.matched_inputs, 5);
    let nearest: Vec<(u64, f64)> = late
        .nearest
        .iter()
        .map(|n| (n.line, n.similarity))
        .collect();
    // Three identical after normalising, so the earliest three of them.
    assert_eq!(nearest, [(2, 1.0), (3, 1.0), (5, 1.0)]);
    assert!(report.unmatched_cases.is_empty());
}

#[test]
fn results_are_the_same_on_every_run_whatever_the_thread_timing() {
    // Several batches, so several workers share the file.
    let templates = [
        "my parcel {} never arrived",
        "cancel my subscription {} now",
        "how do I reset my password {}",
        "do you ship to Iceland {}",
        "the app crashes when I open order {}",
    ];
    let texts: Vec<String> = (0..5000)
        .map(|i| templates[i % 5].replace("{}", &format!("{}", i * 7 % 13)))
        .collect();
    let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
    let cases = vec![
        case("parcel", "my parcel never arrived"),
        case("password", "how can I reset my password"),
        case("unused", "the colour of the sky on Mars"),
    ];
    let first = analyse_texts(&cases, &texts);
    assert_eq!(first.inputs, 5000);
    assert_eq!(first.uncovered, 3000);
    assert_eq!(first.cases[0].matched_inputs, 1000);
    assert_eq!(first.unmatched_cases, ["unused"]);
    assert_eq!(first.clusters.len(), 3);
    assert!(
        first
            .clusters
            .iter()
            .all(|c| c.size == 1000 && c.overcount == 0)
    );
    for _ in 0..3 {
        assert_eq!(analyse_texts(&cases, &texts), first);
    }
}

#[test]
fn a_json_pointer_reads_the_text_inside_messages() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("chat.jsonl");
    std::fs::write(
        &path,
        "{\"messages\": [{\"role\": \"user\", \"content\": \"please close my account and delete my personal data\"}]}\n\n",
    )
    .unwrap();
    let sample = ProductionSample {
        path,
        field: "/messages/0/content".into(),
    };
    let report = analyse(
        &support_cases(),
        &sample,
        &RepresentativenessOptions::default(),
    )
    .unwrap();
    assert_eq!(report.inputs, 1);
    assert_eq!(report.cases[2].matched_inputs, 1);
}

#[test]
fn bad_lines_are_data_errors_naming_the_file_line_and_what_was_expected() {
    assert_eq!(
        error_for("{\"input\": \"fine\"}\n{\"input\": \"a\"\n", "input"),
        "DIR/prod.jsonl:2:13: expected a JSON object with a string at field `input`, found a \
         line that is not JSON (EOF while parsing an object)"
    );
    assert_eq!(
        error_for("{\"input\": \"fine\"}\n\n{\"prompt\": \"hi\"}\n", "input"),
        "DIR/prod.jsonl:3: expected a string at field `input`, found nothing there; set \
         `decay.production.field` in the suite file to where each line keeps the user's text"
    );
    assert_eq!(
        error_for(
            "{\"messages\": [{\"content\": null}]}\n",
            "/messages/0/content"
        ),
        "DIR/prod.jsonl:1: expected a string at JSON pointer `/messages/0/content`, found null"
    );
    assert_eq!(
        error_for("\"just text\"\n", "input"),
        "DIR/prod.jsonl:1: expected a JSON object with a string at field `input`, found a string"
    );
}

#[test]
fn the_first_bad_line_of_the_file_is_reported_whichever_worker_meets_it() {
    let mut text = String::new();
    for line in 1..=6000 {
        if line == 2500 || line == 5100 {
            text.push_str("{\"input\": 7}\n");
        } else {
            text.push_str("{\"input\": \"where is my order\"}\n");
        }
    }
    for _ in 0..3 {
        let message = error_for(&text, "input");
        assert!(message.starts_with("DIR/prod.jsonl:2500: "), "{message}");
    }
}

#[test]
fn a_sample_without_inputs_is_an_error_not_a_zero_share() {
    for empty in ["", "\n \n\r\n"] {
        let message = error_for(empty, "input");
        assert!(
            message.starts_with("DIR/prod.jsonl: no production inputs"),
            "{message}"
        );
    }
}

#[test]
fn bad_options_and_fields_are_refused_before_reading() {
    let sample = ProductionSample {
        path: "/nonexistent.jsonl".into(),
        field: "input".into(),
    };
    for threshold in [0.0, 1.5, f64::NAN] {
        let options = RepresentativenessOptions {
            threshold,
            ..RepresentativenessOptions::default()
        };
        let e = analyse(&support_cases(), &sample, &options).unwrap_err();
        assert!(e.to_string().contains("threshold must be in (0, 1]"), "{e}");
    }
    let bad_field = ProductionSample {
        field: String::new(),
        ..sample.clone()
    };
    let e = analyse(
        &support_cases(),
        &bad_field,
        &RepresentativenessOptions::default(),
    );
    assert!(matches!(e, Err(Error::Usage(m)) if m.contains("text field")));
    let e = analyse(
        &support_cases(),
        &sample,
        &RepresentativenessOptions::default(),
    );
    assert!(matches!(e, Err(Error::Usage(m)) if m.contains("/nonexistent.jsonl")));
}
