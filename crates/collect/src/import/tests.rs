use std::io::{Read, Write};

use vigil_config::ServerConfig;

use super::*;
use crate::UnmappedSources;

fn stamper() -> Stamper {
    let config = ServerConfig::default();
    let metrics = vigil_pipeline::Metrics::default();
    Stamper::new(
        config.source_map().unwrap(),
        "node",
        Arc::new(UnmappedSources::new(&metrics)),
    )
}

fn import(options: &ImportOptions, name: &str, input: impl Read) -> (ReadReport, Vec<Event>) {
    let stamper = stamper();
    let importer = FileImporter::new(&stamper, options);
    let mut report = ReadReport::default();
    let mut events = Vec::new();
    importer
        .read(input, name, &mut report, &mut |batch| {
            events.extend(batch);
            true
        })
        .unwrap();
    (report, events)
}

fn auto() -> ImportOptions {
    ImportOptions::default()
}

#[test]
fn auto_detection_reads_the_first_line() {
    let detect = |name: &str, line: &str| ImportFormat::detect(name, line.as_bytes());
    assert_eq!(detect("a.log", "{\"a\":1}"), ImportFormat::Ndjson);
    assert_eq!(detect("a.json", "[{\"a\":1},"), ImportFormat::Json);
    assert_eq!(
        detect("a.log", "[Sun Dec 04 04:47:44 2005] [notice] x"),
        ImportFormat::Lines
    );
    assert_eq!(detect("a.log", "CEF:0|a|b|1|2|n|3|"), ImportFormat::Cef);
    assert_eq!(
        detect("a.log", "<34>1 2003-10-11T22:14:15Z h a - - - m"),
        ImportFormat::Syslog
    );
    assert_eq!(
        detect("a.log", "Dec 10 06:55:46 LabSZ sshd[24200]: x"),
        ImportFormat::Syslog
    );
    assert_eq!(
        detect("a.log", "2024-01-01T00:00:00Z host app: x"),
        ImportFormat::Syslog
    );
    assert_eq!(detect("x.csv.gz", "a,b"), ImportFormat::Csv);
    assert_eq!(
        detect("a.log", "10.0.0.1 - - [10/Oct/2000:13:55:36 -0700] \"GET"),
        ImportFormat::Lines
    );
}

#[test]
fn syslog_lines_are_decoded_stamped_and_flagged_imported() {
    let text = "Dec 10 06:55:46 LabSZ sshd[24200]: Invalid user webmaster from 173.234.31.186\n\n";
    let (report, events) = import(&auto(), "OpenSSH_2k.log", text.as_bytes());
    assert_eq!((report.lines, report.events), (1, 1));
    let event = &events[0];
    assert_eq!(event.host_name.as_deref(), Some("LabSZ"));
    assert_eq!(event.process_name.as_deref(), Some("sshd"));
    assert_eq!(event.source, None);
    assert!(event.flags.contains(EventFlags::IMPORTED));
    assert_eq!(&*event.listener, IMPORT_LISTENER);
    assert_eq!(
        event.fields[IMPORT_FILE_FIELD],
        Value::from("OpenSSH_2k.log")
    );
}

#[test]
fn gzip_and_zstd_inputs_read_as_plain_ones() {
    let text = "first line\nsecond line\n";
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gzip.write_all(text.as_bytes()).unwrap();
    let gzip = gzip.finish().unwrap();
    let zstd = zstd::encode_all(text.as_bytes(), 3).unwrap();
    for compressed in [gzip, zstd] {
        let (report, events) = import(&auto(), "a.log.gz", compressed.as_slice());
        assert_eq!(report.events, 2);
        assert_eq!(events[1].message, "second line");
        assert_eq!(report.bytes, compressed.len() as u64);
    }
}

#[test]
fn a_100_mb_line_is_cut_flagged_and_counted_and_the_next_line_survives() {
    let huge = std::io::repeat(b'a').take(100 * 1024 * 1024);
    let input = huge.chain(&b"\nafter the huge line\n"[..]);
    let (report, events) = import(&auto(), "big.log", input);
    assert_eq!(report.errors.get("truncated"), Some(&1));
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].message.len(), DEFAULT_MAX_LINE_BYTES);
    assert!(events[0].flags.contains(EventFlags::TRUNCATED));
    assert_eq!(events[1].message, "after the huge line");
}

#[test]
fn a_binary_file_is_counted_line_by_line_and_never_imported() {
    let mut binary: Vec<u8> = (0..=255u8).cycle().take(64 * 1024).collect();
    binary.extend_from_slice(b"\ntext after\n");
    let (report, events) = import(&auto(), "a.bin", binary.as_slice());
    assert!(report.errors["binary"] > 0);
    assert!(events.iter().all(|event| !event.message.contains('\0')));
}

#[test]
fn ragged_csv_rows_are_kept_whole_and_counted() {
    let text = "@timestamp,host,user.name,message\n2024-05-01T10:00:00Z,web01,bob,login ok\n2024-05-01T10:00:01Z,web01\n\"2024-05-01T10:00:02Z\",web02,\"carol, jr\",\"said \"\"hi\"\"\"\n";
    let (report, events) = import(&auto(), "users.csv", text.as_bytes());
    assert_eq!(report.errors.get("ragged_row"), Some(&1));
    assert_eq!(events.len(), 3);
    assert_eq!(events[0].fields["user.name"], Value::from("bob"));
    assert_eq!(events[0].timestamp.to_string(), "2024-05-01T10:00:00Z");
    assert_eq!(events[0].host_name.as_deref(), Some("web01"));
    assert!(events[1].flags.contains(EventFlags::UNPARSED));
    assert_eq!(events[1].message, "2024-05-01T10:00:01Z,web01");
    assert_eq!(events[2].fields["user.name"], Value::from("carol, jr"));
    assert_eq!(events[2].message, "said \"hi\"");
}

