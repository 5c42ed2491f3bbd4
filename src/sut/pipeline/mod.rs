//! Pipelines under test: the collectors (and the backend) between an SDK and
//! the oracle, each a real child process on loopback ports.
//!
//! - `collector`: the official OpenTelemetry Collector, built from
//!   `drivers/collector/manifest.yaml` into `target/collector/`;
//! - `rotel`: the `rotel-agent` of PyPI `rotel`, in the project's `.venv`;
//! - `jaeger`: Jaeger v2 (`target/jaeger/jaeger`), behind the official
//!   collector, read back through its query API.
//!
//! `bash ci/install-pipeline.sh` installs all three. A [`Collector`] is one
//! collector process with a configuration generated for the run: OTLP in on
//! two fresh ports (HTTP and gRPC), OTLP out to a given target (tracewright's
//! sink, or Jaeger), batching, and the retry and queue behaviour asked for.

pub mod jaeger;

use std::collections::BTreeMap;
use std::fmt;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::str::FromStr;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::sut::process::{self, Process};

/// How long a collector may take to listen after it starts.
pub const READY_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a collector may take to exit after SIGTERM.
pub const STOP_GRACE: Duration = Duration::from_secs(15);

fn free_port() -> Result<u16> {
    process::free_port("pipeline")
}

/// Whether something accepts connections on 127.0.0.1:`port`.
pub fn listening(port: u16) -> bool {
    TcpStream::connect_timeout(&SocketAddr::from(([127, 0, 0, 1], port)), Duration::from_millis(200)).is_ok()
}

/// Waits until each port can be bound again (its old owner is gone), at
/// most `timeout`.
fn wait_ports_free(ports: &[u16], timeout: Duration, what: &str) -> Result<()> {
    let deadline = Instant::now() + timeout;
    for &port in ports {
        while TcpListener::bind(("127.0.0.1", port)).is_err() {
            if Instant::now() >= deadline {
                return Err(Error::Sut {
                    sut: what.into(),
                    headline: format!("port {port} is still in use {timeout:?} after the old process was reaped"),
                    hint: None,
                });
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    Ok(())
}

/// The set-up command that installs every pipeline binary.
pub const INSTALL: &str = "bash ci/install-pipeline.sh";

/// The collectors tracewright drives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// The official OpenTelemetry Collector (built with the Collector Builder).
    Collector,
    /// rotel, a collector written in Rust.
    Rotel,
}

impl Kind {
    pub const ALL: [Kind; 2] = [Kind::Collector, Kind::Rotel];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Collector => "collector",
            Kind::Rotel => "rotel",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Kind {
    type Err = Error;

    fn from_str(s: &str) -> Result<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == s).ok_or_else(|| {
            Error::usage(format!("unknown collector `{s}`"), Some("name one of collector, rotel"))
        })
    }
}

fn missing(what: &str, path: &Path) -> Error {
    Error::Sut {
        sut: what.to_string(),
        headline: format!("{what} is not installed: {} does not exist", path.display()),
        hint: Some(format!("run `{INSTALL}` in {} to build and install it", project_dir(path).display())),
    }
}

/// The checkout a binary path is in (for the hint), best effort.
fn project_dir(path: &Path) -> PathBuf {
    path.ancestors()
        .find(|p| p.join("ci/install-pipeline.sh").is_file())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// Where the official collector is built.
pub fn collector_binary(root: &Path) -> Result<PathBuf> {
    let path = root.join("target/collector/otelcol-tracewright");
    if path.is_file() { Ok(path) } else { Err(missing("the OpenTelemetry Collector", &path)) }
}

/// Where pip put `rotel-agent` in the project's venv.
pub fn rotel_binary(root: &Path) -> Result<PathBuf> {
    let lib = root.join(".venv/lib");
    let found = std::fs::read_dir(&lib).ok().and_then(|dirs| {
        dirs.flatten()
            .map(|d| d.path().join("site-packages/rotel/rotel-agent"))
            .find(|p| p.is_file())
    });
    found.ok_or_else(|| missing("rotel", &lib.join("python3.*/site-packages/rotel/rotel-agent")))
}

/// Where Jaeger is built.
pub fn jaeger_binary(root: &Path) -> Result<PathBuf> {
    let path = root.join("target/jaeger/jaeger");
    if path.is_file() { Ok(path) } else { Err(missing("Jaeger", &path)) }
}

/// How a collector sends OTLP on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    Http,
    Grpc,
}

impl Protocol {
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Http => "http",
            Protocol::Grpc => "grpc",
        }
    }
}

