//! Child processes of systems under test, whatever their kind: a collector,
//! a backend, a workflow server, a worker. Shared by every kind so that the
//! rules hold everywhere alike:
//!
//! - a child never outlives tracewright: it is killed and reaped when its
//!   owner drops it (on success, on error, while a panic unwinds), and on
//!   Ctrl-C by a handler that kills every child still alive, then exits 130;
//! - its standard output and error go to a log file, whose last lines every
//!   error about it quotes;
//! - every wait is bounded, and a child that exits while being waited for is
//!   reported at once rather than after the timeout;
//! - it listens on loopback ports that [`free_port`] found free; a port is
//!   not reused before the process that held it has been reaped
//!   ([`Process::stop`] and [`Process::crash`] wait for it).

use std::fs::File;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, MutexGuard, Once};
use std::thread;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

type Shared = Arc<Mutex<Child>>;

static CHILDREN: Mutex<Vec<Shared>> = Mutex::new(Vec::new());
static HANDLER: Once = Once::new();

/// How many of a log's last lines an error quotes.
pub const LOG_LINES: usize = 20;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn kill_and_reap(child: &Shared) {
    let mut c = lock(child);
    let _ = c.kill();
    let _ = c.wait();
}

fn install_handler() {
    HANDLER.call_once(|| {
        // When another command owns the process's Ctrl-C handler (`check`
        // does), the terminal's SIGINT still reaches the children, which are
        // in our process group.
        let _ = ctrlc::set_handler(|| {
            for c in lock(&CHILDREN).drain(..) {
                kill_and_reap(&c);
            }
            std::process::exit(130);
        });
    });
}

/// A loopback port that was free a moment ago.
pub fn free_port(sut: &str) -> Result<u16> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| Error::Sut { sut: sut.into(), headline: format!("cannot find a free loopback port: {e}"), hint: None })
}

/// The last `n` lines of a log file, indented for an error message.
pub fn log_tail(path: &Path, n: usize) -> String {
    let bytes = std::fs::read(path).unwrap_or_default();
    let text = String::from_utf8_lossy(&bytes);
    let lines: Vec<&str> = text.lines().collect();
    let tail = &lines[lines.len().saturating_sub(n)..];
    if tail.is_empty() { "(the log is empty)".to_string() } else { tail.join("\n    ") }
}

/// A running child process owned by tracewright.
pub struct Process {
    /// What the process is, for messages: `otelcol on 127.0.0.1:4318`.
    name: String,
    child: Shared,
    log: PathBuf,
    started: Instant,
}

impl Process {
    /// Starts `command` with standard input closed and its output appended
    /// to `log`. `hint` says how to install the program when it cannot start.
    pub fn spawn(name: &str, mut command: Command, log: &Path, hint: &str) -> Result<Process> {
        install_handler();
        let out = File::options().create(true).append(true).open(log).map_err(|e| Error::io(log, "open", e))?;
        let err = out.try_clone().map_err(|e| Error::io(log, "open", e))?;
        let program = command.get_program().to_string_lossy().into_owned();
        let child = command
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(|e| Error::Sut { sut: name.into(), headline: format!("cannot start {program}: {e}"), hint: Some(hint.into()) })?;
        let child = Arc::new(Mutex::new(child));
        lock(&CHILDREN).push(child.clone());
        Ok(Process { name: name.to_string(), child, log: log.to_path_buf(), started: Instant::now() })
    }

