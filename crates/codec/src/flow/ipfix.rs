//! IPFIX ([RFC 7011](https://www.rfc-editor.org/rfc/rfc7011)): the 16-byte message header and
//! the template and options template records, withdrawals included. Sets are walked, and data
//! sets decoded, by the code shared with NetFlow v9 in `decoder.rs`.
//!
//! The message is the header's length: a datagram shorter than that is an error, bytes after it
//! are ignored.

use std::net::SocketAddr;

use super::data::MessageHeader;
use super::record::{Element, FlowError, FlowKind};
use super::template::{FieldSpec, Template, TemplateRecord};
use super::wire::{self, be_u16, be_u32, Reader};

pub(crate) const HEADER_BYTES: usize = 16;
pub(crate) const TEMPLATE_SET_ID: u16 = 2;
pub(crate) const OPTIONS_TEMPLATE_SET_ID: u16 = 3;
const FIRST_DATA_TEMPLATE_ID: u16 = 256;
/// The enterprise bit of an element id: a 4-byte enterprise number follows the length.
const ENTERPRISE_BIT: u16 = 0x8000;
/// The smallest field specifier: element id and length.
const FIELD_SPEC_BYTES: usize = 4;

/// The header, and the sets after it up to the message length.
pub(crate) fn parse_header(
    datagram: &[u8],
    exporter: SocketAddr,
) -> Result<(MessageHeader, &[u8]), FlowError> {
    let (Some(declared_bytes), Some(export_secs), Some(domain)) = (
        be_u16(datagram, 2),
        be_u32(datagram, 4),
        be_u32(datagram, 12),
    ) else {
        return Err(FlowError::Truncated {
            needed_bytes: HEADER_BYTES,
            received_bytes: datagram.len(),
        });
    };
    let declared_bytes = usize::from(declared_bytes);
    if declared_bytes < HEADER_BYTES {
        return Err(FlowError::InvalidLength { declared_bytes });
    }
    let Some(sets) = datagram.get(HEADER_BYTES..declared_bytes) else {
        return Err(FlowError::Truncated {
            needed_bytes: declared_bytes,
            received_bytes: datagram.len(),
        });
    };
    let header = MessageHeader {
        kind: FlowKind::Ipfix,
        exporter,
        domain,
        export_time: wire::from_header_seconds(export_secs),
        sys_uptime_ms: 0,
    };
    Ok((header, sets))
}

/// One template record from the body of set `set_id` (2: templates, 3: options templates).
pub(crate) fn parse_template_record(
    reader: &mut Reader<'_>,
    set_id: u16,
    max_fields: usize,
) -> TemplateRecord {
    let options = set_id == OPTIONS_TEMPLATE_SET_ID;
    let (Some(template_id), Some(field_count)) = (reader.u16(), reader.u16()) else {
        return TemplateRecord::Malformed;
    };
    // RFC 7011 §8.1: a record without fields withdraws its template, or with the set's own id
    // as template id, all of the scope's templates of that set's kind.
    if field_count == 0 {
        return match template_id {
            id if id == set_id => TemplateRecord::WithdrawAll,
            0 => TemplateRecord::Padding,
            id if id >= FIRST_DATA_TEMPLATE_ID => TemplateRecord::Withdraw { template_id: id },
            _ => TemplateRecord::Refused,
        };
    }
    let scope_fields = if options {
        match reader.u16() {
            Some(count) => usize::from(count),
            None => return TemplateRecord::Malformed,
        }
    } else {
        0
    };
    let field_count = usize::from(field_count);
    if field_count > max_fields {
        for _ in 0..field_count {
            if read_field_spec(reader).is_none() {
                // Whatever follows cannot be found: skip the rest of the set.
                reader.skip_up_to(usize::MAX);
                break;
            }
        }
        return TemplateRecord::Refused;
    }
    let mut specs = Vec::with_capacity(field_count.min(reader.remaining() / FIELD_SPEC_BYTES));
    for _ in 0..field_count {
        let Some(spec) = read_field_spec(reader) else {
            return TemplateRecord::Malformed;
        };
        specs.push(spec);
    }
    if template_id < FIRST_DATA_TEMPLATE_ID
        || (options && (scope_fields == 0 || scope_fields > field_count))
    {
        return TemplateRecord::Refused;
    }
    match Template::new(FlowKind::Ipfix, &specs, scope_fields, options) {
        Some(template) => TemplateRecord::Define {
            template_id,
            template,
        },
        None => TemplateRecord::Refused,
    }
}

