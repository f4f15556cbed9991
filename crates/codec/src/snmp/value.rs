//! Variable bindings and their values (RFC 3416 §3, RFC 2578 §7.1).

use std::net::Ipv4Addr;

use crate::snmp::ber::{self, Reader, Tlv};
use crate::snmp::error::SnmpError;
use crate::snmp::oid::Oid;

/// One variable binding: an object and its value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VarBind {
    pub oid: Oid,
    pub value: SnmpValue,
}

/// A varbind's value, by its SMI type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SnmpValue {
    Integer(i32),
    OctetString(Vec<u8>),
    Null,
    ObjectId(Oid),
    IpAddress(Ipv4Addr),
    Counter32(u32),
    /// Gauge32, and Unsigned32, which shares its tag.
    Gauge32(u32),
    TimeTicks(u32),
    Opaque(Vec<u8>),
    Counter64(u64),
    NoSuchObject,
    NoSuchInstance,
    EndOfMibView,
    /// A primitive value of a type SNMP does not define (or no longer uses, such as NsapAddress),
    /// kept rather than refusing the whole notification.
    Other {
        tag: u8,
        bytes: Vec<u8>,
    },
}

impl SnmpValue {
    /// The type as `snmp.varbinds[].type` spells it.
    pub fn type_name(&self) -> &'static str {
        match self {
            SnmpValue::Integer(_) => "integer",
            SnmpValue::OctetString(_) => "octet-string",
            SnmpValue::Null => "null",
            SnmpValue::ObjectId(_) => "oid",
            SnmpValue::IpAddress(_) => "ipaddress",
            SnmpValue::Counter32(_) => "counter32",
            SnmpValue::Gauge32(_) => "gauge32",
            SnmpValue::TimeTicks(_) => "timeticks",
            SnmpValue::Opaque(_) => "opaque",
            SnmpValue::Counter64(_) => "counter64",
            SnmpValue::NoSuchObject => "no-such-object",
            SnmpValue::NoSuchInstance => "no-such-instance",
            SnmpValue::EndOfMibView => "end-of-mib-view",
            SnmpValue::Other { .. } => "other",
        }
    }

    fn decode(tlv: &Tlv<'_>) -> Result<Self, SnmpError> {
        let content = tlv.content;
        let value = match tlv.tag {
            ber::TAG_INTEGER => SnmpValue::Integer(ber::decode_i32(content, "INTEGER value")?),
            ber::TAG_OCTET_STRING => SnmpValue::OctetString(content.to_vec()),
            ber::TAG_NULL => {
                expect_empty(content, "NULL value")?;
                SnmpValue::Null
            }
            ber::TAG_OID => SnmpValue::ObjectId(ber::decode_oid(content, "OID value")?),
            ber::TAG_IP_ADDRESS => SnmpValue::IpAddress(decode_ipv4(content, "IpAddress value")?),
            ber::TAG_COUNTER32 => SnmpValue::Counter32(ber::decode_u32(content, "Counter32")?),
            ber::TAG_GAUGE32 => SnmpValue::Gauge32(ber::decode_u32(content, "Gauge32")?),
            ber::TAG_TIMETICKS => SnmpValue::TimeTicks(ber::decode_u32(content, "TimeTicks")?),
            ber::TAG_OPAQUE => SnmpValue::Opaque(content.to_vec()),
            ber::TAG_COUNTER64 => {
                SnmpValue::Counter64(ber::decode_unsigned(content, 8, "Counter64")?)
            }
            ber::TAG_NO_SUCH_OBJECT => {
                expect_empty(content, "noSuchObject")?;
                SnmpValue::NoSuchObject
            }
            ber::TAG_NO_SUCH_INSTANCE => {
                expect_empty(content, "noSuchInstance")?;
                SnmpValue::NoSuchInstance
            }
            ber::TAG_END_OF_MIB_VIEW => {
                expect_empty(content, "endOfMibView")?;
                SnmpValue::EndOfMibView
            }
            tag if tlv.is_constructed() => {
                return Err(SnmpError::UnexpectedTag {
                    expected: "varbind value",
                    tag,
                })
            }
            tag => SnmpValue::Other {
                tag,
                bytes: content.to_vec(),
            },
        };
        Ok(value)
    }
}

fn expect_empty(content: &[u8], what: &'static str) -> Result<(), SnmpError> {
    if content.is_empty() {
        Ok(())
    } else {
        Err(SnmpError::Malformed(what))
    }
}

pub(crate) fn decode_ipv4(content: &[u8], what: &'static str) -> Result<Ipv4Addr, SnmpError> {
    let octets: [u8; 4] = content.try_into().map_err(|_| SnmpError::Malformed(what))?;
    Ok(Ipv4Addr::from(octets))
}

/// A VarBindList: a SEQUENCE of SEQUENCE { name OID, value }, at most `max_varbinds` of them.
pub(crate) fn decode_varbind_list(
    mut list: Reader<'_>,
    max_varbinds: usize,
) -> Result<Vec<VarBind>, SnmpError> {
    let mut varbinds = Vec::new();
    while !list.is_empty() {
        if varbinds.len() >= max_varbinds {
            return Err(SnmpError::TooManyVarbinds { max_varbinds });
        }
        let mut varbind = list.read_sequence("varbind")?;
        let oid = varbind.read_oid("varbind name")?;
        let value = SnmpValue::decode(&varbind.read_any("varbind value")?)?;
        varbind.finish("bytes after a varbind value")?;
        varbinds.push(VarBind { oid, value });
    }
    Ok(varbinds)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_value(bytes: &[u8]) -> Result<SnmpValue, SnmpError> {
        let mut reader = Reader::new(bytes, 4);
        SnmpValue::decode(&reader.read_any("value")?)
    }

    #[test]
    fn values_decode_by_tag() {
        assert_eq!(decode_value(&[0x02, 0x01, 0x02]), Ok(SnmpValue::Integer(2)));
        assert_eq!(
            decode_value(&[0x40, 0x04, 10, 0, 0, 1]),
            Ok(SnmpValue::IpAddress(Ipv4Addr::new(10, 0, 0, 1)))
        );
        assert_eq!(decode_value(&[0x81, 0x00]), Ok(SnmpValue::NoSuchInstance));
        assert_eq!(
            decode_value(&[0x46, 0x09, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
            Ok(SnmpValue::Counter64(u64::MAX))
        );
        assert_eq!(
            decode_value(&[0x47, 0x01, 0x05]),
            Ok(SnmpValue::Other {
                tag: 0x47,
                bytes: vec![5]
            })
        );
        assert_eq!(
            decode_value(&[0x40, 0x03, 1, 2, 3]).unwrap_err().kind(),
            "malformed"
        );
        assert_eq!(
            decode_value(&[0x05, 0x01, 0x00]).unwrap_err().kind(),
            "malformed"
        );
        assert_eq!(decode_value(&[0x30, 0x00]).unwrap_err().kind(), "malformed");
        assert_eq!(
            decode_value(&[0x02, 0x05, 0x01, 0, 0, 0, 0])
                .unwrap_err()
                .kind(),
            "too_long"
        );
    }
}
