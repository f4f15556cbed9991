//! The receiver against real packets captured from net-snmp 5.9.3 (`testdata/README.md` says
//! how each was made), and against hostile ones.

use std::cell::RefCell;
use std::net::{Ipv4Addr, SocketAddr};

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use vigil_event::{field, Timestamp, Value};

use super::ber;
use super::message::{Pdu, ScopedPduData};
use super::*;

const V1_LINKUP: &[u8] = include_bytes!("testdata/v1_trap_linkup.bin");
const V1_ENTERPRISE: &[u8] = include_bytes!("testdata/v1_trap_enterprise_specific.bin");
const V2C_TRAP: &[u8] = include_bytes!("testdata/v2c_trap_linkdown.bin");
const V2C_INFORM: &[u8] = include_bytes!("testdata/v2c_inform_linkdown.bin");
const V3_NOAUTH: &[u8] = include_bytes!("testdata/v3_noauthnopriv_coldstart.bin");
const V3_AUTH_SHA1: &[u8] = include_bytes!("testdata/v3_authnopriv_sha1_linkdown.bin");
const V3_AUTH_SHA256: &[u8] = include_bytes!("testdata/v3_authnopriv_sha256_linkdown.bin");
const V3_AUTH_BOOTS_MAX: &[u8] = include_bytes!("testdata/v3_authnopriv_sha1_boots_max.bin");
const V3_PRIV_SHA1: &[u8] = include_bytes!("testdata/v3_authpriv_sha1_aes_linkdown.bin");
const V3_PRIV_BOOTS2: &[u8] = include_bytes!("testdata/v3_authpriv_sha1_aes_boots2_linkup.bin");
const V3_PRIV_ENGINE2: &[u8] = include_bytes!("testdata/v3_authpriv_sha1_aes_engine2_linkup.bin");
const V3_PRIV_SHA512: &[u8] = include_bytes!("testdata/v3_authpriv_sha512_aes_linkdown.bin");

const ALL_FIXTURES: [&[u8]; 12] = [
    V1_LINKUP,
    V1_ENTERPRISE,
    V2C_TRAP,
    V2C_INFORM,
    V3_NOAUTH,
    V3_AUTH_SHA1,
    V3_AUTH_SHA256,
    V3_AUTH_BOOTS_MAX,
    V3_PRIV_SHA1,
    V3_PRIV_BOOTS2,
    V3_PRIV_ENGINE2,
    V3_PRIV_SHA512,
];

const ENGINE_ID: [u8; 8] = [0x80, 0x00, 0x00, 0x00, 0x01, 0x02, 0x03, 0x04];
const ENGINE_ID_2: [u8; 8] = [0x80, 0x00, 0x00, 0x00, 0x01, 0x02, 0x03, 0x05];
const AUTH_PASSWORD: &str = "authpass123";
const PRIV_PASSWORD: &str = "privpass123";

const LINK_DOWN: &str = "1.3.6.1.6.3.1.1.5.3";
const LINK_UP: &str = "1.3.6.1.6.3.1.1.5.4";
const IF_INDEX_2: &str = "1.3.6.1.2.1.2.2.1.1.2";
const IF_DESCR_2: &str = "1.3.6.1.2.1.2.2.1.2.2";
const IF_OPER_STATUS_2: &str = "1.3.6.1.2.1.2.2.1.8.2";

fn oid(text: &str) -> Oid {
    text.parse().expect("valid test OID")
}

fn varbind(oid_text: &str, value: SnmpValue) -> VarBind {
    VarBind {
        oid: oid(oid_text),
        value,
    }
}

/// The three varbinds every captured linkDown carries after sysUpTime and snmpTrapOID.
fn link_down_varbinds() -> Vec<VarBind> {
    vec![
        varbind(IF_INDEX_2, SnmpValue::Integer(2)),
        varbind(IF_DESCR_2, SnmpValue::OctetString(b"eth0".to_vec())),
        varbind(IF_OPER_STATUS_2, SnmpValue::Integer(2)),
    ]
}

fn at_secs(seconds: i64) -> Timestamp {
    Timestamp::from_nanos(1_764_196_561_000_000_000 + seconds * 1_000_000_000)
}

fn user(name: &str, auth: Option<AuthProtocol>, privacy: bool) -> UsmUser {
    UsmUser {
        name: name.into(),
        engine_id: None,
        auth: auth.map(|protocol| (protocol, AUTH_PASSWORD.to_owned())),
        privacy: privacy.then(|| (PrivProtocol::Aes128, PRIV_PASSWORD.to_owned())),
    }
}

fn receiver_with(users: Vec<UsmUser>) -> TrapReceiver {
    TrapReceiver::new(TrapConfig {
        communities: vec!["public".into()],
        users,
        limits: SnmpLimits::default(),
    })
}

fn receive(receiver: &mut TrapReceiver, datagram: &[u8]) -> Result<Received, SnmpError> {
    receiver.receive(datagram, at_secs(0))
}

fn error_kind(receiver: &mut TrapReceiver, datagram: &[u8]) -> &'static str {
    match receive(receiver, datagram) {
        Ok(received) => panic!("expected an error, got {received:?}"),
        Err(error) => error.kind(),
    }
}

fn peer() -> SocketAddr {
    "127.0.0.1:49152".parse().expect("valid address")
}

// Hand-made messages, for what no agent sends.

fn tlv(tag: u8, parts: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    ber::write_tlv(&mut out, tag, &parts.concat());
    out
}

fn integer(value: i64) -> Vec<u8> {
    let mut out = Vec::new();
    ber::write_integer(&mut out, value);
    out
}

