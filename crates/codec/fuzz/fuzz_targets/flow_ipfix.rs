//! IPFIX messages (the version forced to 10) through the shared flow driver; when a port
//! choice's top bit is clear the message length is set to the datagram's (a random one almost
//! never matches, which would leave the sets unexplored).
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "flow_common.rs"]
mod flow_common;

fuzz_target!(|data: &[u8]| flow_common::drive(data, 10, true));