/// What a collector's exporter does with a batch.
#[derive(Clone, Debug)]
pub struct Options {
    /// The exporter's protocol towards the target.
    pub protocol: Protocol,
    /// Whether a failed export is retried (off: a refused batch is lost).
    pub retry: bool,
    /// A persistent sending queue (file_storage, in a directory kept across
    /// restarts) that survives a crash, with no batch processor in front of
    /// it (official collector only).
    pub persistent_queue: bool,
    /// The contrib tail_sampling processor with the status_code policy
    /// (keep a trace with an ERROR span), deciding this long after a trace's
    /// first span arrived (official collector only).
    pub tail_sampling: Option<Duration>,
    /// How long the batch processor waits before it sends.
    pub batch_timeout: Duration,
    /// The largest batch it sends.
    pub batch_size: usize,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            protocol: Protocol::Http,
            retry: true,
            persistent_queue: false,
            tail_sampling: None,
            batch_timeout: Duration::from_millis(100),
            batch_size: 8192,
        }
    }
}

/// A collector process with its generated configuration.
pub struct Collector {
    pub kind: Kind,
    process: Option<Process>,
    program: PathBuf,
    args: Vec<String>,
    log: PathBuf,
    /// Every port it listens on.
    ports: Vec<u16>,
    /// Its OTLP receivers.
    pub otlp_http: u16,
    pub otlp_grpc: u16,
    /// Its own metrics (Prometheus text), official collector only.
    metrics: Option<u16>,
    version: String,
    starts: u32,
    /// Holds the config, the log and the queue directory.
    _dir: tempfile::TempDir,
}

fn millis(d: Duration) -> String {
    format!("{}ms", d.as_millis().max(1))
}

/// The official collector's configuration: every listener on 127.0.0.1.
pub fn collector_config(http: u16, grpc: u16, metrics: u16, target: SocketAddr, options: &Options, storage: &Path) -> String {
    let retry = if options.retry {
        "      retry_on_failure:\n        enabled: true\n        initial_interval: 100ms\n        max_interval: 1s\n        max_elapsed_time: 120s\n"
    } else {
        "      retry_on_failure:\n        enabled: false\n"
    };
    let queue = if options.persistent_queue {
        "      sending_queue:\n        enabled: true\n        storage: file_storage\n"
    } else {
        "      sending_queue:\n        enabled: true\n"
    };
    let (exporter, endpoint) = match options.protocol {
        Protocol::Http => ("otlp_http", format!("      endpoint: http://{target}\n      compression: gzip\n")),
        Protocol::Grpc => ("otlp_grpc", format!("      endpoint: {target}\n      compression: gzip\n      tls:\n        insecure: true\n")),
    };
    // The persistent queue has nothing in memory in front of it; tail
    // sampling decides before the batch processor batches what it keeps.
    let (tail, processors) = match (options.tail_sampling, options.persistent_queue) {
        (Some(wait), _) => (
            format!(
                "  tail_sampling:\n    decision_wait: {}\n    policies:\n      - name: errors\n        type: status_code\n        status_code:\n          status_codes: [ERROR]\n",
                millis(wait)
            ),
            "[memory_limiter, tail_sampling, batch]",
        ),
        (None, true) => (String::new(), "[]"),
        (None, false) => (String::new(), "[memory_limiter, batch]"),
    };
    let (extension, extensions) = if options.persistent_queue {
        (format!("extensions:\n  file_storage:\n    directory: {}\n", storage.display()), "  extensions: [file_storage]\n")
    } else {
        (String::new(), "")
    };
    format!(
        "# generated by tracewright for one run\n\
         receivers:\n  otlp:\n    protocols:\n      grpc:\n        endpoint: 127.0.0.1:{grpc}\n      http:\n        endpoint: 127.0.0.1:{http}\n\
         processors:\n  memory_limiter:\n    check_interval: 1s\n    limit_mib: 1024\n  batch:\n    timeout: {timeout}\n    send_batch_size: {size}\n    send_batch_max_size: {size}\n{tail}\
         exporters:\n  {exporter}:\n{endpoint}      timeout: 120s\n{retry}{queue}\
         {extension}\
         service:\n{extensions}  telemetry:\n    logs:\n      level: info\n    metrics:\n      readers:\n        - pull:\n            exporter:\n              prometheus:\n                host: 127.0.0.1\n                port: {metrics}\n\
         \x20 pipelines:\n    traces:\n      receivers: [otlp]\n      processors: {processors}\n      exporters: [{exporter}]\n",
        timeout = millis(options.batch_timeout),
        size = options.batch_size,
    )
}

