//! The saga worker driver: `drivers/temporal/driver.py` (Python SDK
//! `temporalio`) behind the JSON-lines protocol of
//! `drivers/temporal/PROTOCOL.md`.
//!
//! Every answer is awaited with a timeout (a reader thread feeds a channel
//! read with `recv_timeout`); the driver's stderr goes to a log file whose
//! tail error messages quote; the process is owned by
//! [`crate::sut::process`], so it is killed and reaped on drop and on
//! Ctrl-C. A
//! verdict is decided from the answers only, never from the exit status: the
//! Python client may abort at interpreter exit (sdk-python #300).

use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread;
use std::time::Duration;

use serde::Deserialize;
use serde_json::{json, Value as Json};

use super::server::INSTALL_HINT;
use crate::error::{Error, Result};
use crate::sut::process::Process;

/// The protocol version this tracewright speaks.
pub const PROTOCOL: u64 = 1;

/// How long one answer may take unless an op says otherwise: a cold start of
/// two Python worker processes on a busy two-core machine takes seconds.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Clone, Debug, Deserialize)]
pub struct Hello {
    pub protocol: u64,
    pub sdk: String,
    pub sdk_version: String,
    pub otel_sdk_version: String,
    pub language_version: String,
}

/// One attempt the activity worker was handed.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct Attempt {
    pub activity_id: String,
    #[serde(rename = "type")]
    pub ty: String,
    pub attempt: u32,
    /// The outcome given, `crash` after a kill, `None` while it runs.
    pub outcome: Option<String>,
}

/// One effect the activities applied: `do` by a step, `undo` by a
/// compensation.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct Effect {
    pub step: u32,
    pub op: String,
    #[serde(rename = "type")]
    pub ty: String,
    pub attempt: u32,
}

/// An activity the server holds pending (DescribeWorkflowExecution): the
/// attempt it is on, and `PENDING_ACTIVITY_STATE_SCHEDULED` or `…_STARTED`.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct Pending {
    pub activity_id: String,
    pub attempt: u32,
    pub state: String,
}

/// What the driver saw at one moment: the server's history (the SDK's JSON
/// events), the workflow's status, the server's pending activities, the
/// attempts and the effects.
#[derive(Clone, Debug, Deserialize)]
pub struct Observation {
    pub history: Vec<Json>,
    pub status: Option<String>,
    pub pending: Vec<Pending>,
    pub attempts: Vec<Attempt>,
    pub ledger: Vec<Effect>,
}

/// The Replayer's answer.
#[derive(Clone, Debug, Deserialize)]
pub struct Replayed {
    pub variant: String,
    pub failed: bool,
    pub error_type: Option<String>,
    pub error: Option<String>,
}

/// The saga's parameters, from the model's constants.
#[derive(Clone, Debug, serde::Serialize)]
pub struct SagaConfig {
    pub steps: u32,
    pub max_attempts: u32,
    pub compensation: String,
    pub export: String,
    pub bugs: Vec<String>,
}

/// Where a saga runs and where its observations go.
#[derive(Clone, Debug)]
pub struct SagaRun<'a> {
    pub address: &'a str,
    pub namespace: &'a str,
    pub task_queue: &'a str,
    pub workflow_id: &'a str,
    pub spans_file: &'a Path,
    pub ledger_file: &'a Path,
    pub history_file: &'a Path,
}

enum Line {
    Out(String),
    Closed,
}

pub struct SagaDriver {
    stdin: ChildStdin,
    lines: Receiver<Line>,
    next_id: u64,
    command: String,
    // Dropped last: the process is killed once its stdin is closed; then its
    // log directory goes.
    process: Process,
    _dir: tempfile::TempDir,
}

impl SagaDriver {
    /// Starts the driver from where `ci/install-temporal.sh` installs its
    /// Python, and checks its `hello`.
    pub fn launch(root: &Path) -> Result<(SagaDriver, Hello)> {
        Self::launch_with(root, &[])
    }

