//! A driver process: an SDK in another language behind the JSON-lines protocol
//! of `drivers/PROTOCOL.md`.
//!
//! A driver is a child process that may be missing, hang, crash or print
//! something that is not protocol. None of that may hang tracewright or leave
//! a process behind: every response is awaited with a timeout (a reader thread
//! feeds a channel that is read with `recv_timeout`), the driver's stderr is
//! kept for the error message, and the child is killed and reaped when the
//! [`DriverProcess`] is dropped — on success, on error and while a panic
//! unwinds.

use std::collections::VecDeque;
use std::ffi::OsString;
use std::fmt;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use serde::de::DeserializeOwned;
use serde_json::Value;

use super::{
    Envelope, Extract, Extracted, FinishedSpan, Hello, Inject, Injected, PROTOCOL, Request, Sdk,
    SdkKind, ServiceConfig, SpansResponse, StartSpan, StartedSpan,
};
use crate::error::{Error, Result};

/// How long a driver may take to answer one request, unless changed with
/// [`DriverProcess::with_timeout`]. Generous: a cold Python start on a busy
/// two-core machine takes a few seconds; a healthy answer takes milliseconds.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(20);

/// How many of the driver's last stderr lines an error message quotes.
const STDERR_LINES: usize = 12;

const INSTALL_HINT: &str = "run `bash ci/install-drivers.sh` from the repository root";

/// The Java driver has its own install script (a Maven build).
const JAVA_INSTALL_HINT: &str = "run `bash ci/install-java.sh` from the repository root";

fn install_hint(kind: SdkKind) -> &'static str {
    match kind {
        SdkKind::Java => JAVA_INSTALL_HINT,
        _ => INSTALL_HINT,
    }
}

/// How to start a driver: a program, its arguments and its working directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DriverCommand {
    pub program: PathBuf,
    pub args: Vec<OsString>,
    pub dir: PathBuf,
}

impl fmt::Display for DriverCommand {
    /// The command as a shell line, for "reproduce with" hints.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cd {} && {}", self.dir.display(), self.program.display())?;
        for arg in &self.args {
            write!(f, " {}", arg.to_string_lossy())?;
        }
        Ok(())
    }
}

/// Where `ci/install-drivers.sh` (`ci/install-java.sh` for Java) puts each
/// driver, relative to the repository root, and the file whose presence says
/// it is installed.
fn driver_command(kind: SdkKind, repo_root: &Path) -> Option<(DriverCommand, PathBuf)> {
    let dir = repo_root.to_path_buf();
    let (program, args, marker) = match kind {
        SdkKind::Rust => return None,
        SdkKind::Python => {
            let python = repo_root.join(".venv/bin/python");
            (python.clone(), vec!["drivers/python/driver.py".into()], python)
        }
        SdkKind::Js => (
            PathBuf::from("node"),
            vec!["drivers/js/driver.js".into()],
            repo_root.join("drivers/js/node_modules/@opentelemetry/sdk-trace-base/package.json"),
        ),
        SdkKind::Go => {
            let binary = repo_root.join("target/drivers/go-driver");
            (binary.clone(), Vec::new(), binary)
        }
        SdkKind::Java => {
            let jar = repo_root.join("target/drivers/java-driver.jar");
            (PathBuf::from("java"), vec!["-jar".into(), jar.clone().into()], jar)
        }
    };
    Some((DriverCommand { program, args, dir }, marker))
}

fn in_process(kind: SdkKind) -> Error {
    Error::Sut {
        sut: format!("{kind} SDK"),
        headline: "runs in-process and has no driver".into(),
        hint: Some(
            "open it with `tracewright::sut::sdk::open`, which returns the in-process SDK".into(),
        ),
    }
}

/// Whether the driver for `kind` is installed under `repo_root`; the error
/// says what is missing and to run `bash ci/install-drivers.sh`.
pub fn installed(kind: SdkKind, repo_root: &Path) -> Result<()> {
    let Some((_, marker)) = driver_command(kind, repo_root) else {
        return Ok(());
    };
    if marker.exists() {
        Ok(())
    } else {
        Err(Error::Sut {
            sut: format!("{kind} driver"),
            headline: format!("not installed ({} is missing)", marker.display()),
            hint: Some(install_hint(kind).into()),
        })
    }
}

