//! OBJECT IDENTIFIERs, and the names of the standard ones a trap receiver meets most.

use std::fmt;
use std::str::FromStr;

/// An OBJECT IDENTIFIER as its arcs (`1.3.6.1.2.1.1.3.0` is `[1, 3, 6, 1, 2, 1, 1, 3, 0]`).
#[derive(Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Oid(Vec<u32>);

/// The generic traps of RFC 3418 (`snmpTraps`, 1.3.6.1.6.3.1.1.5): the RFC 3584 translation of
/// v1 generic-trap N is `snmpTraps.(N + 1)`.
pub const SNMP_TRAPS: [u32; 9] = [1, 3, 6, 1, 6, 3, 1, 1, 5];
/// `sysUpTime` (RFC 3418): the first varbind of a v2 notification is `sysUpTime.0`.
pub const SYS_UP_TIME: [u32; 8] = [1, 3, 6, 1, 2, 1, 1, 3];
/// `snmpTrapOID` (RFC 3418): the second varbind of a v2 notification is `snmpTrapOID.0`.
pub const SNMP_TRAP_OID: [u32; 10] = [1, 3, 6, 1, 6, 3, 1, 1, 4, 1];

/// Names of standard objects and notifications, by OID. A longer OID under one of these is shown
/// as the name and the rest (`ifIndex.2`).
const NAMES: &[(&str, &[u32])] = &[
    ("coldStart", &[1, 3, 6, 1, 6, 3, 1, 1, 5, 1]),
    ("warmStart", &[1, 3, 6, 1, 6, 3, 1, 1, 5, 2]),
    ("linkDown", &[1, 3, 6, 1, 6, 3, 1, 1, 5, 3]),
    ("linkUp", &[1, 3, 6, 1, 6, 3, 1, 1, 5, 4]),
    ("authenticationFailure", &[1, 3, 6, 1, 6, 3, 1, 1, 5, 5]),
    ("egpNeighborLoss", &[1, 3, 6, 1, 6, 3, 1, 1, 5, 6]),
    ("snmpTrapOID", &[1, 3, 6, 1, 6, 3, 1, 1, 4, 1]),
    ("snmpTrapEnterprise", &[1, 3, 6, 1, 6, 3, 1, 1, 4, 3]),
    ("snmpTrapAddress", &[1, 3, 6, 1, 6, 3, 18, 1, 3]),
    ("sysDescr", &[1, 3, 6, 1, 2, 1, 1, 1]),
    ("sysObjectID", &[1, 3, 6, 1, 2, 1, 1, 2]),
    ("sysUpTime", &[1, 3, 6, 1, 2, 1, 1, 3]),
    ("sysContact", &[1, 3, 6, 1, 2, 1, 1, 4]),
    ("sysName", &[1, 3, 6, 1, 2, 1, 1, 5]),
    ("sysLocation", &[1, 3, 6, 1, 2, 1, 1, 6]),
    ("ifNumber", &[1, 3, 6, 1, 2, 1, 2, 1]),
    ("ifIndex", &[1, 3, 6, 1, 2, 1, 2, 2, 1, 1]),
    ("ifDescr", &[1, 3, 6, 1, 2, 1, 2, 2, 1, 2]),
    ("ifType", &[1, 3, 6, 1, 2, 1, 2, 2, 1, 3]),
    ("ifPhysAddress", &[1, 3, 6, 1, 2, 1, 2, 2, 1, 6]),
    ("ifAdminStatus", &[1, 3, 6, 1, 2, 1, 2, 2, 1, 7]),
    ("ifOperStatus", &[1, 3, 6, 1, 2, 1, 2, 2, 1, 8]),
    ("ifName", &[1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 1]),
    ("ifAlias", &[1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 18]),
];

impl Oid {
    pub fn from_slice(arcs: &[u32]) -> Self {
        Self(arcs.to_vec())
    }

    pub fn as_slice(&self) -> &[u32] {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn starts_with(&self, prefix: &[u32]) -> bool {
        self.0.starts_with(prefix)
    }

    /// This OID with `arcs` appended.
    pub fn child(&self, arcs: &[u32]) -> Oid {
        let mut child = self.0.clone();
        child.extend_from_slice(arcs);
        Oid(child)
    }

    /// The standard name, with any instance suffix: `linkDown`, `ifIndex.2`, `sysUpTime.0`.
    pub fn name(&self) -> Option<String> {
        let (name, prefix) = NAMES
            .iter()
            .filter(|(_, prefix)| self.0.starts_with(prefix))
            .max_by_key(|(_, prefix)| prefix.len())?;
        let mut text = (*name).to_owned();
        for arc in &self.0[prefix.len()..] {
            text.push('.');
            text.push_str(&arc.to_string());
        }
        Some(text)
    }

    /// The name when this is exactly a named OID (a notification such as `linkDown`).
    pub fn exact_name(&self) -> Option<&'static str> {
        NAMES
            .iter()
            .find(|(_, oid)| self.0 == *oid)
            .map(|(name, _)| *name)
    }
}

impl From<Vec<u32>> for Oid {
    fn from(arcs: Vec<u32>) -> Self {
        Self(arcs)
    }
}

impl fmt::Display for Oid {
    /// Dotted numbers: `1.3.6.1.2.1.1.3.0`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, arc) in self.0.iter().enumerate() {
            if index > 0 {
                f.write_str(".")?;
            }
            write!(f, "{arc}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Oid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Oid({self})")
    }
}

/// A dotted OID that did not parse.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("not a dotted OID: {0:?}")]
pub struct OidParseError(pub String);

impl FromStr for Oid {
    type Err = OidParseError;

    /// `1.3.6.1`, with an optional leading dot (`.1.3.6.1`, as net-snmp prints them).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let digits = text.strip_prefix('.').unwrap_or(text);
        digits
            .split('.')
            .map(|arc| arc.parse::<u32>())
            .collect::<Result<Vec<_>, _>>()
            .map(Oid)
            .map_err(|_| OidParseError(text.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn oid(text: &str) -> Oid {
        text.parse().expect("valid test OID")
    }

    #[test]
    fn oid_names_carry_the_instance_suffix() {
        assert_eq!(
            oid("1.3.6.1.2.1.2.2.1.1.2").name().as_deref(),
            Some("ifIndex.2")
        );
        assert_eq!(
            oid("1.3.6.1.2.1.1.3.0").name().as_deref(),
            Some("sysUpTime.0")
        );
        assert_eq!(
            oid("1.3.6.1.6.3.1.1.5.3").name().as_deref(),
            Some("linkDown")
        );
        assert_eq!(
            oid("1.3.6.1.2.1.31.1.1.1.1.7").name().as_deref(),
            Some("ifName.7")
        );
        assert_eq!(oid("1.3.6.1.4.1.8072.2.3").name(), None);
        assert_eq!(oid("1.3.6.1.6.3.1.1.5.3").exact_name(), Some("linkDown"));
        assert_eq!(oid("1.3.6.1.6.3.1.1.5.3.1").exact_name(), None);
    }

    #[test]
    fn oid_text_round_trips() {
        assert_eq!(oid(".1.3.6.1").to_string(), "1.3.6.1");
        assert_eq!(format!("{:?}", oid("1.3")), "Oid(1.3)");
        assert!("1..3".parse::<Oid>().is_err());
        assert!("".parse::<Oid>().is_err());
        assert!("1.3.4294967296".parse::<Oid>().is_err());
    }
}
