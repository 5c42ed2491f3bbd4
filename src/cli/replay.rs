//! `tracewright replay <trace.itf.json> --sut model|TARGET`
//!
//! Replays a counterexample step by step. `model` is tracewright's own Rust
//! model: it tells whether a trace still describes the model (after the model
//! or its action order changed) and whether its violation is still there.
//! Every other name is a real system from [`crate::conformance::targets`]
//! (the SDKs' drivers are installed by `bash ci/install-drivers.sh`).

use std::path::{Path, PathBuf};

use clap::Args;

use crate::conformance::{self, Replayed, ReplayRequest, Verdict};
use crate::engine::{open_trace, ReplayVerdict};
use crate::error::{Error, ExitCode, Result};

/// `--sut model`: tracewright's own model of the trace's spec.
pub const MODEL: &str = "model";

/// The names `--sut` takes: the model, then every replay target.
fn sut_names() -> Vec<&'static str> {
    std::iter::once(MODEL).chain(conformance::targets().iter().map(|t| t.name)).collect()
}

fn sut_help() -> String {
    let mut help = String::from("The system to replay against:\n  model: tracewright's Rust model of the trace's spec");
    for t in conformance::targets() {
        help.push_str(&format!("\n  {}: {} ({} traces)", t.name, t.about, t.module));
    }
    help
}

#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// The trace file, as written by `check` or `conform`.
    pub trace: PathBuf,
    #[arg(long, env = "TRACEWRIGHT_REPLAY_SUT", long_help = sut_help(), value_parser = clap::builder::PossibleValuesParser::new(sut_names()))]
    pub sut: String,
    /// Print what the system did at every step.
    #[arg(long, env = "TRACEWRIGHT_REPLAY_STEPS", value_parser = clap::builder::BoolishValueParser::new())]
    pub steps: bool,
    /// How an SDK is reached: `http`, through its real instrumented HTTP
    /// server and client, or `api`, through its propagator API. Default:
    /// http where the SDK's driver has it. Only for the SDKs.
    #[arg(long, value_parser = ["api", "http"], env = "TRACEWRIGHT_REPLAY_TRANSPORT")]
    pub transport: Option<String>,
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
    if args.sut == MODEL {
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
    }
    let target = conformance::target(&args.sut).expect("clap accepts only known names");
    if target.module != doc.spec {
        let fitting: Vec<&str> =
            conformance::targets().iter().filter(|t| t.module == doc.spec).map(|t| t.name).collect();
        return Err(Error::usage(
            format!("{} traces cannot be replayed on {}: it replays {} traces", doc.spec, target.name, target.module),
            Some(&format!("replay it with --sut {}", std::iter::once(MODEL).chain(fitting).collect::<Vec<_>>().join(" or --sut "))),
        ));
    }
    let root = project_root();
    let transport = args.transport.as_deref().map(str::parse::<crate::sut::sdk::Transport>).transpose()?;
    if transport.is_some() && target.name.parse::<crate::sut::sdk::SdkKind>().is_err() {
        return Err(Error::usage(format!("--transport is for the SDKs; {} has none", target.name), Some("drop --transport")));
    }
    let replayed = (target.replay)(&ReplayRequest { doc: &doc, path: &args.trace, root: &root, transport })?;
    print!("{}", render(&args.trace, &replayed, args.steps));
    Ok(match replayed.report.verdict {
        Verdict::Reproduced { .. } => ExitCode::Ok,
        Verdict::Conforms | Verdict::Diverged(_) => ExitCode::Unexpected,
    })
}

pub fn render(trace: &Path, replayed: &Replayed, steps: bool) -> String {
    let report = &replayed.report;
    let mut out = format!(
        "replay {} on {} ({}): {} steps, {} taken by the system under test\n",
        trace.display(),
        report.sut,
        replayed.system,
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
            out.push_str(&format!("reproduced: {property} violated with the real system\n  {headline}\n"))
        }
        Verdict::Conforms => out.push_str("conforms: every step matched the model\n"),
        Verdict::Diverged(d) => {
            out.push_str(&format!("diverged at step {} ({}): expected {}, observed {}\n", d.step, d.action, d.expected, d.observed));
            if let Some(c) = &d.carrier {
                out.push_str(&format!("  headers: traceparent {:?}, tracestate {:?}", c.traceparent, c.tracestate));
                for (name, value) in &c.b3 {
                    out.push_str(&format!(", {name} {value:?}"));
                }
                out.push('\n');
            }
            out.push_str(&format!("  class: {}\n", d.class));
        }
    }
    out
}
