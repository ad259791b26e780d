//! Eval economics and suite tiers end to end, on a copy of the project's own suite run
//! against the embedded demo agent: `evalgate economics` prices every case and names what
//! it alone covers; `evalgate select --cover branches --out smoke` writes a suite tier of
//! fewer cases; a run of that tier (`EVALGATE_SUITE_TIER=smoke`) reaches every branch the
//! whole suite reached, is whole for its gates, and a tier naming a deleted case refuses
//! to run.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

struct Workspace {
    root: tempfile::TempDir,
}

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Out {
    fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

impl Workspace {
    fn new() -> Workspace {
        let root = tempfile::tempdir().unwrap();
        copy_dir(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("evals"),
            &root.path().join("evals"),
        );
        Workspace { root }
    }

    fn evalgate(&self, args: &[&str], env: &[(&str, &str)]) -> Out {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_evalgate"));
        cmd.args(args)
            .current_dir(self.root.path())
            .env("EVALGATE_OUT", self.root.path().join("out"))
            .env_remove("EVALGATE_SUITE_TIER")
            .env_remove("NEXTEST_RUN_ID")
            .env_remove("EVALGATE_RUN_ID")
            .env_remove("GITHUB_ACTIONS")
            .env_remove("GITHUB_STEP_SUMMARY");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let output = cmd.output().unwrap();
        Out {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    fn json(&self, name: &str) -> Value {
        let path = self.root.path().join("out").join(name);
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
    }
}

#[test]
fn a_branch_cover_tier_runs_fewer_cases_and_reaches_every_branch() {
    let w = Workspace::new();
    let full = w.evalgate(&["demo", "evals", "--compare-with", "none"], &[]);
    assert_eq!(full.code, 0, "{}", full.all());
    let coverage = w.json("coverage.json");
    let reached = coverage["coverage"]["branches_covered"].as_u64().unwrap();
    assert!(reached > 5, "{coverage}");

    let economics = w.evalgate(&["economics"], &[]);
    assert_eq!(economics.code, 0, "{}", economics.all());
    let report = w.json("economics.json");
    let cases = report["economics"]["cases"].as_array().unwrap();
    assert!(cases.len() > 10);
    for case in cases {
        assert!(
            case["usd"].as_f64().is_some(),
            "the demo prices every sample: {case}"
        );
        assert!(case["input_tokens"].as_u64().unwrap() > 0, "{case}");
        assert_eq!(case["runs_in_history"], 1, "{case}");
    }
    // A branch only one case reaches is that case's own.
    let owners: usize = cases
        .iter()
        .map(|c| c["unique_branches"].as_array().unwrap().len())
        .sum();
    assert!(owners > 0, "{report}");

    // Redundant cases: outside the cover, passed in every run of history, every branch
    // they reach reached by a case that stays; all of them together can go and every
    // branch is still reached.
    let in_cover = |case: &str| {
        report["branch_cover"]["cases"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c == case)
    };
    let branches_of =
        |among: &mut dyn Iterator<Item = &Value>| -> std::collections::BTreeSet<String> {
            among
                .flat_map(|c| c["branches"].as_array().unwrap().iter())
                .map(|b| b.as_str().unwrap().to_string())
                .collect()
        };
    let redundant: Vec<&Value> = cases.iter().filter(|c| c["redundant"] == true).collect();
    assert!(!redundant.is_empty(), "{report}");
    for case in &redundant {
        let id = case["case"].as_str().unwrap();
        assert!(!in_cover(id), "{case}");
        assert_eq!(case["runs_not_passed"], 0, "{case}");
        assert!(!case["branches"].as_array().unwrap().is_empty(), "{case}");
    }
    assert_eq!(
        branches_of(&mut cases.iter().filter(|c| c["redundant"] != true)),
        branches_of(&mut cases.iter()),
        "removing every redundant case loses a branch: {report}"
    );
    assert!(
        economics
            .stdout
            .contains(&format!("redundant ({}, ", redundant.len())),
        "{}",
        economics.stdout
    );
    for case in cases
        .iter()
        .filter(|c| c["branches"].as_array().unwrap().is_empty())
    {
        assert_eq!(case["redundant"], false, "coverage says nothing of {case}");
    }
    // Without history, redundancy is not judged, and nothing claims there is none.
    let blind = w.evalgate(&["economics"], &[("EVALGATE_HISTORY", "off")]);
    assert_eq!(blind.code, 0, "{}", blind.all());
    assert!(
        blind.stdout.contains("redundant: not judged"),
        "{}",
        blind.stdout
    );
    assert!(
        !blind.stdout.contains("redundant: none"),
        "{}",
        blind.stdout
    );
    let unjudged = w.json("economics.json");
    for case in unjudged["economics"]["cases"].as_array().unwrap() {
        assert!(case["redundant"].is_null(), "{case}");
    }
    assert!(
        economics.stdout.contains("branch cover:"),
        "{}",
        economics.stdout
    );

    // The cover reaches every branch some case reaches in every sample, no case of it can
    // go, and its cost is what its cases cost.
    let cover = &report["branch_cover"];
    let reliable = |case: &str| -> std::collections::BTreeSet<String> {
        let c = cases.iter().find(|c| c["case"] == case).unwrap();
        c["reliable_branches"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b.as_str().unwrap().to_string())
            .collect()
    };
    let chosen: Vec<&str> = cover["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    let reached_by = |among: &[&str]| -> std::collections::BTreeSet<String> {
        among.iter().flat_map(|c| reliable(c)).collect()
    };
    let all: Vec<&str> = cases.iter().map(|c| c["case"].as_str().unwrap()).collect();
    assert_eq!(reached_by(&chosen), reached_by(&all), "{cover}");
    assert_eq!(
        cover["branches"].as_u64().unwrap() as usize,
        reached_by(&all).len()
    );
    for case in &chosen {
        let others: Vec<&str> = chosen.iter().copied().filter(|c| c != case).collect();
        assert!(
            reached_by(&others).len() < reached_by(&chosen).len(),
            "{case} is removable from {cover}"
        );
    }
    let spent: f64 = chosen
        .iter()
        .map(|c| {
            cases.iter().find(|x| x["case"] == *c).unwrap()["usd"]
                .as_f64()
                .unwrap()
        })
        .sum();
    assert!(
        (cover["usd"].as_f64().unwrap() - spent).abs() < 1e-12,
        "{cover}"
    );
    assert_eq!(cover["cost_basis"], "usd", "the demo prices every sample");
    assert_eq!(cover["optimal"], true, "{cover}");

    let select = w.evalgate(&["select", "--cover", "branches", "--out", "smoke"], &[]);
    assert_eq!(select.code, 0, "{}", select.all());
    let tier_file = w.root.path().join("evals/tiers/smoke.yaml");
    let tier = std::fs::read_to_string(&tier_file).unwrap();
    let listed = tier.lines().filter(|l| l.starts_with("  - ")).count();
    assert!(listed > 0 && listed < cases.len(), "{tier}");
    assert!(
        tier.contains("per run (the cheapest such set in dollars, every set searched)"),
        "{tier}"
    );
    assert!(
        select
            .stdout
            .contains(&format!("suite tier `smoke`: {listed} case(s) for $")),
        "{}",
        select.stdout
    );
    assert_eq!(
        listed,
        report["branch_cover"]["cases"].as_array().unwrap().len()
    );

    let smoke = w.evalgate(
        &["demo", "evals", "--compare-with", "none"],
        &[("EVALGATE_SUITE_TIER", "smoke")],
    );
    assert_eq!(smoke.code, 0, "{}", smoke.all());
    let coverage = w.json("coverage.json");
    assert_eq!(
        coverage["coverage"]["branches_covered"].as_u64().unwrap(),
        reached,
        "the tier lost a branch: {}",
        smoke.all()
    );
    assert!(
        coverage["partial"].is_null(),
        "a tier run is whole: {coverage}"
    );
    // Rates over cases picked for coverage say nothing about the suite's traffic.
    let refusals = coverage["gates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["name"] == "slo.refusal_rate")
        .unwrap();
    assert_eq!(refusals["outcome"], "skipped", "{refusals}");
    assert!(
        smoke
            .all()
            .contains(&format!("evalgate: {listed} cases: {listed} pass")),
        "the tier ran other cases: {}",
        smoke.all()
    );

    // A tier run is never a baseline, and a case outside the tier is not run quietly.
    let save = w.evalgate(&["baseline", "save", "--to", "baseline.json"], &[]);
    assert_eq!(save.code, 2, "{}", save.all());
    assert!(
        save.stderr.contains("suite tier `smoke`"),
        "{}",
        save.stderr
    );
    let in_cover: Vec<&str> = report["branch_cover"]["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    let outside = cases
        .iter()
        .map(|c| c["case"].as_str().unwrap())
        .find(|c| !in_cover.contains(c) && !c.contains('@'))
        .unwrap();
    let exact = format!("evals::{outside}");
    let alone = w.evalgate(
        &[
            "demo",
            "evals",
            "--compare-with",
            "none",
            "--",
            "--exact",
            &exact,
        ],
        &[("EVALGATE_SUITE_TIER", "smoke")],
    );
    assert_eq!(alone.code, 2, "{}", alone.all());
    assert!(
        alone.stderr.contains("is not a case of suite tier `smoke`"),
        "{}",
        alone.stderr
    );
    // A tier file a person wrote is never replaced.
    std::fs::write(
        w.root.path().join("evals/tiers/mine.yaml"),
        "cases: [refunds/delivered]\n",
    )
    .unwrap();
    let mine = w.evalgate(&["select", "--cover", "branches", "--out", "mine"], &[]);
    assert_eq!(mine.code, 2, "{}", mine.all());
    assert!(
        mine.stderr.contains("not written by `evalgate select`"),
        "{}",
        mine.stderr
    );

    // Selecting from a tier run is refused: it is not the whole suite.
    let again = w.evalgate(&["select", "--cover", "branches", "--out", "smoke2"], &[]);
    assert_eq!(again.code, 2, "{}", again.all());
    assert!(
        again.stderr.contains("suite tier `smoke`"),
        "{}",
        again.stderr
    );

    // A tier naming a case the suite lost refuses to run.
    std::fs::write(&tier_file, format!("{tier}  - refunds/deleted-case\n")).unwrap();
    let stale = w.evalgate(
        &["demo", "evals", "--compare-with", "none"],
        &[("EVALGATE_SUITE_TIER", "smoke")],
    );
    assert_eq!(stale.code, 2, "{}", stale.all());
    assert!(
        stale.stderr.contains("refunds/deleted-case"),
        "{}",
        stale.stderr
    );
    let missing = w.evalgate(
        &["demo", "evals", "--compare-with", "none"],
        &[("EVALGATE_SUITE_TIER", "nightly")],
    );
    assert_eq!(missing.code, 2, "{}", missing.all());
    assert!(
        missing.stderr.contains("evalgate select --out nightly"),
        "{}",
        missing.stderr
    );
}
