//! SNMP trap decoding (being written).
