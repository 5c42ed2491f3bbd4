//! `tracewright replay <trace.itf.json> --sut model`
//!
//! Replays a counterexample step by step, matching each recorded action label
//! and state. The `model` system under test is tracewright's own Rust model:
//! it tells whether a trace still describes the model (after the model or its
//! action order changed) and whether its violation is still there.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use crate::engine::{open_trace, ReplayVerdict};
use crate::error::{ExitCode, Result};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Sut {
    /// tracewright's Rust model of the spec.
    Model,
}

#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// The trace file, as written by `check`.
    pub trace: PathBuf,
    /// The system to replay against.
    #[arg(long, value_enum, env = "TRACEWRIGHT_SUT")]
    pub sut: Sut,
}

/// Exit codes of `replay`: 0 reproduced, 1 conforms (the violation is not
/// there) or diverged, 2 bad input.
pub fn run(args: ReplayArgs) -> Result<ExitCode> {
    let (doc, model) = open_trace(&args.trace)?;
    let report = model.replay(&doc, &args.trace)?;
    println!("replay {} on {:?}: {} steps", args.trace.display(), args.sut, report.steps);
    match report.verdict {
        ReplayVerdict::Reproduced(v) => {
            println!("reproduced: {} violated", doc.property);
            println!("  {}", v.headline);
            for (k, v) in &v.evidence {
                println!("  {k}: {v}");
            }
            Ok(ExitCode::Ok)
        }
        ReplayVerdict::Conforms(why) => {
            println!("conforms: every step matched, but {why}");
            Ok(ExitCode::Unexpected)
        }
        ReplayVerdict::Diverged(d) => {
            println!("diverged at step {}: expected {}, observed {}", d.step, d.expected, d.observed);
            Ok(ExitCode::Unexpected)
        }
    }
}
