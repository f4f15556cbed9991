//! The SNMP test assets of rusticata/snmp-parser (MIT/Apache-2.0), from the shared corpus:
//! requests, a response, a report and a v1 trap, captured from real agents and managers.
//!
//! Opt-in: `cargo test -p vigil-codec --test snmp_corpus -- --ignored --nocapture`. The corpus is
//! found through `VIGIL_CORPUS` (the directory holding `snmp/assets`), else `../shared/corpus`
//! beside the project; the test fails, saying so, when neither holds the assets.
//!
//! Every asset goes through `decode_message` (the outer structure, no checks) and through
//! `TrapReceiver::receive`; each is compared with what it is known to hold, every prefix must be
//! an error, and nothing may panic.

use std::net::Ipv4Addr;
use std::path::PathBuf;

use vigil_codec::snmp::message::{Pdu, ScopedPduData, V3Message};
use vigil_codec::snmp::{
    decode_message, Message, Oid, PduType, SnmpValue, SnmpVersion, TrapConfig, TrapReceiver,
    VarBind,
};
use vigil_event::Timestamp;

const ASSETS: [&str; 6] = [
    "snmpv1_req.bin",
    "snmpv1_trap_coldstart.bin",
    "snmpv2c-get-response.bin",
    "snmpv3-report.bin",
    "snmpv3_req.bin",
    "snmpv3_req_encrypted.bin",
];

fn assets_dir() -> PathBuf {
    let corpus = match std::env::var_os("VIGIL_CORPUS") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/corpus"
        )),
    };
    let assets = corpus.join("snmp").join("assets");
    assert!(
        assets.is_dir(),
        "no SNMP assets at {}: set VIGIL_CORPUS to the corpus directory (the one holding \
         snmp/assets)",
        assets.display()
    );
    assets
}

fn read_asset(name: &str) -> Vec<u8> {
    let path = assets_dir().join(name);
    std::fs::read(&path).unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()))
}

fn oid(text: &str) -> Oid {
    text.parse().expect("valid OID")
}

fn v3(message: Message) -> V3Message {
    match message {
        Message::V3(message) => message,
        other => panic!("expected SNMPv3, got {other:?}"),
    }
}

