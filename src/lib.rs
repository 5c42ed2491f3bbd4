//! tracewright: a model checker and conformance fuzzer for distributed tracing
//! and durable workflows.
//!
//! Protocols are written twice — as TLA+ specs under `specs/` and as
//! [`stateright`] models under [`models`] — and explored exhaustively, in
//! parallel, by [`checker`]. Every counterexample becomes an ITF trace file
//! ([`trace`]) that `show` renders and `replay` re-executes.
//!
//! # Checking a spec
//!
//! ```no_run
//! use tracewright::{checker::Options, engine, spec};
//!
//! let files = spec::resolve("trace-context", &spec::specs_root())?;
//! let run = engine::prepare(&files)?.run(Options::default(), Some("traces".as_ref()))?;
//! for p in &run.properties {
//!     println!("{}: {:?}", p.name, p.result);
//! }
//! # Ok::<(), tracewright::error::Error>(())
//! ```
//!
//! # Debugging a counterexample
//!
//! 1. `tracewright check <spec>` prints, for each violated property, the trace
//!    file it wrote and the exact `show` and `replay` commands.
//! 2. `tracewright show <trace>` prints each step's action and the variables it
//!    changed, then the violation's evidence (which spans, which ids);
//!    `--format mermaid` draws the hops, headers and spans.
//! 3. `tracewright replay <trace> --sut model` re-runs the steps on the model
//!    and says `reproduced`, or where the model now diverges from the file.
//! 4. Fix the spec or the implementation, and check again.
//!
//! # Limitations
//!
//! - The Rust model is the executable semantics; the `.tla` is not
//!   interpreted. Their agreement is checked by distinct-state counts against
//!   TLC (see `ci/tlc-crosscheck.sh`), by the names they share, and by tests.
//! - Only 64-bit fingerprints are stored, as in TLC: a collision could hide a
//!   state. The JSON report gives the estimated probability.
//! - The Rust models check liveness `<>P` under weak fairness of the whole
//!   next-state relation; the interpreter checks `<>P`, `[]<>P`, `<>[]P`,
//!   `P ~> Q` and `[][A]_v` under WF/SF per action. Liveness
//!   counterexamples (lassos), as in TLC, are not necessarily the shortest.
//! - `.cfg` sections CONSTRAINT, ACTION_CONSTRAINT, SYMMETRY, VIEW and ALIAS
//!   are implemented by the interpreter; the Rust models refuse them.

pub mod audit;
pub mod b3;
pub mod checker;
pub mod cli;
pub mod conformance;
pub mod differential;
pub mod engine;
pub mod error;
pub mod expectations;
pub mod fuzzing;
pub mod headers;
pub mod input;
pub mod model;
pub mod models;
pub mod oracle;
pub mod otlp;
pub mod render;
pub mod report;
pub mod spec;
pub mod tla;
pub mod sut;
pub mod trace;
pub mod w3c;
