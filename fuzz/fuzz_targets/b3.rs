//! The strict B3 reference (`tracewright::b3`) on hostile input: it never
//! panics, and every context it accepts survives its own single- and
//! multi-header forms (`tracewright::fuzzing::b3`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tracewright::fuzzing::b3(data));
