//! The normalizer as a whole: decoders, mappings, reloads, drops, counters.

use std::sync::Arc;

use vigil_config::NormalizeConfig;
use vigil_event::{Event, EventFlags, Timestamp, Value};
use vigil_pipeline::Metrics;

use crate::{Normalizer, Verdict};

fn event(app: &str, message: &str) -> Event {
    let mut event = Event::new(Timestamp::now(), message.as_bytes().to_vec());
    event.process_name = Some(app.into());
    event.message = message.into();
    event.source = Some("10.0.0.1:514".parse().unwrap());
    event.listener = Arc::from("udp");
    event
}

fn config(dir: &std::path::Path) -> NormalizeConfig {
    NormalizeConfig {
        dir: dir.to_path_buf(),
        ..NormalizeConfig::default()
    }
}

/// Makes the file look changed even within one mtime tick: its length differs each time.
fn write(path: &std::path::Path, text: &str) {
    std::fs::write(path, text).unwrap();
}

const GOOD: &str = "[[mapping]]\nname = \"acme\"\nwhen = { \"process.name\" = \"acme\" }\ndissect = \"user %{user.name} did %{event.action}\"\n";
const GOOD_V2: &str = "[[mapping]]\nname = \"acme\"\nwhen = { \"process.name\" = \"acme\" }\ndissect = \"user %{user.name} did %{event.action}\"\nset = { \"observer.vendor\" = \"Acme Corp\" }\n";
const BROKEN: &str = "[[mapping]]\nname = \"acme\"\nregex = '(unclosed'\n";

#[test]
fn a_broken_file_keeps_its_previous_version_and_a_removed_one_stops() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("acme.toml");
    write(&path, GOOD);
    let metrics = Metrics::default();
    let normalizer = Normalizer::new(&config(dir.path()), &metrics).unwrap();
    let mut first = event("acme", "user bob did login");
    normalizer.apply(&mut first);
    assert_eq!(first.fields["user.name"], Value::from("bob"));
    assert_eq!(first.fields[crate::MAPPING_FIELD], Value::from("acme"));

    write(&path, BROKEN);
    normalizer.reload_mappings();
    let errors = normalizer.mappings().errors();
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0].contains("acme.toml:3: mapping \"acme\": regex"),
        "{errors:?}"
    );
    let mut second = event("acme", "user carol did logout");
    normalizer.apply(&mut second);
    assert_eq!(second.fields["user.name"], Value::from("carol"));
    assert!(metrics
        .render()
        .contains("vigil_normalize_mapping_errors 1"));

    write(&path, GOOD_V2);
    normalizer.reload_mappings();
    assert!(normalizer.mappings().errors().is_empty());
    let mut third = event("acme", "user dave did login");
    normalizer.apply(&mut third);
    assert_eq!(third.fields["observer.vendor"], Value::from("Acme Corp"));

    std::fs::remove_file(&path).unwrap();
    normalizer.reload_mappings();
    let mut fourth = event("acme", "user erin did login");
    normalizer.apply(&mut fourth);
    assert!(!fourth.fields.contains_key("user.name"));
    assert!(metrics
        .render()
        .contains("vigil_normalize_mapped_total{mapping=\"acme\"} 3"));
}

#[test]
fn drop_mappings_take_events_out_of_the_batch_and_are_counted() {
    let dir = tempfile::tempdir().unwrap();
    write(
        &dir.path().join("noise.toml"),
        "[[mapping]]\nname = \"cron noise\"\nwhen = { \"process.name\" = \"CRON\" }\ndrop = true\n",
    );
    let metrics = Metrics::default();
    let normalizer = Normalizer::new(&config(dir.path()), &metrics).unwrap();
    let mut batch = vec![
        event("CRON", "(root) CMD (run-parts /etc/cron.hourly)"),
        event("app", "kept"),
        event("CRON", "(root) CMD (true)"),
    ];
    vigil_pipeline::Transform::apply(&normalizer, &mut batch);
    assert_eq!(batch.len(), 1);
    assert_eq!(batch[0].message, "kept");
    assert!(metrics
        .render()
        .contains("vigil_normalize_dropped_total{mapping=\"cron noise\"} 2"));
}

