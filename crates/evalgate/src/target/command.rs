//! The `command` target: one process per sample. The request goes as JSON on stdin, the
//! answer comes back as JSON on stdout (read at the same pointers as the `http` target).
//! The process is killed when the sample's timeout fires.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Stdio;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::CommandConfig;
use super::http::parse_json;
use super::wire::{Observe, ResponseMap};
use super::{Failure, Overrides};
use crate::errors::ConfigError;
use crate::observation::{Observation, Request};
use crate::suite::Suite;

pub(crate) struct CommandTarget {
    program: String,
    args: Vec<String>,
    env: BTreeMap<String, String>,
    cwd: PathBuf,
    response: ResponseMap,
    stdout_limit: usize,
    /// The variable the agent reads its model provider's base URL from (`load.env`), set
    /// to the fault-injecting proxy's URL under a load condition.
    provider_env: Option<String>,
}

/// The environment a request adds for the agent process: the trace file, the forced tier,
/// the load condition and the provider URL under it.
fn request_env<'a>(
    request: &'a Request,
    provider_env: Option<&'a str>,
) -> impl Iterator<Item = (String, String)> + 'a {
    let provider = request.provider_url.iter().flat_map(move |url| {
        std::iter::once(("EVALGATE_PROVIDER_URL", url)).chain(provider_env.map(|name| (name, url)))
    });
    let fixed = [
        ("EVALGATE_TRACE_FILE", &request.trace_file),
        ("EVALGATE_TIER", &request.tier),
        ("EVALGATE_CONDITION", &request.condition),
    ]
    .into_iter()
    .filter_map(|(name, value)| value.as_ref().map(|v| (name.to_string(), v.clone())));
    let axes = request
        .axes
        .iter()
        .map(|(axis, value)| (crate::envelope::axis_env(axis), value.clone()));
    fixed
        .chain(provider.map(|(name, url)| (name.to_string(), url.clone())))
        .chain(axes)
}

const STDERR_TAIL: usize = 2048;

/// Kills a process group when dropped. The group is the agent's own (`process_group(0)`),
/// so nothing else is touched; `ESRCH` (already gone) is fine.
struct ProcessGroup(Option<u32>);

/// The agent process groups alive now: a process that stops at once (a second Ctrl-C)
/// runs no destructors, and kills them itself.
static LIVE_GROUPS: std::sync::Mutex<std::collections::BTreeSet<u32>> =
    std::sync::Mutex::new(std::collections::BTreeSet::new());

impl ProcessGroup {
    fn new(pid: Option<u32>) -> ProcessGroup {
        if let Some(pid) = pid {
            LIVE_GROUPS
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(pid);
        }
        ProcessGroup(pid)
    }
}

impl Drop for ProcessGroup {
    fn drop(&mut self) {
        if let Some(pid) = self.0 {
            LIVE_GROUPS
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(&pid);
            kill_group(pid);
        }
    }
}

/// The last [`STDERR_TAIL`] bytes of `err`, secrets hidden. Where the front of the stderr
/// was dropped (`cut`), the first line kept may begin inside a secret, which no longer
/// matches: it is dropped too (or the first 256 bytes, on a line that long).
fn stderr_tail(err: &[u8], cut: bool) -> String {
    let text = String::from_utf8_lossy(err);
    let mut start = text.len().saturating_sub(STDERR_TAIL);
    if cut || start > 0 {
        let skip = text[..]
            .char_indices()
            .skip_while(|(i, _)| *i < start)
            .find(|(i, c)| *c == '\n' || *i >= start + 256)
            .map_or(text.len(), |(i, _)| i);
        start = skip;
    }
    while !text.is_char_boundary(start) {
        start += 1;
    }
    let tail = super::secrets::hidden(&text[start..]);
    if start > 0 {
        format!("…{}", tail.trim())
    } else {
        tail.trim().to_string()
    }
}

