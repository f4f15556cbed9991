//! [`Fields`]: an event's fields beyond the core schema, as one vector sorted by name.
//!
//! An event carries a handful to a few dozen such fields. A `BTreeMap` spent a node allocation
//! per eleven fields, searched and shifted its nodes at each insert, and walked them again to
//! drop; profiles of ingest and import had its inserts, key comparisons and node moves as the
//! largest single cost (a quarter of `vigil import --dry-run`). One sorted vector does the same
//! job with one allocation, a binary search per lookup, and a bulk [`Fields::extend`] that
//! appends and sorts once. The API is the part of `BTreeMap`'s that Vigil uses, with the same
//! meaning (iteration in name order, a later insert of a name replacing the earlier value), and
//! the serde form is the same map, so the archive's bytes do not change.

use std::cmp::Ordering;
use std::fmt;

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::event::FieldName;
use crate::Value;

/// The fields beyond the core schema, by name, in name order, each name once.
#[derive(Clone, Default, PartialEq)]
pub struct Fields {
    entries: Vec<(FieldName, Value)>,
}

impl Fields {
    pub const fn new() -> Self {
        Self {
            entries: Vec::new(),
        }
    }

    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            entries: Vec::with_capacity(capacity),
        }
    }

    /// Room for `more` fields without growing.
    pub fn reserve(&mut self, more: usize) {
        self.entries.reserve(more);
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn position(&self, name: &str) -> Result<usize, usize> {
        self.entries
            .binary_search_by(|(known, _)| name_order(known, name))
    }

    pub fn get(&self, name: &str) -> Option<&Value> {
        let at = self.position(name).ok()?;
        Some(&self.entries[at].1)
    }

    pub fn get_mut(&mut self, name: &str) -> Option<&mut Value> {
        let at = self.position(name).ok()?;
        Some(&mut self.entries[at].1)
    }

    pub fn contains_key(&self, name: &str) -> bool {
        self.position(name).is_ok()
    }

    /// Sets `name` to `value`; the value it had, if any.
    pub fn insert(&mut self, name: FieldName, value: Value) -> Option<Value> {
        // Names often come in order (a decoded map, a copied event): append without a search.
        if self
            .entries
            .last()
            .is_none_or(|(last, _)| name_order(last, &name) == Ordering::Less)
        {
            self.entries.push((name, value));
            return None;
        }
        match self.position(&name) {
            Ok(at) => Some(std::mem::replace(&mut self.entries[at].1, value)),
            Err(at) => {
                self.entries.insert(at, (name, value));
                None
            }
        }
    }

    pub fn remove(&mut self, name: &str) -> Option<Value> {
        let at = self.position(name).ok()?;
        Some(self.entries.remove(at).1)
    }

    pub fn clear(&mut self) {
        self.entries.clear();
    }

    /// The entry for `name`, to read or fill in place.
    pub fn entry(&mut self, name: FieldName) -> Entry<'_> {
        match self.position(&name) {
            Ok(at) => Entry(Place::Occupied(&mut self.entries[at].1)),
            Err(at) => Entry(Place::Vacant {
                fields: self,
                at,
                name,
            }),
        }
    }

    /// In name order.
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            inner: self.entries.iter(),
        }
    }

    pub fn keys(&self) -> impl Iterator<Item = &FieldName> {
        self.entries.iter().map(|(name, _)| name)
    }

    pub fn values(&self) -> impl Iterator<Item = &Value> {
        self.entries.iter().map(|(_, value)| value)
    }

    /// A map of `entries`, in any order; of a name given twice, the later value is kept. The
    /// vector's allocation becomes the map's, and entries already in name order are not sorted.
    pub fn from_entries(entries: Vec<(FieldName, Value)>) -> Self {
        let mut fields = Self { entries };
        fields.settle(0);
        fields
    }

    /// Adds the fields of `other` whose names this map lacks; where both have a name, this
    /// map's value stays. One search and one shift per field of `other`, which is meant to be
    /// the smaller.
    pub fn fill_from(&mut self, other: Fields) {
        if self.entries.is_empty() {
            *self = other;
            return;
        }
        self.entries.reserve(other.len());
        for (name, value) in other.entries {
            if let Err(at) = self.position(&name) {
                self.entries.insert(at, (name, value));
            }
        }
    }

    /// Back into name order with each name once, the last value of a name winning: what a
    /// sequence of [`Fields::insert`]s would have left.
    fn settle(&mut self, sorted_before: usize) {
        let entries = &mut self.entries;
        if entries.len() <= sorted_before {
            return;
        }
        let in_order = entries
            .windows(2)
            .skip(sorted_before.saturating_sub(1))
            .all(|pair| name_order(&pair[0].0, &pair[1].0) == Ordering::Less);
        if in_order {
            return;
        }
        // Stable: of equal names, the one added last stays last, and is the one kept.
        if !sort_by_name(entries) {
            return;
        }
        let mut kept = 0;
        for at in 0..entries.len() {
            if at + 1 < entries.len() && entries[at].0 == entries[at + 1].0 {
                continue;
            }
            if kept != at {
                entries.swap(kept, at);
            }
            kept += 1;
        }
        entries.truncate(kept);
    }
}