fn read_field_spec(reader: &mut Reader<'_>) -> Option<FieldSpec> {
    let raw_id = reader.u16()?;
    let length = reader.u16()?;
    let enterprise = if raw_id & ENTERPRISE_BIT != 0 {
        reader.u32()?
    } else {
        0
    };
    Some(FieldSpec {
        element: Element {
            enterprise,
            id: raw_id & !ENTERPRISE_BIT,
        },
        length,
    })
}

#[cfg(test)]
mod tests {
    use vigil_event::Timestamp;

    use super::super::record::{FlowRecord, FlowReport};
    use super::super::test_packets::{
        concat, enterprise_ie, exporter, ie, ipfix_message, ipfix_options_template, ipfix_template,
        set, Ie, EXPORT_SECS,
    };
    use super::super::{FlowDecoder, FlowLimits};
    use super::*;

    const DOMAIN: u32 = 7;
    const VARIABLE: u16 = 65_535;

    fn decode(decoder: &mut FlowDecoder, message: &[u8]) -> (FlowReport, Vec<FlowRecord>) {
        let mut out = Vec::new();
        let report = decoder
            .decode(message, exporter(), Timestamp::from_nanos(0), &mut out)
            .expect("decodes");
        assert_eq!(report.records + report.option_records, out.len());
        (report, out)
    }

    /// Decodes one data record of `data` under a template of `fields`, in a fresh decoder.
    fn decode_one(fields: &[Ie], data: &[u8]) -> FlowRecord {
        let message = ipfix_message(
            DOMAIN,
            &[set(2, &ipfix_template(256, fields)), set(256, data)],
        );
        let (report, mut records) = decode(&mut FlowDecoder::new(FlowLimits::default()), &message);
        assert_eq!(report.records, 1, "{report:?}");
        records.remove(0)
    }

    fn millis(value: i64) -> Timestamp {
        Timestamp::from_nanos(value * 1_000_000)
    }

    #[test]
    fn ipfix_decodes_a_flow_field_by_field() {
        let fields = [
            ie(27, 16),
            ie(28, 16),
            ie(7, 2),
            ie(11, 2),
            ie(4, 1),
            ie(6, 2),
            ie(5, 1),
            ie(1, 8),
            ie(2, 8),
            ie(152, 8),
            ie(153, 8),
            ie(10, 4),
            ie(14, 4),
            ie(61, 1),
            ie(62, 16),
            ie(16, 4),
            ie(17, 4),
        ];
        let source: std::net::Ipv6Addr = "2001:db8::1".parse().expect("ip");
        let destination: std::net::Ipv6Addr = "2001:db8::2".parse().expect("ip");
        let next_hop: std::net::Ipv6Addr = "fe80::1".parse().expect("ip");
        let data = concat(&[
            &source.octets(),
            &destination.octets(),
            &443u16.to_be_bytes(),
            &51_000u16.to_be_bytes(),
            &[6],
            &0x0012u16.to_be_bytes(),
            &[0x28],
            &9_000u64.to_be_bytes(),
            &12u64.to_be_bytes(),
            &1_764_196_500_250u64.to_be_bytes(),
            &1_764_196_560_750u64.to_be_bytes(),
            &5u32.to_be_bytes(),
            &6u32.to_be_bytes(),
            &[1],
            &next_hop.octets(),
            &64_496u32.to_be_bytes(),
            &4_200_000_000u32.to_be_bytes(),
        ]);
        let record = decode_one(&fields, &data);
        assert_eq!(record.kind, FlowKind::Ipfix);
        assert_eq!(record.domain, DOMAIN);
        assert_eq!(record.template_id, 256);
        assert_eq!(record.export_time, millis(i64::from(EXPORT_SECS) * 1_000));
        assert_eq!(record.source, Some(source.into()));
        assert_eq!(record.destination, Some(destination.into()));
        assert_eq!(record.source_port, Some(443));
        assert_eq!(record.destination_port, Some(51_000));
        assert_eq!(record.protocol, Some(6));
        assert_eq!(record.tcp_flags, Some(0x12));
        assert_eq!(record.tos, Some(0x28));
        assert_eq!(record.bytes, Some(9_000));
        assert_eq!(record.packets, Some(12));
        assert_eq!(record.start, Some(millis(1_764_196_500_250)));
        assert_eq!(record.end, Some(millis(1_764_196_560_750)));
        assert_eq!(record.input_interface, Some(5));
        assert_eq!(record.output_interface, Some(6));
        assert_eq!(record.direction, Some(1));
        assert_eq!(record.next_hop, Some(next_hop.into()));
        assert_eq!(record.source_as, Some(64_496));
        assert_eq!(record.destination_as, Some(4_200_000_000));
        assert!(record.other.is_empty());
        assert_eq!(record.raw, data);
    }

