//! `[normalize]` in the server config, and the user mapping files (`normalize/*.toml`).

use std::collections::BTreeMap;
use std::path::PathBuf;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};
use toml::Spanned;

/// `[normalize]`: body decoders, user mappings and enrichment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NormalizeConfig {
    /// The built-in body decoders (CEF, JSON, sshd, firewalls, web servers, …). Default on.
    #[serde(default = "yes")]
    pub decoders: bool,
    /// Folder of user mapping files (`*.toml`, see `normalize/README.md`), watched and reloaded
    /// on change; a broken file is reported and its previous version keeps running. Default
    /// `"normalize"` (relative to the working directory); a missing folder means no mappings.
    #[serde(default = "default_mapping_dir")]
    pub dir: PathBuf,
    /// An asset table: CSV with a header (`address,name,owner,criticality,zone`; `address` is an
    /// IP or a CIDR) or TOML (`[[asset]]` with the same keys). Adds `source.asset.*`,
    /// `destination.asset.*` and `host.asset.*`.
    pub assets: Option<PathBuf>,
    /// Network zones by CIDR, e.g. `internal = ["10.0.0.0/8"]`, `dmz = ["192.0.2.0/24"]`. When
    /// any is set, events get `source.zone` and `destination.zone`; an address in none is
    /// `"external"`. The most specific network wins.
    #[serde(default)]
    pub zones: BTreeMap<String, Vec<IpNet>>,
}

fn yes() -> bool {
    true
}

fn default_mapping_dir() -> PathBuf {
    PathBuf::from("normalize")
}

impl Default for NormalizeConfig {
    fn default() -> Self {
        Self {
            decoders: true,
            dir: default_mapping_dir(),
            assets: None,
            zones: BTreeMap::new(),
        }
    }
}

/// One mapping file: `[[mapping]]` tables, applied in order after the built-in decoders.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MappingFile {
    #[serde(default, rename = "mapping")]
    pub mappings: Vec<MappingConfig>,
}

/// `[[mapping]]`: when an event matches `when`, read `field` with a pattern, then rename,
/// convert and set fields — or drop the event.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MappingConfig {
    /// Names the mapping in errors and metrics.
    pub name: String,
    /// Conditions that must all hold: a field and the value it must have. A value is a text
    /// (`*` matches any run of characters), a list of texts (any of them), or, for
    /// `source.ip`, `host.ip`, `destination.ip` and `observer.ip`, a CIDR.
    #[serde(default)]
    pub when: BTreeMap<String, Condition>,
    /// The field the pattern reads. Default `message`.
    #[serde(default = "default_pattern_field")]
    pub field: String,
    /// A dissect pattern: `%{source.ip} - %{user.name} [%{ts}] "%{http.request.method} %{}"`.
    /// `%{}` or `%{?name}` skips a part; `%{name->}` also skips repeats of the next delimiter.
    pub dissect: Option<Spanned<String>>,
    /// A regex with named captures: `user (?P<user.name>\S+) from (?P<source.ip>\S+)`.
    pub regex: Option<Spanned<String>>,
    /// Renames, applied after the pattern: `{ "kv.usr" = "user.name" }`.
    #[serde(default)]
    pub rename: BTreeMap<String, String>,
    /// Type conversions: `"ip"`, `"integer"`, `"float"`, `"boolean"`, `"timestamp"` (RFC 3339
    /// or epoch seconds) or `"timestamp:FORMAT"` (chrono's strftime; UTC when it has no zone).
    #[serde(default)]
    pub convert: BTreeMap<String, Spanned<String>>,
    /// Constant fields: `{ "observer.vendor" = "Acme", "event.severity" = 3 }`.
    #[serde(default)]
    pub set: BTreeMap<String, ConstValue>,
    /// A field (usually converted with `timestamp`) whose time becomes `@timestamp`.
    pub timestamp: Option<String>,
    /// Drop matching events (noise). Counted per mapping; the line is not archived.
    #[serde(default)]
    pub drop: bool,
}

fn default_pattern_field() -> String {
    "message".into()
}

/// A `when` condition: one value or any of several.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum Condition {
    One(String),
    AnyOf(Vec<String>),
}

impl Condition {
    pub fn values(&self) -> &[String] {
        match self {
            Condition::One(value) => std::slice::from_ref(value),
            Condition::AnyOf(values) => values,
        }
    }
}

/// A constant a mapping sets.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum ConstValue {
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(String),
}

/// The line (1-based) a byte offset of `text` falls on.
pub fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&byte| byte == b'\n')
        .count()
        + 1
}

/// The asset table's TOML form: `[[asset]]` tables.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssetFile {
    #[serde(default, rename = "asset")]
    pub assets: Vec<AssetConfig>,
}

/// One asset: an address or network and what it is.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssetConfig {
    /// An IP address or a CIDR.
    pub address: String,
    pub name: String,
    #[serde(default)]
    pub owner: Option<String>,
    /// e.g. `low`, `medium`, `high`, `critical`.
    #[serde(default)]
    pub criticality: Option<String>,
    /// A zone name that overrides the CIDR zones for this asset.
    #[serde(default)]
    pub zone: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mapping_file_reads_with_spans_for_its_patterns() {
        let text = "[[mapping]]\nname = \"acme\"\nwhen = { \"process.name\" = [\"acme\", \"acme-*\"] }\ndissect = \"%{user.name} logged in\"\nset = { \"observer.vendor\" = \"Acme\", \"event.severity\" = 3 }\n";
        let file: MappingFile = toml::from_str(text).unwrap();
        let mapping = &file.mappings[0];
        assert_eq!(mapping.field, "message");
        assert_eq!(mapping.when["process.name"].values().len(), 2);
        let dissect = mapping.dissect.as_ref().unwrap();
        assert_eq!(line_of(text, dissect.span().start), 4);
        assert_eq!(mapping.set["event.severity"], ConstValue::Int(3));
    }

    #[test]
    fn unknown_keys_are_refused() {
        assert!(
            toml::from_str::<MappingFile>("[[mapping]]\nname = \"x\"\ndisect = \"\"\n").is_err()
        );
    }
}