/// Outputs of up to this many fields (every decoder's but generic JSON's and key=value's) are
/// sorted by [`sort_by_name`]'s keys; longer ones by the standard library's stable sort.
const KEYED_SORT_MAX: usize = 40;

/// Sorts `entries` by name, stably; `false` when it is sure that no two names are equal.
///
/// The standard sort moves the 56-byte entries themselves, and compares names through their
/// pointers, at each step; with decoders' outputs a dozen fields long and out of order, that was
/// a fifth of what normalising costs. Here one integer per entry, on the stack (its name's first
/// fifteen bytes, then its index), is sorted; only names that share those bytes are compared
/// whole, and each entry is then moved once, by swaps that follow the permutation's cycles.
fn sort_by_name(entries: &mut [(FieldName, Value)]) -> bool {
    let len = entries.len();
    if len > KEYED_SORT_MAX {
        entries.sort_by(|a, b| name_order(&a.0, &b.0));
        return true;
    }
    let mut keys = [0u128; KEYED_SORT_MAX];
    let keys = &mut keys[..len];
    for (at, ((name, _), key)) in entries.iter().zip(keys.iter_mut()).enumerate() {
        // `at` < KEYED_SORT_MAX, which fits the low byte.
        *key = name_key(name) << 8 | at as u128;
    }
    // By the names' first fifteen bytes, then by index (the stable order): keys are distinct,
    // so the unstable sort (branch-free sorting networks for integers) keeps that order.
    keys.sort_unstable();
    // Names that share those fifteen bytes are now neighbours, in the order they were added:
    // put each such run in the order of the rest of the names, stably.
    let name = |key: u128| entries[(key & 0xff) as usize].0.as_bytes();
    let mut shared_heads = false;
    for at in 1..len {
        let current = keys[at];
        // Keys whose names differ in those bytes differ above the index's byte.
        if current ^ keys[at - 1] > 0xff {
            continue;
        }
        shared_heads = true;
        let mut to = at;
        while to > 0 && current >> 8 == keys[to - 1] >> 8 && name(current) < name(keys[to - 1]) {
            keys[to] = keys[to - 1];
            to -= 1;
        }
        keys[to] = current;
    }
    // Position `to` takes the entry now at the index in `keys[to]`: follow each cycle of that
    // permutation with swaps, marking each position done by pointing it at itself.
    for start in 0..len {
        let mut to = start;
        loop {
            let from = (keys[to] & 0xff) as usize;
            keys[to] = to as u128;
            if from == start {
                break;
            }
            entries.swap(to, from);
            to = from;
        }
    }
    shared_heads
}