fn oid_tlv(text: &str) -> Vec<u8> {
    let mut out = Vec::new();
    ber::write_oid(&mut out, oid(text).as_slice());
    out
}

fn encoded_varbind(oid_text: &str, value: &[u8]) -> Vec<u8> {
    tlv(0x30, &[&oid_tlv(oid_text), value])
}

fn v2c_message(version: i64, pdu_tag: u8, varbinds: &[Vec<u8>]) -> Vec<u8> {
    let list = tlv(0x30, &[&varbinds.concat()]);
    let pdu = tlv(pdu_tag, &[&integer(77), &integer(0), &integer(0), &list]);
    let community = tlv(0x04, &[b"public"]);
    tlv(0x30, &[&integer(version), &community, &pdu])
}

fn patched(datagram: &[u8], offset: usize, byte: u8) -> Vec<u8> {
    let mut bytes = datagram.to_vec();
    bytes[offset] = byte;
    bytes
}

// v1

#[test]
fn v1_trap_decodes_every_field() {
    let trap = receive(&mut receiver_with(vec![]), V1_LINKUP).unwrap().trap;
    assert_eq!(trap.version, SnmpVersion::V1);
    assert_eq!(trap.pdu, PduKind::TrapV1);
    assert_eq!(trap.request_id, None);
    assert_eq!(trap.security_name, None);
    assert_eq!(trap.security_level, None);
    assert_eq!(trap.engine_id, None);
    assert_eq!(trap.enterprise, Some(oid("1.3.6.1.4.1.8072.2.3")));
    assert_eq!(trap.agent_address, Some(Ipv4Addr::new(192, 0, 2, 10)));
    assert_eq!(trap.generic_trap, Some(3));
    assert_eq!(trap.specific_trap, Some(0));
    assert_eq!(trap.uptime, Some(12345));
    // RFC 3584: generic-trap 3 (linkUp) is snmpTraps.4.
    assert_eq!(trap.trap_oid, oid(LINK_UP));
    assert_eq!(
        trap.varbinds,
        vec![
            varbind(IF_INDEX_2, SnmpValue::Integer(2)),
            varbind(IF_DESCR_2, SnmpValue::OctetString(b"eth0".to_vec())),
        ]
    );
}

#[test]
fn v1_enterprise_specific_trap_oid_is_enterprise_zero_specific() {
    let trap = receive(&mut receiver_with(vec![]), V1_ENTERPRISE)
        .unwrap()
        .trap;
    assert_eq!(trap.generic_trap, Some(6));
    assert_eq!(trap.specific_trap, Some(17));
    assert_eq!(trap.uptime, Some(4242));
    assert_eq!(trap.trap_oid, oid("1.3.6.1.4.1.8072.2.3.0.17"));
    assert_eq!(
        trap.varbinds,
        vec![varbind(
            "1.3.6.1.2.1.1.5.0",
            SnmpValue::OctetString(b"router-7".to_vec())
        )]
    );
}

#[test]
fn v1_event_names_the_agent_as_host() {
    let trap = receive(&mut receiver_with(vec![]), V1_LINKUP).unwrap().trap;
    let event = trap.to_event(V1_LINKUP, peer(), at_secs(0));
    assert_eq!(event.host_ip, Some("192.0.2.10".parse().unwrap()));
    assert_eq!(event.source, Some(peer()));
    assert_eq!(
        event.message,
        r#"SNMPv1 linkUp from 192.0.2.10: ifIndex.2=2 ifDescr.2="eth0""#
    );
    let fields = &event.fields;
    assert_eq!(fields["snmp.version"], Value::from("1"));
    assert_eq!(fields["snmp.pdu"], Value::from("trap"));
    assert_eq!(fields[field::EVENT_ACTION], Value::from("linkUp"));
    assert_eq!(
        fields["snmp.enterprise"],
        Value::from("1.3.6.1.4.1.8072.2.3")
    );
    assert_eq!(fields["snmp.agent_address"], Value::from("192.0.2.10"));
    assert_eq!(fields["snmp.generic_trap"], Value::Int(3));
    assert_eq!(fields["snmp.specific_trap"], Value::Int(0));
    assert_eq!(fields["snmp.uptime"], Value::Int(12345));
    assert_eq!(fields["snmp.trap_oid"], Value::from(LINK_UP));
    assert!(!fields.contains_key("snmp.request_id"));
    assert!(!fields.contains_key("snmp.security_name"));

    let enterprise = receive(&mut receiver_with(vec![]), V1_ENTERPRISE)
        .unwrap()
        .trap;
    let event = enterprise.to_event(V1_ENTERPRISE, peer(), at_secs(0));
    assert_eq!(event.fields[field::EVENT_ACTION], Value::from("snmp-trap"));
    assert!(!event.fields.contains_key("snmp.trap_name"));
    assert_eq!(
        event.message,
        r#"SNMPv1 1.3.6.1.4.1.8072.2.3.0.17 from 192.0.2.10: sysName.0="router-7""#
    );
}

// v2c

#[test]
fn v2c_trap_decodes_every_field() {
    let received = receive(&mut receiver_with(vec![]), V2C_TRAP).unwrap();
    assert_eq!(received.response, None);
    let trap = received.trap;
    assert_eq!(trap.version, SnmpVersion::V2c);
    assert_eq!(trap.pdu, PduKind::TrapV2);
    assert_eq!(trap.request_id, Some(0x67fe_3611));
    assert_eq!(trap.uptime, Some(12345));
    assert_eq!(trap.trap_oid, oid(LINK_DOWN));
    assert_eq!(trap.varbinds, link_down_varbinds());
    assert_eq!(trap.enterprise, None);
    assert_eq!(trap.agent_address, None);
    assert_eq!(trap.generic_trap, None);
    assert_eq!(trap.specific_trap, None);
    assert_eq!(trap.security_name, None);
}