/// Starts the driver for `kind` from where `ci/install-drivers.sh` installs it
/// under `repo_root`, and checks its `hello`: the protocol must not be newer
/// than this tracewright's and the SDK must be the one asked for.
pub fn launch(kind: SdkKind, repo_root: &Path) -> Result<DriverProcess> {
    installed(kind, repo_root)?;
    let Some((command, _)) = driver_command(kind, repo_root) else {
        return Err(in_process(kind));
    };
    let mut driver = DriverProcess::spawn(&format!("{kind} driver"), command)?;
    match driver.handshake(kind) {
        Ok(_) => Ok(driver),
        Err(Error::Sut { sut, headline, hint }) => {
            // A driver that cannot even say hello is most often a broken install.
            let install = install_hint(kind);
            let hint = match hint {
                Some(hint) => format!("{install} if the driver is broken; {hint}"),
                None => install.to_string(),
            };
            Err(Error::Sut { sut, headline, hint: Some(hint) })
        }
        Err(e) => Err(e),
    }
}

/// A running driver. Requests are answered one at a time, in order.
pub struct DriverProcess {
    sut: String,
    command: DriverCommand,
    child: Child,
    stdin: Option<ChildStdin>,
    responses: Receiver<String>,
    stderr: Arc<Mutex<VecDeque<String>>>,
    /// Disconnects when the stderr reader has read everything.
    stderr_closed: Receiver<()>,
    next_id: u64,
    timeout: Duration,
    /// Set once the conversation can no longer be trusted (a timeout, an
    /// exit, a garbled line): later requests fail at once with this reason
    /// instead of reading a late answer as theirs.
    broken: Option<String>,
}

impl DriverProcess {
    /// Starts `command` with piped stdio. `sut` names the driver in messages
    /// ("python driver").
    pub fn spawn(sut: &str, command: DriverCommand) -> Result<DriverProcess> {
        let mut child = Command::new(&command.program)
            .args(&command.args)
            .current_dir(&command.dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| Error::Sut {
                sut: sut.to_string(),
                headline: format!("cannot start `{command}`: {e}"),
                hint: Some(INSTALL_HINT.into()),
            })?;
        let stdin = child.stdin.take();
        let (stdout, stderr_pipe) = match (child.stdout.take(), child.stderr.take()) {
            (Some(out), Some(err)) => (out, err),
            _ => unreachable!("stdout and stderr were requested as pipes"),
        };

        let (tx, responses) = mpsc::channel();
        thread::Builder::new()
            .name(format!("{sut} stdout"))
            .spawn(move || {
                // Lossy: a line that is not UTF-8 is reported as out of
                // protocol rather than ending the conversation unexplained.
                let mut stdout = BufReader::new(stdout);
                let mut line = Vec::new();
                while matches!(stdout.read_until(b'\n', &mut line), Ok(n) if n > 0) {
                    let text =
                        String::from_utf8_lossy(&line).trim_end_matches(['\r', '\n']).to_string();
                    if tx.send(text).is_err() {
                        break;
                    }
                    line.clear();
                }
            })
            .map_err(|e| spawn_thread_failed(sut, e))?;

        let stderr = Arc::new(Mutex::new(VecDeque::new()));
        let tail = Arc::clone(&stderr);
        let (closed_tx, stderr_closed) = mpsc::channel::<()>();
        thread::Builder::new()
            .name(format!("{sut} stderr"))
            .spawn(move || {
                let _closed = closed_tx;
                for line in BufReader::new(stderr_pipe).lines() {
                    let Ok(line) = line else { break };
                    let mut tail = tail.lock().unwrap_or_else(|p| p.into_inner());
                    if tail.len() == STDERR_LINES {
                        tail.pop_front();
                    }
                    tail.push_back(line);
                }
            })
            .map_err(|e| spawn_thread_failed(sut, e))?;

        Ok(DriverProcess {
            sut: sut.to_string(),
            command,
            child,
            stdin,
            responses,
            stderr,
            stderr_closed,
            next_id: 1,
            timeout: DEFAULT_TIMEOUT,
            broken: None,
        })
    }

