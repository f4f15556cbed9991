//! Hostile input: every bound of [`FlowLimits`] reached and counted, broken lengths, and a
//! property test that no bytes panic the decoder or grow its state past the limits.

use std::net::SocketAddr;

use proptest::prelude::*;
use vigil_event::Timestamp;

use super::pending::PARKED_SET_OVERHEAD_BYTES;
use super::test_packets::{
    concat, enterprise_ie, exporter, ie, ipfix_message, ipfix_options_template, ipfix_template,
    set, softflowd_record, v5_packet, v9_options_template, v9_packet, v9_template, V5Flow,
    SOFTFLOWD_FIELDS,
};
use super::{FlowDecoder, FlowError, FlowLimits, FlowRecord, FlowReport};

const SECOND: i64 = 1_000_000_000;

fn decode_at(
    decoder: &mut FlowDecoder,
    from: SocketAddr,
    received: Timestamp,
    datagram: &[u8],
) -> (FlowReport, Vec<FlowRecord>) {
    let mut out = Vec::new();
    let report = decoder
        .decode(datagram, from, received, &mut out)
        .expect("decodes");
    assert_eq!(report.records + report.option_records, out.len());
    (report, out)
}

fn decode(decoder: &mut FlowDecoder, datagram: &[u8]) -> (FlowReport, Vec<FlowRecord>) {
    decode_at(decoder, exporter(), Timestamp::from_nanos(0), datagram)
}

fn from_port(port: u16) -> SocketAddr {
    SocketAddr::from(([192, 0, 2, 1], port))
}

/// A v9 template of `num_fields` one-byte fields, as a template record.
fn wide_v9_template(template_id: u16, num_fields: usize) -> Vec<u8> {
    let fields: Vec<(u16, u16)> = (0..num_fields)
        .map(|index| (100 + index as u16, 1))
        .collect();
    v9_template(template_id, &fields)
}

#[test]
fn the_total_template_field_budget_is_kept_across_exporters() {
    let mut decoder = FlowDecoder::new(FlowLimits {
        max_template_fields: 25,
        ..FlowLimits::default()
    });
    // Ten fields each: two fit, from two exporters; the third does not.
    for source_id in 1..=3 {
        let datagram = v9_packet(1, 0, source_id, &[set(0, &wide_v9_template(256, 10))]);
        let (report, _) = decode(&mut decoder, &datagram);
        let fits = source_id < 3;
        assert_eq!(report.templates, usize::from(fits), "exporter {source_id}");
        assert_eq!(report.templates_refused, usize::from(!fits));
    }
    assert_eq!(decoder.template_count(), 2);
    // A refresh that does not grow passes; one that would overflow does not.
    let same = v9_packet(1, 0, 1, &[set(0, &wide_v9_template(256, 10))]);
    assert_eq!(decode(&mut decoder, &same).0.templates, 1);
    let wider = v9_packet(1, 0, 1, &[set(0, &wide_v9_template(256, 16))]);
    assert_eq!(decode(&mut decoder, &wider).0.templates_refused, 1);
    // A narrower refresh frees room for the third exporter's template.
    let narrower = v9_packet(1, 0, 1, &[set(0, &wide_v9_template(256, 4))]);
    assert_eq!(decode(&mut decoder, &narrower).0.templates, 1);
    let third = v9_packet(1, 0, 3, &[set(0, &wide_v9_template(256, 10))]);
    assert_eq!(decode(&mut decoder, &third).0.templates, 1);
    assert_eq!(decoder.template_count(), 3);
}

#[test]
fn template_with_65535_fields_is_refused() {
    let mut decoder = FlowDecoder::new(FlowLimits::default());
    // Claims 65,535 fields; the set holds a few and cannot hold them all (a set is < 64 KiB).
    let claim = concat(&[
        &300u16.to_be_bytes(),
        &65_535u16.to_be_bytes(),
        &[0, 8, 0, 4],
    ]);
    let datagram = v9_packet(
        2,
        0,
        1,
        &[set(0, &claim), set(0, &v9_template(301, &[(8, 4)]))],
    );
    let (report, _) = decode(&mut decoder, &datagram);
    assert_eq!(report.templates_refused, 1);
    assert_eq!(report.templates, 1, "the next set is still read");
    assert_eq!(report.malformed_sets, 0);
    assert_eq!(decoder.template_count(), 1);

    let claim = concat(&[
        &300u16.to_be_bytes(),
        &65_535u16.to_be_bytes(),
        &[0, 8, 0, 4],
    ]);
    let message = ipfix_message(
        1,
        &[set(2, &claim), set(2, &ipfix_template(301, &[ie(8, 4)]))],
    );
    let (report, _) = decode(&mut decoder, &message);
    assert_eq!((report.templates_refused, report.templates), (1, 1));
    assert_eq!(decoder.template_count(), 2);
}