#[test]
fn v2c_event_maps_every_field() {
    let trap = receive(&mut receiver_with(vec![]), V2C_TRAP).unwrap().trap;
    let event = trap.to_event(V2C_TRAP, peer(), at_secs(0));
    // The community is blanked in the forensic copy, which otherwise is the datagram.
    assert_eq!(event.original.len(), V2C_TRAP.len());
    let at = V2C_TRAP
        .windows(6)
        .position(|window| window == b"public")
        .expect("the capture's community");
    assert_eq!(&event.original[at..at + 6], b"******");
    assert_eq!(&event.original[..at], &V2C_TRAP[..at]);
    assert_eq!(&event.original[at + 6..], &V2C_TRAP[at + 6..]);
    assert!(decode_message(&event.original).is_ok());
    assert_eq!(event.timestamp, at_secs(0));
    assert_eq!(event.source, Some(peer()));
    assert_eq!(event.host_ip, Some(peer().ip()));
    assert_eq!(
        event.message,
        r#"SNMPv2c linkDown from 127.0.0.1: ifIndex.2=2 ifDescr.2="eth0" ifOperStatus.2=2"#
    );
    let fields = &event.fields;
    assert_eq!(fields[field::EVENT_KIND], Value::from("event"));
    assert_eq!(fields[field::EVENT_DATASET], Value::from("snmp.trap"));
    assert_eq!(fields[field::EVENT_ACTION], Value::from("linkDown"));
    assert_eq!(fields["snmp.version"], Value::from("2c"));
    assert_eq!(fields["snmp.pdu"], Value::from("snmpv2-trap"));
    assert_eq!(fields["snmp.request_id"], Value::Int(0x67fe_3611));
    assert_eq!(fields["snmp.trap_oid"], Value::from(LINK_DOWN));
    assert_eq!(fields["snmp.trap_name"], Value::from("linkDown"));
    assert_eq!(fields["snmp.uptime"], Value::Int(12345));
    let Value::List(varbinds) = &fields["snmp.varbinds"] else {
        panic!("snmp.varbinds is a list: {:?}", fields["snmp.varbinds"]);
    };
    let expected: Vec<Value> = [
        (IF_INDEX_2, "ifIndex.2", "integer", Value::Int(2)),
        (IF_DESCR_2, "ifDescr.2", "octet-string", Value::from("eth0")),
        (IF_OPER_STATUS_2, "ifOperStatus.2", "integer", Value::Int(2)),
    ]
    .into_iter()
    .map(|(oid, name, kind, value)| {
        Value::Map(
            [
                ("oid".to_owned(), Value::from(oid)),
                ("name".to_owned(), Value::from(name)),
                ("type".to_owned(), Value::from(kind)),
                ("value".to_owned(), value),
            ]
            .into_iter()
            .collect(),
        )
    })
    .collect();
    assert_eq!(varbinds, &expected);
    for absent in ["snmp.enterprise", "snmp.security_name", "snmp.engine_id"] {
        assert!(!fields.contains_key(absent), "{absent}");
    }
    // Each value also under its numeric OID.
    assert_eq!(
        fields.get("snmp.oid.1.3.6.1.2.1.2.2.1.1.2"),
        Some(&Value::Int(2))
    );
    assert_eq!(
        fields.get("snmp.oid.1.3.6.1.2.1.2.2.1.2.2"),
        Some(&Value::Str("eth0".into()))
    );
    // The community is nowhere in the event.
    let json = serde_json::to_string(&event.to_json()["snmp.varbinds"]).unwrap();
    assert!(!json.contains("public") && !event.message.contains("public"));
    assert!(!fields
        .values()
        .any(|value| value.as_str() == Some("public")));
}

#[test]
fn v2c_inform_is_answered_with_its_own_varbinds() {
    let received = receive(&mut receiver_with(vec![]), V2C_INFORM).unwrap();
    assert_eq!(received.trap.pdu, PduKind::Inform);
    assert_eq!(received.trap.request_id, Some(0x74e8_d207));
    assert_eq!(received.trap.trap_oid, oid(LINK_DOWN));
    assert_eq!(received.trap.varbinds, link_down_varbinds());
    let response = received.response.expect("an inform is answered");

    let Message::Community(message) = decode_message(&response).unwrap() else {
        panic!("a v2c response");
    };
    assert_eq!(message.version, SnmpVersion::V2c);
    assert_eq!(message.community, b"public");
    let Pdu::Standard(pdu) = message.pdu else {
        panic!("a standard PDU");
    };
    assert_eq!(pdu.pdu_type, PduType::Response);
    assert_eq!(pdu.request_id, 0x74e8_d207);
    assert_eq!((pdu.error_status, pdu.error_index), (0, 0));
    let inform = decode_message(V2C_INFORM).unwrap();
    assert_eq!(pdu.varbinds, inform.pdu().unwrap().varbinds());
    assert_eq!(pdu.varbinds.len(), 5);
    // net-snmp encodes minimally too, so the Response is the inform with another PDU tag.
    let inform_tag_offset = 13;
    assert_eq!(V2C_INFORM[inform_tag_offset], 0xa6);
    assert_eq!(response, patched(V2C_INFORM, inform_tag_offset, 0xa2));

    let event = received.trap.to_event(V2C_INFORM, peer(), at_secs(0));
    assert_eq!(event.fields["snmp.pdu"], Value::from("inform"));
}

