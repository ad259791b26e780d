//! Output snapshots end to end, in a user's project: a throw-away cargo project with
//! evalgate as a path dev-dependency and an in-process agent whose answers carry values that
//! change every run (an order UUID, a date, an amount, an email) and a leaked API key.
//!
//! - without a snapshot, a `snapshot: true` case fails and leaves a `.snap.new`; accepted,
//!   the `.snap` holds the redacted output and, in its header, the envelope and date;
//! - reruns pass with fresh ids; an envelope change alone neither fails nor rewrites it;
//! - under `CI` a difference or a missing snapshot fails and nothing is written, even with
//!   `INSTA_UPDATE=always` and `INSTA_FORCE_PASS=1`; locally those keep insta's meaning;
//! - with cargo-insta installed: `cargo insta accept`, `cargo insta test --accept`, and
//!   `cargo insta test --unreferenced=reject` on an orphan `.snap`, under `cargo test` and,
//!   when installed, nextest (one process per case).
//!
//! It builds evalgate once more in `target/user-project` (shared with tests/it/cargo_project.rs).

use crate::support::user_crate;

use std::path::PathBuf;
use std::process::{Command, Output};

/// The user's harness: a shop agent answering `SHOP_ANSWER` (v1 | v2), reporting
/// `SHOP_TOOLS` as its tool-catalog version, and echoing `SHOP_API_KEY` (a leak).
const AGENT: &str = r#"
use evalgate::{Agent, AgentError, Observation, Request};

struct Shop;

impl Agent for Shop {
    fn respond(&self, request: &Request) -> Result<Observation, AgentError> {
        let answer = std::env::var("SHOP_ANSWER").unwrap_or_else(|_| "v1".into());
        let tools = std::env::var("SHOP_TOOLS").unwrap_or_else(|_| "tools-9".into());
        let key = std::env::var("SHOP_API_KEY").unwrap_or_default();
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos() as u64;
        let fresh = (std::process::id() as u64 * 7919 + nanos) & 0xffff_ffff_ffff;
        let id = format!(
            "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
            fresh & 0xffff_ffff, fresh & 0xffff, fresh & 0xfff, (fresh >> 4) & 0xfff, fresh
        );
        let who: String = fresh.to_string().bytes().map(|d| (d - b'0' + b'a') as char).collect();
        let question = request.last_user_message().unwrap_or_default();
        let text = if question.contains("refund") {
            let verdict = if answer == "v2" { "needs a human: we escalated it" } else { "is approved" };
            format!(
                "Your refund for order {id} {verdict}.  \r\nPlaced on 2026-11-{:02} for ${}.{:02}\t\r\n\
                 We wrote to {who}-shop@example.com.\r\nDebug: {key}\r\n",
                fresh % 28 + 1, fresh % 1000, fresh % 100
            )
        } else {
            format!("Your order {id} has shipped.")
        };
        Ok(Observation::new(text).with_model("shop-model-1").with_envelope("tools", tools))
    }
}

fn main() -> std::process::ExitCode {
    evalgate::Harness::new().agent(Shop).run()
}
"#;

/// The suite: the target is not called (the in-process agent wins) but its header names
/// the key, which makes it a secret.
const SUITE: &str = r#"
target:
  http:
    url: "http://127.0.0.1:9/v1/agent"
    headers: {Authorization: "Bearer ${SHOP_API_KEY}"}
envelope: {model: shop-model-1, prompt: planner-v3}
snapshots:
  redact:
    ids: true
    dates: true
    numbers: true
    patterns:
      - {regex: "[a-z]+-shop@example\\.com", replace: "[email]"}
"#;

const KEY: &str = "sk-live-abcdefghijklmnop";

/// What the refund case's snapshot holds under v1.
const REFUND_V1: &str = "Your refund for order [id] is approved.\n\
                         Placed on [date] for $[number]\n\
                         We wrote to [email].\n\
                         Debug: [secret]";

fn case(description: &str, question: &str, extra: &str) -> String {
    format!(
        "description: {description}\nsnapshot: true\n{extra}input:\n  messages:\n    \
         - {{role: user, content: \"{question}\"}}\nexpect:\n  - contains: \"order\"\n"
    )
}

