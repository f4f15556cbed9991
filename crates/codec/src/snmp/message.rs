//! The outer structure of any SNMP message (RFC 1157, RFC 3416, RFC 3412, RFC 3414), decoded
//! without the receiver's checks: no community allow-list, no USM user, digest, time window or
//! decryption. The receiver builds on this; the corpus tests and tools use it directly.

use std::fmt;
use std::net::Ipv4Addr;
use std::ops::Range;

use crate::snmp::ber::{self, Reader};
use crate::snmp::error::SnmpError;
use crate::snmp::limits::SnmpLimits;
use crate::snmp::oid::Oid;
use crate::snmp::value::{decode_ipv4, decode_varbind_list, VarBind};

/// `msgSecurityModel` of the User-based Security Model (RFC 3411).
pub const SECURITY_MODEL_USM: i32 = 3;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SnmpVersion {
    V1,
    V2c,
    V3,
}

impl SnmpVersion {
    /// As `snmp.version` spells it: `1`, `2c`, `3`.
    pub fn as_str(self) -> &'static str {
        match self {
            SnmpVersion::V1 => "1",
            SnmpVersion::V2c => "2c",
            SnmpVersion::V3 => "3",
        }
    }

    fn from_wire(version: i32) -> Result<Self, SnmpError> {
        match version {
            0 => Ok(SnmpVersion::V1),
            1 => Ok(SnmpVersion::V2c),
            3 => Ok(SnmpVersion::V3),
            other => Err(SnmpError::UnsupportedVersion {
                version: i64::from(other),
            }),
        }
    }
}

/// The PDU types of RFC 3416 and RFC 1157, by their context tags.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PduType {
    GetRequest,
    GetNextRequest,
    Response,
    SetRequest,
    /// The SNMPv1 Trap-PDU.
    TrapV1,
    GetBulkRequest,
    InformRequest,
    SnmpV2Trap,
    Report,
}

impl PduType {
    pub fn from_tag(tag: u8) -> Option<Self> {
        let pdu_type = match tag {
            0xa0 => PduType::GetRequest,
            0xa1 => PduType::GetNextRequest,
            0xa2 => PduType::Response,
            0xa3 => PduType::SetRequest,
            0xa4 => PduType::TrapV1,
            0xa5 => PduType::GetBulkRequest,
            0xa6 => PduType::InformRequest,
            0xa7 => PduType::SnmpV2Trap,
            0xa8 => PduType::Report,
            _ => return None,
        };
        Some(pdu_type)
    }

    pub fn tag(self) -> u8 {
        match self {
            PduType::GetRequest => 0xa0,
            PduType::GetNextRequest => 0xa1,
            PduType::Response => 0xa2,
            PduType::SetRequest => 0xa3,
            PduType::TrapV1 => 0xa4,
            PduType::GetBulkRequest => 0xa5,
            PduType::InformRequest => 0xa6,
            PduType::SnmpV2Trap => 0xa7,
            PduType::Report => 0xa8,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            PduType::GetRequest => "get-request",
            PduType::GetNextRequest => "get-next-request",
            PduType::Response => "response",
            PduType::SetRequest => "set-request",
            PduType::TrapV1 => "trap",
            PduType::GetBulkRequest => "get-bulk-request",
            PduType::InformRequest => "inform",
            PduType::SnmpV2Trap => "snmpv2-trap",
            PduType::Report => "report",
        }
    }
}

impl fmt::Display for PduType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Every PDU but the v1 Trap-PDU: request id, two integers, varbinds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StandardPdu {
    pub pdu_type: PduType,
    pub request_id: i32,
    /// `non-repeaters` in a GetBulkRequest.
    pub error_status: i32,
    /// `max-repetitions` in a GetBulkRequest.
    pub error_index: i32,
    pub varbinds: Vec<VarBind>,
}

/// The SNMPv1 Trap-PDU (RFC 1157 §4.1.6).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrapV1Pdu {
    pub enterprise: Oid,
    pub agent_address: Ipv4Addr,
    pub generic_trap: i32,
    pub specific_trap: i32,
    /// sysUpTime when the trap was sent, in hundredths of a second.
    pub time_stamp: u32,
    pub varbinds: Vec<VarBind>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Pdu {
    Standard(StandardPdu),
    TrapV1(TrapV1Pdu),
}

impl Pdu {
    pub fn pdu_type(&self) -> PduType {
        match self {
            Pdu::Standard(pdu) => pdu.pdu_type,
            Pdu::TrapV1(_) => PduType::TrapV1,
        }
    }

