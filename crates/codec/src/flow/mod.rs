//! NetFlow v5, NetFlow v9 and IPFIX: one UDP datagram in, flow records out.
//!
//! - [`FlowDecoder`] (`decoder.rs`): the entry point; keeps the templates exporters send, per
//!   exporter and observation domain, and parks data sets that arrive before their template.
//! - `v5.rs`, `v9.rs`, `ipfix.rs`: each protocol's header and template records.
//! - `data.rs`: data records to [`FlowRecord`]s by a `template.rs` plan, shared by v9 and IPFIX.
//! - `pending.rs`: the bounded parking space for data sets without a template yet.
//! - [`limits`]: every bound on exporter-controlled state, as named defaults.
//! - `event.rs`: [`FlowRecord::to_event`], the ECS mapping.
//!
//! Sans-IO and bounded like the syslog decoder: no sockets, no clock (receive time is passed
//! in, and [`FlowDecoder::expire`] is called with the time), no panic on any input, and every
//! refusal, eviction and malformed set counted in the [`FlowReport`].
//!
//! ```
//! use vigil_codec::flow::{FlowDecoder, FlowLimits};
//! use vigil_event::Timestamp;
//!
//! let mut decoder = FlowDecoder::new(FlowLimits::default());
//! let exporter = "192.0.2.1:4739".parse().unwrap();
//! let mut records = Vec::new();
//! // An IPFIX message: a template (256: sourceIPv4Address, protocolIdentifier) and one record.
//! let message = [
//!     0, 10, 0, 41, 0x69, 0x27, 0x80, 0x51, 0, 0, 0, 1, 0, 0, 0, 7, // header, length 41
//!     0, 2, 0, 16, 1, 0, 0, 2, 0, 8, 0, 4, 0, 4, 0, 1, // template set
//!     1, 0, 0, 9, 10, 0, 0, 1, 17, // data set: 10.0.0.1, udp
//! ];
//! let report = decoder
//!     .decode(&message, exporter, Timestamp::from_nanos(0), &mut records)
//!     .unwrap();
//! assert_eq!((report.templates, report.records), (1, 1));
//! assert_eq!(records[0].protocol, Some(17));
//! assert_eq!(records[0].to_event(Timestamp::from_nanos(0)).fields["network.transport"].as_str(), Some("udp"));
//! ```

mod data;
mod decoder;
mod event;
mod ipfix;
pub mod limits;
mod pending;
mod record;
mod template;
mod v5;
mod v9;
mod wire;

#[cfg(test)]
mod test_packets;
#[cfg(test)]
mod tests;

pub use decoder::FlowDecoder;
pub use event::{OBSERVER_EGRESS_INTERFACE_ID, OBSERVER_INGRESS_INTERFACE_ID};
pub use limits::{
    FlowLimits, DEFAULT_MAX_EXPORTERS, DEFAULT_MAX_FIELDS_PER_TEMPLATE, DEFAULT_MAX_PENDING_BYTES,
    DEFAULT_MAX_TEMPLATES_PER_EXPORTER, DEFAULT_PENDING_TIMEOUT,
};
pub use record::{Element, FieldBytes, FlowError, FlowKind, FlowRecord, FlowReport};
