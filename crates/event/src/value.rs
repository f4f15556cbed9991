use std::collections::BTreeMap;
use std::net::IpAddr;

use compact_str::{CompactString, ToCompactString};
use serde::{Deserialize, Serialize};

/// A field value beyond the core schema: what body decoders and user mappings produce.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Value {
    Bool(bool),
    Int(i64),
    Float(f64),
    /// Up to 24 bytes inline, longer on the heap; serialised as a string, like `String`.
    Str(CompactString),
    List(Vec<Value>),
    Map(BTreeMap<String, Value>),
}

impl Value {
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Bool(flag) => serde_json::Value::Bool(*flag),
            Value::Int(number) => serde_json::Value::from(*number),
            Value::Float(number) => serde_json::Value::from(*number),
            Value::Str(text) => serde_json::Value::String(text.to_string()),
            Value::List(items) => items.iter().map(Value::to_json).collect(),
            Value::Map(entries) => serde_json::Value::Object(
                entries
                    .iter()
                    .map(|(key, value)| (key.clone(), value.to_json()))
                    .collect(),
            ),
        }
    }

    /// An address as text, as `address.to_string()` writes it.
    pub fn ip(address: IpAddr) -> Self {
        Value::Str(ip_text(address))
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(text) => Some(text),
            _ => None,
        }
    }
}

impl From<&str> for Value {
    fn from(text: &str) -> Self {
        Value::Str(CompactString::new(text))
    }
}

impl From<String> for Value {
    fn from(text: String) -> Self {
        Value::Str(CompactString::from(text))
    }
}

impl From<CompactString> for Value {
    fn from(text: CompactString) -> Self {
        Value::Str(text)
    }
}

impl From<i64> for Value {
    fn from(number: i64) -> Self {
        Value::Int(number)
    }
}

/// An address as text, as `address.to_string()` writes it. IPv4 addresses (a sender, a flow's
/// ends, an observer) are written digit by digit: the formatting machinery `to_string` goes
/// through cost about a thousand instructions an address, a tenth of what normalising an event
/// from a known sender cost.
pub fn ip_text(address: IpAddr) -> CompactString {
    let IpAddr::V4(v4) = address else {
        return address.to_compact_string();
    };
    let mut text = [0u8; 15];
    let mut len = 0;
    for (at, octet) in v4.octets().into_iter().enumerate() {
        if at > 0 {
            text[len] = b'.';
            len += 1;
        }
        if octet >= 100 {
            text[len] = b'0' + octet / 100;
            len += 1;
        }
        if octet >= 10 {
            text[len] = b'0' + octet / 10 % 10;
            len += 1;
        }
        text[len] = b'0' + octet % 10;
        len += 1;
    }
    // Digits and dots only, so always UTF-8.
    std::str::from_utf8(&text[..len])
        .map_or_else(|_| address.to_compact_string(), CompactString::new)
}

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

    use super::{ip_text, Value};

    proptest::proptest! {
        #[test]
        fn ip_text_is_to_string(octets in proptest::array::uniform4(0u8..), segments in proptest::array::uniform8(0u16..)) {
            let v4 = IpAddr::V4(Ipv4Addr::from(octets));
            proptest::prop_assert_eq!(ip_text(v4).to_string(), v4.to_string());
            let v6 = IpAddr::V6(Ipv6Addr::from(segments));
            proptest::prop_assert_eq!(ip_text(v6).to_string(), v6.to_string());
        }
    }

    #[test]
    fn edges_of_ipv4() {
        for text in [
            "0.0.0.0",
            "255.255.255.255",
            "10.0.0.1",
            "192.168.100.9",
            "1.20.100.0",
        ] {
            let address: IpAddr = text.parse().expect("address");
            assert_eq!(Value::ip(address), Value::from(text));
        }
    }
}
