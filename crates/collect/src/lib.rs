//! `vigil-collect`: network listeners that turn bytes from senders into events.
//!
//! - [`syslog::SyslogUdpSource`]: one datagram, one event.
//! - [`syslog::SyslogTcpSource`]: RFC 6587 streams, octet-counted or LF-delimited per frame, with
//!   per-peer and total connection limits and an idle timeout.
//! - [`udp::DatagramSource`]: what the datagram listeners share (the loop, the kernel drop
//!   count); each says what a datagram becomes ([`udp::Datagrams`]).
//! - [`flow::FlowSource`]: NetFlow v5/v9 and IPFIX datagrams, one event per flow record, with
//!   template state per exporter.
//! - [`snmp::SnmpTrapSource`]: SNMP v1/v2c/v3 traps and informs (informs answered), one event
//!   per notification; refused datagrams are counted by reason and kept as unparsed events.
//! - [`tail::FileTailSource`]: log files followed line by line across rotation and truncation,
//!   each delivery marked with the file's position.
//! - [`import::FileImporter`]: log files (syslog, plain lines, CEF, NDJSON, JSON, CSV; gzip or
//!   zstd) read into events for `vigil import` and the import API, with per-line errors counted.
//! - [`Stamper`]: what every listener does to a decoded line: sender → information system,
//!   tenant, level and time zone ([`vigil_config::SourceMap`]), receive metadata, and the list of
//!   [`UnmappedSources`].
//!
//! Listeners implement [`vigil_pipeline::Source`]: they count what they receive, drop and fail
//! on, and wait (stop reading) when the pipeline is full. Depends on `vigil-event`,
//! `vigil-codec`, `vigil-config` and `vigil-pipeline`; never on another stage crate.

mod error;
pub mod flow;
pub mod import;
pub mod snmp;
mod stamp;
pub mod syslog;
pub mod tail;
pub mod udp;
mod unmapped;

pub use error::{CollectError, Result};
pub use stamp::{Origin, Stamper};
pub use unmapped::{UnmappedSource, UnmappedSources, MAX_UNMAPPED_SOURCES};
