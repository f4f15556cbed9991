//! Any bytes as one trap datagram: the receiver must not panic, and an accepted datagram must
//! make an event that keeps its bytes exactly. Seed with `../src/snmp/testdata`.
#![no_main]

use std::net::SocketAddr;
use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use vigil_codec::snmp::{AuthProtocol, PrivProtocol, TrapConfig, TrapReceiver, UsmUser};
use vigil_event::Timestamp;

const V3_AUTH_PRIV: &[u8] =
    include_bytes!("../../src/snmp/testdata/v3_authpriv_sha1_aes_linkdown.bin");

/// A community, an authPriv user (the captures' `vigil`) and a noAuthNoPriv one (`fuzz`, so that
/// v3 inputs can reach the scoped PDU without a digest). Warmed once, since deriving keys is 1 MiB
/// of hashing per password, then cloned for every input so each meets the same state.
static TEMPLATE: LazyLock<TrapReceiver> = LazyLock::new(|| {
    let mut receiver = TrapReceiver::new(TrapConfig {
        communities: vec!["public".into()],
        users: vec![
            UsmUser {
                name: "vigil".into(),
                engine_id: None,
                auth: Some((AuthProtocol::Sha1, "authpass123".into())),
                privacy: Some((PrivProtocol::Aes128, "privpass123".into())),
            },
            UsmUser {
                name: "fuzz".into(),
                engine_id: None,
                auth: None,
                privacy: None,
            },
        ],
        limits: Default::default(),
    });
    receiver
        .receive(V3_AUTH_PRIV, Timestamp::from_nanos(0))
        .expect("the capture is accepted");
    receiver
});

fuzz_target!(|data: &[u8]| {
    let mut receiver = TEMPLATE.clone();
    let received_at = Timestamp::from_nanos(0);
    if let Ok(received) = receiver.receive(data, received_at) {
        let peer = SocketAddr::from(([127, 0, 0, 1], 162));
        let event = received.trap.to_event(data, peer, received_at);
        // The same bytes but for a v1/v2c community, blanked to as many `*`s.
        assert_eq!(event.original.len(), data.len());
    }
});
