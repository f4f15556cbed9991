//! A JSON value that borrows from the line it was parsed from.
//!
//! `serde_json::Value` copies every key and string into its own `String` and keeps objects as
//! `BTreeMap`s: for a 600-byte Windows event that is some 40 allocations and as many ordered
//! inserts, about half of what decoding a JSON line cost. Here a string without escapes is
//! a slice of the line, and an object is its members in document order in one `Vec`: the
//! decoders look up a handful of keys per object, and a scan of a few dozen short keys is
//! cheaper than building a tree for them.
//!
//! A lookup scans the object, so a hostile object of many members costs that many comparisons
//! per lookup; the decoders make a few dozen lookups on a line of at most a megabyte, which is of
//! the order of parsing it.
//!
//! serde_json still does the parsing (and its limits hold: nesting deeper than 128 fails).
//! Only the parts of `serde_json::Value`'s API that the decoders use are here, with the same
//! meaning; one difference is that an object iterates in document order, not key order. A key
//! given twice keeps its last value, as in `serde_json::Value`: [`Map::get`] looks from the
//! end, and the later field wins when both are put in an [`super::Output`].

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::Number;

/// One JSON value; strings borrow from the parsed text where they had no escapes.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Json<'a> {
    Null,
    Bool(bool),
    Number(Number),
    String(Cow<'a, str>),
    Array(Vec<Json<'a>>),
    Object(Map<'a>),
}

/// A JSON object's members, in document order.
#[derive(Clone, Debug, Default, PartialEq)]
pub(super) struct Map<'a> {
    members: Vec<(Cow<'a, str>, Json<'a>)>,
}

impl<'a> Json<'a> {
    /// Parses `text` as one JSON value.
    pub(super) fn parse(text: &'a str) -> serde_json::Result<Self> {
        serde_json::from_str(text)
    }

    pub(super) fn as_str(&self) -> Option<&str> {
        match self {
            Json::String(text) => Some(text),
            _ => None,
        }
    }

    pub(super) fn as_object(&self) -> Option<&Map<'a>> {
        match self {
            Json::Object(members) => Some(members),
            _ => None,
        }
    }

    pub(super) fn as_array(&self) -> Option<&Vec<Json<'a>>> {
        match self {
            Json::Array(items) => Some(items),
            _ => None,
        }
    }

    pub(super) fn as_bool(&self) -> Option<bool> {
        match self {
            Json::Bool(flag) => Some(*flag),
            _ => None,
        }
    }

    pub(super) fn as_f64(&self) -> Option<f64> {
        match self {
            Json::Number(number) => number.as_f64(),
            _ => None,
        }
    }

    pub(super) fn as_u64(&self) -> Option<u64> {
        match self {
            Json::Number(number) => number.as_u64(),
            _ => None,
        }
    }

    pub(super) fn is_string(&self) -> bool {
        matches!(self, Json::String(_))
    }

    pub(super) fn is_object(&self) -> bool {
        matches!(self, Json::Object(_))
    }
}

impl<'a> Map<'a> {
    pub(super) fn new() -> Self {
        Self::default()
    }

    /// The value of `key` (its last one, when the object gave it twice).
    pub(super) fn get(&self, key: &str) -> Option<&Json<'a>> {
        self.members
            .iter()
            .rev()
            .find(|(name, _)| name == key)
            .map(|(_, value)| value)
    }

    pub(super) fn contains_key(&self, key: &str) -> bool {
        self.members.iter().any(|(name, _)| name == key)
    }

    /// Adds a member at the end (a later one of the same key wins, as when parsed).
    pub(super) fn insert(&mut self, key: impl Into<Cow<'a, str>>, value: Json<'a>) {
        self.members.push((key.into(), value));
    }

    pub(super) fn len(&self) -> usize {
        self.members.len()
    }
}

impl<'m, 'a> IntoIterator for &'m Map<'a> {
    type Item = (&'m str, &'m Json<'a>);
    type IntoIter = std::iter::Map<
        std::slice::Iter<'m, (Cow<'a, str>, Json<'a>)>,
        fn(&'m (Cow<'a, str>, Json<'a>)) -> (&'m str, &'m Json<'a>),
    >;

    fn into_iter(self) -> Self::IntoIter {
        self.members.iter().map(|(key, value)| (&**key, value))
    }
}

/// The value as JSON text (what a field holds for an array of objects, or a subtree too deep
/// to flatten).
impl fmt::Display for Json<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = serde_json::to_string(self).map_err(|_| fmt::Error)?;
        f.write_str(&text)
    }
}

impl Serialize for Json<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Json::Null => serializer.serialize_unit(),
            Json::Bool(flag) => serializer.serialize_bool(*flag),
            Json::Number(number) => number.serialize(serializer),
            Json::String(text) => serializer.serialize_str(text),
            Json::Array(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Json::Object(members) => {
                let mut map = serializer.serialize_map(Some(members.len()))?;
                for (key, value) in members {
                    map.serialize_entry(key, value)?;
                }
                map.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for Json<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(JsonVisitor)
    }
}