#[test]
fn v2c_trap_without_uptime_and_trap_oid_keeps_every_varbind() {
    let datagram = v2c_message(1, 0xa7, &[encoded_varbind(IF_INDEX_2, &integer(5))]);
    let trap = receive(&mut receiver_with(vec![]), &datagram).unwrap().trap;
    assert_eq!(trap.uptime, None);
    assert!(trap.trap_oid.is_empty());
    assert_eq!(
        trap.varbinds,
        vec![varbind(IF_INDEX_2, SnmpValue::Integer(5))]
    );
    let event = trap.to_event(&datagram, peer(), at_secs(0));
    assert_eq!(event.fields[field::EVENT_ACTION], Value::from("snmp-trap"));
    assert!(!event.fields.contains_key("snmp.trap_oid"));
    assert_eq!(
        event.message,
        "SNMPv2c snmpv2-trap from 127.0.0.1: ifIndex.2=5"
    );
}

#[test]
fn communities_outside_the_allow_list_are_refused() {
    let mut receiver = TrapReceiver::new(TrapConfig {
        communities: vec!["private".into(), "publi".into()],
        ..TrapConfig::default()
    });
    for datagram in [V1_LINKUP, V2C_TRAP, V2C_INFORM] {
        assert_eq!(error_kind(&mut receiver, datagram), "unknown_community");
    }
    let mut receiver = TrapReceiver::new(TrapConfig {
        communities: vec!["private".into(), "public".into()],
        ..TrapConfig::default()
    });
    for datagram in [V1_LINKUP, V2C_TRAP, V2C_INFORM] {
        receive(&mut receiver, datagram).unwrap();
    }
}

#[test]
fn pdus_that_are_not_notifications_are_refused() {
    let mut receiver = receiver_with(vec![]);
    let response = receive(&mut receiver, V2C_INFORM)
        .unwrap()
        .response
        .unwrap();
    assert_eq!(
        receive(&mut receiver, &response),
        Err(SnmpError::NotANotification {
            pdu: PduType::Response
        })
    );
    // A v1 Trap-PDU in a v2c message, and a v2 trap in a v1 message.
    assert_eq!(
        error_kind(&mut receiver, &patched(V1_LINKUP, 4, 1)),
        "not_a_notification"
    );
    assert_eq!(
        error_kind(&mut receiver, &patched(V2C_TRAP, 4, 0)),
        "not_a_notification"
    );
    let get = v2c_message(1, 0xa0, &[encoded_varbind(IF_INDEX_2, &[0x05, 0x00])]);
    assert_eq!(error_kind(&mut receiver, &get), "not_a_notification");
}

#[test]
fn unknown_versions_are_refused() {
    let mut receiver = receiver_with(vec![]);
    assert_eq!(
        receive(&mut receiver, &patched(V2C_TRAP, 4, 2)),
        Err(SnmpError::UnsupportedVersion { version: 2 })
    );
}

// v3

fn sha1_priv_receiver() -> TrapReceiver {
    receiver_with(vec![user("vigil", Some(AuthProtocol::Sha1), true)])
}

fn assert_v3_link_down(trap: &Trap, name: &str, level: SecurityLevel) {
    assert_eq!(trap.version, SnmpVersion::V3);
    assert_eq!(trap.pdu, PduKind::TrapV2);
    assert_eq!(trap.security_name.as_deref(), Some(name));
    assert_eq!(trap.security_level, Some(level));
    assert_eq!(trap.engine_id.as_deref(), Some(&ENGINE_ID[..]));
    assert_eq!(trap.uptime, Some(12345));
    assert_eq!(trap.trap_oid, oid(LINK_DOWN));
    assert_eq!(trap.varbinds, link_down_varbinds());
    assert!(trap.request_id.is_some());
    assert_eq!(trap.enterprise, None);
}

#[test]
fn v3_auth_no_priv_sha1_decodes_with_the_right_user() {
    let mut receiver = receiver_with(vec![user("vigil", Some(AuthProtocol::Sha1), false)]);
    let received = receive(&mut receiver, V3_AUTH_SHA1).unwrap();
    assert_eq!(received.response, None);
    assert_v3_link_down(&received.trap, "vigil", SecurityLevel::AuthNoPriv);
    assert_eq!(received.trap.request_id, Some(0x0294_16f1));
}

#[test]
fn v3_auth_priv_sha1_aes_decodes_with_the_right_user() {
    let mut receiver = sha1_priv_receiver();
    let trap = receive(&mut receiver, V3_PRIV_SHA1).unwrap().trap;
    assert_v3_link_down(&trap, "vigil", SecurityLevel::AuthPriv);
}

#[test]
fn v3_sha2_digests_decode_with_rfc7860_keys() {
    let mut receiver = receiver_with(vec![
        user("vigil256", Some(AuthProtocol::Sha256), false),
        user("vigil512", Some(AuthProtocol::Sha512), true),
    ]);
    let trap = receive(&mut receiver, V3_AUTH_SHA256).unwrap().trap;
    assert_v3_link_down(&trap, "vigil256", SecurityLevel::AuthNoPriv);
    // AES-128 takes the first 16 bytes of the 64-byte SHA-512 localized key.
    let trap = receive(&mut receiver, V3_PRIV_SHA512).unwrap().trap;
    assert_v3_link_down(&trap, "vigil512", SecurityLevel::AuthPriv);
}

