//! The SNMP trap hot path: a v2c trap (decoding and checks, then the event, measured apart), a
//! v3 authPriv trap with its keys cached (digest, time window, AES, decoding), and the one-off
//! password-to-key derivation the cache saves.
//!
//! `cargo bench -p vigil-benches --bench snmp`

use std::hint::black_box;
use std::net::SocketAddr;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use vigil_codec::snmp::usm::password_to_key;
use vigil_codec::snmp::{AuthProtocol, PrivProtocol, TrapConfig, TrapReceiver, UsmUser};
use vigil_event::Timestamp;

/// net-snmp 5.9.3: `snmptrap -v2c -c public HOST 12345 linkDown` with ifIndex, ifDescr and
/// ifOperStatus of interface 2 (124 bytes).
const V2C_TRAP: &[u8] =
    include_bytes!("../../crates/codec/src/snmp/testdata/v2c_trap_linkdown.bin");
/// The same trap as SNMPv3 authPriv, HMAC-SHA-96 and AES-128, user `vigil` (215 bytes).
const V3_AUTH_PRIV: &[u8] =
    include_bytes!("../../crates/codec/src/snmp/testdata/v3_authpriv_sha1_aes_linkdown.bin");

fn received() -> Timestamp {
    Timestamp::from_nanos(1_764_196_561_000_000_000)
}

fn peer() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 49152))
}

fn v2c_trap(c: &mut Criterion) {
    let mut receiver = TrapReceiver::new(TrapConfig {
        communities: vec!["public".into()],
        ..TrapConfig::default()
    });
    let trap = receiver
        .receive(V2C_TRAP, received())
        .expect("the capture is accepted")
        .trap;
    let mut group = c.benchmark_group("snmp/v2c_trap");
    group.throughput(Throughput::Elements(1));
    group.bench_function(format!("receive_{}_bytes", V2C_TRAP.len()), |b| {
        b.iter(|| receiver.receive(black_box(V2C_TRAP), received()))
    });
    group.bench_function("to_event", |b| {
        b.iter(|| black_box(&trap).to_event(V2C_TRAP, peer(), received()))
    });
    group.finish();
}

fn v3_auth_priv(c: &mut Criterion) {
    let mut receiver = TrapReceiver::new(TrapConfig {
        users: vec![UsmUser {
            name: "vigil".into(),
            engine_id: None,
            auth: Some((AuthProtocol::Sha1, "authpass123".into())),
            privacy: Some((PrivProtocol::Aes128, "privpass123".into())),
        }],
        ..TrapConfig::default()
    });
    // Warm: derive and localize the keys, learn the engine's clock.
    receiver
        .receive(V3_AUTH_PRIV, received())
        .expect("the capture is accepted");
    let mut group = c.benchmark_group("snmp/v3_authpriv_sha1_aes");
    group.throughput(Throughput::Elements(1));
    group.bench_function(
        format!("receive_warm_keys_{}_bytes", V3_AUTH_PRIV.len()),
        |b| {
            b.iter(|| {
                receiver
                    .receive(black_box(V3_AUTH_PRIV), received())
                    .expect("still timely")
            })
        },
    );
    group.finish();
    assert_eq!(receiver.key_derivations(), 2, "keys were derived once");
}

fn key_derivation(c: &mut Criterion) {
    let mut group = c.benchmark_group("snmp/usm");
    group.sample_size(20);
    group.bench_function("password_to_key_sha1_1mib", |b| {
        b.iter(|| password_to_key(AuthProtocol::Sha1, black_box(b"authpass123")))
    });
    group.finish();
}

criterion_group!(benches, v2c_trap, v3_auth_priv, key_derivation);
criterion_main!(benches);