    #[test]
    fn ipfix_variable_length_fields_take_both_length_forms() {
        // sourceIPv4Address, interfaceName (variable), sourceTransportPort.
        let fields = [ie(8, 4), ie(82, VARIABLE), ie(7, 2)];
        let long_name = vec![b'x'; 300];
        let short = concat(&[&[10, 0, 0, 1], &[4], b"eth0", &1_000u16.to_be_bytes()]);
        let long = concat(&[
            &[10, 0, 0, 2],
            &[255],
            &300u16.to_be_bytes(),
            &long_name,
            &2_000u16.to_be_bytes(),
        ]);
        let empty = concat(&[&[10, 0, 0, 3], &[0], &3_000u16.to_be_bytes()]);
        let message = ipfix_message(
            DOMAIN,
            &[
                set(2, &ipfix_template(256, &fields)),
                set(256, &concat(&[&short, &long, &empty])),
            ],
        );
        let (report, records) = decode(&mut FlowDecoder::new(FlowLimits::default()), &message);
        assert_eq!((report.records, report.malformed_sets), (3, 0));
        let ports: Vec<_> = records.iter().map(|record| record.source_port).collect();
        assert_eq!(ports, [Some(1_000), Some(2_000), Some(3_000)]);
        let names: Vec<Vec<(Element, &[u8])>> = records
            .iter()
            .map(|record| record.other_values().collect())
            .collect();
        assert_eq!(names[0], [(Element::iana(82), &b"eth0"[..])]);
        assert_eq!(names[1], [(Element::iana(82), &long_name[..])]);
        assert_eq!(names[2], [(Element::iana(82), &[][..])]);
        assert_eq!(records[0].raw, short);
        assert_eq!(records[1].raw, long);
        assert_eq!(records[2].raw, empty);
    }

    #[test]
    fn ipfix_variable_length_past_the_set_is_malformed_after_the_good_records() {
        let fields = [ie(8, 4), ie(82, VARIABLE)];
        let good = concat(&[&[10, 0, 0, 1], &[2], b"ab"]);
        let overrun = concat(&[&[10, 0, 0, 2], &[200], b"cd"]);
        let message = ipfix_message(
            DOMAIN,
            &[
                set(2, &ipfix_template(256, &fields)),
                set(256, &concat(&[&good, &overrun])),
            ],
        );
        let (report, records) = decode(&mut FlowDecoder::new(FlowLimits::default()), &message);
        assert_eq!((report.records, report.malformed_sets), (1, 1));
        assert_eq!(records[0].source, Some([10, 0, 0, 1].into()));
    }

