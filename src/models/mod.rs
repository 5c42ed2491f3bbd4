//! The models tracewright checks, one module each, and the registry that
//! finds a model by the name of the TLA+ module it implements.

pub mod trace_context;
pub mod workflow;

use crate::engine::{Registered, Registration};

static TRACE_CONTEXT: Registration<trace_context::TraceContext> = Registration::new();
static WORKFLOW: Registration<workflow::Workflow> = Registration::new();

/// Every model, in the order `check --all` and error messages list them.
pub fn registry() -> Vec<&'static dyn Registered> {
    vec![&TRACE_CONTEXT, &WORKFLOW]
}

/// The model implementing TLA+ module `module`.
pub fn find(module: &str) -> Option<&'static dyn Registered> {
    registry().into_iter().find(|r| r.module() == module)
}