struct JsonVisitor;

impl<'de> Visitor<'de> for JsonVisitor {
    type Value = Json<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Json::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Json::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        Deserialize::deserialize(deserializer)
    }

    fn visit_bool<E: de::Error>(self, flag: bool) -> Result<Self::Value, E> {
        Ok(Json::Bool(flag))
    }

    fn visit_i64<E: de::Error>(self, number: i64) -> Result<Self::Value, E> {
        Ok(Json::Number(number.into()))
    }

    fn visit_u64<E: de::Error>(self, number: u64) -> Result<Self::Value, E> {
        Ok(Json::Number(number.into()))
    }

    fn visit_f64<E: de::Error>(self, number: f64) -> Result<Self::Value, E> {
        // JSON text cannot hold NaN or an infinity; serde_json refuses them before this.
        Ok(Number::from_f64(number).map_or(Json::Null, Json::Number))
    }

    fn visit_borrowed_str<E: de::Error>(self, text: &'de str) -> Result<Self::Value, E> {
        Ok(Json::String(Cow::Borrowed(text)))
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
        Ok(Json::String(Cow::Owned(text.to_owned())))
    }

    fn visit_string<E: de::Error>(self, text: String) -> Result<Self::Value, E> {
        Ok(Json::String(Cow::Owned(text)))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Json::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Self::Value, A::Error> {
        let mut members = Vec::with_capacity(access.size_hint().unwrap_or(0).min(64));
        while let Some(Key(key)) = access.next_key()? {
            members.push((key, access.next_value()?));
        }
        Ok(Json::Object(Map { members }))
    }
}

/// An object key, borrowed when it had no escapes (serde's own `Cow<str>` always copies).
struct Key<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object key")
            }

            fn visit_borrowed_str<E: de::Error>(self, text: &'de str) -> Result<Self::Value, E> {
                Ok(Key(Cow::Borrowed(text)))
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
                Ok(Key(Cow::Owned(text.to_owned())))
            }

            fn visit_string<E: de::Error>(self, text: String) -> Result<Self::Value, E> {
                Ok(Key(Cow::Owned(text)))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_without_escapes_borrow_and_escaped_ones_are_decoded() {
        let text = r#"{"plain":"abc","esc\"aped":"a\nb","n":-5,"big":18446744073709551615,"f":1.5,"t":true,"z":null,"list":[1,"x"],"o":{"k":"v"}}"#;
        let root = Json::parse(text).expect("parses");
        let root = root.as_object().expect("object");
        assert!(matches!(
            root.get("plain"),
            Some(Json::String(Cow::Borrowed("abc")))
        ));
        assert!(matches!(root.get("esc\"aped"), Some(Json::String(Cow::Owned(s))) if s == "a\nb"));
        assert_eq!(
            root.get("n").and_then(|n| match n {
                Json::Number(n) => n.as_i64(),
                _ => None,
            }),
            Some(-5)
        );
        assert_eq!(root.get("big").and_then(Json::as_u64), Some(u64::MAX));
        assert_eq!(root.get("f").and_then(Json::as_f64), Some(1.5));
        assert_eq!(root.get("t").and_then(Json::as_bool), Some(true));
        assert_eq!(root.get("z"), Some(&Json::Null));
        assert_eq!(
            root.get("list").and_then(Json::as_array).map(Vec::len),
            Some(2)
        );
        assert_eq!(
            root.get("o")
                .and_then(Json::as_object)
                .and_then(|o| o.get("k"))
                .and_then(Json::as_str),
            Some("v")
        );
        assert_eq!(root.get("missing"), None);
        let keys: Vec<&str> = root.into_iter().map(|(key, _)| key).collect();
        assert_eq!(
            keys,
            ["plain", "esc\"aped", "n", "big", "f", "t", "z", "list", "o"]
        );
    }

    #[test]
    fn a_repeated_key_keeps_its_last_value() {
        let root = Json::parse(r#"{"a":1,"b":2,"a":3}"#).expect("parses");
        let root = root.as_object().expect("object");
        assert_eq!(root.get("a").and_then(Json::as_u64), Some(3));
        assert!(root.contains_key("b"));
    }

    #[test]
    fn writes_back_the_json_it_read() {
        let text = r#"{"b":[1,2.5,"x\"y",null,true],"a":{"c":{}}}"#;
        let value = Json::parse(text).expect("parses");
        assert_eq!(value.to_string(), text);
        let same: serde_json::Value = serde_json::from_str(&value.to_string()).expect("valid");
        assert_eq!(
            same,
            serde_json::from_str::<serde_json::Value>(text).expect("valid")
        );
    }

    #[test]
    fn refuses_what_serde_json_refuses() {
        let deep = "[".repeat(10_000);
        assert!(Json::parse(&deep).is_err());
        assert!(Json::parse(r#"{"a":1"#).is_err());
        assert!(Json::parse(r#"{"a":NaN}"#).is_err());
        assert!(Json::parse("{\"a\":\"\u{0}\"}").is_err());
    }
}