    #[test]
    fn ipfix_enterprise_elements_keep_their_enterprise() {
        let fields = [
            ie(8, 4),
            enterprise_ie(9, 1_001, 4),
            enterprise_ie(29_305, 5, VARIABLE),
            ie(12, 4),
        ];
        let data = concat(&[
            &[10, 0, 0, 1],
            &77u32.to_be_bytes(),
            &[3],
            b"abc",
            &[10, 0, 0, 2],
        ]);
        let record = decode_one(&fields, &data);
        assert_eq!(record.source, Some([10, 0, 0, 1].into()));
        assert_eq!(record.destination, Some([10, 0, 0, 2].into()));
        let other: Vec<_> = record.other_values().collect();
        assert_eq!(
            other,
            [
                (
                    Element {
                        enterprise: 9,
                        id: 1_001
                    },
                    &77u32.to_be_bytes()[..]
                ),
                (
                    Element {
                        enterprise: 29_305,
                        id: 5
                    },
                    &b"abc"[..]
                ),
            ]
        );
    }

    #[test]
    fn ipfix_enterprise_element_with_an_iana_id_is_not_mapped() {
        // Enterprise 9's element 8 is not sourceIPv4Address.
        let record = decode_one(&[enterprise_ie(9, 8, 4)], &[10, 0, 0, 1]);
        assert_eq!(record.source, None);
        assert_eq!(
            record.other[0].0,
            Element {
                enterprise: 9,
                id: 8
            }
        );
    }

    #[test]
    fn ipfix_withdrawals_remove_one_or_all_of_a_kind() {
        let mut decoder = FlowDecoder::new(FlowLimits::default());
        let learn = ipfix_message(
            DOMAIN,
            &[
                set(
                    2,
                    &concat(&[
                        &ipfix_template(256, &[ie(8, 4)]),
                        &ipfix_template(257, &[ie(12, 4)]),
                    ]),
                ),
                set(3, &ipfix_options_template(258, 1, &[ie(149, 4), ie(34, 4)])),
            ],
        );
        assert_eq!(decode(&mut decoder, &learn).0.templates, 3);
        assert_eq!(decoder.template_count(), 3);

        let withdraw_one = ipfix_message(DOMAIN, &[set(2, &ipfix_template(256, &[]))]);
        assert_eq!(decode(&mut decoder, &withdraw_one).0.withdrawn, 1);
        assert_eq!(decoder.template_count(), 2);
        let data = ipfix_message(DOMAIN, &[set(256, &[10, 0, 0, 1])]);
        assert_eq!(decode(&mut decoder, &data).0.template_misses, 1);

        // Template id 2 in set 2: every (data) template, and only those.
        let withdraw_templates = ipfix_message(DOMAIN, &[set(2, &ipfix_template(2, &[]))]);
        assert_eq!(decode(&mut decoder, &withdraw_templates).0.withdrawn, 1);
        assert_eq!(decoder.template_count(), 1);
        let withdraw_options = ipfix_message(DOMAIN, &[set(3, &ipfix_template(3, &[]))]);
        assert_eq!(decode(&mut decoder, &withdraw_options).0.withdrawn, 1);
        assert_eq!(decoder.template_count(), 0);
    }

    #[test]
    fn ipfix_templates_are_scoped_by_observation_domain() {
        let mut decoder = FlowDecoder::new(FlowLimits::default());
        let template = ipfix_message(DOMAIN, &[set(2, &ipfix_template(256, &[ie(8, 4)]))]);
        decode(&mut decoder, &template);
        let data = |domain| ipfix_message(domain, &[set(256, &[10, 0, 0, 1])]);
        assert_eq!(decode(&mut decoder, &data(DOMAIN + 1)).0.template_misses, 1);
        assert_eq!(decode(&mut decoder, &data(DOMAIN)).0.records, 1);
    }