#[test]
fn v3_no_auth_no_priv_decodes_for_a_user_without_keys() {
    let mut receiver = receiver_with(vec![user("vigil", None, false)]);
    let trap = receive(&mut receiver, V3_NOAUTH).unwrap().trap;
    assert_eq!(trap.security_level, Some(SecurityLevel::NoAuthNoPriv));
    assert_eq!(trap.request_id, Some(0x4df3_f15c));
    assert_eq!(trap.trap_oid, oid("1.3.6.1.6.3.1.1.5.1"));
    assert_eq!(
        trap.varbinds,
        vec![varbind(
            "1.3.6.1.2.1.1.1.0",
            SnmpValue::OctetString(b"Linux test".to_vec())
        )]
    );
    assert_eq!(receiver.key_derivations(), 0);
    assert_eq!(receiver.known_engines(), 0);
}

#[test]
fn v3_event_names_the_user_and_engine_and_holds_no_secret() {
    let mut receiver = sha1_priv_receiver();
    let trap = receive(&mut receiver, V3_PRIV_SHA1).unwrap().trap;
    let event = trap.to_event(V3_PRIV_SHA1, peer(), at_secs(0));
    assert_eq!(event.fields["snmp.version"], Value::from("3"));
    assert_eq!(event.fields["snmp.security_name"], Value::from("vigil"));
    assert_eq!(event.fields["snmp.security_level"], Value::from("authPriv"));
    assert_eq!(
        event.fields["snmp.engine_id"],
        Value::from("8000000001020304")
    );
    assert_eq!(
        event.message,
        r#"SNMPv3 linkDown from 127.0.0.1: ifIndex.2=2 ifDescr.2="eth0" ifOperStatus.2=2"#
    );
    let json = event.to_json().to_string();
    let master = usm::password_to_key(AuthProtocol::Sha1, AUTH_PASSWORD.as_bytes());
    let auth_key = usm::localize_key(AuthProtocol::Sha1, &master, &ENGINE_ID);
    let master = usm::password_to_key(AuthProtocol::Sha1, PRIV_PASSWORD.as_bytes());
    let priv_key = usm::localize_key(AuthProtocol::Sha1, &master, &ENGINE_ID);
    for secret in [
        AUTH_PASSWORD.to_owned(),
        PRIV_PASSWORD.to_owned(),
        usm::hex(&auth_key),
        usm::hex(&priv_key[..16]),
    ] {
        assert!(!json.contains(&secret), "{secret} in {json}");
    }
}

#[test]
fn v3_wrong_auth_password_fails_authentication() {
    for (datagram, privacy) in [(V3_AUTH_SHA1, false), (V3_PRIV_SHA1, true)] {
        let mut wrong = user("vigil", Some(AuthProtocol::Sha1), privacy);
        wrong.auth = Some((AuthProtocol::Sha1, "authpass124".into()));
        let mut receiver = receiver_with(vec![wrong]);
        assert_eq!(
            receive(&mut receiver, datagram),
            Err(SnmpError::AuthenticationFailed)
        );
        assert_eq!(
            receiver.known_engines(),
            0,
            "no clock from an unauthenticated message"
        );
    }
}

#[test]
fn v3_wrong_auth_protocol_fails_authentication() {
    let mut receiver = receiver_with(vec![user("vigil", Some(AuthProtocol::Sha256), false)]);
    assert_eq!(
        error_kind(&mut receiver, V3_AUTH_SHA1),
        "authentication_failed"
    );
}

#[test]
fn v3_wrong_priv_password_fails_decryption() {
    // Authentication is checked first and passes; the plaintext is then noise.
    let mut wrong = user("vigil", Some(AuthProtocol::Sha1), true);
    wrong.privacy = Some((PrivProtocol::Aes128, "privpass124".into()));
    let mut receiver = receiver_with(vec![wrong]);
    assert_eq!(
        receive(&mut receiver, V3_PRIV_SHA1),
        Err(SnmpError::DecryptionFailed)
    );
}

#[test]
fn v3_tampered_messages_fail_authentication() {
    let mut receiver = sha1_priv_receiver();
    let last = V3_PRIV_SHA1.len() - 1;
    let flipped = patched(V3_PRIV_SHA1, last, V3_PRIV_SHA1[last] ^ 1);
    assert_eq!(error_kind(&mut receiver, &flipped), "authentication_failed");
    receive(&mut receiver, V3_PRIV_SHA1).unwrap();
}

#[test]
fn v3_unknown_users_are_refused() {
    let mut receiver = receiver_with(vec![]);
    assert_eq!(
        receive(&mut receiver, V3_PRIV_SHA1),
        Err(SnmpError::UnknownUser {
            name: "vigil".into()
        })
    );
    let mut receiver = receiver_with(vec![user("other", Some(AuthProtocol::Sha1), true)]);
    assert_eq!(error_kind(&mut receiver, V3_PRIV_SHA1), "unknown_user");
    assert_eq!(error_kind(&mut receiver, V3_NOAUTH), "unknown_user");
}

#[test]
fn v3_users_tied_to_an_engine_accept_only_that_engine() {
    let mut tied = user("vigil", Some(AuthProtocol::Sha1), true);
    tied.engine_id = Some(ENGINE_ID_2.to_vec());
    let mut receiver = receiver_with(vec![tied.clone()]);
    assert_eq!(error_kind(&mut receiver, V3_PRIV_SHA1), "unknown_user");
    receive(&mut receiver, V3_PRIV_ENGINE2).unwrap();
    tied.engine_id = Some(ENGINE_ID.to_vec());
    receive(&mut receiver_with(vec![tied]), V3_PRIV_SHA1).unwrap();
}