struct Project {
    dir: tempfile::TempDir,
    target_dir: PathBuf,
}

impl Project {
    /// A project whose package is `name` (distinct per test: both share a target dir).
    fn new(name: &str) -> Project {
        let dir = tempfile::tempdir().unwrap();
        user_crate::write(
            dir.path(),
            &user_crate::UserCrate {
                name,
                evalgate: &user_crate::evalgate_crate(),
                features: &["snapshots"],
                default_features: true,
                lock: Some(&user_crate::our_lock()),
            },
            AGENT,
        );
        let project = Project {
            target_dir: user_crate::shared_target_dir(),
            dir,
        };
        project.write("evals/evalgate.yaml", SUITE);
        project.write(
            "evals/cases/refunds/over-limit.yaml",
            &case(
                "A refund request gets an answer.",
                "refund my order please",
                "",
            ),
        );
        project.write(
            "evals/cases/status/shipped.yaml",
            &case(
                "Every sample compares with one snapshot.",
                "where is my order",
                "samples: 2\n",
            ),
        );
        project.write(
            "evals/cases/plain.yaml",
            "input:\n  messages: [{role: user, content: \"status?\"}]\nexpect: [{contains: order}]\n",
        );
        project
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn write(&self, rel: &str, text: &str) {
        let path = self.path(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
    }

    /// `cargo <args>` in the project, with a clean environment: no CI, no insta or
    /// evalgate settings of the outer run, then `env`.
    fn cargo(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
        cmd.args(args)
            .current_dir(self.dir.path())
            .env("CARGO_TARGET_DIR", &self.target_dir)
            .env("EVALGATE_OUT", self.path("out"))
            .env("SHOP_API_KEY", KEY);
        for (key, _) in std::env::vars_os() {
            let key = key.to_string_lossy();
            if ["CI", "TF_BUILD"].contains(&key.as_ref())
                || ["INSTA_", "NEXTEST", "EVALGATE_"]
                    .iter()
                    .any(|p| key.starts_with(p))
            {
                cmd.env_remove(key.as_ref());
            }
        }
        cmd.envs(env.iter().copied());
        Run(cmd.output().expect("cargo runs"))
    }

    fn test(&self, env: &[(&str, &str)]) -> Run {
        self.cargo(&["test", "--test", "evals"], env)
    }

    /// The file names in `evals/snapshots`, sorted.
    fn snapshots(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.path("evals/snapshots"))
            .map(|d| {
                d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }
}

struct Run(Output);

impl Run {
    fn ok(&self) -> bool {
        self.0.status.success()
    }

    fn log(&self) -> String {
        format!(
            "{}\n{}",
            String::from_utf8_lossy(&self.0.stdout),
            String::from_utf8_lossy(&self.0.stderr)
        )
    }
}

/// libtest's word for a case, on its line after `...`: `ok`, `FAILED` or `ignored` (the
/// names are padded to one width, and a case of several samples has how many passed after
/// the word: `ok 2/2`).
fn outcome<'a>(log: &'a str, case: &str) -> &'a str {
    let prefix = format!("test evals::{case} ");
    log.lines()
        .find_map(|l| l.strip_prefix(prefix.as_str()))
        .and_then(|rest| rest.trim_start().strip_prefix("... "))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or("missing")
}

/// Every case's line carries its outcome, and insta's own report (its "Snapshot Summary"
/// box, whose `Source:` named evalgate's file) is nowhere in the output: printed from a
/// worker thread, it landed between another case's `test … ...` and its result. The
/// case's failure says what differs and where the new output is.
fn assert_no_insta_report(log: &str) {
    for line in log.lines().filter(|l| l.starts_with("test evals::")) {
        let case = line["test evals::".len()..].split(' ').next().unwrap();
        assert!(
            ["ok", "FAILED", "ignored"].contains(&outcome(log, case)),
            "{line:?} has no outcome on its line:\n{log}"
        );
    }
    for insta in ["Snapshot Summary", "Source: ", "Snapshot Contents"] {
        assert!(!log.contains(insta), "insta's report ({insta}) in:\n{log}");
    }
}

/// The header and body of a snapshot file.
fn split(snap: &str) -> (&str, &str) {
    let rest = snap.strip_prefix("---\n").expect("a header");
    let end = rest.find("\n---\n").expect("the header's end");
    (&rest[..end], rest[end + 5..].trim_end())
}

/// Today in the local time zone (the test may straddle midnight: callers take it before
/// and after).
fn today() -> String {
    jiff::Zoned::now().date().to_string()
}

/// What a `.snap` / `.snap.new` header must say: where the case is, the envelope the
/// output was produced under and the date — and never the key.
fn assert_header(snap: &str, tools: &str, dates: &[String]) {
    let (header, body) = split(snap);
    assert!(
        header.starts_with("source: evals/cases/refunds/over-limit.yaml\n"),
        "the case file is the source (first: cargo-insta needs it there), not evalgate's \
         own file:\n{snap}"
    );
    assert!(
        header.contains("input_file: evals/cases/refunds/over-limit.yaml"),
        "{snap}"
    );
    assert!(
        header.contains("refunds/over-limit: A refund request gets an answer."),
        "{snap}"
    );
    for line in [
        "model: shop-model-1",
        "prompt: planner-v3",
        &format!("tools: {tools}"),
    ] {
        assert!(header.contains(line), "{line} in the envelope:\n{snap}");
    }
    let date = header
        .lines()
        .find_map(|l| l.trim().strip_prefix("date: "))
        .map(|d| d.trim_matches(['"', '\'']))
        .unwrap_or_else(|| panic!("a date:\n{snap}"));
    assert!(
        dates.iter().any(|d| d == date),
        "the date of today {dates:?}:\n{snap}"
    );
    assert!(!header.contains("expression:"), "{snap}");
    assert!(
        !snap.contains(KEY),
        "the key never reaches a snapshot:\n{snap}"
    );
    assert!(!body.contains('\r') && !body.lines().any(|l| l.ends_with([' ', '\t'])));
}

#[test]
fn snapshots_are_compared_redacted_and_never_written_under_ci() {
    let started = today();
    let project = Project::new("snapshot-user-a");

    // (1) No snapshot yet: the case fails and insta leaves `.snap.new` files to review.
    let run = project.test(&[]);
    let log = run.log();
    assert!(!run.ok(), "{log}");
    assert!(log.contains("no snapshot accepted yet"), "{log}");
    assert!(log.contains("refunds__over-limit.snap.new"), "{log}");
    assert_no_insta_report(&log);
    assert_eq!(outcome(&log, "plain"), "ok", "{log}");
    assert!(
        log.contains("an earlier sample's output is the one handed to insta"),
        "the second sample of status/shipped does not overwrite the first's:\n{log}"
    );
    assert_eq!(
        project.snapshots(),
        ["refunds__over-limit.snap.new", "status__shipped.snap.new"]
    );
    let pending = project.read("evals/snapshots/refunds__over-limit.snap.new");
    assert_header(&pending, "tools-9", &[started, today()]);
    assert_eq!(
        split(&pending).1,
        REFUND_V1,
        "normalised and redacted:\n{pending}"
    );
    assert!(!log.contains(KEY), "{log}");

    // (2) Accepted (what `cargo insta accept` does, without cargo-insta: a rename).
    for name in ["refunds__over-limit", "status__shipped"] {
        let dir = project.path("evals/snapshots");
        std::fs::rename(
            dir.join(format!("{name}.snap.new")),
            dir.join(format!("{name}.snap")),
        )
        .unwrap();
    }
    let accepted = project.read("evals/snapshots/refunds__over-limit.snap");

    // (3) + (7) Reruns pass although every id, date, amount and email is fresh.
    let run = project.test(&[]);
    assert!(run.ok(), "{}", run.log());
    assert_eq!(
        project.snapshots(),
        ["refunds__over-limit.snap", "status__shipped.snap"]
    );

    // An envelope change alone passes and leaves the accepted file as it was, so its
    // header keeps the envelope and date it was accepted under.
    let run = project.test(&[("SHOP_TOOLS", "tools-10")]);
    assert!(run.ok(), "{}", run.log());
    assert_eq!(
        project.read("evals/snapshots/refunds__over-limit.snap"),
        accepted
    );

    // (5) Under CI a changed answer and a missing snapshot fail, and nothing is written,
    // whatever insta is told.
    project.write(
        "evals/cases/fresh.yaml",
        &case("Not accepted yet.", "where is my order", ""),
    );
    let ci = [
        ("CI", "true"),
        ("SHOP_ANSWER", "v2"),
        ("INSTA_UPDATE", "always"),
        ("INSTA_FORCE_PASS", "1"),
    ];
    let run = project.test(&ci);
    let log = run.log();
    assert!(!run.ok(), "{log}");
    assert_eq!(outcome(&log, "refunds/over-limit"), "FAILED", "{log}");
    assert_eq!(outcome(&log, "fresh"), "FAILED", "{log}");
    assert_eq!(outcome(&log, "status/shipped"), "ok", "{log}");
    assert!(log.contains("differs at line 1"), "{log}");
    assert!(log.contains("CI: nothing written"), "{log}");
    assert_eq!(
        project.snapshots(),
        ["refunds__over-limit.snap", "status__shipped.snap"],
        "{log}"
    );
    assert_eq!(
        project.read("evals/snapshots/refunds__over-limit.snap"),
        accepted
    );
    std::fs::remove_file(project.path("evals/cases/fresh.yaml")).unwrap();

    // (4) Locally the changed answer fails and is offered for review.
    let run = project.test(&[("SHOP_ANSWER", "v2")]);
    assert!(!run.ok(), "{}", run.log());
    let pending = project.read("evals/snapshots/refunds__over-limit.snap.new");
    assert!(
        split(&pending).1.contains("needs a human: we escalated it"),
        "{pending}"
    );
    assert_eq!(
        project.read("evals/snapshots/refunds__over-limit.snap"),
        accepted
    );

    // Locally insta's own settings hold: INSTA_UPDATE=always accepts in place, and the next
    // matching run removes the stale `.snap.new`.
    let v2 = [("SHOP_ANSWER", "v2")];
    assert!(
        project
            .path("evals/snapshots/refunds__over-limit.snap.new")
            .exists()
    );
    let run = project.test(&[("SHOP_ANSWER", "v2"), ("INSTA_UPDATE", "always")]);
    assert!(run.ok(), "{}", run.log());
    let updated = project.read("evals/snapshots/refunds__over-limit.snap");
    assert!(split(&updated).1.contains("needs a human: we escalated it"));
    assert!(
        split(&updated)
            .0
            .starts_with("source: evals/cases/refunds/over-limit.yaml\n"),
        "updated in place, with the case file as its source:\n{updated}"
    );
    assert!(project.test(&v2).ok());
    assert_eq!(
        project.snapshots(),
        ["refunds__over-limit.snap", "status__shipped.snap"]
    );
}

fn cargo_insta_available(project: &Project) -> bool {
    project.cargo(&["insta", "--version"], &[]).ok()
}

#[test]
fn cargo_insta_reviews_accepts_and_finds_unreferenced_snapshots() {
    let started = today();
    let project = Project::new("snapshot-user-b");
    if !cargo_insta_available(&project) {
        assert!(
            std::env::var_os("CI").is_none(),
            "cargo-insta must be installed in CI: cargo install cargo-insta --locked"
        );
        eprintln!(
            "note: cargo-insta is not installed (`cargo install cargo-insta --locked`); \
             skipping the cargo insta half of the snapshot tests"
        );
        return;
    }
    let snap = "evals/snapshots/refunds__over-limit.snap";

    // (1) + (2) A first run leaves pending snapshots, which cargo-insta shows with the
    // case file's `snapshot:` line as their source; `cargo insta accept` accepts them.
    let run = project.test(&[]);
    assert!(!run.ok(), "{}", run.log());
    assert_no_insta_report(&run.log());
    let show = project.cargo(
        &[
            "insta",
            "show",
            "evals/snapshots/refunds__over-limit.snap.new",
        ],
        &[],
    );
    assert!(show.ok(), "{}", show.log());
    assert!(
        show.log()
            .lines()
            .any(|l| l.trim_end() == "Source: evals/cases/refunds/over-limit.yaml:2"),
        "{}",
        show.log()
    );
    let accept = project.cargo(&["insta", "accept"], &[]);
    assert!(accept.ok(), "{}", accept.log());
    assert_eq!(
        project.snapshots(),
        ["refunds__over-limit.snap", "status__shipped.snap"]
    );
    let accepted = project.read(snap);
    assert_header(&accepted, "tools-9", &[started, today()]);
    assert!(!accepted.contains("assertion_line"), "{accepted}");
    assert_eq!(split(&accepted).1, REFUND_V1);

    // (3) A rerun passes.
    let run = project.test(&[]);
    assert!(run.ok(), "{}", run.log());

    // (4) The answer changes: it fails; `cargo insta test --accept` takes the new answer.
    let v2 = [("SHOP_ANSWER", "v2")];
    assert!(!project.test(&v2).ok());
    let update = project.cargo(&["insta", "test", "--test", "evals", "--accept"], &v2);
    assert!(update.ok(), "{}", update.log());
    assert!(
        project
            .read(snap)
            .contains("needs a human: we escalated it")
    );
    assert_eq!(
        project.snapshots(),
        ["refunds__over-limit.snap", "status__shipped.snap"]
    );
    assert!(project.test(&v2).ok());

    // (5) Under CI, `cargo insta test` (which sets INSTA_FORCE_PASS and INSTA_UPDATE=new)
    // still fails on a difference and writes nothing.
    let run = project.cargo(
        &["insta", "test", "--test", "evals"],
        &[("CI", "true"), ("SHOP_ANSWER", "v1")],
    );
    assert!(!run.ok(), "{}", run.log());
    assert!(run.log().contains("CI: nothing written"), "{}", run.log());
    assert_eq!(
        project.snapshots(),
        ["refunds__over-limit.snap", "status__shipped.snap"]
    );

    // (6) An orphan snapshot fails `--unreferenced=reject`; removed, the run passes — also
    // under CI, where evalgate records the references insta would have.
    let orphan = "evals/snapshots/retired__case.snap";
    project.write(orphan, &project.read(snap));
    let reject = ["insta", "test", "--test", "evals", "--unreferenced=reject"];
    let run = project.cargo(&reject, &v2);
    assert!(!run.ok(), "{}", run.log());
    assert!(run.log().contains("retired__case.snap"), "{}", run.log());
    assert!(project.path(orphan).exists(), "reject does not delete");
    std::fs::remove_file(project.path(orphan)).unwrap();
    let run = project.cargo(&reject, &v2);
    assert!(run.ok(), "{}", run.log());
    let run = project.cargo(&reject, &[("CI", "true"), ("SHOP_ANSWER", "v2")]);
    assert!(run.ok(), "{}", run.log());

    // Under nextest every case is its own process; references and comparisons still work.
    if project.cargo(&["nextest", "--version"], &[]).ok() {
        let run = project.cargo(&["nextest", "run", "--test", "evals"], &v2);
        assert!(run.ok(), "{}", run.log());
        let mut nextest = reject.to_vec();
        nextest.extend(["--test-runner", "nextest"]);
        let run = project.cargo(&nextest, &v2);
        assert!(run.ok(), "{}", run.log());
        project.write(orphan, &project.read(snap));
        let run = project.cargo(&nextest, &v2);
        assert!(!run.ok(), "{}", run.log());
        std::fs::remove_file(project.path(orphan)).unwrap();
    } else {
        assert!(
            std::env::var_os("CI").is_none(),
            "cargo-nextest must be installed in CI (.ci/run installs it)"
        );
    }
    assert_eq!(
        project.snapshots(),
        ["refunds__over-limit.snap", "status__shipped.snap"]
    );
}