/// What each asset is known to hold, checked field by field where it matters.
fn check_asset(name: &str, message: Message) {
    match name {
        "snmpv1_req.bin" => {
            assert_eq!(message.version(), SnmpVersion::V1);
            let Some(Pdu::Standard(pdu)) = message.pdu() else {
                panic!("a standard PDU");
            };
            assert_eq!(pdu.pdu_type, PduType::GetRequest);
            assert_eq!(pdu.request_id, 38);
            assert_eq!(
                pdu.varbinds,
                vec![VarBind {
                    oid: oid("1.3.6.1.2.1.1.2.0"),
                    value: SnmpValue::Null
                }]
            );
        }
        "snmpv1_trap_coldstart.bin" => {
            let Message::Community(message) = message else {
                panic!("v1");
            };
            assert_eq!(message.version, SnmpVersion::V1);
            assert_eq!(message.community, b"public");
            let Pdu::TrapV1(trap) = message.pdu else {
                panic!("a v1 Trap-PDU");
            };
            assert_eq!(trap.enterprise, oid("1.3.6.1.4.1.4.1.2.21"));
            assert_eq!(trap.agent_address, Ipv4Addr::LOCALHOST);
            assert_eq!((trap.generic_trap, trap.specific_trap), (0, 0));
            assert_eq!(trap.time_stamp, 0);
            assert_eq!(
                trap.varbinds,
                vec![VarBind {
                    oid: oid("1.3.6.1.2.1.2.1.0"),
                    value: SnmpValue::Integer(33)
                }]
            );
        }
        "snmpv2c-get-response.bin" => {
            assert_eq!(message.version(), SnmpVersion::V2c);
            let Some(Pdu::Standard(pdu)) = message.pdu() else {
                panic!("a standard PDU");
            };
            assert_eq!(pdu.pdu_type, PduType::Response);
            assert_eq!(pdu.request_id, 0x05c9_610e);
            let values: Vec<_> = pdu.varbinds.iter().map(|varbind| &varbind.value).collect();
            assert_eq!(
                values,
                [
                    &SnmpValue::TimeTicks(0x000e_cd55),
                    &SnmpValue::Gauge32(3),
                    &SnmpValue::NoSuchInstance
                ]
            );
        }
        "snmpv3-report.bin" => {
            let message = v3(message);
            assert_eq!(message.msg_id, 0x29cd_b17a);
            let usm = message.usm.expect("USM");
            assert_eq!(usm.engine_id.len(), 20);
            assert_eq!((usm.engine_boots, usm.engine_time), (3, 0x0001_0a1d));
            assert!(usm.user_name.is_empty());
            let ScopedPduData::Plaintext(scoped) = message.data else {
                panic!("plaintext");
            };
            assert_eq!(scoped.context_engine_id, usm.engine_id);
            assert_eq!(scoped.pdu.pdu_type(), PduType::Report);
            // usmStatsUnknownEngineIDs.0: the answer to a discovery probe.
            assert_eq!(
                scoped.pdu.varbinds(),
                [VarBind {
                    oid: oid("1.3.6.1.6.3.15.1.1.4.0"),
                    value: SnmpValue::Counter32(4)
                }]
            );
        }
        "snmpv3_req.bin" => {
            let message = v3(message);
            assert_eq!(
                message.flags, 4,
                "reportable, noAuthNoPriv: a discovery probe"
            );
            let usm = message.usm.expect("USM");
            assert!(usm.engine_id.is_empty() && usm.user_name.is_empty());
            let ScopedPduData::Plaintext(scoped) = message.data else {
                panic!("plaintext");
            };
            assert_eq!(scoped.pdu.pdu_type(), PduType::GetRequest);
            assert!(scoped.pdu.varbinds().is_empty());
        }
        "snmpv3_req_encrypted.bin" => {
            let message = v3(message);
            assert_eq!(message.flags, 7);
            let usm = message.usm.expect("USM");
            assert_eq!(usm.user_name, b"pippo");
            assert_eq!((usm.engine_boots, usm.engine_time), (8, 2745));
            assert_eq!(usm.auth_params.len(), 12);
            assert_eq!(usm.priv_params.len(), 8);
            let ScopedPduData::Encrypted(bytes) = message.data else {
                panic!("encrypted");
            };
            assert_eq!(bytes.len(), 96);
        }
        other => panic!("no expectation for {other}"),
    }
}

/// What the trap receiver (any community, no v3 user) says of each.
fn expected_receive(name: &str) -> Result<&'static str, &'static str> {
    match name {
        "snmpv1_trap_coldstart.bin" => Ok("coldStart"),
        "snmpv1_req.bin" | "snmpv2c-get-response.bin" => Err("not_a_notification"),
        _ => Err("unknown_user"),
    }
}

#[test]
#[ignore = "reads the shared corpus; run with --ignored"]
fn snmp_parser_assets_decode() {
    let mut receiver = TrapReceiver::new(TrapConfig::default());
    for name in ASSETS {
        let bytes = read_asset(name);
        let message = decode_message(&bytes).unwrap_or_else(|error| panic!("{name}: {error}"));
        let pdu_type = message
            .pdu()
            .map_or("encrypted", |pdu| pdu.pdu_type().name());
        println!("{name}: SNMPv{} {pdu_type}", message.version().as_str());
        check_asset(name, message);

        let received = receiver.receive(&bytes, Timestamp::from_nanos(0));
        let outcome = match &received {
            Ok(received) => Ok(received.trap.trap_oid.exact_name().unwrap_or("?")),
            Err(error) => Err(error.kind()),
        };
        assert_eq!(outcome, expected_receive(name), "{name}: {received:?}");

        for length in 0..bytes.len() {
            assert!(
                decode_message(&bytes[..length]).is_err(),
                "{name}[..{length}]"
            );
            assert!(receiver
                .receive(&bytes[..length], Timestamp::from_nanos(0))
                .is_err());
        }
    }
}