#[test]
fn unrecognised_lines_are_kept_and_counted_per_listener_and_source() {
    let metrics = Metrics::default();
    let normalizer = Normalizer::decoders_only(&metrics);
    let mut line = event("myapp", "something only myapp understands");
    line.host_name = Some("web01".into());
    assert_eq!(normalizer.apply(&mut line), Verdict::Keep);
    assert_eq!(line.message, "something only myapp understands");
    assert!(!line.fields.contains_key(crate::DECODER_FIELD));
    assert_eq!(normalizer.unrecognised_sources(), [("web01".to_owned(), 1)]);
    assert!(metrics
        .render()
        .contains("vigil_normalize_unrecognised_total{listener=\"udp\"} 1"));
}

#[test]
fn a_decoded_source_address_moves_the_sender_to_observer_ip() {
    let normalizer = Normalizer::decoders_only(&Metrics::default());
    let mut line = event(
        "sshd",
        "Failed password for invalid user admin from 203.0.113.9 port 50022 ssh2",
    );
    normalizer.apply(&mut line);
    assert_eq!(line.source, Some("203.0.113.9:50022".parse().unwrap()));
    assert_eq!(line.fields["observer.ip"], Value::from("10.0.0.1"));
    assert_eq!(line.fields[crate::DECODER_FIELD], Value::from("sshd"));
}

#[test]
fn each_event_of_a_batch_keeps_its_own_sender_as_observer_ip() {
    let normalizer = Normalizer::decoders_only(&Metrics::default());
    let line = "Failed password for root from 203.0.113.9 port 50022 ssh2";
    let senders = [
        "10.0.0.1:514",
        "10.0.0.1:514",
        "192.168.7.20:514",
        "10.0.0.1:514",
    ];
    let mut batch: Vec<Event> = senders
        .iter()
        .map(|sender| {
            let mut line = event("sshd", line);
            line.source = Some(sender.parse().unwrap());
            line
        })
        .collect();
    // One whose line says it is its own sender's, untouched.
    let mut own = event(
        "sshd",
        "Failed password for root from 203.0.113.9 port 50022 ssh2",
    );
    own.fields
        .insert("observer.ip".into(), Value::from("10.9.9.9"));
    batch.push(own);
    normalizer.apply_batch(&mut batch);
    let observers: Vec<&Value> = batch.iter().map(|e| &e.fields["observer.ip"]).collect();
    assert_eq!(
        observers,
        [
            &Value::from("10.0.0.1"),
            &Value::from("10.0.0.1"),
            &Value::from("192.168.7.20"),
            &Value::from("10.0.0.1"),
            &Value::from("10.9.9.9"),
        ]
    );
}

#[test]
fn zones_and_assets_enrich_after_decoding() {
    let dir = tempfile::tempdir().unwrap();
    let assets = dir.path().join("assets.csv");
    write(
        &assets,
        "address,name,owner,criticality\n10.0.0.1,syslog-relay,NOC,high\n",
    );
    let config = NormalizeConfig {
        dir: dir.path().join("none"),
        assets: Some(assets),
        zones: [("internal".to_owned(), vec!["10.0.0.0/8".parse().unwrap()])].into(),
        ..NormalizeConfig::default()
    };
    let normalizer = Normalizer::new(&config, &Metrics::default()).unwrap();
    let mut line = event("app", "hello");
    normalizer.apply(&mut line);
    assert_eq!(line.fields["source.zone"], Value::from("internal"));
    assert_eq!(
        line.fields["source.asset.name"],
        Value::from("syslog-relay")
    );
    let mut imported = event("app", "hello");
    imported.flags.insert(EventFlags::IMPORTED);
    imported.source = Some("198.51.100.1:1".parse().unwrap());
    normalizer.apply(&mut imported);
    assert_eq!(imported.fields["source.zone"], Value::from("external"));
}

#[test]
fn the_shipped_example_mappings_compile() {
    let text = include_str!("../../../normalize/example.toml.sample");
    let mappings = crate::mapping::compile_file("example.toml.sample", text).unwrap();
    assert_eq!(mappings.len(), 4);
}
