//! The W3C propagators, differentially, with structure-aware `tracestate`
//! lists (`tracewright::fuzzing::tracestate`); see `traceparent.rs`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tracewright::fuzzing::tracestate(data));