    /// Changes how long one request may take.
    pub fn with_timeout(mut self, timeout: Duration) -> DriverProcess {
        self.timeout = timeout;
        self
    }

    pub fn command(&self) -> &DriverCommand {
        &self.command
    }

    /// Says hello and checks the answer: a protocol newer than
    /// [`PROTOCOL`] or an SDK other than `expected` is refused.
    pub fn handshake(&mut self, expected: SdkKind) -> Result<Hello> {
        let hello = self.hello()?;
        if hello.protocol > PROTOCOL {
            return Err(self.error(
                format!(
                    "speaks protocol version {}, but this tracewright speaks version {PROTOCOL}",
                    hello.protocol
                ),
                Some(
                    "upgrade tracewright, or use a driver from this tracewright's repository"
                        .into(),
                ),
            ));
        }
        if hello.sdk != expected.name() {
            return Err(self.error(
                format!("reports SDK `{}`, expected `{expected}`", hello.sdk),
                Some(format!("check the driver started by `{}`", self.command)),
            ));
        }
        Ok(hello)
    }

    fn error(&self, headline: String, hint: Option<String>) -> Error {
        Error::Sut { sut: self.sut.clone(), headline, hint }
    }

    /// The error for a conversation that broke, with the driver's stderr and
    /// the command that starts it.
    fn broke(&mut self, reason: String) -> Error {
        self.broken = Some(format!("an earlier request failed: {reason}"));
        if matches!(self.child.try_wait(), Ok(Some(_))) {
            // The driver is gone: let the reader catch its last words.
            let _ = self.stderr_closed.recv_timeout(Duration::from_millis(500));
        }
        let stderr: Vec<String> =
            self.stderr.lock().unwrap_or_else(|p| p.into_inner()).iter().cloned().collect();
        let mut hint = format!("the driver runs as `{}`", self.command);
        if stderr.is_empty() {
            hint.push_str("; it wrote nothing to stderr");
        } else {
            hint.push_str("; its stderr ended with:\n      ");
            hint.push_str(&stderr.join("\n      "));
        }
        self.error(reason, Some(hint))
    }

    /// Sends one line and waits for one response line.
    fn exchange(&mut self, op: &str, line: &str) -> Result<String> {
        if let Some(reason) = &self.broken {
            return Err(self.error(format!("cannot send `{op}`: {reason}"), None));
        }
        let written = match self.stdin.as_mut() {
            Some(stdin) => stdin
                .write_all(line.as_bytes())
                .and_then(|()| stdin.write_all(b"\n"))
                .and_then(|()| stdin.flush()),
            None => Err(std::io::Error::other("stdin is closed")),
        };
        if let Err(e) = written {
            let status = self.wait_briefly();
            return Err(self.broke(format!("cannot send `{op}` ({e}); {}", describe_exit(status))));
        }
        match self.responses.recv_timeout(self.timeout) {
            Ok(response) => Ok(response),
            Err(RecvTimeoutError::Timeout) => {
                Err(self.broke(format!("did not answer `{op}` within {:.1?}", self.timeout)))
            }
            Err(RecvTimeoutError::Disconnected) => {
                let status = self.wait_briefly();
                Err(self.broke(format!("{} before answering `{op}`", describe_exit(status))))
            }
        }
    }

