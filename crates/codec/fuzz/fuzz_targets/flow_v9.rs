//! NetFlow v9 datagrams (the version forced to 9) through the shared flow driver.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "flow_common.rs"]
mod flow_common;

fuzz_target!(|data: &[u8]| flow_common::drive(data, 9, false));
