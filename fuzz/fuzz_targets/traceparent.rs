//! The W3C propagators, differentially: the strict reference against the Rust
//! SDK's `TraceContextPropagator`, with structure-aware `traceparent` values
//! (`tracewright::fuzzing::traceparent`). A disagreement whose class
//! `conformance/expectations.json` does not list panics, naming the class, the
//! rule and the input.
//!
//! Inputs that start with `t` are read as header lines (`traceparent: …`,
//! `tracestate: …`, one field line a line), which is how the readable seeds
//! are written; `fuzz/traceparent.dict` holds their tokens. ci/test.sh does
//! not pass it; to fuzz with it (the tracestate target takes it too):
//!
//!     cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run -O -a traceparent -- -dict=traceparent.dict
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tracewright::fuzzing::traceparent(data));
