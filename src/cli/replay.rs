//! `tracewright replay <trace.itf.json> --sut model|rust|python|js|go`
//!
//! Replays a counterexample step by step. `model` is tracewright's own Rust
//! model: it tells whether a trace still describes the model (after the model
//! or its action order changed) and whether its violation is still there. The
//! SDKs are the real OpenTelemetry SDKs: Rust in-process, the others through
//! their drivers (`bash ci/install-drivers.sh` installs them).

use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};

use crate::conformance::{Report, Verdict};
use crate::engine::{open_trace, ReplayVerdict};
use crate::error::{ExitCode, Result};
use crate::sut::{self, SdkKind};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Sut {
    /// tracewright's Rust model of the spec.
    Model,
    /// The OpenTelemetry Rust SDK, in-process.
    Rust,
    /// The OpenTelemetry Python SDK, through drivers/python.
    Python,
    /// The OpenTelemetry JavaScript SDK, through drivers/js.
    Js,
    /// The OpenTelemetry Go SDK, through drivers/go.
    Go,
}

impl Sut {
    pub fn sdk(self) -> Option<SdkKind> {
        match self {
            Sut::Model => None,
            Sut::Rust => Some(SdkKind::Rust),
            Sut::Python => Some(SdkKind::Python),
            Sut::Js => Some(SdkKind::Js),
            Sut::Go => Some(SdkKind::Go),
        }
    }
}

#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// The trace file, as written by `check` or `conform`.
    pub trace: PathBuf,
    /// The system to replay against.
    #[arg(long, value_enum, env = "TRACEWRIGHT_SUT")]
    pub sut: Sut,
    /// Print what the system did at every step.
    #[arg(long)]
    pub steps: bool,
}

/// Where the drivers are: the current directory if it is a tracewright
/// checkout, else the source tree this tracewright was built from.
pub fn project_root() -> PathBuf {
    let here = PathBuf::from(".");
    if here.join("drivers/PROTOCOL.md").is_file() {
        here
    } else {
        Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
    }
}

/// Exit codes of `replay`: 0 the violation was reproduced, 1 the trace
/// conforms (no violation) or diverged, 2 bad input or a system under test
/// that is missing, hangs or fails.
pub fn run(args: ReplayArgs) -> Result<ExitCode> {
    let (doc, model) = open_trace(&args.trace)?;
    let Some(kind) = args.sut.sdk() else {
        let report = model.replay(&doc, &args.trace)?;
        println!("replay {} on the model: {} steps", args.trace.display(), report.steps);
        return Ok(match report.verdict {
            ReplayVerdict::Reproduced(v) => {
                println!("reproduced: {} violated", doc.property);
                println!("  {}", v.headline);
                for (k, v) in &v.evidence {
                    println!("  {k}: {v}");
                }
                ExitCode::Ok
            }
            ReplayVerdict::Conforms(why) => {
                println!("conforms: every step matched, but {why}");
                ExitCode::Unexpected
            }
            ReplayVerdict::Diverged(d) => {
                println!("diverged at step {}: expected {}, observed {}", d.step, d.expected, d.observed);
                ExitCode::Unexpected
            }
        });
    };
    let mut sdk = sut::open(kind, &project_root())?;
    let hello = sdk.hello()?;
    let report = model.replay_sdk(&doc, &args.trace, sdk.as_mut(), kind.name())?;
    let _ = sdk.shutdown();
    print!("{}", render(&args.trace, &hello, &report, args.steps));
    Ok(match report.verdict {
        Verdict::Reproduced { .. } => ExitCode::Ok,
        Verdict::Conforms | Verdict::Diverged(_) => ExitCode::Unexpected,
    })
}

pub fn render(trace: &Path, hello: &sut::Hello, report: &Report, steps: bool) -> String {
    let mut out = format!(
        "replay {} on {} (OpenTelemetry SDK {}): {} steps, {} taken by the SDK\n",
        trace.display(),
        report.sut,
        hello.sdk_version,
        report.steps,
        report.sut_steps
    );
    if steps {
        for s in &report.log {
            out.push_str(&format!("  {:>3}  {:<28} {}\n", s.step, s.action, s.note));
        }
    }
    match &report.verdict {
        Verdict::Reproduced { property, headline } => {
            out.push_str(&format!("reproduced: {property} violated with the real SDK\n  {headline}\n"))
        }
        Verdict::Conforms => out.push_str("conforms: every step matched the model\n"),
        Verdict::Diverged(d) => {
            out.push_str(&format!("diverged at step {} ({}): expected {}, observed {}\n", d.step, d.action, d.expected, d.observed));
            if let Some(c) = &d.carrier {
                out.push_str(&format!("  headers: traceparent {:?}, tracestate {:?}\n", c.traceparent, c.tracestate));
            }
            out.push_str(&format!("  class: {}\n", d.class));
        }
    }
    out
}
