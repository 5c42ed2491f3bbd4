//! Systems under test, by kind. Each kind has its own module and knows
//! nothing of the models or of the other kinds: it starts a real system,
//! drives it with real operations and reports what it observed.
//!
//! - [`sdk`]: the OpenTelemetry SDKs (Rust in-process; Python, JS and Go as
//!   driver processes), driven span by span through one interface.
//! - [`pipeline`]: collectors (the official OpenTelemetry Collector, rotel)
//!   and Jaeger as child processes between an SDK and the oracle.
//! - [`workflow`]: durable-workflow engines — a real Temporal server running
//!   the saga of `drivers/temporal/` through the Python SDK's worker driver.
//!
//! What every kind shares is not a kind: [`process`] starts, watches and
//! always reaps child processes.
//!
//! Mapping a model's actions onto these operations, and judging what the
//! system did, is the job of [`crate::conformance`], which sits above both
//! the models and the systems under test.

pub mod pipeline;
pub mod process;
pub mod sdk;
pub mod workflow;
