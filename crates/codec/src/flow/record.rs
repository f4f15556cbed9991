//! What decoding produces: a [`FlowRecord`] per data record, a [`FlowReport`] per datagram, and a
//! [`FlowError`] when a datagram is unusable as a whole.

use std::net::{IpAddr, SocketAddr};

use vigil_event::Timestamp;

/// Which export protocol a record came in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FlowKind {
    NetflowV5,
    NetflowV9,
    Ipfix,
}

impl FlowKind {
    /// The version number its header carries.
    pub fn version(self) -> u16 {
        match self {
            FlowKind::NetflowV5 => 5,
            FlowKind::NetflowV9 => 9,
            FlowKind::Ipfix => 10,
        }
    }

    /// `event.dataset`
    pub fn dataset(self) -> &'static str {
        match self {
            FlowKind::NetflowV5 => "netflow.v5",
            FlowKind::NetflowV9 => "netflow.v9",
            FlowKind::Ipfix => "ipfix",
        }
    }

    /// The prefix of the protocol-specific event fields.
    pub fn field_prefix(self) -> &'static str {
        match self {
            FlowKind::NetflowV5 | FlowKind::NetflowV9 => "netflow",
            FlowKind::Ipfix => "ipfix",
        }
    }
}

/// An information element: IANA's when `enterprise` is 0, else a vendor's
/// ([RFC 7011 §3.2](https://www.rfc-editor.org/rfc/rfc7011#section-3.2)). NetFlow v9 field types
/// are IANA element ids ([RFC 3954 §8](https://www.rfc-editor.org/rfc/rfc3954#section-8)); its
/// options scope types (1 system, 2 interface, 3 line card, 4 cache, 5 template) are a space of
/// their own and only ever appear in [`FlowRecord::scope`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Element {
    pub enterprise: u32,
    pub id: u16,
}

impl Element {
    pub const fn iana(id: u16) -> Self {
        Self { enterprise: 0, id }
    }
}

/// Where one element's value lies in [`FlowRecord::raw`]: pointed at, never copied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FieldBytes {
    pub offset: u32,
    pub length: u32,
}

impl FieldBytes {
    /// The value's bytes in `raw` (empty if the range is not in it, which decoding never makes).
    pub fn bytes_in(self, raw: &[u8]) -> &[u8] {
        let start = self.offset as usize;
        let end = start.saturating_add(self.length as usize);
        raw.get(start..end).unwrap_or_default()
    }
}

/// One flow (or options) data record, with the elements a SIEM searches on decoded and every
/// other element kept raw.
///
/// Fields are `None` when the template has no such element (or its value did not fit the type;
/// the element is then in `other`). When an element appears twice in a template, the first
/// occurrence fills the field and the rest go to `other`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlowRecord {
    pub kind: FlowKind,
    /// Who sent the datagram.
    pub exporter: SocketAddr,
    /// v9 source id, IPFIX observation domain id, v5 `engine_type << 8 | engine_id`.
    pub domain: u32,
    /// The data set's template; 0 for v5.
    pub template_id: u16,
    /// The header's export time.
    pub export_time: Timestamp,
    /// An options data record (exporter metadata such as sampling settings), not a flow.
    pub options: bool,
    /// sourceIPv4Address (8) or sourceIPv6Address (27)
    pub source: Option<IpAddr>,
    /// destinationIPv4Address (12) or destinationIPv6Address (28)
    pub destination: Option<IpAddr>,
    /// sourceTransportPort (7)
    pub source_port: Option<u16>,
    /// destinationTransportPort (11)
    pub destination_port: Option<u16>,
    /// protocolIdentifier (4)
    pub protocol: Option<u8>,
    /// octetDeltaCount (1), else octetTotalCount (85)
    pub bytes: Option<u64>,
    /// packetDeltaCount (2), else packetTotalCount (86)
    pub packets: Option<u64>,
    /// From flowStart* (22, 150, 152, 154, 156, 158), whichever comes first in the template.
    /// Uptimes (22, 21) count from the v9 header's sysUpTime; in IPFIX from
    /// systemInitTimeMilliseconds (160) in the record, else in the exporter's latest options
    /// record, else they stay `None` (and the uptime is in `other`).
    pub start: Option<Timestamp>,
    /// From flowEnd* (21, 151, 153, 155, 157, 159), whichever comes first in the template.
    pub end: Option<Timestamp>,
    /// tcpControlBits (6)
    pub tcp_flags: Option<u16>,
    /// ingressInterface (10)
    pub input_interface: Option<u32>,
    /// egressInterface (14)
    pub output_interface: Option<u32>,
    /// flowDirection (61): 0 ingress, 1 egress.
    pub direction: Option<u8>,
    /// ipNextHopIPv4Address (15) or ipNextHopIPv6Address (62)
    pub next_hop: Option<IpAddr>,
    /// bgpSourceAsNumber (16)
    pub source_as: Option<u32>,
    /// bgpDestinationAsNumber (17)
    pub destination_as: Option<u32>,
    /// ipClassOfService (5)
    pub tos: Option<u8>,
    /// samplingInterval (34), or the v5 header's sampling interval.
    pub sampling_interval: Option<u32>,
    /// Every element not decoded above, in template order.
    pub other: Vec<(Element, FieldBytes)>,
    /// An options record's scope elements, in template order (empty for flow records).
    pub scope: Vec<(Element, FieldBytes)>,
    /// The data record's bytes exactly as received.
    pub raw: Vec<u8>,
}