#[test]
fn template_over_the_field_limit_is_skipped_whole() {
    let mut decoder = FlowDecoder::new(FlowLimits::default());
    // 257 fields, all present, then a good template in the same set.
    let body = concat(&[&wide_v9_template(300, 257), &wide_v9_template(301, 256)]);
    let (report, _) = decode(&mut decoder, &v9_packet(2, 0, 1, &[set(0, &body)]));
    assert_eq!((report.templates_refused, report.templates), (1, 1));
    let body = concat(&[
        &ipfix_template(300, &[enterprise_ie(9, 1, 4); 257]),
        &ipfix_template(301, &[enterprise_ie(9, 1, 4); 256]),
    ]);
    let (report, _) = decode(&mut decoder, &ipfix_message(1, &[set(2, &body)]));
    assert_eq!((report.templates_refused, report.templates), (1, 1));
    assert_eq!(decoder.template_count(), 2);
}

#[test]
fn ten_thousand_templates_from_one_exporter_are_capped() {
    let mut decoder = FlowDecoder::new(FlowLimits::default());
    let mut learned = 0;
    let mut refused = 0;
    for batch in 0..10u16 {
        let records: Vec<Vec<u8>> = (0..1_000u16)
            .map(|index| v9_template(256 + batch * 1_000 + index, &[(8, 4)]))
            .collect();
        let (report, _) = decode(
            &mut decoder,
            &v9_packet(1, 0, 1, &[set(0, &records.concat())]),
        );
        learned += report.templates;
        refused += report.templates_refused;
    }
    assert_eq!(learned, super::DEFAULT_MAX_TEMPLATES_PER_EXPORTER);
    assert_eq!(refused, 10_000 - super::DEFAULT_MAX_TEMPLATES_PER_EXPORTER);
    assert_eq!(
        decoder.template_count(),
        super::DEFAULT_MAX_TEMPLATES_PER_EXPORTER
    );
    // Known templates can still be refreshed.
    let refresh = v9_packet(1, 0, 1, &[set(0, &v9_template(256, &[(12, 4)]))]);
    let (report, _) = decode(&mut decoder, &refresh);
    assert_eq!((report.templates, report.templates_refused), (1, 0));
}

#[test]
fn exporters_beyond_the_limit_evict_the_least_recently_seen() {
    let limits = FlowLimits {
        max_exporters: 3,
        ..FlowLimits::default()
    };
    let mut decoder = FlowDecoder::new(limits);
    let template = v9_packet(1, 0, 1, &[set(0, &v9_template(300, &[(8, 4)]))]);
    let data = v9_packet(1, 0, 1, &[set(300, &[10, 0, 0, 1])]);
    let at = |seconds| Timestamp::from_nanos(seconds * SECOND);
    for port in 1..=3 {
        decode_at(&mut decoder, from_port(port), at(0), &template);
    }
    // Port 1 is seen again, so port 2 is now the least recently seen.
    assert_eq!(
        decode_at(&mut decoder, from_port(1), at(1), &data)
            .0
            .records,
        1
    );
    let (report, _) = decode_at(&mut decoder, from_port(4), at(2), &template);
    assert_eq!(report.exporters_evicted, 1);
    assert_eq!((decoder.exporter_count(), decoder.template_count()), (3, 3));
    assert_eq!(
        decode_at(&mut decoder, from_port(2), at(3), &data)
            .0
            .template_misses,
        1
    );
    for port in [1, 3, 4] {
        assert_eq!(
            decode_at(&mut decoder, from_port(port), at(3), &data)
                .0
                .records,
            1
        );
    }
}

#[test]
fn set_length_beyond_the_datagram_is_malformed_and_ends_parsing() {
    let mut decoder = FlowDecoder::new(FlowLimits::default());
    let template = set(0, &v9_template(300, &[(8, 4)]));
    let good = set(300, &[10, 0, 0, 1]);
    let mut overlong = set(300, &[10, 0, 0, 2]);
    overlong[2..4].copy_from_slice(&1_000u16.to_be_bytes());
    let datagram = v9_packet(4, 0, 1, &[template, good.clone(), overlong, good.clone()]);
    let (report, records) = decode(&mut decoder, &datagram);
    assert_eq!((report.records, report.malformed_sets), (1, 1));
    assert_eq!(records[0].source, Some([10, 0, 0, 1].into()));

    // A length under the set header's own 4 bytes, which would never advance.
    for length in 0..4u16 {
        let mut short = set(300, &[]);
        short[2..4].copy_from_slice(&length.to_be_bytes());
        let datagram = v9_packet(2, 0, 1, &[short, good.clone()]);
        let (report, _) = decode(&mut decoder, &datagram);
        assert_eq!(
            (report.records, report.malformed_sets),
            (0, 1),
            "length {length}"
        );
    }
}