#[test]
fn v3_levels_below_the_users_are_accepted() {
    let cases = [
        (user("vigil", Some(AuthProtocol::Sha1), true), V3_AUTH_SHA1),
        (user("vigil", Some(AuthProtocol::Sha1), false), V3_NOAUTH),
    ];
    for (configured, datagram) in cases {
        let mut receiver = receiver_with(vec![configured]);
        let accepted = receive(&mut receiver, datagram).expect("a lower level");
        assert_eq!(accepted.trap.security_name.as_deref(), Some("vigil"));
    }
}

#[test]
fn v3_levels_the_user_is_not_configured_for_are_refused() {
    let cases = [
        (user("vigil", Some(AuthProtocol::Sha1), false), V3_PRIV_SHA1),
        (user("vigil", None, false), V3_AUTH_SHA1),
        (
            UsmUser {
                privacy: Some((PrivProtocol::Aes128, PRIV_PASSWORD.into())),
                ..user("vigil", None, false)
            },
            V3_NOAUTH,
        ),
    ];
    for (configured, datagram) in cases {
        let mut receiver = receiver_with(vec![configured]);
        assert_eq!(error_kind(&mut receiver, datagram), "unsupported_security");
    }
}

#[test]
fn v3_time_window_refuses_older_boots() {
    let mut receiver = sha1_priv_receiver();
    receive(&mut receiver, V3_PRIV_SHA1).unwrap();
    assert_eq!(
        receive(&mut receiver, V3_PRIV_BOOTS2),
        Err(SnmpError::NotInTimeWindow)
    );
    // In the other order both are timely: boots 2, then the engine rebooted.
    let mut receiver = sha1_priv_receiver();
    let older = receive(&mut receiver, V3_PRIV_BOOTS2).unwrap().trap;
    assert_eq!(older.trap_oid, oid(LINK_UP));
    receive(&mut receiver, V3_PRIV_SHA1).unwrap();
}

#[test]
fn v3_time_window_refuses_a_replay_more_than_150_seconds_late() {
    let mut receiver = sha1_priv_receiver();
    receiver.receive(V3_PRIV_SHA1, at_secs(0)).unwrap();
    receiver.receive(V3_PRIV_SHA1, at_secs(150)).unwrap();
    assert_eq!(
        receiver.receive(V3_PRIV_SHA1, at_secs(151)),
        Err(SnmpError::NotInTimeWindow)
    );
    // The window is per engine: another engine's first message is timely.
    receiver.receive(V3_PRIV_ENGINE2, at_secs(151)).unwrap();
}

#[test]
fn v3_time_window_refuses_the_last_boots_value() {
    let mut receiver = receiver_with(vec![user("vigil", Some(AuthProtocol::Sha1), false)]);
    assert_eq!(
        receive(&mut receiver, V3_AUTH_BOOTS_MAX),
        Err(SnmpError::NotInTimeWindow)
    );
}

#[test]
fn v3_keys_are_derived_once_per_password() {
    let mut receiver = sha1_priv_receiver();
    assert_eq!(receiver.key_derivations(), 0);
    for _ in 0..3 {
        receive(&mut receiver, V3_PRIV_SHA1).unwrap();
    }
    receive(&mut receiver, V3_PRIV_ENGINE2).unwrap();
    // One auth and one privacy password, whatever the messages and engines.
    assert_eq!(receiver.key_derivations(), 2);
    assert_eq!(receiver.known_engines(), 2);

    let mut wrong = user("vigil", Some(AuthProtocol::Sha1), true);
    wrong.auth = Some((AuthProtocol::Sha1, "authpass124".into()));
    let mut receiver = receiver_with(vec![wrong]);
    for _ in 0..5 {
        assert_eq!(
            error_kind(&mut receiver, V3_PRIV_SHA1),
            "authentication_failed"
        );
    }
    assert_eq!(receiver.key_derivations(), 2);
}

#[test]
fn v3_informs_are_decoded_but_not_answered() {
    // The noAuthNoPriv capture with its PDU tag changed to InformRequest.
    let offset = V3_NOAUTH
        .iter()
        .position(|&byte| byte == 0xa7)
        .expect("a trap PDU");
    let inform = patched(V3_NOAUTH, offset, 0xa6);
    let received = receive(
        &mut receiver_with(vec![user("vigil", None, false)]),
        &inform,
    )
    .unwrap();
    assert_eq!(received.trap.pdu, PduKind::Inform);
    assert_eq!(received.response, None);
}

#[test]
fn decode_message_keeps_the_encrypted_scoped_pdu() {
    let Message::V3(message) = decode_message(V3_PRIV_SHA1).unwrap() else {
        panic!("v3");
    };
    assert_eq!(message.flags & 3, 3);
    let usm = message.usm.expect("USM parameters");
    assert_eq!(usm.engine_id, ENGINE_ID);
    assert_eq!((usm.engine_boots, usm.engine_time), (3, 12_400));
    assert_eq!(usm.user_name, b"vigil");
    assert_eq!(usm.auth_params.len(), 12);
    assert_eq!(usm.priv_params.len(), 8);
    assert!(matches!(message.data, ScopedPduData::Encrypted(ref bytes) if bytes.len() > 100));
}

// Hostile input

#[test]
fn a_length_of_two_to_the_31_is_refused_at_once() {
    let datagram = [0x30, 0x84, 0x80, 0x00, 0x00, 0x00, 0x02, 0x01, 0x01];
    assert_eq!(
        error_kind(&mut receiver_with(vec![]), &datagram),
        "truncated"
    );
    let mut inner = V2C_TRAP.to_vec();
    // The community's length, made 2^31 in long form.
    inner.splice(6..7, [0x84, 0x80, 0x00, 0x00, 0x00]);
    inner[1] += 4;
    assert_eq!(error_kind(&mut receiver_with(vec![]), &inner), "truncated");
}