    /// The exit status, if the driver has exited or does so within a moment
    /// (its stdout closes just before it exits).
    fn wait_briefly(&mut self) -> Option<ExitStatus> {
        let deadline = Instant::now() + Duration::from_millis(500);
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => return Some(status),
                Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(10)),
                _ => return None,
            }
        }
    }

    /// Sends `request` and returns the response object, checked for the id.
    fn send(&mut self, request: Request) -> Result<Value> {
        let op = request.op();
        let id = self.next_id;
        self.next_id += 1;
        let line = serde_json::to_string(&Envelope { id, request })
            .map_err(|e| self.error(format!("cannot encode `{op}`: {e}"), None))?;
        let response = self.exchange(op, &line)?;
        let value: Value = match serde_json::from_str(&response) {
            Ok(v @ Value::Object(_)) => v,
            _ => {
                return Err(self.broke(format!(
                    "answered `{op}` with a line that is not a JSON object: {response}"
                )));
            }
        };
        if value.get("id").and_then(Value::as_u64) != Some(id) {
            return Err(
                self.broke(format!("answered request {id} (`{op}`) with the wrong id: {response}"))
            );
        }
        if value.get("ok").and_then(Value::as_bool) != Some(true) {
            let message =
                value.get("error").and_then(Value::as_str).unwrap_or("(no error message)");
            return Err(self.error(format!("refused `{op}`: {message}"), None));
        }
        Ok(value)
    }

    /// Sends `request` and decodes the response's result fields as `T`.
    fn call<T: DeserializeOwned>(&mut self, request: Request) -> Result<T> {
        let op = request.op();
        let value = self.send(request)?;
        serde_json::from_value(value.clone()).map_err(|e| {
            self.error(format!("answered `{op}` out of protocol ({e}): {value}"), None)
        })
    }
}

fn describe_exit(status: Option<ExitStatus>) -> String {
    match status {
        Some(status) => format!("exited ({status})"),
        None => "closed its stdout".to_string(),
    }
}

fn spawn_thread_failed(sut: &str, e: std::io::Error) -> Error {
    Error::Sut {
        sut: sut.to_string(),
        headline: format!("cannot start a reader thread: {e}"),
        hint: None,
    }
}

impl Sdk for DriverProcess {
    fn hello(&mut self) -> Result<Hello> {
        self.call(Request::Hello)
    }

    fn configure(&mut self, services: &[ServiceConfig]) -> Result<()> {
        self.send(Request::Configure { services: services.to_vec() }).map(drop)
    }

    fn start_span(&mut self, request: &StartSpan) -> Result<StartedSpan> {
        self.call(Request::StartSpan(request.clone()))
    }

    fn inject(&mut self, request: &Inject) -> Result<Injected> {
        self.call(Request::Inject(request.clone()))
    }

    fn extract(&mut self, request: &Extract) -> Result<Extracted> {
        self.call(Request::Extract(request.clone()))
    }

    fn end_span(&mut self, span: &str) -> Result<()> {
        self.send(Request::EndSpan { span: span.to_string() }).map(drop)
    }

    fn spans(&mut self) -> Result<Vec<FinishedSpan>> {
        self.call::<SpansResponse>(Request::Spans).map(|r| r.spans)
    }

    fn reset(&mut self) -> Result<()> {
        self.send(Request::Reset).map(drop)
    }

    /// Asks the driver to shut down and waits (up to the timeout) for it to
    /// exit with status 0.
    fn shutdown(&mut self) -> Result<()> {
        self.send(Request::Shutdown)?;
        self.stdin = None;
        let deadline = Instant::now() + self.timeout;
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) if status.success() => {
                    self.broken = Some("the driver was shut down".into());
                    return Ok(());
                }
                Ok(Some(status)) => {
                    return Err(
                        self.broke(format!("answered `shutdown` but then exited ({status})"))
                    );
                }
                Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(10)),
                Ok(None) => {
                    return Err(self.broke(format!(
                        "answered `shutdown` but had not exited {:.1?} later",
                        self.timeout
                    )));
                }
                Err(e) => {
                    return Err(self.broke(format!("cannot wait for the driver to exit: {e}")));
                }
            }
        }
    }

    fn raw(&mut self, line: &str) -> Result<Value> {
        if line.contains('\n') {
            // Two lines would get two responses and desynchronise the stream.
            return Err(self.error("a raw request must be one line".into(), None));
        }
        let response = self.exchange("a raw request", line)?;
        serde_json::from_str(&response).map_err(|_| {
            self.broke(format!("answered a raw request with a line that is not JSON: {response}"))
        })
    }
}

impl Drop for DriverProcess {
    fn drop(&mut self) {
        // Closing stdin first lets a healthy driver exit by itself; the kill
        // covers one that hangs. Both are harmless on a driver already gone.
        self.stdin = None;
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
