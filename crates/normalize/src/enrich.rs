//! Enrichment: network zones and the asset table, looked up by address.
//!
//! Adds `source.zone` / `destination.zone` (when zones are configured; an address in none is
//! `external`) and `source.asset.*`, `destination.asset.*`, `host.asset.*` (name, owner,
//! criticality) from the asset table. Lookups are by longest prefix: one hash probe per
//! distinct prefix length in the table, never a scan of every network.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;

use ipnet::IpNet;
use vigil_config::{AssetConfig, AssetFile};
use vigil_event::{field, Event, Value};

/// The zone of an address in no configured zone.
pub const EXTERNAL_ZONE: &str = "external";

/// What the asset table says about an address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Asset {
    pub name: String,
    pub owner: Option<String>,
    pub criticality: Option<String>,
    pub zone: Option<String>,
}

/// Networks to values, longest prefix first.
#[derive(Debug)]
struct NetTable<T> {
    /// (prefix length, is IPv4) → network address → value; longest prefixes first.
    by_prefix: Vec<((u8, bool), HashMap<IpAddr, T>)>,
}

impl<T> Default for NetTable<T> {
    fn default() -> Self {
        Self {
            by_prefix: Vec::new(),
        }
    }
}

impl<T> NetTable<T> {
    /// Adds a network; a later entry for the same network replaces an earlier one.
    fn insert(&mut self, net: IpNet, value: T) {
        let key = (net.prefix_len(), matches!(net, IpNet::V4(_)));
        let slot = match self.by_prefix.iter().position(|(have, _)| *have == key) {
            Some(index) => index,
            None => {
                self.by_prefix.push((key, HashMap::new()));
                self.by_prefix
                    .sort_by_key(|((length, _), _)| std::cmp::Reverse(*length));
                self.by_prefix
                    .iter()
                    .position(|(have, _)| *have == key)
                    .unwrap_or_default()
            }
        };
        self.by_prefix[slot].1.insert(net.network(), value);
    }

    fn get(&self, address: IpAddr) -> Option<&T> {
        let address = match address {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(address, IpAddr::V4),
            v4 => v4,
        };
        let is_v4 = address.is_ipv4();
        self.by_prefix
            .iter()
            .filter(|((_, v4), _)| *v4 == is_v4)
            .find_map(|((length, _), networks)| {
                let net = IpNet::new(address, *length).ok()?.trunc();
                networks.get(&net.network())
            })
    }

    fn is_empty(&self) -> bool {
        self.by_prefix.is_empty()
    }
}

/// Zones and assets, ready for lookups.
#[derive(Debug, Default)]
pub struct Enricher {
    zones: NetTable<Arc<str>>,
    assets: NetTable<Arc<Asset>>,
}

impl Enricher {
    pub fn new(zones: &BTreeMap<String, Vec<IpNet>>, assets: Vec<(IpNet, Asset)>) -> Self {
        let mut enricher = Self::default();
        for (zone, networks) in zones {
            let zone: Arc<str> = Arc::from(zone.as_str());
            for net in networks {
                enricher.zones.insert(net.trunc(), zone.clone());
            }
        }
        for (net, asset) in assets {
            enricher.assets.insert(net.trunc(), Arc::new(asset));
        }
        enricher
    }

    pub fn is_empty(&self) -> bool {
        self.zones.is_empty() && self.assets.is_empty()
    }

    /// Adds zone and asset fields for the event's source, destination and host addresses.
    pub fn apply(&self, event: &mut Event) {
        if self.is_empty() {
            return;
        }
        let source = event.source.map(|peer| peer.ip());
        let destination = event
            .fields
            .get(field::DESTINATION_IP)
            .and_then(Value::as_str)
            .and_then(|text| text.parse().ok());
        for (role, address) in [(&SOURCE, source), (&DESTINATION, destination)] {
            let Some(address) = address else { continue };
            let asset = self.assets.get(address);
            if !self.zones.is_empty() || asset.is_some_and(|asset| asset.zone.is_some()) {
                let zone = asset
                    .and_then(|asset| asset.zone.as_deref())
                    .or_else(|| self.zones.get(address).map(|zone| &**zone))
                    .unwrap_or(EXTERNAL_ZONE);
                event.fields.insert(role.zone.into(), Value::from(zone));
            }
            if let Some(asset) = asset {
                put_asset(event, role, asset);
            }
        }
        if let Some(asset) = event.host_ip.and_then(|address| self.assets.get(address)) {
            put_asset(event, &HOST, &asset.clone());
        }
    }
}