/// The first fifteen bytes of a name as one big-endian integer, zero-padded: keys compare as the
/// names do, except that two names equal in their first fifteen bytes (or differing only by
/// trailing zero bytes) have equal keys.
#[inline]
fn name_key(name: &str) -> u128 {
    let bytes = name.as_bytes();
    if let Some(head) = bytes.first_chunk::<16>() {
        return u128::from_be_bytes(*head) >> 8;
    }
    if let (Some(head), Some(tail)) = (bytes.first_chunk::<8>(), bytes.last_chunk::<8>()) {
        // The last eight bytes shifted up past the ones `head` holds: bytes 8.. then zeros.
        let shift = (16 - bytes.len()) * 8;
        let low = u64::from_be_bytes(*tail)
            .checked_shl(shift as u32)
            .unwrap_or(0);
        return (u128::from(u64::from_be_bytes(*head)) << 64 | u128::from(low)) >> 8;
    }
    let mut padded = [0u8; 16];
    padded[..bytes.len()].copy_from_slice(bytes);
    u128::from_be_bytes(padded) >> 8
}

/// The order of `str` (byte-wise), with the first eight bytes compared as one number: field
/// names differ early ("source.ip", "user.name"), and a call to `memcmp` per comparison was most
/// of what sorting and searching them cost.
#[inline]
fn name_order(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if let (Some(head_a), Some(head_b)) = (a.first_chunk::<8>(), b.first_chunk::<8>()) {
        let (head_a, head_b) = (u64::from_be_bytes(*head_a), u64::from_be_bytes(*head_b));
        if head_a != head_b {
            return head_a.cmp(&head_b);
        }
        return a[8..].cmp(&b[8..]);
    }
    a.cmp(b)
}

impl Extend<(FieldName, Value)> for Fields {
    /// Appends, then sorts once: cheaper than one insert per field for a decoder's output.
    fn extend<I: IntoIterator<Item = (FieldName, Value)>>(&mut self, items: I) {
        let before = self.entries.len();
        self.entries.extend(items);
        self.settle(before);
    }
}

impl FromIterator<(FieldName, Value)> for Fields {
    fn from_iter<I: IntoIterator<Item = (FieldName, Value)>>(items: I) -> Self {
        let mut fields = Fields::new();
        fields.extend(items);
        fields
    }
}

/// A vacant or occupied place for one name, from [`Fields::entry`].
pub struct Entry<'a>(Place<'a>);

enum Place<'a> {
    Occupied(&'a mut Value),
    /// Where `name` goes to keep the order.
    Vacant {
        fields: &'a mut Fields,
        at: usize,
        name: FieldName,
    },
}

impl<'a> Entry<'a> {
    pub fn or_insert_with(self, make: impl FnOnce() -> Value) -> &'a mut Value {
        match self.0 {
            Place::Occupied(value) => value,
            Place::Vacant { fields, at, name } => {
                fields.entries.insert(at, (name, make()));
                &mut fields.entries[at].1
            }
        }
    }
}