    #[test]
    fn ipfix_message_length_rules() {
        let mut decoder = FlowDecoder::new(FlowLimits::default());
        let message = ipfix_message(
            DOMAIN,
            &[
                set(2, &ipfix_template(256, &[ie(8, 4)])),
                set(256, &[10, 0, 0, 1]),
            ],
        );
        let mut out = Vec::new();
        let cut = &message[..message.len() - 1];
        let error = decoder
            .decode(cut, exporter(), Timestamp::from_nanos(0), &mut out)
            .expect_err("shorter than its length");
        assert_eq!(
            error,
            FlowError::Truncated {
                needed_bytes: message.len(),
                received_bytes: message.len() - 1
            }
        );
        let mut short_length = message.clone();
        short_length[3] = 15;
        let error = decoder
            .decode(
                &short_length,
                exporter(),
                Timestamp::from_nanos(0),
                &mut out,
            )
            .expect_err("length under the header");
        assert_eq!(error, FlowError::InvalidLength { declared_bytes: 15 });
        assert_eq!(error.kind(), "invalid_length");
        assert!(out.is_empty());
        // Bytes after the message (here: what would be a broken set) are not read.
        let mut trailing = message.clone();
        trailing.extend_from_slice(&[1, 0, 0xff, 0xff, 9]);
        let (report, records) = decode(&mut decoder, &trailing);
        assert_eq!((report.records, report.malformed_sets), (1, 0));
        assert_eq!(records[0].source, Some([10, 0, 0, 1].into()));
    }

    #[test]
    fn ipfix_times_in_every_encoding() {
        let export = i64::from(EXPORT_SECS) * 1_000;
        // flowStartSeconds, flowEndSeconds.
        let data = concat(&[
            &(EXPORT_SECS - 60).to_be_bytes(),
            &EXPORT_SECS.to_be_bytes(),
        ]);
        let record = decode_one(&[ie(150, 4), ie(151, 4)], &data);
        assert_eq!(
            (record.start, record.end),
            (Some(millis(export - 60_000)), Some(millis(export)))
        );

        // flowStartMicroseconds, flowEndNanoseconds: NTP seconds since 1900 and a fraction.
        let ntp_secs = EXPORT_SECS + 2_208_988_800;
        let data = concat(&[
            &ntp_secs.to_be_bytes(),
            &0x4000_0000u32.to_be_bytes(),
            &(ntp_secs + 1).to_be_bytes(),
            &0u32.to_be_bytes(),
        ]);
        let record = decode_one(&[ie(154, 8), ie(157, 8)], &data);
        assert_eq!(record.start, Some(millis(export + 250)));
        assert_eq!(record.end, Some(millis(export + 1_000)));

        // flowStartSysUpTime, flowEndSysUpTime against systemInitTimeMilliseconds after them.
        let init = export - 3_600_000;
        let data = concat(&[
            &1_000u32.to_be_bytes(),
            &2_500u32.to_be_bytes(),
            &(init as u64).to_be_bytes(),
        ]);
        let record = decode_one(&[ie(22, 4), ie(21, 4), ie(160, 8)], &data);
        assert_eq!(record.start, Some(millis(init + 1_000)));
        assert_eq!(record.end, Some(millis(init + 2_500)));
        let other: Vec<Element> = record.other.iter().map(|(element, _)| *element).collect();
        assert_eq!(
            other,
            [Element::iana(22), Element::iana(21), Element::iana(160)],
            "uptimes and init time stay visible"
        );

        // After 60 days up the 32-bit uptime has wrapped: a flow 5 s old is still 5 s old.
        let init = export - 60 * 86_400_000;
        let wrapped = ((60 * 86_400_000 - 5_000) % (1i64 << 32)) as u32;
        let data = concat(&[&wrapped.to_be_bytes(), &(init as u64).to_be_bytes()]);
        let record = decode_one(&[ie(22, 4), ie(160, 8)], &data);
        assert_eq!(record.start, Some(millis(export - 5_000)));

        // Without an init time, uptimes cannot be placed: no times, both kept raw.
        let data = concat(&[&1_000u32.to_be_bytes(), &2_500u32.to_be_bytes()]);
        let record = decode_one(&[ie(22, 4), ie(21, 4)], &data);
        assert_eq!((record.start, record.end), (None, None));
        let other: Vec<Element> = record.other.iter().map(|(element, _)| *element).collect();
        assert_eq!(other, [Element::iana(22), Element::iana(21)]);

        // flowStartDeltaMicroseconds, flowEndDeltaMicroseconds: before the export time.
        let data = concat(&[&5_000_000u32.to_be_bytes(), &250_000u32.to_be_bytes()]);
        let record = decode_one(&[ie(158, 4), ie(159, 4)], &data);
        assert_eq!(record.start, Some(millis(export - 5_000)));
        assert_eq!(record.end, Some(millis(export - 250)));
    }