/// The field names enrichment writes for one role (source, destination, host).
struct RoleFields {
    zone: &'static str,
    name: &'static str,
    owner: &'static str,
    criticality: &'static str,
}

const SOURCE: RoleFields = RoleFields {
    zone: "source.zone",
    name: "source.asset.name",
    owner: "source.asset.owner",
    criticality: "source.asset.criticality",
};
const DESTINATION: RoleFields = RoleFields {
    zone: "destination.zone",
    name: "destination.asset.name",
    owner: "destination.asset.owner",
    criticality: "destination.asset.criticality",
};
const HOST: RoleFields = RoleFields {
    zone: "host.zone",
    name: "host.asset.name",
    owner: "host.asset.owner",
    criticality: "host.asset.criticality",
};

fn put_asset(event: &mut Event, role: &RoleFields, asset: &Asset) {
    let fields = &mut event.fields;
    fields.insert(role.name.into(), Value::from(asset.name.as_str()));
    if let Some(owner) = &asset.owner {
        fields.insert(role.owner.into(), Value::from(owner.as_str()));
    }
    if let Some(criticality) = &asset.criticality {
        fields.insert(role.criticality.into(), Value::from(criticality.as_str()));
    }
}

/// Reads an asset table: TOML (`[[asset]]`) when the file ends in `.toml`, else CSV with a
/// header naming the columns `address`, `name`, `owner`, `criticality`, `zone`. Every bad
/// row is an error naming its line.
pub fn load_assets(path: &Path) -> Result<Vec<(IpNet, Asset)>, Vec<String>> {
    let shown = path.display();
    let text = std::fs::read_to_string(path).map_err(|error| vec![format!("{shown}: {error}")])?;
    let rows: Vec<(usize, AssetConfig)> = if path.extension().is_some_and(|ext| ext == "toml") {
        let file: AssetFile = toml::from_str(&text).map_err(|error| {
            let line = error
                .span()
                .map_or(1, |span| vigil_config::line_of(&text, span.start));
            vec![format!("{shown}:{line}: {}", error.message())]
        })?;
        file.assets.into_iter().map(|asset| (0, asset)).collect()
    } else {
        read_csv(&text).map_err(|errors| {
            errors
                .into_iter()
                .map(|error| format!("{shown}:{error}"))
                .collect::<Vec<_>>()
        })?
    };
    let mut assets = Vec::new();
    let mut errors = Vec::new();
    for (line, row) in rows {
        let net = row
            .address
            .parse::<IpNet>()
            .ok()
            .or_else(|| row.address.parse::<IpAddr>().ok().map(IpNet::from));
        match net {
            Some(net) => assets.push((
                net,
                Asset {
                    name: row.name,
                    owner: row.owner.filter(|text| !text.is_empty()),
                    criticality: row.criticality.filter(|text| !text.is_empty()),
                    zone: row.zone.filter(|text| !text.is_empty()),
                },
            )),
            None if line > 0 => errors.push(format!(
                "{shown}:{line}: {:?} is not an IP address or CIDR",
                row.address
            )),
            None => errors.push(format!(
                "{shown}: asset {:?}: {:?} is not an IP address or CIDR",
                row.name, row.address
            )),
        }
    }
    if errors.is_empty() {
        Ok(assets)
    } else {
        Err(errors)
    }
}