    pub fn varbinds(&self) -> &[VarBind] {
        match self {
            Pdu::Standard(pdu) => &pdu.varbinds,
            Pdu::TrapV1(pdu) => &pdu.varbinds,
        }
    }
}

/// An SNMPv1 or SNMPv2c message. `Debug` leaves the community out: it is a password.
#[derive(Clone, PartialEq, Eq)]
pub struct CommunityMessage {
    pub version: SnmpVersion,
    pub community: Vec<u8>,
    pub pdu: Pdu,
}

impl fmt::Debug for CommunityMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CommunityMessage")
            .field("version", &self.version)
            .field("community", &"<redacted>")
            .field("pdu", &self.pdu)
            .finish()
    }
}

/// `UsmSecurityParameters` (RFC 3414 §2.4), as sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UsmSecurityParameters {
    pub engine_id: Vec<u8>,
    pub engine_boots: i32,
    pub engine_time: i32,
    pub user_name: Vec<u8>,
    pub auth_params: Vec<u8>,
    pub priv_params: Vec<u8>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScopedPdu {
    pub context_engine_id: Vec<u8>,
    pub context_name: Vec<u8>,
    pub pdu: Pdu,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScopedPduData {
    Plaintext(ScopedPdu),
    /// The encrypted ScopedPDU, still encrypted.
    Encrypted(Vec<u8>),
}

/// An SNMPv3 message (RFC 3412 §6).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct V3Message {
    pub msg_id: i32,
    pub max_size: i32,
    /// `msgFlags`: 1 authentication, 2 privacy, 4 reportable.
    pub flags: u8,
    pub security_model: i32,
    /// Decoded when the security model is USM; `None` for any other model.
    pub usm: Option<UsmSecurityParameters>,
    pub data: ScopedPduData,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    Community(CommunityMessage),
    V3(V3Message),
}

impl Message {
    pub fn version(&self) -> SnmpVersion {
        match self {
            Message::Community(message) => message.version,
            Message::V3(_) => SnmpVersion::V3,
        }
    }

    /// The PDU, unless it is encrypted.
    pub fn pdu(&self) -> Option<&Pdu> {
        match self {
            Message::Community(message) => Some(&message.pdu),
            Message::V3(V3Message {
                data: ScopedPduData::Plaintext(scoped),
                ..
            }) => Some(&scoped.pdu),
            Message::V3(_) => None,
        }
    }
}

/// Decodes any SNMP message's outer structure with the default limits. See the module docs.
pub fn decode_message(bytes: &[u8]) -> Result<Message, SnmpError> {
    decode_message_with_limits(bytes, &SnmpLimits::default())
}

pub fn decode_message_with_limits(bytes: &[u8], limits: &SnmpLimits) -> Result<Message, SnmpError> {
    parse_message(bytes, limits).map(|parsed| parsed.message)
}

/// A decoded message and where, in the datagram, the receiver needs to look again.
pub(crate) struct ParsedMessage {
    pub message: Message,
    /// v3: the content of msgAuthenticationParameters, zeroed to compute the digest.
    pub auth_params: Option<Range<usize>>,
    /// v1/v2c: the whole VarBindList TLV, echoed in the Response to an inform.
    pub varbind_list: Option<Range<usize>>,
}

pub(crate) fn parse_message(bytes: &[u8], limits: &SnmpLimits) -> Result<ParsedMessage, SnmpError> {
    if bytes.len() > limits.max_message_bytes {
        return Err(SnmpError::MessageTooLong {
            bytes: bytes.len(),
            max_bytes: limits.max_message_bytes,
        });
    }
    ber::check_structure(bytes, limits.max_depth)?;
    let mut outer = Reader::new(bytes, limits.max_depth);
    let mut message = outer.read_sequence("message")?;
    outer.finish("bytes after the message")?;
    let version = SnmpVersion::from_wire(message.read_i32("version")?)?;
    if version == SnmpVersion::V3 {
        return parse_v3(message, limits);
    }
    let community = message.read_octets("community")?.content.to_vec();
    let (pdu, varbind_list) = parse_pdu(&mut message, limits)?;
    message.finish("bytes after the PDU")?;
    Ok(ParsedMessage {
        message: Message::Community(CommunityMessage {
            version,
            community,
            pdu,
        }),
        auth_params: None,
        varbind_list: Some(varbind_list),
    })
}