    #[test]
    fn ipfix_uptimes_count_from_the_init_time_of_the_exporters_options_records() {
        // softflowd's way: systemInitTimeMilliseconds in an options record (scope
        // meteringProcessId), flowStart/EndSysUpTime in the flow records.
        let mut decoder = FlowDecoder::new(FlowLimits::default());
        let flows = set(2, &ipfix_template(1024, &[ie(8, 4), ie(22, 4), ie(21, 4)]));
        let flow_data = || {
            set(
                1024,
                &concat(&[
                    &[10, 0, 0, 1],
                    &1_000u32.to_be_bytes(),
                    &4_000u32.to_be_bytes(),
                ]),
            )
        };
        let (_, records) = decode(&mut decoder, &ipfix_message(DOMAIN, &[flows, flow_data()]));
        assert_eq!(
            (records[0].start, records[0].end),
            (None, None),
            "no init time yet"
        );

        let init = i64::from(EXPORT_SECS) * 1_000 - 60_000;
        let options = set(
            3,
            &ipfix_options_template(256, 1, &[ie(143, 4), ie(160, 8), ie(305, 4)]),
        );
        let options_data = set(
            256,
            &concat(&[&[0, 0, 0, 1], &(init as u64).to_be_bytes(), &[0, 0, 0, 1]]),
        );
        let (report, _) = decode(
            &mut decoder,
            &ipfix_message(DOMAIN, &[options, options_data]),
        );
        assert_eq!(report.option_records, 1);
        let (_, records) = decode(&mut decoder, &ipfix_message(DOMAIN, &[flow_data()]));
        assert_eq!(records[0].start, Some(millis(init + 1_000)));
        assert_eq!(records[0].end, Some(millis(init + 4_000)));
        // Only for that exporter's domain.
        let other_domain = ipfix_message(
            DOMAIN + 1,
            &[
                set(2, &ipfix_template(1024, &[ie(8, 4), ie(22, 4), ie(21, 4)])),
                flow_data(),
            ],
        );
        let (_, records) = decode(&mut decoder, &other_domain);
        assert_eq!(records[0].start, None);
    }

    #[test]
    fn ipfix_options_templates_need_a_valid_scope_count() {
        let mut decoder = FlowDecoder::new(FlowLimits::default());
        let fields = [ie(149, 4), ie(34, 4), ie(305, 4)];
        let message = ipfix_message(
            DOMAIN,
            &[
                set(
                    3,
                    &concat(&[
                        &ipfix_options_template(300, 1, &fields),
                        &ipfix_options_template(301, 0, &fields),
                        &ipfix_options_template(302, 4, &fields),
                    ]),
                ),
                set(
                    300,
                    &concat(&[
                        &DOMAIN.to_be_bytes(),
                        &1_000u32.to_be_bytes(),
                        &[0, 0, 0, 9],
                    ]),
                ),
            ],
        );
        let (report, records) = decode(&mut decoder, &message);
        assert_eq!((report.templates, report.templates_refused), (1, 2));
        assert_eq!((report.option_records, report.records), (1, 0));
        let record = &records[0];
        assert!(record.options);
        assert_eq!(record.sampling_interval, Some(1_000));
        let scope: Vec<_> = record.scope_values().collect();
        assert_eq!(scope, [(Element::iana(149), &DOMAIN.to_be_bytes()[..])]);
        assert_eq!(record.other.len(), 1);
    }
}