#[test]
fn nesting_ten_thousand_deep_is_refused_as_too_deep() {
    let mut nest = vec![0x05, 0x00];
    for _ in 0..10_000 {
        nest = tlv(0x30, &[&nest]);
    }
    let mut receiver = receiver_with(vec![]);
    assert_eq!(error_kind(&mut receiver, &nest), "too_deep");
    // The same nest where a varbind value belongs.
    let datagram = v2c_message(1, 0xa7, &[encoded_varbind(IF_INDEX_2, &nest)]);
    assert_eq!(
        receive(&mut receiver, &datagram),
        Err(SnmpError::TooDeep { max_depth: 32 })
    );
}

#[test]
fn every_prefix_of_every_capture_is_an_error() {
    let mut receiver = receiver_with(vec![
        user("vigil", Some(AuthProtocol::Sha1), true),
        user("vigil256", Some(AuthProtocol::Sha256), false),
    ]);
    for datagram in ALL_FIXTURES {
        for length in 0..datagram.len() {
            let prefix = &datagram[..length];
            assert!(
                receiver.receive(prefix, at_secs(0)).is_err(),
                "prefix of {length} bytes accepted"
            );
            assert!(decode_message(prefix).is_err());
        }
    }
}

#[test]
fn varbind_count_is_bounded() {
    let varbinds = vec![encoded_varbind(IF_INDEX_2, &integer(1)); 1_025];
    let mut receiver = receiver_with(vec![]);
    assert_eq!(
        receive(&mut receiver, &v2c_message(1, 0xa7, &varbinds)),
        Err(SnmpError::TooManyVarbinds {
            max_varbinds: 1_024
        })
    );
    let trap = receive(&mut receiver, &v2c_message(1, 0xa7, &varbinds[..1_024]))
        .unwrap()
        .trap;
    assert_eq!(trap.varbinds.len(), 1_024);
    let event = trap.to_event(&[], peer(), at_secs(0));
    assert!(
        event.message.ends_with("…(+1008 more)"),
        "{}",
        event.message
    );
}

#[test]
fn datagrams_over_the_size_limit_are_refused() {
    let mut receiver = TrapReceiver::new(TrapConfig {
        limits: SnmpLimits {
            max_message_bytes: 100,
            ..SnmpLimits::default()
        },
        ..TrapConfig::default()
    });
    assert_eq!(
        receive(&mut receiver, V2C_TRAP),
        Err(SnmpError::MessageTooLong {
            bytes: 124,
            max_bytes: 100
        })
    );
    receive(&mut receiver, V1_LINKUP).unwrap();
}

#[test]
fn bytes_after_the_message_are_refused() {
    let mut datagram = V2C_TRAP.to_vec();
    datagram.push(0);
    assert_eq!(
        error_kind(&mut receiver_with(vec![]), &datagram),
        "malformed"
    );
}

// Values, debug output

#[test]
fn event_values_follow_their_types() {
    let trap = Trap {
        version: SnmpVersion::V2c,
        pdu: PduKind::TrapV2,
        request_id: Some(1),
        security_name: None,
        security_level: None,
        engine_id: None,
        trap_oid: oid("1.3.6.1.4.1.99.1"),
        uptime: None,
        enterprise: None,
        agent_address: None,
        generic_trap: None,
        specific_trap: None,
        varbinds: vec![
            varbind(
                "1.3.6.1.2.1.2.2.1.6.3",
                SnmpValue::OctetString(vec![0, 0x1b, 0xff]),
            ),
            varbind("1.3.6.1.4.1.99.2", SnmpValue::Counter64(u64::MAX)),
            varbind("1.3.6.1.4.1.99.3", SnmpValue::Null),
            varbind(
                "1.3.6.1.4.1.99.4",
                SnmpValue::IpAddress(Ipv4Addr::new(10, 1, 2, 3)),
            ),
            varbind(
                "1.3.6.1.4.1.99.5",
                SnmpValue::ObjectId(oid("1.3.6.1.6.3.1.1.5.1")),
            ),
            varbind("1.3.6.1.4.1.99.6", SnmpValue::Gauge32(u32::MAX)),
        ],
    };
    let event = trap.to_event(&[], peer(), at_secs(0));
    let Value::List(varbinds) = &event.fields["snmp.varbinds"] else {
        panic!("a list");
    };
    let entry = |index: usize, key: &str| match &varbinds[index] {
        Value::Map(entry) => entry.get(key).cloned(),
        other => panic!("a map: {other:?}"),
    };
    assert_eq!(entry(0, "value"), Some(Value::from("001bff")));
    assert_eq!(entry(0, "name"), Some(Value::from("ifPhysAddress.3")));
    assert_eq!(entry(1, "value"), Some(Value::from("18446744073709551615")));
    assert_eq!(entry(1, "type"), Some(Value::from("counter64")));
    assert_eq!(entry(2, "value"), None);
    assert_eq!(entry(2, "type"), Some(Value::from("null")));
    assert_eq!(entry(2, "name"), None);
    assert_eq!(entry(3, "value"), Some(Value::from("10.1.2.3")));
    assert_eq!(entry(4, "value"), Some(Value::from("1.3.6.1.6.3.1.1.5.1")));
    assert_eq!(entry(5, "value"), Some(Value::Int(i64::from(u32::MAX))));
    assert_eq!(
        event.message,
        "SNMPv2c 1.3.6.1.4.1.99.1 from 127.0.0.1: ifPhysAddress.3=001bff \
         1.3.6.1.4.1.99.2=18446744073709551615 1.3.6.1.4.1.99.3=null \
         1.3.6.1.4.1.99.4=10.1.2.3 1.3.6.1.4.1.99.5=1.3.6.1.6.3.1.1.5.1 \
         1.3.6.1.4.1.99.6=4294967295"
    );
}