/// The fields in name order, borrowed.
#[derive(Clone)]
pub struct Iter<'a> {
    inner: std::slice::Iter<'a, (FieldName, Value)>,
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a FieldName, &'a Value);

    fn next(&mut self) -> Option<Self::Item> {
        self.inner.next().map(|(name, value)| (name, value))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

impl ExactSizeIterator for Iter<'_> {}

impl<'a> IntoIterator for &'a Fields {
    type Item = (&'a FieldName, &'a Value);
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

impl IntoIterator for Fields {
    type Item = (FieldName, Value);
    type IntoIter = std::vec::IntoIter<(FieldName, Value)>;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

/// `fields["name"]`, like a map's index: panics when the name is absent.
impl std::ops::Index<&str> for Fields {
    type Output = Value;

    fn index(&self, name: &str) -> &Value {
        match self.get(name) {
            Some(value) => value,
            None => panic!("no field {name:?}"),
        }
    }
}

impl fmt::Debug for Fields {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.debug_map().entries(self.iter()).finish()
    }
}

/// As a map, in name order: the form a `BTreeMap` had, byte for byte.
impl Serialize for Fields {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.entries.len()))?;
        for (name, value) in &self.entries {
            map.serialize_entry(name.as_ref(), value)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Fields {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(FieldsVisitor)
    }
}

struct FieldsVisitor;

impl<'de> Visitor<'de> for FieldsVisitor {
    type Value = Fields;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a map of field names to values")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Fields, A::Error> {
        // A hostile size hint must not reserve memory the input does not back.
        let mut fields = Fields::with_capacity(access.size_hint().unwrap_or(0).min(64));
        while let Some((name, value)) = access.next_entry::<String, Value>()? {
            fields.entries.push((FieldName::Owned(name), value));
        }
        fields.settle(0);
        Ok(fields)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;

    use super::*;

    fn name(text: &str) -> FieldName {
        FieldName::Owned(text.to_owned())
    }

    #[test]
    fn insert_get_remove_keep_name_order() {
        let mut fields = Fields::new();
        assert_eq!(fields.insert("b".into(), Value::Int(2)), None);
        assert_eq!(fields.insert("a".into(), Value::Int(1)), None);
        assert_eq!(fields.insert("c".into(), Value::Int(3)), None);
        assert_eq!(
            fields.insert("b".into(), Value::Int(20)),
            Some(Value::Int(2))
        );
        let names: Vec<&str> = fields.keys().map(|name| name.as_ref()).collect();
        assert_eq!(names, ["a", "b", "c"]);
        assert_eq!(fields.get("b"), Some(&Value::Int(20)));
        assert!(fields.contains_key("c"));
        assert_eq!(fields.remove("a"), Some(Value::Int(1)));
        assert_eq!(fields.get("a"), None);
        assert_eq!(fields.len(), 2);
    }

    #[test]
    fn entry_fills_only_a_vacant_name() {
        let mut fields: Fields = [("x".into(), Value::Int(1))].into_iter().collect();
        *fields.entry("x".into()).or_insert_with(|| Value::Int(9)) = Value::Int(2);
        fields.entry("w".into()).or_insert_with(|| Value::Int(7));
        assert_eq!(fields.get("x"), Some(&Value::Int(2)));
        assert_eq!(fields.get("w"), Some(&Value::Int(7)));
        assert_eq!(fields.keys().next().map(|name| name.as_ref()), Some("w"));
    }

    #[test]
    fn the_serde_form_is_a_btree_maps() {
        let fields: Fields = [
            (name("user.name"), Value::from("root")),
            (name("event.outcome"), Value::from("failure")),
            (name("source.port"), Value::Int(22)),
        ]
        .into_iter()
        .collect();
        let map: BTreeMap<String, Value> = fields
            .iter()
            .map(|(name, value)| (name.to_string(), value.clone()))
            .collect();
        let ours = postcard::to_allocvec(&fields).expect("encode");
        assert_eq!(ours, postcard::to_allocvec(&map).expect("encode"));
        let back: Fields = postcard::from_bytes(&ours).expect("decode");
        assert_eq!(back, fields);
        // Out of order and repeated (JSON written by hand): sorted, the last value wins.
        let json: Fields =
            serde_json::from_str(r#"{"b": {"Int": 1}, "a": {"Int": 2}, "b": {"Int": 3}}"#)
                .expect("decode json");
        assert_eq!(
            json.keys().map(|n| n.as_ref()).collect::<Vec<_>>(),
            ["a", "b"]
        );
        assert_eq!(json.get("b"), Some(&Value::Int(3)));
    }

    /// Names for the property tests: shared heads of every length around the sort keys' fifteen
    /// bytes.
    const NAMES: [&str; 26] = [
        "source.ip",
        "source.port",
        "source.address",
        "source",
        "sourc",
        "source.i",
        "destination.ip",
        "destination.port",
        "destination",
        "observer.vendor",
        "observer.product",
        "a\0",
        "a",
        "aaaaaaa",
        "aaaaaaa\0b",
        "aaaaaaab",
        "observer.ingress",
        "observer.ingres",
        "observer.ingress\0",
        "observer.ingress.zone",
        "observer.ingress.interface.name",
        "observer.ingresz",
        "winlog.event_data.LogonType",
        "winlog.event_data.IpAddress",
        "winlog.event_dat",
        "aaaaaaaaaaaaaaa\0",
    ];

    proptest! {
        #[test]
        fn name_order_is_str_order(a in "[a-z._]{0,12}", b in "[a-z._]{0,12}") {
            prop_assert_eq!(name_order(&a, &b), a.cmp(&b));
            let c = format!("{a}x{b}");
            prop_assert_eq!(name_order(&a, &c), a.as_str().cmp(c.as_str()));
        }

        /// Any mix of inserts, bulk extends and removes leaves what a `BTreeMap` would.
        #[test]
        fn behaves_like_a_btree_map(
            steps in proptest::collection::vec(
                (0u8..3, proptest::collection::vec(("[a-e]{1,2}", 0i64..5), 0..6)),
                0..30,
            )
        ) {
            let mut ours = Fields::new();
            let mut model: BTreeMap<String, i64> = BTreeMap::new();
            for (kind, items) in steps {
                match kind {
                    0 => for (key, value) in &items {
                        let previous = ours.insert(name(key), Value::Int(*value));
                        prop_assert_eq!(previous, model.insert(key.clone(), *value).map(Value::Int));
                    },
                    1 => {
                        ours.extend(items.iter().map(|(key, value)| (name(key), Value::Int(*value))));
                        model.extend(items.iter().cloned());
                    }
                    _ => for (key, _) in &items {
                        prop_assert_eq!(ours.remove(key), model.remove(key).map(Value::Int));
                    },
                }
                let ours_now: Vec<(String, Value)> =
                    ours.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
                let model_now: Vec<(String, Value)> =
                    model.iter().map(|(k, v)| (k.clone(), Value::Int(*v))).collect();
                prop_assert_eq!(ours_now, model_now);
            }
        }

        /// A bulk extend of names that share long heads (ECS groups, eight, fifteen and sixteen
        /// bytes and more, a NUL byte, one name the start of another), with repeats, in batches
        /// short and long enough for the keyed sort and the standard one, leaves what a
        /// `BTreeMap` would.
        #[test]
        fn extend_orders_names_with_shared_heads(
            before in proptest::collection::vec((0usize..NAMES.len(), 0i64..100), 0..8),
            items in proptest::collection::vec((0usize..NAMES.len(), 0i64..100), 0..90),
        ) {
            let mut ours = Fields::new();
            let mut model: BTreeMap<String, i64> = BTreeMap::new();
            for (index, value) in &before {
                ours.insert(name(NAMES[*index]), Value::Int(*value));
                model.insert(NAMES[*index].to_owned(), *value);
            }
            ours.extend(items.iter().map(|(index, value)| (name(NAMES[*index]), Value::Int(*value))));
            model.extend(items.iter().map(|(index, value)| (NAMES[*index].to_owned(), *value)));
            let ours_now: Vec<(String, Value)> =
                ours.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
            let model_now: Vec<(String, Value)> =
                model.iter().map(|(k, v)| (k.clone(), Value::Int(*v))).collect();
            prop_assert_eq!(ours_now, model_now);
        }

        /// A map made of a vector in any order, then filled from another map, holds the
        /// vector's last value of each name and the other map's values of the names it lacked.
        #[test]
        fn from_entries_then_fill_from_keeps_the_entries_values(
            held in proptest::collection::vec((0usize..NAMES.len(), 0i64..100), 0..8),
            items in proptest::collection::vec((0usize..NAMES.len(), 0i64..100), 0..60),
        ) {
            let held: Fields = held
                .iter()
                .map(|(index, value)| (name(NAMES[*index]), Value::Int(*value)))
                .collect();
            let mut model: BTreeMap<String, Value> =
                held.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
            model.extend(items.iter().map(|(index, value)| (NAMES[*index].to_owned(), Value::Int(*value))));
            let mut ours = Fields::from_entries(
                items.iter().map(|(index, value)| (name(NAMES[*index]), Value::Int(*value))).collect(),
            );
            ours.fill_from(held);
            let ours_now: Vec<(String, Value)> =
                ours.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
            prop_assert_eq!(ours_now, model.into_iter().collect::<Vec<_>>());
        }
    }
}