/// Kills every agent process group still alive: for a process about to exit at once.
pub(crate) fn kill_agent_processes() {
    let groups = std::mem::take(&mut *LIVE_GROUPS.lock().unwrap_or_else(|p| p.into_inner()));
    for pid in groups {
        kill_group(pid);
    }
}

fn kill_group(pid: u32) {
    #[cfg(unix)]
    if let Ok(pid) = i32::try_from(pid) {
        // SAFETY: kill(2) with a negative pid signals that process group; it has no
        // memory-safety preconditions.
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
        }
    }
}

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
            provider_env: suite.load.as_ref().and_then(|l| l.env.clone()),
        })
    }

    pub(crate) async fn call(&self, request: &Request) -> Result<Observation, Failure> {
        let mut command = tokio::process::Command::new(&self.program);
        command
            .args(&self.args)
            .envs(&self.env)
            .envs(request_env(request, self.provider_env.as_deref()))
            .current_dir(&self.cwd)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        // Its own process group, so a wrapper's children (sh, uv run, npm) die with it.
        #[cfg(unix)]
        command.process_group(0);
        let mut child = command
            .spawn()
            .map_err(|e| Failure::new(format!("cannot start `{}`: {e}", self.program)))?;
        // Dropping this (the sample timed out, or it is done) kills the whole group.
        let _group = ProcessGroup::new(child.id());
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
        // stderr is drained to the end on its own task, so a chatty process never blocks
        // or breaks on it; only its tail is kept, for the error message.
        let read_err = tokio::spawn(async move {
            let mut tail = Vec::new();
            let mut cut = false;
            let mut chunk = vec![0u8; 8192];
            while let Ok(n) = stderr.read(&mut chunk).await {
                if n == 0 {
                    break;
                }
                tail.extend_from_slice(&chunk[..n]);
                if tail.len() > 2 * STDERR_TAIL {
                    tail.drain(..tail.len() - STDERR_TAIL);
                    cut = true;
                }
            }
            (tail, cut)
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
        let (err, cut) = read_err.await.unwrap_or_default();
        if !status.success() {
            let tail = stderr_tail(&err, cut);
            return Err(Failure::new(format!(
                "`{}` exited with {status}: {tail}",
                self.program
            )));
        }
        let json = parse_json(&out)?;
        self.response.observe(&json)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_axes_reach_a_command_agent_as_variables() {
        let mut request = Request::new("c", 0, Vec::new());
        request.tier = Some("canned".into());
        request.axes.insert("model".into(), "m-2".into());
        request.axes.insert("tool-catalog".into(), "t-4".into());
        let env: Vec<(String, String)> = request_env(&request, None).collect();
        assert_eq!(
            env,
            [
                ("EVALGATE_TIER".to_string(), "canned".to_string()),
                ("EVALGATE_AXIS_MODEL".to_string(), "m-2".to_string()),
                ("EVALGATE_AXIS_TOOL_CATALOG".to_string(), "t-4".to_string()),
            ]
        );
    }

    #[test]
    fn a_cut_stderr_tail_drops_the_line_the_cut_went_through() {
        let secret = "tok-ABCDEFGHIJKLMNOPQRSTUVWXYZ";
        let stderr = format!("secret={secret}\n{}", "y\n".repeat(1015));
        let tail = stderr_tail(stderr.as_bytes(), false);
        assert!(stderr.len() > STDERR_TAIL);
        assert!(!tail.contains("QRSTUVWXYZ"), "{tail}");
        assert!(tail.starts_with('…'), "{tail}");
        // On one long line, its first 256 bytes go.
        let one_line = format!("secret={secret}{}", "y".repeat(2030));
        let tail = stderr_tail(one_line.as_bytes(), false);
        assert!(!tail.contains("XYZ"), "{tail}");
        // A short stderr is kept whole.
        assert_eq!(stderr_tail(b"boom\n", false), "boom");
    }
}