#[test]
fn debug_output_and_errors_hold_no_secret() {
    let config = TrapConfig {
        communities: vec!["s3cret-community".into()],
        users: vec![user("vigil", Some(AuthProtocol::Sha1), true)],
        limits: SnmpLimits::default(),
    };
    let mut receiver = TrapReceiver::new(config.clone());
    receive(&mut receiver, V3_PRIV_SHA1).unwrap();
    let mut errors = Vec::new();
    for datagram in [V1_LINKUP, V2C_INFORM] {
        errors.push(receive(&mut receiver, datagram).unwrap_err());
    }
    let message = decode_message(V2C_TRAP).unwrap();
    let shown = format!(
        "{config:?} {receiver:?} {message:?} {errors:?} {}",
        errors[0]
    );
    for secret in ["s3cret-community", AUTH_PASSWORD, PRIV_PASSWORD, "public"] {
        assert!(!shown.contains(secret), "{secret} in {shown}");
    }
    assert!(shown.contains("vigil"));
}

// Properties

/// Receivers that between them accept every capture, so that mutations reach as deep as they
/// can (a user name has one level per receiver, and "vigil" sends at all three).
fn fuzz_receivers() -> [RefCell<TrapReceiver>; 2] {
    let mut with_privacy = receiver_with(vec![
        user("vigil", Some(AuthProtocol::Sha1), true),
        user("vigil256", Some(AuthProtocol::Sha256), false),
    ]);
    let mut without_privacy = receiver_with(vec![
        user("vigil", None, false),
        user("vigil512", Some(AuthProtocol::Sha512), true),
    ]);
    // Warm the key caches once: derivation is 1 MiB of hashing per password.
    receive(&mut with_privacy, V3_PRIV_SHA1).unwrap();
    receive(&mut with_privacy, V3_AUTH_SHA256).unwrap();
    receive(&mut without_privacy, V3_PRIV_SHA512).unwrap();
    [RefCell::new(with_privacy), RefCell::new(without_privacy)]
}

const ERROR_KINDS: [&str; 13] = [
    "malformed",
    "truncated",
    "too_deep",
    "too_long",
    "too_many_varbinds",
    "unsupported_version",
    "not_a_notification",
    "unknown_community",
    "unknown_user",
    "unsupported_security",
    "authentication_failed",
    "decryption_failed",
    "not_in_time_window",
];

fn check_never_panics(receivers: &[RefCell<TrapReceiver>], datagram: &[u8]) {
    for receiver in receivers {
        match receiver.borrow_mut().receive(datagram, at_secs(0)) {
            Ok(received) => {
                let event = received.trap.to_event(datagram, peer(), at_secs(0));
                assert_eq!(event.original.len(), datagram.len());
            }
            Err(error) => assert!(ERROR_KINDS.contains(&error.kind()), "{error:?}"),
        }
    }
    let _ = decode_message(datagram);
}

#[test]
fn random_bytes_never_panic() {
    let receivers = fuzz_receivers();
    let mut runner = TestRunner::new(Config::with_cases(256));
    let bytes = prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..600),
        // A SEQUENCE header first, so more inputs get past the first byte.
        proptest::collection::vec(any::<u8>(), 0..600).prop_map(|mut bytes| {
            bytes.splice(0..0, [0x30, 0x82, 0x01, 0x00, 0x02, 0x01]);
            bytes
        }),
    ];
    runner
        .run(&bytes, |datagram| {
            check_never_panics(&receivers, &datagram);
            Ok(())
        })
        .unwrap();
}

#[test]
fn mutated_captures_never_panic() {
    let receivers = fuzz_receivers();
    let mut runner = TestRunner::new(Config::with_cases(256));
    let mutations = (
        0..ALL_FIXTURES.len(),
        proptest::collection::vec((any::<usize>(), any::<u8>()), 0..6),
        proptest::option::of(any::<usize>()),
        proptest::collection::vec((any::<usize>(), any::<u8>()), 0..3),
    );
    runner
        .run(&mutations, |(fixture, replaced, cut, inserted)| {
            let mut datagram = ALL_FIXTURES[fixture].to_vec();
            for (position, byte) in replaced {
                let length = datagram.len();
                datagram[position % length] = byte;
            }
            for (position, byte) in inserted {
                let position = position % (datagram.len() + 1);
                datagram.insert(position, byte);
            }
            if let Some(cut) = cut {
                datagram.truncate(cut % (datagram.len() + 1));
            }
            check_never_panics(&receivers, &datagram);
            Ok(())
        })
        .unwrap();
}

#[test]
fn fuzz_receivers_accept_most_captures() {
    // The guard for the property tests: unmutated, the captures reach the deepest code. Not
    // accepted: boots at the maximum, and boots 2 after the warm-up's boots 3.
    let receivers = fuzz_receivers();
    let refused = [V3_AUTH_BOOTS_MAX, V3_PRIV_BOOTS2];
    for (index, datagram) in ALL_FIXTURES.into_iter().enumerate() {
        let accepted = receivers
            .iter()
            .filter(|receiver| receiver.borrow_mut().receive(datagram, at_secs(0)).is_ok())
            .count();
        assert_eq!(
            accepted > 0,
            !refused.contains(&datagram),
            "capture {index}"
        );
    }
}
