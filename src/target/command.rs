//! The `command` target: one process per sample. The request goes as JSON on stdin, the
//! answer comes back as JSON on stdout (read at the same pointers as the `http` target).
//! The process is killed when the sample's timeout fires.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Stdio;

use serde::Deserialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::http::parse_json;
use super::wire::ResponseMap;
use super::{Failure, Overrides};
use crate::errors::ConfigError;
use crate::observation::{Observation, Request};
use crate::suite::Suite;

/// `target: {command: ...}` in the suite file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommandConfig {
    pub program: String,
    #[serde(default)]
    pub args: Vec<String>,
    /// Extra environment variables; values may use `${ENV}`.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Working directory, relative to the evals folder.
    pub cwd: Option<PathBuf>,
    #[serde(default)]
    pub response: ResponseMap,
}

pub(crate) struct CommandTarget {
    program: String,
    args: Vec<String>,
    env: BTreeMap<String, String>,
    cwd: PathBuf,
    response: ResponseMap,
    stdout_limit: usize,
}

const STDERR_TAIL: usize = 2048;

impl CommandTarget {
    pub(crate) fn new(
        config: &CommandConfig,
        suite: &Suite,
        overrides: &Overrides,
    ) -> Result<CommandTarget, ConfigError> {
        let fail = |m: String| ConfigError::new(&suite.dir, m);
        let mut env = BTreeMap::new();
        for (k, v) in &config.env {
            env.insert(
                k.clone(),
                overrides
                    .expand(v)
                    .map_err(|e| fail(format!("target.command.env.{k}: {e}")))?,
            );
        }
        config
            .response
            .validate()
            .map_err(|e| fail(format!("target.command.{e}")))?;
        Ok(CommandTarget {
            program: config.program.clone(),
            args: config.args.clone(),
            env,
            cwd: match &config.cwd {
                Some(cwd) => suite.dir.join(cwd),
                None => suite.dir.clone(),
            },
            response: config.response.clone(),
            stdout_limit: suite.response_bytes,
        })
    }

    pub(crate) async fn call(&self, request: &Request) -> Result<Observation, Failure> {
        let mut child = tokio::process::Command::new(&self.program)
            .args(&self.args)
            .envs(&self.env)
            .current_dir(&self.cwd)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // Dropping the future (the sample timed out) kills the process.
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| Failure::new(format!("cannot start `{}`: {e}", self.program)))?;
        let input = serde_json::to_vec(request).expect("requests serialize");
        let mut stdin = child.stdin.take().expect("stdin is piped");
        let mut stdout = child.stdout.take().expect("stdout is piped");
        let mut stderr = child.stderr.take().expect("stderr is piped");
        let write = async move {
            // A process that exits without reading stdin is not an error by itself.
            let _ = stdin.write_all(&input).await;
            drop(stdin);
        };
        let limit = self.stdout_limit;
        let read_out = async move {
            let mut out = Vec::new();
            let mut limited = (&mut stdout).take(limit as u64 + 1);
            limited.read_to_end(&mut out).await.map(|_| out)
        };
        // stderr is drained on its own task so a chatty process never blocks on it.
        let read_err = tokio::spawn(async move {
            let mut err = Vec::new();
            let _ = (&mut stderr).take(1 << 20).read_to_end(&mut err).await;
            err
        });
        let ((), out) = tokio::join!(write, read_out);
        let out = out.map_err(|e| Failure::new(format!("reading stdout failed: {e}")))?;
        if out.len() > limit {
            let _ = child.kill().await;
            return Err(Failure::new(format!(
                "stdout exceeds limits.response_bytes ({limit} bytes); process killed"
            )));
        }
        let status = child
            .wait()
            .await
            .map_err(|e| Failure::new(format!("waiting for the process failed: {e}")))?;
        let err = read_err.await.unwrap_or_default();
        if !status.success() {
            let tail = String::from_utf8_lossy(&err[err.len().saturating_sub(STDERR_TAIL)..])
                .trim()
                .to_string();
            return Err(Failure::new(format!(
                "`{}` exited with {status}: {tail}",
                self.program
            )));
        }
        let json = parse_json(&out)?;
        self.response.observe(&json)
    }
}