/// The PDU at `reader`, and where its VarBindList lies.
pub(crate) fn parse_pdu(
    reader: &mut Reader<'_>,
    limits: &SnmpLimits,
) -> Result<(Pdu, Range<usize>), SnmpError> {
    let tlv = reader.read_any("PDU")?;
    let Some(pdu_type) = PduType::from_tag(tlv.tag) else {
        return Err(SnmpError::UnexpectedTag {
            expected: "PDU",
            tag: tlv.tag,
        });
    };
    let mut fields = reader.enter(&tlv)?;
    if pdu_type == PduType::TrapV1 {
        let enterprise = fields.read_oid("enterprise")?;
        let address = fields.read(ber::TAG_IP_ADDRESS, "agent-addr")?;
        let agent_address = decode_ipv4(address.content, "agent-addr")?;
        let generic_trap = fields.read_i32("generic-trap")?;
        let specific_trap = fields.read_i32("specific-trap")?;
        let time_stamp = fields.read(ber::TAG_TIMETICKS, "time-stamp")?;
        let time_stamp = ber::decode_u32(time_stamp.content, "time-stamp")?;
        let (varbinds, range) = parse_varbind_list(&mut fields, limits)?;
        fields.finish("bytes after the varbinds")?;
        let pdu = TrapV1Pdu {
            enterprise,
            agent_address,
            generic_trap,
            specific_trap,
            time_stamp,
            varbinds,
        };
        return Ok((Pdu::TrapV1(pdu), range));
    }
    let request_id = fields.read_i32("request-id")?;
    let error_status = fields.read_i32("error-status")?;
    let error_index = fields.read_i32("error-index")?;
    let (varbinds, range) = parse_varbind_list(&mut fields, limits)?;
    fields.finish("bytes after the varbinds")?;
    let pdu = StandardPdu {
        pdu_type,
        request_id,
        error_status,
        error_index,
        varbinds,
    };
    Ok((Pdu::Standard(pdu), range))
}

fn parse_varbind_list(
    fields: &mut Reader<'_>,
    limits: &SnmpLimits,
) -> Result<(Vec<VarBind>, Range<usize>), SnmpError> {
    let tlv = fields.read(ber::TAG_SEQUENCE, "varbind list")?;
    let varbinds = decode_varbind_list(fields.enter(&tlv)?, limits.max_varbinds)?;
    Ok((varbinds, tlv.whole_range()))
}

fn parse_v3(mut message: Reader<'_>, limits: &SnmpLimits) -> Result<ParsedMessage, SnmpError> {
    let mut header = message.read_sequence("msgGlobalData")?;
    let msg_id = header.read_i32("msgID")?;
    let max_size = header.read_i32("msgMaxSize")?;
    let flags = match header.read_octets("msgFlags")?.content {
        [flags] => *flags,
        _ => return Err(SnmpError::Malformed("msgFlags")),
    };
    let security_model = header.read_i32("msgSecurityModel")?;
    header.finish("bytes after msgSecurityModel")?;

    let security_parameters = message.read_octets("msgSecurityParameters")?;
    let (usm, auth_params) = if security_model == SECURITY_MODEL_USM {
        let mut wrapper = message.enter(&security_parameters)?;
        let (usm, auth_params) = parse_usm(&mut wrapper)?;
        wrapper.finish("bytes after UsmSecurityParameters")?;
        (Some(usm), Some(auth_params))
    } else {
        (None, None)
    };

    let data_tlv = message.read_any("msgData")?;
    let data = match data_tlv.tag {
        ber::TAG_SEQUENCE => {
            let mut scoped = message.enter(&data_tlv)?;
            let scoped_pdu = parse_scoped_pdu_fields(&mut scoped, limits)?;
            scoped.finish("bytes after the scoped PDU")?;
            ScopedPduData::Plaintext(scoped_pdu)
        }
        ber::TAG_OCTET_STRING => ScopedPduData::Encrypted(data_tlv.content.to_vec()),
        tag => {
            return Err(SnmpError::UnexpectedTag {
                expected: "msgData",
                tag,
            })
        }
    };
    message.finish("bytes after msgData")?;
    Ok(ParsedMessage {
        message: Message::V3(V3Message {
            msg_id,
            max_size,
            flags,
            security_model,
            usm,
            data,
        }),
        auth_params,
        varbind_list: None,
    })
}