    /// Takes ownership of a child spawned by the caller (one that needs
    /// pipes to talk over, such as a protocol driver) whose output goes to
    /// `log`: from now on the same rules hold for it as for [`Process::spawn`].
    pub fn adopt(name: &str, child: Child, log: &Path) -> Process {
        install_handler();
        let child = Arc::new(Mutex::new(child));
        lock(&CHILDREN).push(child.clone());
        Process { name: name.to_string(), child, log: log.to_path_buf(), started: Instant::now() }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn id(&self) -> u32 {
        lock(&self.child).id()
    }

    pub fn log(&self) -> &Path {
        &self.log
    }

    /// The exit status, if the process has exited.
    pub fn exited(&self) -> Option<ExitStatus> {
        lock(&self.child).try_wait().ok().flatten()
    }

    /// An error about this process, quoting the end of its log.
    pub fn failure(&self, headline: impl Into<String>) -> Error {
        Error::Sut {
            sut: self.name.clone(),
            headline: format!("{}; its log ends:\n    {}", headline.into(), log_tail(&self.log, LOG_LINES)),
            hint: Some(format!("the whole log is {}", self.log.display())),
        }
    }

    /// Polls `ready` every `every` until it says yes, the process exits, or
    /// `timeout` passes since the process started. Returns the time from
    /// the start to readiness.
    pub fn wait_ready(&self, timeout: Duration, every: Duration, mut ready: impl FnMut() -> bool) -> Result<Duration> {
        loop {
            if let Some(status) = self.exited() {
                return Err(self.failure(format!("it exited ({status}) before it was ready")));
            }
            if ready() {
                return Ok(self.started.elapsed());
            }
            if self.started.elapsed() > timeout {
                return Err(self.failure(format!("it was not ready within {:.0} s", timeout.as_secs_f64())));
            }
            thread::sleep(every);
        }
    }

    /// SIGKILL, as a crash: nothing is flushed. Returns once the process is
    /// reaped, so its ports can be reused.
    pub fn crash(self) {
        // Drop kills and reaps.
    }

    /// SIGTERM, then waits up to `grace` for the process to exit on its own
    /// (flushing what it holds) before killing it. Returns how it ended.
    pub fn stop(self, grace: Duration) -> StopOutcome {
        let pid = self.id();
        // SAFETY: kill(2) with a pid we spawned and have not reaped (the
        // child is reaped only through `self.child`, which we hold).
        let sent = unsafe { libc::kill(pid as libc::pid_t, libc::SIGTERM) } == 0;
        let deadline = Instant::now() + grace;
        while sent && Instant::now() < deadline {
            if let Some(status) = self.exited() {
                return StopOutcome::Exited(status);
            }
            thread::sleep(Duration::from_millis(20));
        }
        StopOutcome::Killed
    }
}

/// How [`Process::stop`] ended a process.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopOutcome {
    /// It exited by itself after SIGTERM.
    Exited(ExitStatus),
    /// It was still running when the grace period ended, and was killed.
    Killed,
}

impl Drop for Process {
    fn drop(&mut self) {
        kill_and_reap(&self.child);
        lock(&CHILDREN).retain(|c| !Arc::ptr_eq(c, &self.child));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str) -> Command {
        let mut c = Command::new("sh");
        c.args(["-c", script]);
        c
    }

    #[test]
    fn a_process_that_exits_early_is_reported_with_its_log() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("log");
        let p = Process::spawn("sh", sh("echo starting; echo bad config >&2; exit 3"), &log, "none").unwrap();
        let e = p.wait_ready(Duration::from_secs(5), Duration::from_millis(10), || false).unwrap_err().render();
        assert!(e.contains("exited") && e.contains("bad config"), "{e}");
    }

    #[test]
    fn readiness_is_bounded_and_drop_reaps() {
        let dir = tempfile::tempdir().unwrap();
        let p = Process::spawn("sleeper", sh("sleep 30"), &dir.path().join("log"), "none").unwrap();
        let pid = p.id();
        let e = p.wait_ready(Duration::from_millis(200), Duration::from_millis(10), || false).unwrap_err().render();
        assert!(e.contains("not ready within"), "{e}");
        drop(p);
        // Reaped: no such process any more (kill with signal 0 fails).
        assert_ne!(unsafe { libc::kill(pid as libc::pid_t, 0) }, 0);
    }

    #[test]
    fn stop_lets_a_process_exit_on_sigterm() {
        let dir = tempfile::tempdir().unwrap();
        let p = Process::spawn("term", sh("trap 'exit 0' TERM; while :; do sleep 0.01; done"), &dir.path().join("log"), "none").unwrap();
        thread::sleep(Duration::from_millis(100));
        assert!(matches!(p.stop(Duration::from_secs(5)), StopOutcome::Exited(_)));
    }

    #[test]
    fn missing_program_names_the_hint() {
        let dir = tempfile::tempdir().unwrap();
        let e = Process::spawn("ghost", Command::new("/nonexistent/otelcol"), &dir.path().join("log"), "run ci/install-pipeline.sh")
            .err()
            .unwrap()
            .render();
        assert!(e.contains("cannot start /nonexistent/otelcol") && e.contains("ci/install-pipeline.sh"), "{e}");
    }
}