#[test]
fn template_record_past_its_set_is_malformed() {
    let mut decoder = FlowDecoder::new(FlowLimits::default());
    // Says 3 fields, has 2; then a good set.
    let mut record = v9_template(300, &[(8, 4), (12, 4)]);
    record[3] = 3;
    let datagram = v9_packet(
        2,
        0,
        1,
        &[set(0, &record), set(0, &v9_template(301, &[(8, 4)]))],
    );
    let (report, _) = decode(&mut decoder, &datagram);
    assert_eq!((report.malformed_sets, report.templates), (1, 1));
    assert_eq!(decoder.template_count(), 1);
}

#[test]
fn zero_length_record_templates_are_refused() {
    let mut decoder = FlowDecoder::new(FlowLimits::default());
    let v9_templates = concat(&[
        &v9_template(300, &[(8, 0), (12, 0)]),
        &v9_template(301, &[]),
    ]);
    let datagram = v9_packet(
        3,
        0,
        1,
        &[
            set(0, &v9_templates),
            set(1, &v9_options_template(302, &[(1, 0)], &[(34, 0)])),
            set(300, &[0; 8]),
        ],
    );
    let (report, records) = decode(&mut decoder, &datagram);
    assert_eq!((report.templates_refused, report.templates), (3, 0));
    assert!(records.is_empty());
    assert_eq!(
        report.template_misses, 1,
        "its data waits, it does not loop"
    );
    let message = ipfix_message(
        1,
        &[
            set(2, &ipfix_template(300, &[ie(8, 0)])),
            set(3, &ipfix_options_template(301, 1, &[ie(149, 0)])),
        ],
    );
    let (report, _) = decode(&mut decoder, &message);
    assert_eq!((report.templates_refused, report.templates), (2, 0));
    assert_eq!(decoder.template_count(), 0);
}

#[test]
fn reserved_template_ids_are_refused() {
    let mut decoder = FlowDecoder::new(FlowLimits::default());
    let (report, _) = decode(
        &mut decoder,
        &v9_packet(1, 0, 1, &[set(0, &v9_template(255, &[(8, 4)]))]),
    );
    assert_eq!(report.templates_refused, 1);
    let (report, _) = decode(
        &mut decoder,
        &ipfix_message(
            1,
            &[set(
                2,
                &concat(&[&ipfix_template(4, &[ie(8, 4)]), &ipfix_template(5, &[])]),
            )],
        ),
    );
    assert_eq!(report.templates_refused, 2);
    assert_eq!(decoder.template_count(), 0);
}

#[test]
fn truncated_headers_and_unknown_versions_are_errors() {
    let mut decoder = FlowDecoder::new(FlowLimits::default());
    let v5 = v5_packet(0, 0, 0, &[]);
    let v9 = v9_packet(0, 0, 1, &[]);
    let ipfix = ipfix_message(1, &[]);
    let cases: [(&[u8], FlowError); 6] = [
        (
            &[],
            FlowError::Truncated {
                needed_bytes: 2,
                received_bytes: 0,
            },
        ),
        (
            &[0],
            FlowError::Truncated {
                needed_bytes: 2,
                received_bytes: 1,
            },
        ),
        (
            &v5[..23],
            FlowError::Truncated {
                needed_bytes: 24,
                received_bytes: 23,
            },
        ),
        (
            &v9[..19],
            FlowError::Truncated {
                needed_bytes: 20,
                received_bytes: 19,
            },
        ),
        (
            &ipfix[..15],
            FlowError::Truncated {
                needed_bytes: 16,
                received_bytes: 15,
            },
        ),
        (&[0, 7, 0, 0], FlowError::UnsupportedVersion { version: 7 }),
    ];
    for (datagram, expected) in cases {
        let mut out = Vec::new();
        let error = decoder
            .decode(datagram, exporter(), Timestamp::from_nanos(0), &mut out)
            .expect_err("unusable datagram");
        assert_eq!(error, expected);
        assert!(out.is_empty());
    }
    assert_eq!(
        FlowError::UnsupportedVersion { version: 7 }.kind(),
        "unsupported_version"
    );
    // Headers alone are fine.
    for datagram in [&v5, &v9, &ipfix] {
        assert_eq!(
            decode(&mut decoder, datagram).0,
            FlowReport {
                version: u16::from(datagram[1]),
                ..FlowReport::default()
            }
        );
    }
}