fn parse_usm(wrapper: &mut Reader<'_>) -> Result<(UsmSecurityParameters, Range<usize>), SnmpError> {
    let mut fields = wrapper.read_sequence("UsmSecurityParameters")?;
    let engine_id = fields
        .read_octets("msgAuthoritativeEngineID")?
        .content
        .to_vec();
    let engine_boots = fields.read_i32("msgAuthoritativeEngineBoots")?;
    let engine_time = fields.read_i32("msgAuthoritativeEngineTime")?;
    // Both are INTEGER (0..2147483647).
    if engine_boots < 0 {
        return Err(SnmpError::Malformed("msgAuthoritativeEngineBoots"));
    }
    if engine_time < 0 {
        return Err(SnmpError::Malformed("msgAuthoritativeEngineTime"));
    }
    let user_name = fields.read_octets("msgUserName")?.content.to_vec();
    let auth_params = fields.read_octets("msgAuthenticationParameters")?;
    let priv_params = fields.read_octets("msgPrivacyParameters")?.content.to_vec();
    fields.finish("bytes after msgPrivacyParameters")?;
    let usm = UsmSecurityParameters {
        engine_id,
        engine_boots,
        engine_time,
        user_name,
        auth_params: auth_params.content.to_vec(),
        priv_params,
    };
    Ok((usm, auth_params.content_range()))
}

/// The fields of a ScopedPDU SEQUENCE, `scoped` being inside it.
fn parse_scoped_pdu_fields(
    scoped: &mut Reader<'_>,
    limits: &SnmpLimits,
) -> Result<ScopedPdu, SnmpError> {
    let context_engine_id = scoped.read_octets("contextEngineID")?.content.to_vec();
    let context_name = scoped.read_octets("contextName")?.content.to_vec();
    let (pdu, _) = parse_pdu(scoped, limits)?;
    Ok(ScopedPdu {
        context_engine_id,
        context_name,
        pdu,
    })
}

/// The most bytes a block cipher pads a plaintext with: one AES block.
const MAX_PADDING_BYTES: usize = 16;

/// A decrypted ScopedPDU. Block-cipher privacy may pad the plaintext, so up to a block of bytes
/// after the ScopedPDU is ignored (RFC 3414 §8.1.1.2). A plaintext that does not start with a
/// SEQUENCE ending there is what a wrong key yields: `DecryptionFailed`; errors further in are
/// reported as what they are.
pub(crate) fn parse_decrypted_scoped_pdu(
    plaintext: &[u8],
    limits: &SnmpLimits,
) -> Result<ScopedPdu, SnmpError> {
    let mut outer = Reader::new(plaintext, limits.max_depth);
    let tlv = outer
        .read(ber::TAG_SEQUENCE, "scoped PDU")
        .map_err(|_| SnmpError::DecryptionFailed)?;
    if plaintext.len().saturating_sub(tlv.whole_range().end) > MAX_PADDING_BYTES {
        return Err(SnmpError::DecryptionFailed);
    }
    let whole = plaintext
        .get(tlv.whole_range())
        .ok_or(SnmpError::Malformed("scoped PDU"))?;
    ber::check_structure(whole, limits.max_depth)?;
    let mut scoped = outer.enter(&tlv)?;
    let scoped_pdu = parse_scoped_pdu_fields(&mut scoped, limits)?;
    scoped.finish("bytes after the scoped PDU")?;
    Ok(scoped_pdu)
}

/// The Response to a v2c InformRequest (RFC 3416 §4.2.7): same community, request id and
/// varbinds (as received, byte for byte), error-status and error-index 0.
pub(crate) fn encode_inform_response(
    community: &[u8],
    request_id: i32,
    varbind_list: &[u8],
) -> Vec<u8> {
    let mut pdu = Vec::with_capacity(varbind_list.len() + 16);
    ber::write_integer(&mut pdu, i64::from(request_id));
    ber::write_integer(&mut pdu, 0);
    ber::write_integer(&mut pdu, 0);
    pdu.extend_from_slice(varbind_list);
    let mut message = Vec::with_capacity(pdu.len() + community.len() + 16);
    ber::write_integer(&mut message, 1);
    ber::write_tlv(&mut message, ber::TAG_OCTET_STRING, community);
    ber::write_tlv(&mut message, PduType::Response.tag(), &pdu);
    let mut out = Vec::with_capacity(message.len() + 6);
    ber::write_tlv(&mut out, ber::TAG_SEQUENCE, &message);
    out
}