impl FlowRecord {
    /// A record with its context filled and nothing decoded yet.
    pub(crate) fn empty(
        kind: FlowKind,
        exporter: SocketAddr,
        domain: u32,
        template_id: u16,
        export_time: Timestamp,
        options: bool,
    ) -> Self {
        Self {
            kind,
            exporter,
            domain,
            template_id,
            export_time,
            options,
            source: None,
            destination: None,
            source_port: None,
            destination_port: None,
            protocol: None,
            bytes: None,
            packets: None,
            start: None,
            end: None,
            tcp_flags: None,
            input_interface: None,
            output_interface: None,
            direction: None,
            next_hop: None,
            source_as: None,
            destination_as: None,
            tos: None,
            sampling_interval: None,
            other: Vec::new(),
            scope: Vec::new(),
            raw: Vec::new(),
        }
    }

    /// The elements of `other` with their bytes.
    pub fn other_values(&self) -> impl Iterator<Item = (Element, &[u8])> + '_ {
        self.other
            .iter()
            .map(|(element, place)| (*element, place.bytes_in(&self.raw)))
    }

    /// The elements of `scope` with their bytes.
    pub fn scope_values(&self) -> impl Iterator<Item = (Element, &[u8])> + '_ {
        self.scope
            .iter()
            .map(|(element, place)| (*element, place.bytes_in(&self.raw)))
    }
}

/// What decoding one datagram did, for counters. Problems inside a datagram are counted here;
/// only a datagram unusable as a whole is a [`FlowError`].
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct FlowReport {
    /// The header's version: 5, 9 or 10.
    pub version: u16,
    /// Flow records pushed, released ones included.
    pub records: usize,
    /// Options records pushed, released ones included.
    pub option_records: usize,
    /// Templates learned or refreshed.
    pub templates: usize,
    /// Templates removed by IPFIX withdrawals.
    pub withdrawn: usize,
    /// Data sets parked for want of their template.
    pub template_misses: usize,
    /// Records decoded from parked data sets once their template came.
    pub released: usize,
    /// Parked data sets dropped to make room (or too large to park at all).
    pub pending_dropped: usize,
    /// Templates refused: over a limit, or invalid (reserved id, zero-length records, …).
    pub templates_refused: usize,
    /// Template scopes evicted to make room for a new one.
    pub exporters_evicted: usize,
    /// Sets (or, for v5, the record area) cut short or inconsistent; see the decoder docs for
    /// which of these end the datagram's parsing.
    pub malformed_sets: usize,
}

/// Why a datagram could not be decoded at all.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum FlowError {
    /// Too short for its header (or, for IPFIX, for the length its header declares).
    #[error(
        "datagram of {received_bytes} bytes is shorter than the {needed_bytes} bytes it needs"
    )]
    Truncated {
        needed_bytes: usize,
        received_bytes: usize,
    },
    /// Not NetFlow v5, v9 or IPFIX.
    #[error("unsupported flow export version {version}")]
    UnsupportedVersion { version: u16 },
    /// An IPFIX message length shorter than the IPFIX header itself.
    #[error("ipfix message length {declared_bytes} is shorter than its header")]
    InvalidLength { declared_bytes: usize },
}

impl FlowError {
    /// A short fixed name, for a bounded metric label.
    pub fn kind(&self) -> &'static str {
        match self {
            FlowError::Truncated { .. } => "truncated",
            FlowError::UnsupportedVersion { .. } => "unsupported_version",
            FlowError::InvalidLength { .. } => "invalid_length",
        }
    }
}