#[test]
fn a_json_array_becomes_one_event_per_object_and_bad_json_is_counted() {
    let (report, events) = import(&auto(), "a.json", "[{\"a\":1},\n{\"b\":2}]".as_bytes());
    assert_eq!(report.events, 2);
    assert_eq!(events[1].message, "{\"b\":2}");
    let (report, _) = import(&auto(), "a.json", "[{\"a\":1},".as_bytes());
    assert_eq!(report.errors.get("invalid_json"), Some(&1));
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let (report, events) = import(&auto(), "deep.json", deep.as_bytes());
    assert_eq!(
        (report.errors.get("invalid_json"), events.len()),
        (Some(&1), 0)
    );
}

#[test]
fn options_override_tenant_level_and_name_the_source() {
    let options = ImportOptions {
        tenant: Some(Arc::from("ministry")),
        level: SecurityLevel::new(4).ok(),
        source: Some("fw01".into()),
        ..ImportOptions::default()
    };
    let (_, events) = import(
        &options,
        "a.log",
        "CEF:0|V|P|1|2|n|3|src=10.0.0.1\n".as_bytes(),
    );
    assert_eq!(&*events[0].tenant, "ministry");
    assert_eq!(events[0].level.get(), 4);
    assert_eq!(events[0].host_name.as_deref(), Some("fw01"));
    assert!(!events[0].flags.contains(EventFlags::UNMAPPED_SOURCE));
}

#[test]
fn a_consumer_can_stop_the_import() {
    let text = "line\n".repeat(IMPORT_BATCH_EVENTS * 3);
    let stamper = stamper();
    let options = auto();
    let importer = FileImporter::new(&stamper, &options);
    let mut report = ReadReport::default();
    let mut batches = 0;
    importer
        .read(text.as_bytes(), "a.log", &mut report, &mut |_| {
            batches += 1;
            false
        })
        .unwrap();
    assert_eq!(batches, 1);
}

#[test]
fn cut_cef_and_bad_ndjson_lines_are_kept_and_counted() {
    let cef = "CEF:0|Vendor|Product|1.0|100|Login|5|src=10.0.0.1\nCEF:0|Vendor|Prod\n";
    let (report, events) = import(&auto(), "a.cef", cef.as_bytes());
    assert_eq!(report.errors.get("invalid_cef"), Some(&1));
    assert_eq!(events.len(), 2);
    let deep = format!(
        "{{\"a\":1}}\n{}{}\n{{\"b\":2}}\n",
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    let options = ImportOptions {
        format: ImportFormat::Ndjson,
        ..ImportOptions::default()
    };
    let (report, events) = import(&options, "a.ndjson", deep.as_bytes());
    assert_eq!(report.errors.get("invalid_json"), Some(&1));
    assert_eq!(events.len(), 3);
    assert_eq!(events[2].message, "{\"b\":2}");
}

#[test]
fn nesting_is_counted_outside_strings_only() {
    assert!(json_nesting_within(br#"{"a":"[[[[{{{{","b":["\"]"]}"#, 2));
    assert!(!json_nesting_within(br#"{"a":[[1]]}"#, 2));
    assert!(json_nesting_within(br#"{"a":[[1]]}"#, 3));
}

#[test]
fn a_json_named_file_of_one_object_per_line_is_ndjson_and_a_big_document_is_read_whole() {
    let eve = "{\"event_type\":\"alert\",\"src_ip\":\"10.0.0.1\"}\n{\"event_type\":\"dns\"}\n";
    let (report, events) = import(&auto(), "eve.json", eve.as_bytes());
    assert_eq!(report.formats.get("ndjson"), Some(&1));
    assert_eq!(events.len(), 2);

    // One minified line far past the 64 KiB line limit: read whole, not cut.
    let items: Vec<String> = (0..5_000)
        .map(|n| format!("{{\"n\":{n},\"pad\":\"xxxxxxxxxx\"}}"))
        .collect();
    let document = format!("[{}]", items.join(","));
    assert!(document.len() > 2 * DEFAULT_MAX_LINE_BYTES);
    let (report, events) = import(&auto(), "export.json", document.as_bytes());
    assert_eq!(report.formats.get("json"), Some(&1));
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(events.len(), 5_000);
}

#[test]
fn a_csv_column_cannot_pose_as_a_vigil_field() {
    let text = "vigil.tenant,event.id,user.name\nevil,123,bob\n";
    let (_, events) = import(&auto(), "a.csv", text.as_bytes());
    assert_ne!(&*events[0].tenant, "evil");
    assert_eq!(events[0].fields["csv.vigil.tenant"], Value::from("evil"));
    assert_eq!(events[0].fields["csv.event.id"], Value::from("123"));
    assert_eq!(events[0].fields["user.name"], Value::from("bob"));
}

#[test]
fn a_gzip_that_inflates_past_the_limit_is_cut_and_counted() {
    let text = "a line of text\n".repeat(100_000);
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gzip.write_all(text.as_bytes()).unwrap();
    let gzip = gzip.finish().unwrap();
    let options = ImportOptions {
        max_decompressed_bytes: Some(150_000),
        ..ImportOptions::default()
    };
    let (report, events) = import(&options, "bomb.log.gz", gzip.as_slice());
    assert_eq!(report.errors.get("too_large"), Some(&1));
    assert_eq!(events.len(), 10_000);
    let (report, _) = import(&options, "small.log", "one line\n".as_bytes());
    assert!(report.errors.is_empty());
}
