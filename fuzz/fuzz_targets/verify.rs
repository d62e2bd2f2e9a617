//! cargo-fuzz target: `paraf_verify::fuzzing::verify` must return, never panic, on any bytes.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| paraf_verify::fuzzing::verify(data));