/// rotel's command line (it takes no config file).
pub fn rotel_args(http: u16, grpc: u16, target: SocketAddr, options: &Options) -> Vec<String> {
    let endpoint = format!("http://{target}");
    let mut args: Vec<String> = [
        "start",
        "--otlp-grpc-endpoint",
        &format!("127.0.0.1:{grpc}"),
        "--otlp-http-endpoint",
        &format!("127.0.0.1:{http}"),
        "--exporter",
        "otlp",
        "--otlp-exporter-endpoint",
        &endpoint,
        "--otlp-exporter-protocol",
        options.protocol.name(),
        "--otlp-exporter-request-timeout",
        "120s",
        "--batch-timeout",
        &millis(options.batch_timeout),
        "--batch-max-size",
        &options.batch_size.to_string(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    if options.retry {
        args.extend(["--otlp-exporter-retry-initial-backoff", "100ms", "--otlp-exporter-retry-max-backoff", "1s", "--otlp-exporter-retry-max-elapsed-time", "120s"].map(String::from));
    } else {
        // rotel has no switch to turn retries off: it gives up once this much
        // time has passed since the first attempt.
        args.extend(["--otlp-exporter-retry-max-elapsed-time", "1ms"].map(String::from));
    }
    args
}

impl Collector {
    /// Starts a collector of `kind` exporting to `target` and waits until its
    /// OTLP receivers accept connections.
    pub fn start(kind: Kind, root: &Path, target: SocketAddr, options: &Options) -> Result<Collector> {
        let dir = tempfile::Builder::new()
            .prefix("tracewright-pipeline-")
            .tempdir()
            .map_err(|e| Error::io(Path::new("/tmp"), "create a directory for a collector in", e))?;
        let (http, grpc) = (free_port()?, free_port()?);
        let log = dir.path().join(format!("{}.log", kind.name()));
        let mut metrics_port = None;
        let (program, args, ports) = match kind {
            Kind::Collector => {
                let program = collector_binary(root)?;
                let metrics = free_port()?;
                metrics_port = Some(metrics);
                let storage = dir.path().join("queue");
                std::fs::create_dir_all(&storage).map_err(|e| Error::io(&storage, "create", e))?;
                let config = dir.path().join("collector.yaml");
                std::fs::write(&config, collector_config(http, grpc, metrics, target, options, &storage))
                    .map_err(|e| Error::io(&config, "write", e))?;
                (program, vec![format!("--config={}", config.display())], vec![http, grpc, metrics])
            }
            Kind::Rotel => {
                if let Some(missing) = rotel_lacks(options) {
                    return Err(Error::usage(format!("rotel has no {missing}"), Some("replay this config on --sut collector")));
                }
                (rotel_binary(root)?, rotel_args(http, grpc, target, options), vec![http, grpc])
            }
        };
        let version = command_version(&program, &["--version"]);
        let mut collector = Collector {
            kind,
            process: None,
            program,
            args,
            log,
            ports,
            otlp_http: http,
            otlp_grpc: grpc,
            metrics: metrics_port,
            version,
            starts: 0,
            _dir: dir,
        };
        collector.launch()?;
        Ok(collector)
    }

    fn launch(&mut self) -> Result<()> {
        let mut command = Command::new(&self.program);
        command.args(&self.args);
        let name = format!("{} on 127.0.0.1:{}", self.kind.name(), self.otlp_http);
        let process = Process::spawn(&name, command, &self.log, &format!("run `{INSTALL}`"))?;
        let (http, grpc) = (self.otlp_http, self.otlp_grpc);
        process.wait_ready(READY_TIMEOUT, Duration::from_millis(50), || listening(http) && listening(grpc))?;
        self.process = Some(process);
        self.starts += 1;
        Ok(())
    }

    /// The OTLP/HTTP traces endpoint.
    pub fn http_endpoint(&self) -> String {
        format!("http://127.0.0.1:{}/v1/traces", self.otlp_http)
    }

    /// The OTLP/gRPC endpoint.
    pub fn grpc_endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.otlp_grpc)
    }

    /// Name and version, for report headers.
    pub fn describe(&self) -> String {
        format!("{} ({})", self.kind.name(), self.version)
    }

    /// The process id of the running process.
    pub fn pid(&self) -> Option<u32> {
        self.process.as_ref().map(Process::id)
    }

    /// How many times it was started.
    pub fn starts(&self) -> u32 {
        self.starts
    }

    /// A crash: SIGKILL (nothing is flushed), wait until it is reaped and
    /// its ports are free, then start it again at the same ports.
    pub fn crash(&mut self) -> Result<()> {
        if let Some(p) = self.process.take() {
            p.crash();
        }
        wait_ports_free(&self.ports, Duration::from_secs(10), self.kind.name())?;
        self.launch()
    }

    /// A clean restart: SIGTERM (it flushes what it holds), then a start at
    /// the same ports.
    pub fn restart(&mut self) -> Result<()> {
        if let Some(p) = self.process.take() {
            p.stop(STOP_GRACE);
        }
        wait_ports_free(&self.ports, Duration::from_secs(10), self.kind.name())?;
        self.launch()
    }

    /// SIGTERM and a bounded wait; the collector is gone afterwards.
    pub fn stop(&mut self) {
        if let Some(p) = self.process.take() {
            p.stop(STOP_GRACE);
        }
    }

    /// The collector's own metrics now: each sample's name (without labels)
    /// and the sum of its values over every label set. Only the official
    /// collector has them.
    pub fn metrics(&self) -> Result<BTreeMap<String, f64>> {
        let port = self.metrics.ok_or_else(|| Error::Sut {
            sut: self.kind.name().into(),
            headline: "this collector exposes no metrics".into(),
            hint: None,
        })?;
        let url = format!("http://127.0.0.1:{port}/metrics");
        let text = reqwest::blocking::Client::new()
            .get(&url)
            .timeout(Duration::from_secs(5))
            .send()
            .and_then(|r| r.error_for_status())
            .and_then(|r| r.text())
            .map_err(|e| Error::Sut { sut: self.kind.name().into(), headline: format!("cannot read its metrics at {url}: {e}"), hint: None })?;
        Ok(prometheus_sums(&text))
    }

    /// The last lines of its log.
    pub fn log_tail(&self, lines: usize) -> String {
        process::log_tail(&self.log, lines)
    }
}