#[test]
fn parked_bytes_are_bounded_and_the_oldest_dropped() {
    let body_bytes = 4;
    let limits = FlowLimits {
        max_pending_bytes: 3 * (body_bytes + PARKED_SET_OVERHEAD_BYTES),
        ..FlowLimits::default()
    };
    let mut decoder = FlowDecoder::new(limits);
    let mut dropped = 0;
    for template_id in 300..305u16 {
        let data = v9_packet(1, 0, 1, &[set(template_id, &[10, 0, 0, template_id as u8])]);
        let (report, _) = decode(&mut decoder, &data);
        assert_eq!(report.template_misses, 1);
        dropped += report.pending_dropped;
    }
    assert_eq!(dropped, 2);
    assert_eq!(decoder.pending_sets(), 3);
    assert!(decoder.pending_bytes() <= limits.max_pending_bytes);
    let templates = concat(&[&v9_template(300, &[(8, 4)]), &v9_template(304, &[(8, 4)])]);
    let (report, records) = decode(&mut decoder, &v9_packet(1, 0, 1, &[set(0, &templates)]));
    assert_eq!(
        (report.released, report.records),
        (1, 1),
        "300 was dropped, 304 kept"
    );
    assert_eq!(records[0].source, Some([10, 0, 0, 48].into()));
    assert_eq!(decoder.pending_sets(), 2);
}

#[test]
fn parked_sets_expire_after_the_timeout() {
    let mut decoder = FlowDecoder::new(FlowLimits::default());
    let at = |nanos| Timestamp::from_nanos(nanos);
    let data = |n: u8| v9_packet(1, 0, 1, &[set(300, &[10, 0, 0, n])]);
    decode_at(&mut decoder, exporter(), at(0), &data(1));
    decode_at(&mut decoder, exporter(), at(3 * SECOND), &data(2));
    assert_eq!(
        decoder.expire(at(5 * SECOND)),
        0,
        "exactly the timeout is not older"
    );
    assert_eq!(decoder.expire(at(5 * SECOND + 1)), 1);
    assert_eq!(decoder.pending_sets(), 1);
    let template = v9_packet(1, 0, 1, &[set(0, &v9_template(300, &[(8, 4)]))]);
    let (report, records) = decode_at(&mut decoder, exporter(), at(6 * SECOND), &template);
    assert_eq!(report.released, 1);
    assert_eq!(records[0].source, Some([10, 0, 0, 2].into()));
    assert_eq!(decoder.expire(at(100 * SECOND)), 0);
}

// ---- Property test ----

const PROPERTY_LIMITS: FlowLimits = FlowLimits {
    max_exporters: 3,
    max_templates_per_exporter: 4,
    max_fields_per_template: 16,
    max_template_fields: 100,
    max_pending_bytes: 2_048,
    pending_timeout_nanos: 1_000,
};

/// Valid datagrams of every kind, for the mutations to start from.
fn seed_datagrams() -> Vec<Vec<u8>> {
    let softflowd_data = set(1024, &[softflowd_record(1), softflowd_record(2)].concat());
    vec![
        v5_packet(
            3,
            100_000,
            0x4000 | 10,
            &[V5Flow::example(1), V5Flow::example(2), V5Flow::example(3)],
        ),
        v9_packet(
            3,
            10_000,
            1,
            &[
                set(0, &v9_template(1024, &SOFTFLOWD_FIELDS)),
                softflowd_data.clone(),
            ],
        ),
        v9_packet(1, 10_000, 1, &[softflowd_data]),
        v9_packet(
            2,
            10_000,
            1,
            &[
                set(1, &v9_options_template(257, &[(1, 4)], &[(34, 4), (35, 1)])),
                set(257, &[0, 0, 0, 1, 0, 0, 0, 100, 2, 0, 0, 0]),
            ],
        ),
        ipfix_message(
            1,
            &[
                set(
                    2,
                    &ipfix_template(
                        256,
                        &[
                            ie(8, 4),
                            ie(82, 65_535),
                            enterprise_ie(9, 5, 2),
                            ie(160, 8),
                            ie(22, 4),
                        ],
                    ),
                ),
                set(
                    256,
                    &concat(&[
                        &[10, 0, 0, 1],
                        &[3],
                        b"abc",
                        &[0, 1],
                        &[0; 8],
                        &[0, 0, 0, 5],
                    ]),
                ),
                set(3, &ipfix_options_template(300, 1, &[ie(149, 4), ie(34, 4)])),
                set(300, &[0, 0, 0, 1, 0, 0, 0, 10]),
            ],
        ),
        ipfix_message(
            1,
            &[set(
                256,
                &[
                    10, 0, 0, 2, 255, 0, 1, b'x', 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                ],
            )],
        ),
        ipfix_message(
            1,
            &[
                set(2, &ipfix_template(2, &[])),
                set(3, &ipfix_template(300, &[])),
            ],
        ),
    ]
}

