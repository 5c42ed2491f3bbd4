//! The models tracewright checks, one module each, and the registry that
//! finds a model by the name of the TLA+ module it implements.

/// An enum whose variants are strings in the spec and in trace files, with
/// `ALL`, `name()` and `parse()`. Defined before the model modules so they
/// all use it.
macro_rules! named {
    ($(#[$doc:meta])* $ty:ident { $($(#[$vdoc:meta])* $variant:ident = $name:literal),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum $ty { $($(#[$vdoc])* $variant),* }
        impl $ty {
            pub const ALL: &'static [$ty] = &[$($ty::$variant),*];
            pub fn name(self) -> &'static str {
                match self { $($ty::$variant => $name),* }
            }
            pub fn parse(name: &str) -> Option<$ty> {
                Self::ALL.iter().copied().find(|v| v.name() == name)
            }
        }
    };
}

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
