//! Does the real thing behave like the model? Replaying model paths against
//! real systems under test, step by step.
//!
//! A replay turns each model step into the real operations (start a span,
//! inject, corrupt or drop the header as the path says, extract, start the
//! child, end spans), keeps the mapping between the model's abstract ids and
//! the real 128- and 64-bit ids, and compares what the model predicts with
//! what the system did. The verdict is one of:
//!
//! - **reproduced**: every step matched and the path's violation holds for
//!   the real system too;
//! - **conforms**: every step matched and there is no violation to show;
//! - **diverged at step k**: expected this, observed that, with the exact
//!   header bytes.
//!
//! Steps the system under test takes no part in (a collector crash, for an
//! SDK) are the environment's and are taken as the model says.
//!
//! This layer is the only one that knows both a model and a system under
//! test. Every system a trace can be replayed on is a [`Target`] in
//! [`targets`]: a new one is a module here, its system under its kind in
//! [`crate::sut`], and one line in that list.

pub mod corpus;
pub mod pipeline;
pub mod trace_context;
pub mod walks;
pub mod workflow;

use std::fmt;
use std::path::Path;

use crate::error::Result;
use crate::headers::Carrier;
use crate::trace::TraceDoc;

/// What a replay on a real system is given.
pub struct ReplayRequest<'a> {
    pub doc: &'a TraceDoc,
    /// The trace file, for messages.
    pub path: &'a Path,
    /// The checkout whose drivers and built systems are used.
    pub root: &'a Path,
    /// How an SDK is reached (`None`: over HTTP where its driver can);
    /// systems other than SDKs refuse one.
    pub transport: Option<crate::sut::sdk::Transport>,
}

/// A replay's report and the real system it ran on.
#[derive(Clone, Debug)]
pub struct Replayed {
    /// The system and its version, as a person reads it, e.g.
    /// `OpenTelemetry SDK 0.33.1`.
    pub system: String,
    pub report: Report,
}

/// A real system that traces of one TLA+ module replay on.
#[derive(Clone, Copy)]
pub struct Target {
    /// The name `replay --sut` takes.
    pub name: &'static str,
    /// The TLA+ module whose traces it replays.
    pub module: &'static str,
    /// One line for `--help` and error messages.
    pub about: &'static str,
    pub replay: fn(&ReplayRequest) -> Result<Replayed>,
}

/// Every replay target, in the order `--help` lists them.
pub fn targets() -> Vec<Target> {
    vec![
        trace_context::RUST,
        trace_context::PYTHON,
        trace_context::JS,
        trace_context::GO,
        trace_context::JAVA,
        pipeline::COLLECTOR,
        pipeline::ROTEL,
        pipeline::JAEGER,
        workflow::TEMPORAL,
    ]
}

/// The target named `name`.
pub fn target(name: &str) -> Option<Target> {
    targets().into_iter().find(|t| t.name == name)
}

/// Where a replay first disagreed with the model.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Divergence {
    /// The step (1-based: the index of the state the action leads to).
    pub step: usize,
    pub action: String,
    pub expected: String,
    pub observed: String,
    /// The carrier the system was given at this step, if any.
    pub carrier: Option<Carrier>,
    /// A stable name for the kind of difference, shared with the
    /// differential fuzzers and the expectations file, e.g.
    /// `traceparent/accepts-invalid/traceparent: version`.
    pub class: String,
}

impl fmt::Display for Divergence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "diverged at step {} ({}): expected {}, observed {}", self.step, self.action, self.expected, self.observed)?;
        if let Some(c) = &self.carrier {
            write!(f, " [traceparent {:?}, tracestate {:?}", c.traceparent, c.tracestate)?;
            for (name, value) in &c.b3 {
                write!(f, ", {name} {value:?}")?;
            }
            f.write_str("]")?;
        }
        Ok(())
    }
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Verdict {
    Reproduced { property: String, headline: String },
    Conforms,
    Diverged(Divergence),
}

impl Verdict {
    pub fn word(&self) -> &'static str {
        match self {
            Verdict::Reproduced { .. } => "reproduced",
            Verdict::Conforms => "conforms",
            Verdict::Diverged(_) => "diverged",
        }
    }
}

/// One step as the replay saw it, for reports.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct StepLog {
    pub step: usize,
    pub action: String,
    /// What the system was asked to do and what it answered, in a line.
    pub note: String,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Report {
    pub sut: String,
    /// Steps replayed (matched, or up to and including the divergence).
    pub steps: usize,
    /// Of those, the steps the system took part in.
    pub sut_steps: usize,
    pub verdict: Verdict,
    pub log: Vec<StepLog>,
}