    /// [`SagaDriver::launch`] with extra environment variables for the
    /// driver (`TRACEWRIGHT_TEMPORAL_ABORT_AT_EXIT=1` makes it abort after
    /// its last answer, as the Python client can at interpreter exit).
    pub fn launch_with(root: &Path, env: &[(String, String)]) -> Result<(SagaDriver, Hello)> {
        let root = &std::path::absolute(root).map_err(|e| Error::io(root, "resolve", e))?;
        let python = root.join(".venv/bin/python");
        let script = root.join("drivers/temporal/driver.py");
        if !python.is_file() || !script.is_file() {
            return Err(Error::Sut {
                sut: "temporal driver".into(),
                headline: format!("not installed ({} or {} is missing)", python.display(), script.display()),
                hint: Some(INSTALL_HINT.into()),
            });
        }
        let command = format!("cd {} && {} drivers/temporal/driver.py", root.display(), python.display());
        let dir = tempfile::tempdir().map_err(|e| Error::io(Path::new("/tmp"), "create a directory for the driver log", e))?;
        let log = dir.path().join("temporal-driver.log");
        let stderr = File::create(&log).map_err(|e| Error::io(&log, "create", e))?;
        let mut child = Command::new(&python)
            .arg(&script)
            .current_dir(root)
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .env("PYTHONUNBUFFERED", "1")
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .map_err(|e| Error::Sut { sut: "temporal driver".into(), headline: format!("cannot start `{command}`: {e}"), hint: Some(INSTALL_HINT.into()) })?;
        let (stdin, stdout) = (child.stdin.take(), child.stdout.take());
        let process = Process::adopt("temporal driver", child, &log);
        let (Some(stdin), Some(stdout)) = (stdin, stdout) else {
            return Err(process.failure("no pipes to the driver"));
        };
        let (tx, lines) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                match line {
                    Ok(l) => {
                        if tx.send(Line::Out(l)).is_err() {
                            return;
                        }
                    }
                    Err(_) => break,
                }
            }
            let _ = tx.send(Line::Closed);
        });
        let mut driver = SagaDriver { stdin, lines, next_id: 1, command, process, _dir: dir };
        let hello: Hello = driver.call("hello", json!({}), DEFAULT_TIMEOUT)?;
        if hello.protocol != PROTOCOL {
            return Err(driver.error(format!("speaks protocol {}, this tracewright speaks {PROTOCOL}", hello.protocol)));
        }
        Ok((driver, hello))
    }

    fn error(&self, headline: String) -> Error {
        match self.process.failure(headline) {
            Error::Sut { sut, headline, .. } => Error::Sut { sut, headline, hint: Some(format!("reproduce with `{}`", self.command)) },
            other => other,
        }
    }

    /// One request, one answer within `timeout`; `ok: false` is an error
    /// carrying the driver's message.
    pub fn request(&mut self, op: &str, mut fields: Json, timeout: Duration) -> Result<Json> {
        let id = self.next_id;
        self.next_id += 1;
        if let Json::Object(m) = &mut fields {
            m.insert("v".into(), json!(PROTOCOL));
            m.insert("id".into(), json!(id));
            m.insert("op".into(), json!(op));
        }
        let line = format!("{fields}\n");
        if let Err(e) = self.stdin.write_all(line.as_bytes()).and_then(|_| self.stdin.flush()) {
            return Err(self.error(format!("`{op}` could not be sent: {e}")));
        }
        let answer = match self.lines.recv_timeout(timeout) {
            Ok(Line::Out(l)) => l,
            Ok(Line::Closed) | Err(RecvTimeoutError::Disconnected) => {
                return Err(self.error(format!("exited without answering `{op}`")));
            }
            Err(RecvTimeoutError::Timeout) => {
                return Err(self.error(format!("no answer to `{op}` within {} s", timeout.as_secs())));
            }
        };
        let v: Json = serde_json::from_str(&answer)
            .map_err(|e| self.error(format!("answered `{op}` with a line that is not JSON ({e}): {}", answer.chars().take(200).collect::<String>())))?;
        if v.get("id").and_then(Json::as_u64) != Some(id) || v.get("v").and_then(Json::as_u64) != Some(PROTOCOL) {
            return Err(self.error(format!("answered request {id} (`{op}`) with a line of another id or version: {}", answer.chars().take(200).collect::<String>())));
        }
        match v.get("ok").and_then(Json::as_bool) {
            Some(true) => Ok(v),
            Some(false) => {
                let msg = v.get("error").and_then(Json::as_str).unwrap_or("no message").to_string();
                Err(self.error(format!("`{op}` failed: {msg}")))
            }
            None => Err(self.error(format!("answered `{op}` without `ok`"))),
        }
    }

    fn call<T: serde::de::DeserializeOwned>(&mut self, op: &str, fields: Json, timeout: Duration) -> Result<T> {
        let v = self.request(op, fields, timeout)?;
        serde_json::from_value(v).map_err(|e| self.error(format!("answered `{op}` with unexpected fields: {e}")))
    }

    /// Connects the client and starts the workflow and activity workers.
    pub fn start(&mut self, run: &SagaRun<'_>, config: &SagaConfig) -> Result<Json> {
        let fields = json!({
            "address": run.address, "namespace": run.namespace, "task_queue": run.task_queue,
            "workflow_id": run.workflow_id, "spans_file": run.spans_file, "ledger_file": run.ledger_file,
            "history_file": run.history_file, "config": config,
        });
        self.request("start", fields, DEFAULT_TIMEOUT)
    }

    /// One model action, as `{"kind": …, "act": …, "outcome": …, "proc": …}`.
    pub fn act(&mut self, action: Json, timeout: Duration) -> Result<Json> {
        let secs = timeout.as_secs_f64();
        self.request("act", json!({"action": action, "timeout": secs}), timeout + Duration::from_secs(10))
    }

    pub fn observe(&mut self) -> Result<Observation> {
        self.call("observe", json!({}), DEFAULT_TIMEOUT)
    }

    /// Replays the history file against a saga variant with the SDK's
    /// Replayer (no server).
    pub fn replay(&mut self, history_file: &Path, variant: &str) -> Result<Replayed> {
        self.call("replay", json!({"history_file": history_file, "variant": variant}), DEFAULT_TIMEOUT)
    }

    /// Asks the driver to kill its workers and exit; the process is killed
    /// on drop in any case.
    pub fn shutdown(mut self) -> Result<()> {
        self.request("shutdown", json!({}), Duration::from_secs(20)).map(|_| ())
    }

    pub fn pid(&self) -> u32 {
        self.process.id()
    }
}
