//! The B3 propagators: the strict B3 reference (`tracewright::b3`) on
//! hostile input never panics, and every context it accepts survives its own
//! single- and multi-header forms; then, differentially, the same headers go
//! through the Rust SDK's own B3 propagator of their form and are judged as
//! `conform --corpus` judges a B3 case. A class that
//! `conformance/expectations.json` does not list for sut `rust` panics, naming
//! the class, the rule and the headers (`tracewright::fuzzing::b3`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tracewright::fuzzing::b3(data));