/// What rotel lacks of what `options` asks for, if anything: it has
/// neither a persistent queue nor a tail-sampling processor.
pub fn rotel_lacks(options: &Options) -> Option<&'static str> {
    if options.persistent_queue {
        Some("persistent sending queue (its batches live in memory only; the official collector's is file_storage)")
    } else if options.tail_sampling.is_some() {
        Some("tail-sampling processor (the official collector's is the contrib tail_sampling)")
    } else {
        None
    }
}

/// Sums the samples of a Prometheus text exposition by metric name (labels
/// dropped); comments and unparsable lines are skipped.
pub fn prometheus_sums(text: &str) -> BTreeMap<String, f64> {
    let mut sums = BTreeMap::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
        let name_end = line.find(['{', ' ']).unwrap_or(line.len());
        let value = line.rsplit(' ').next().and_then(|v| v.parse::<f64>().ok());
        if let Some(v) = value {
            *sums.entry(line[..name_end].to_string()).or_insert(0.0) += v;
        }
    }
    sums
}

/// The first line a binary prints for `args`, or "version unknown".
pub fn command_version(program: &Path, args: &[&str]) -> String {
    let out = std::process::Command::new(program).args(args).output();
    match out {
        Ok(o) => {
            let text = String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr);
            text.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("version unknown").to_string()
        }
        Err(_) => "version unknown".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(options: &Options) -> String {
        collector_config(1, 2, 3, ([127, 0, 0, 1], 4).into(), options, Path::new("/q"))
    }

    #[test]
    fn each_collector_shape_gets_its_pipeline() {
        let memory = config(&Options::default());
        assert!(memory.contains("processors: [memory_limiter, batch]") && !memory.contains("file_storage"), "{memory}");
        let persistent = config(&Options { persistent_queue: true, ..Options::default() });
        assert!(persistent.contains("processors: []"), "nothing in front of the queue: {persistent}");
        assert!(persistent.contains("storage: file_storage") && persistent.contains("directory: /q") && persistent.contains("extensions: [file_storage]"), "{persistent}");
        let tail = config(&Options { tail_sampling: Some(Duration::from_secs(2)), ..Options::default() });
        assert!(tail.contains("processors: [memory_limiter, tail_sampling, batch]"), "{tail}");
        assert!(tail.contains("decision_wait: 2000ms") && tail.contains("status_codes: [ERROR]"), "{tail}");
    }

    #[test]
    fn rotel_lacks_the_persistent_queue_and_tail_sampling_only() {
        assert_eq!(rotel_lacks(&Options::default()), None);
        assert!(rotel_lacks(&Options { persistent_queue: true, ..Options::default() }).unwrap().starts_with("persistent sending queue"));
        assert!(rotel_lacks(&Options { tail_sampling: Some(Duration::from_secs(1)), ..Options::default() }).unwrap().starts_with("tail-sampling processor"));
    }

    #[test]
    fn prometheus_samples_are_summed_by_name_over_labels() {
        let text = "# HELP x\n# TYPE x counter\nx{a=\"1\"} 2\nx{a=\"2\"} 3.5\ny 7\nbroken\n\nz{l=\"a b\"} 1\n";
        let sums = prometheus_sums(text);
        assert_eq!(sums.get("x"), Some(&5.5));
        assert_eq!(sums.get("y"), Some(&7.0));
        assert_eq!(sums.get("z"), Some(&1.0));
        assert_eq!(sums.len(), 3, "{sums:?}");
    }
}
