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

pub mod corpus;
pub mod trace_context;
pub mod walks;

use std::fmt;

use crate::headers::Carrier;

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
            write!(f, " [traceparent {:?}, tracestate {:?}]", c.traceparent, c.tracestate)?;
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
