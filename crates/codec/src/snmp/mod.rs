//! SNMP notifications: v1 traps, v2c traps and informs, v3 traps with USM (RFC 3414
//! authentication, RFC 7860 SHA-2 digests, RFC 3826 AES privacy). Sans-IO: bytes and the receive
//! time in, a [`Trap`] (and the Response to an inform) out; no sockets, no clocks.
//!
//! - [`receiver`]: [`TrapReceiver::receive`], the entry point: community allow-list, USM user,
//!   digest, time window and decryption, then the notification. Keeps, bounded, the remote
//!   engines' clocks and the keys localized to them.
//! - [`message`]: [`decode_message`], any SNMP message's outer structure without those checks.
//! - [`event`]: [`Trap::to_event`], the notification as a Vigil event.
//! - [`usm`]: users, protocols, password-to-key and key localization.
//! - [`oid`], [`value`]: OIDs (with the standard names) and varbind values.
//! - [`limits`]: every bound, as a named constant; [`SnmpError`]: why a datagram was refused.
//!
//! BER is decoded by hand (the private `ber` module): definite lengths only, every length checked
//! against what is there before anything is sliced, nesting depth capped without recursion.
//!
//! ```
//! use std::net::SocketAddr;
//! use vigil_codec::snmp::{TrapConfig, TrapReceiver};
//! use vigil_event::Timestamp;
//!
//! let mut receiver = TrapReceiver::new(TrapConfig {
//!     communities: vec!["public".into()],
//!     ..TrapConfig::default()
//! });
//! // snmptrap -v2c -c public HOST 12345 linkDown ifIndex.2 i 2 ifDescr.2 s eth0 ifOperStatus.2 i 2
//! let datagram = include_bytes!(concat!(
//!     env!("CARGO_MANIFEST_DIR"),
//!     "/src/snmp/testdata/v2c_trap_linkdown.bin"
//! ));
//! let received = Timestamp::from_nanos(1_764_196_561_000_000_000);
//! let accepted = receiver.receive(datagram, received)?;
//! assert!(accepted.response.is_none());
//! let peer: SocketAddr = "127.0.0.1:49152".parse()?;
//! let event = accepted.trap.to_event(datagram, peer, received);
//! assert_eq!(
//!     event.message,
//!     r#"SNMPv2c linkDown from 127.0.0.1: ifIndex.2=2 ifDescr.2="eth0" ifOperStatus.2=2"#
//! );
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod ber;
mod cache;
mod error;
pub mod event;
pub mod limits;
pub mod message;
pub mod oid;
pub mod receiver;
pub mod usm;
pub mod value;

#[cfg(test)]
mod tests;

pub use error::SnmpError;
pub use limits::SnmpLimits;
pub use message::{decode_message, decode_message_with_limits, Message, PduType, SnmpVersion};
pub use oid::Oid;
pub use receiver::{PduKind, Received, Trap, TrapConfig, TrapReceiver};
pub use usm::{AuthProtocol, PrivProtocol, SecurityLevel, UsmUser};
pub use value::{SnmpValue, VarBind};

/// A copy of `datagram` with the community of a v1/v2c message overwritten by `*`s (the same
/// length, so the rest still decodes): what is kept as `event.original`, where every analyst
/// could read it. Anything that is not such a message is copied as it is.
pub fn redact_community(datagram: &[u8]) -> Vec<u8> {
    let mut copy = datagram.to_vec();
    let community = || -> Result<std::ops::Range<usize>, SnmpError> {
        let mut outer = ber::Reader::new(datagram, limits::DEFAULT_MAX_DEPTH);
        let mut message = outer.read_sequence("message")?;
        let version = message.read_i32("version")?;
        if version == 3 {
            return Err(SnmpError::Malformed("not a community message"));
        }
        Ok(message.read_octets("community")?.content_range())
    };
    if let Ok(range) = community() {
        if let Some(bytes) = copy.get_mut(range) {
            bytes.fill(b'*');
        }
    }
    copy
}