#[test]
fn seed_datagrams_decode_whole() {
    let mut decoder = FlowDecoder::new(FlowLimits::default());
    let mut total = FlowReport::default();
    for seed in seed_datagrams() {
        let (report, _) = decode(&mut decoder, &seed);
        total.records += report.records;
        total.option_records += report.option_records;
        total.withdrawn += report.withdrawn;
        total.malformed_sets += report.malformed_sets;
        total.templates_refused += report.templates_refused;
    }
    assert_eq!(
        (total.records, total.option_records, total.withdrawn),
        (9, 2, 2)
    );
    assert_eq!((total.malformed_sets, total.templates_refused), (0, 0));
}

#[derive(Clone, Debug)]
enum Datagram {
    Random(Vec<u8>),
    /// Random bytes under a forced version.
    Versioned(u16, Vec<u8>),
    /// A seed with some bytes overwritten, then cut.
    Mutated {
        seed: usize,
        writes: Vec<(usize, u8)>,
        keep_bytes: usize,
    },
}

impl Datagram {
    fn bytes(&self, seeds: &[Vec<u8>]) -> Vec<u8> {
        match self {
            Datagram::Random(bytes) => bytes.clone(),
            Datagram::Versioned(version, rest) => concat(&[&version.to_be_bytes(), rest]),
            Datagram::Mutated {
                seed,
                writes,
                keep_bytes,
            } => {
                let mut bytes = seeds[seed % seeds.len()].clone();
                for (index, byte) in writes {
                    let length = bytes.len();
                    bytes[index % length] = *byte;
                }
                bytes.truncate(*keep_bytes);
                bytes
            }
        }
    }
}

fn datagram_strategy() -> impl Strategy<Value = Datagram> {
    prop_oneof![
        1 => prop::collection::vec(any::<u8>(), 0..400).prop_map(Datagram::Random),
        2 => (prop::sample::select(vec![5u16, 9, 10]), prop::collection::vec(any::<u8>(), 0..400))
            .prop_map(|(version, rest)| Datagram::Versioned(version, rest)),
        6 => (
            any::<usize>(),
            prop::collection::vec((any::<usize>(), any::<u8>()), 0..4),
            0usize..300,
        )
            .prop_map(|(seed, writes, keep_bytes)| Datagram::Mutated {
                seed,
                writes,
                keep_bytes,
            }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_datagrams_decode_without_panic_within_the_limits(
        datagrams in prop::collection::vec((datagram_strategy(), 1u16..6), 1..16),
    ) {
        let seeds = seed_datagrams();
        let mut decoder = FlowDecoder::new(PROPERTY_LIMITS);
        for (index, (datagram, port)) in datagrams.iter().enumerate() {
            let bytes = datagram.bytes(&seeds);
            let received = Timestamp::from_nanos(index as i64 * 400);
            let mut out = Vec::new();
            match decoder.decode(&bytes, from_port(*port), received, &mut out) {
                Ok(report) => {
                    prop_assert_eq!(report.records + report.option_records, out.len());
                    prop_assert!(report.released <= out.len());
                    for record in &out {
                        for (_, place) in record.other.iter().chain(&record.scope) {
                            let end = place.offset as usize + place.length as usize;
                            prop_assert!(end <= record.raw.len());
                        }
                        let event = record.to_event(received);
                        prop_assert_eq!(&event.original, &record.raw);
                    }
                }
                Err(error) => {
                    prop_assert!(out.is_empty());
                    prop_assert!(!error.kind().is_empty());
                }
            }
            prop_assert!(decoder.exporter_count() <= PROPERTY_LIMITS.max_exporters);
            prop_assert!(
                decoder.template_count()
                    <= PROPERTY_LIMITS.max_exporters * PROPERTY_LIMITS.max_templates_per_exporter
            );
            prop_assert!(decoder.pending_bytes() <= PROPERTY_LIMITS.max_pending_bytes);
            if index % 3 == 2 {
                decoder.expire(received);
            }
        }
    }

}