fn read_csv(text: &str) -> Result<Vec<(usize, AssetConfig)>, Vec<String>> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .comment(Some(b'#'))
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|error| vec![format!("1: {error}")])?
        .clone();
    let column = |name: &str| headers.iter().position(|header| header == name);
    let (Some(address), Some(name)) = (column("address"), column("name")) else {
        return Err(vec![
            "1: the header must name at least the columns `address` and `name`".into(),
        ]);
    };
    let (owner, criticality, zone) = (column("owner"), column("criticality"), column("zone"));
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    for record in reader.records() {
        match record {
            Ok(record) => {
                let line = record.position().map_or(0, |at| at.line() as usize);
                let get = |index: Option<usize>| {
                    index.and_then(|index| record.get(index)).map(str::to_owned)
                };
                rows.push((
                    line,
                    AssetConfig {
                        address: get(Some(address)).unwrap_or_default(),
                        name: get(Some(name)).unwrap_or_default(),
                        owner: get(owner),
                        criticality: get(criticality),
                        zone: get(zone),
                    },
                ));
            }
            Err(error) => {
                let line = error.position().map_or(0, |at| at.line());
                errors.push(format!("{line}: {error}"));
            }
        }
    }
    if errors.is_empty() {
        Ok(rows)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigil_event::Timestamp;

    fn zones() -> BTreeMap<String, Vec<IpNet>> {
        BTreeMap::from([
            ("internal".into(), vec!["10.0.0.0/8".parse().unwrap()]),
            (
                "dmz".into(),
                vec![
                    "10.9.0.0/16".parse().unwrap(),
                    "2001:db8::/32".parse().unwrap(),
                ],
            ),
        ])
    }

    #[test]
    fn the_most_specific_zone_wins_and_the_rest_is_external() {
        let enricher = Enricher::new(&zones(), Vec::new());
        let mut event = Event::new(Timestamp::from_nanos(0), Vec::new());
        event.source = Some("10.9.1.1:22".parse().unwrap());
        event
            .fields
            .insert(field::DESTINATION_IP.into(), Value::from("8.8.8.8"));
        enricher.apply(&mut event);
        assert_eq!(event.fields["source.zone"], Value::from("dmz"));
        assert_eq!(event.fields["destination.zone"], Value::from("external"));
        event.source = Some("[::ffff:10.1.1.1]:22".parse().unwrap());
        enricher.apply(&mut event);
        assert_eq!(event.fields["source.zone"], Value::from("internal"));
    }

    #[test]
    fn assets_come_from_csv_and_override_the_zone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("assets.csv");
        std::fs::write(
            &path,
            "address,name,owner,criticality,zone\n10.1.1.1,dc01,IT,critical,servers\n192.168.0.0/24,lab,,low,\n",
        )
        .unwrap();
        let enricher = Enricher::new(&zones(), load_assets(&path).unwrap());
        let mut event = Event::new(Timestamp::from_nanos(0), Vec::new());
        event.source = Some("10.1.1.1:22".parse().unwrap());
        event.host_ip = Some("192.168.0.7".parse().unwrap());
        enricher.apply(&mut event);
        assert_eq!(event.fields["source.asset.name"], Value::from("dc01"));
        assert_eq!(
            event.fields["source.asset.criticality"],
            Value::from("critical")
        );
        assert_eq!(event.fields["source.zone"], Value::from("servers"));
        assert_eq!(event.fields["host.asset.name"], Value::from("lab"));
        assert!(!event.fields.contains_key("host.asset.owner"));
    }

    #[test]
    fn bad_asset_rows_name_their_line() {
        let dir = tempfile::tempdir().unwrap();
        let csv_path = dir.path().join("a.csv");
        std::fs::write(&csv_path, "address,name\n10.0.0.1,ok\nnot-ip,bad\n").unwrap();
        let errors = load_assets(&csv_path).unwrap_err();
        assert!(
            errors[0].ends_with("a.csv:3: \"not-ip\" is not an IP address or CIDR"),
            "{errors:?}"
        );
        let toml_path = dir.path().join("a.toml");
        std::fs::write(
            &toml_path,
            "[[asset]]\naddress = \"10.0.0.0/8\"\nname = \"corp\"\n",
        )
        .unwrap();
        assert_eq!(load_assets(&toml_path).unwrap()[0].1.name, "corp");
        std::fs::write(&csv_path, "ip,host\n").unwrap();
        assert!(load_assets(&csv_path).unwrap_err()[0].contains("header"));
    }
}
