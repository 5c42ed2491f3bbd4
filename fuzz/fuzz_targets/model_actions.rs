//! Walks of the trace-context model run in lockstep on the model and on the
//! in-process Rust SDK, judged step by step and by the span oracle
//! (`tracewright::fuzzing::model_actions`, whose module documents the input:
//! a config label, a header variant, then two-byte choices among the enabled
//! actions). The seeds under `seeds/model_actions/` are the committed traces,
//! written by `cargo run --release -- fuzz-seeds`; each decodes back to its
//! trace's actions, so libFuzzer mutates around every counterexample.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tracewright::fuzzing::model_actions(data));
