//! A throw-away evals folder in a temp dir, and the real `evalgate` binary run on it.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub struct TempSuite {
    pub root: tempfile::TempDir,
}

/// What a run printed and how it exited.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn from(output: Output) -> Run {
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    pub fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }

    /// The tests libtest's `--list` printed (`evals::<id>: test` lines), in order.
    pub fn listed(&self) -> Vec<&str> {
        self.stdout
            .lines()
            .filter(|l| l.ends_with(": test"))
            .collect()
    }
}

impl TempSuite {
    /// An evals folder whose suite file is `suite_yaml`.
    pub fn new(suite_yaml: &str) -> TempSuite {
        let root = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir_all(root.path().join("evals/cases")).unwrap();
        std::fs::write(root.path().join("evals/evalgate.yaml"), suite_yaml).unwrap();
        TempSuite { root }
    }

    pub fn evals(&self) -> PathBuf {
        self.root.path().join("evals")
    }

    pub fn out(&self) -> PathBuf {
        self.root.path().join("out")
    }

    /// Writes `cases/<rel>` (folders created as needed).
    pub fn case(&self, rel: &str, yaml: &str) -> &Self {
        let path = self.evals().join("cases").join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, yaml).unwrap();
        self
    }

    /// `evalgate <args>` with the temp dir as working directory and `out/` for outputs.
    pub fn evalgate(&self, args: &[&str]) -> Run {
        self.evalgate_env(args, &[])
    }

    pub fn evalgate_env(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut cmd = self.command(args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        Run::from(cmd.output().expect("evalgate runs"))
    }

    /// The command `evalgate <args>` as [`TempSuite::evalgate`] runs it, to run otherwise
    /// (its output read as it comes, on a terminal).
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_evalgate"));
        cmd.args(args)
            .current_dir(self.root.path())
            .env("EVALGATE_OUT", self.out())
            .env_remove("NEXTEST_RUN_ID")
            .env_remove("EVALGATE_RUN_ID")
            .env_remove("EVALGATE_CONCURRENCY")
            .env_remove("GITHUB_ACTIONS");
        // Which commit a run measured comes from CI's variables first: a test that runs the
        // same suite twice must not become two attempts of the CI job's commit.
        for var in [
            "GITHUB_SHA",
            "GITHUB_HEAD_REF",
            "GITHUB_REF_NAME",
            "GITHUB_REF_TYPE",
            "CI_COMMIT_SHA",
            "CI_COMMIT_BRANCH",
            "EVALGATE_BRANCH",
            "EVALGATE_COMMIT",
        ] {
            cmd.env_remove(var);
        }
        cmd
    }

    /// `evalgate run evals -- <libtest args>`.
    pub fn run(&self, libtest_args: &[&str]) -> Run {
        let mut args = vec!["run", "evals", "--"];
        args.extend_from_slice(libtest_args);
        self.evalgate(&args)
    }

    pub fn junit(&self) -> String {
        std::fs::read_to_string(self.out().join("junit.xml")).expect("junit.xml written")
    }

    /// Every run folder under `out/runs`.
    pub fn run_dirs(&self) -> Vec<PathBuf> {
        let mut dirs: Vec<PathBuf> = std::fs::read_dir(self.out().join("runs"))
            .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        dirs.sort();
        dirs
    }

    /// Every record line of every run, parsed.
    pub fn records(&self) -> Vec<serde_json::Value> {
        let mut out = Vec::new();
        for dir in self.run_dirs() {
            for file in std::fs::read_dir(&dir).unwrap() {
                let path = file.unwrap().path();
                if path.extension().is_some_and(|e| e == "jsonl") {
                    for line in std::fs::read_to_string(&path).unwrap().lines() {
                        out.push(serde_json::from_str(line).unwrap());
                    }
                }
            }
        }
        out
    }

    pub fn records_of(&self, kind: &str) -> Vec<serde_json::Value> {
        self.records()
            .into_iter()
            .filter(|r| r["kind"] == kind)
            .collect()
    }

    pub fn path(&self) -> &Path {
        self.root.path()
    }
}

/// A case with one user message and the given `expect:` list (YAML flow or block text).
pub fn simple_case(message: &str, expect: &str) -> String {
    format!(
        "input:\n  messages:\n    - role: user\n      content: {message:?}\nexpect:\n{expect}\n"
    )
}

/// The Python interpreter for the command-target test agents. The pyenv shim costs
/// ~250 ms per start; the system interpreter, when present, does not.
pub fn python() -> &'static str {
    if Path::new("/usr/bin/python3").exists() {
        "/usr/bin/python3"
    } else {
        "python3"
    }
}

/// The scripted command-target agent of the tests (`tests/fixtures/agents/`).
pub fn scripted_agent() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/agents/scripted_agent.py")
}

/// Every file under `dir`, with its path and bytes: for searching whole output folders.
pub fn all_files(dir: &Path, out: &mut Vec<(PathBuf, Vec<u8>)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            all_files(&path, out);
        } else {
            out.push((path.clone(), std::fs::read(&path).unwrap()));
        }
    }
}

/// Whether `needle` occurs in `haystack`.
pub fn contains_bytes(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}
