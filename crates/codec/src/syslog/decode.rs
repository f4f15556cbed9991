//! One syslog frame to one [`Event`]: RFC 5424 or RFC 3164, parsed leniently by `syslog_loose`.
//!
//! Never fails: a frame that is neither is kept whole as `message` and flagged
//! [`EventFlags::UNPARSED`]; bytes that are not UTF-8 are decoded lossily and flagged
//! [`EventFlags::INVALID_UTF8`]. `event.original` is always the exact frame.

use std::borrow::Cow;
use std::net::IpAddr;

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, Offset, Utc};
use syslog_loose::{Message, ProcId, Protocol, Variant};
use vigil_event::{Event, EventFlags, StructuredElement, Timestamp};

/// What the decoder needs to know besides the bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DecodeContext {
    /// When the frame was received: the event time when the message has none, and the anchor
    /// for the year of RFC 3164 dates.
    pub received: Timestamp,
    /// The zone of timestamps that carry none (RFC 3164), from the source's configuration.
    pub default_tz: FixedOffset,
}

impl DecodeContext {
    /// A context whose zone-less timestamps are UTC.
    pub fn utc(received: Timestamp) -> Self {
        Self {
            received,
            default_tz: Utc.fix(),
        }
    }
}

/// Decodes one frame (without its framing). See the module docs.
pub fn decode_syslog(frame: &[u8], context: &DecodeContext) -> Event {
    let mut event = Event::new(context.received, frame.to_vec());
    let text = match std::str::from_utf8(frame) {
        Ok(text) => Cow::Borrowed(text),
        Err(_) => {
            event.flags.insert(EventFlags::INVALID_UTF8);
            String::from_utf8_lossy(frame)
        }
    };
    let received_wall_clock = wall_clock(context.received, context.default_tz);
    let message = syslog_loose::parse_message_with_year_tz(
        &text,
        move |(month, day, _hour, _minute, _second)| infer_year(received_wall_clock, month, day),
        Some(context.default_tz),
        variant_for(&text),
    );
    if is_fallback(&message) {
        event.flags.insert(EventFlags::UNPARSED);
        event.message = text.into_owned();
        return event;
    }
    fill_event(&mut event, &message);
    event
}

/// The year of an RFC 3164 date (which has none), given when it was received: of the receive
/// year and the years either side, the one that puts the date closest to the receive date. So a
/// message of Dec 31 received on Jan 1 is from last year, and one of Jan 1 received on Dec 31 (a
/// sender's clock running ahead) is from next year. An impossible date gets the receive year.
pub fn infer_year(received: DateTime<Utc>, month: u32, day: u32) -> i32 {
    let received_year = received.year();
    let received_date = received.date_naive();
    let mut best_year = received_year;
    let mut best_distance_days = i64::MAX;
    // The receive year first, so it wins a tie.
    for year in [received_year, received_year - 1, received_year + 1] {
        let Some(date) = NaiveDate::from_ymd_opt(year, month, day) else {
            continue;
        };
        let distance_days = date.signed_duration_since(received_date).num_days().abs();
        if distance_days < best_distance_days {
            best_year = year;
            best_distance_days = distance_days;
        }
    }
    best_year
}

/// `Variant::Either` tries RFC 5424 first; skip that when it cannot match, which is most RFC 3164
/// lines. RFC 5424 needs a version digit right after the (optional) `<PRI>`.
fn variant_for(text: &str) -> Variant {
    let trimmed = text.trim_start().as_bytes();
    let may_be_rfc5424 = match trimmed.first() {
        Some(b'<') => {
            let pri_digits = trimmed[1..]
                .iter()
                .take_while(|byte| byte.is_ascii_digit())
                .count();
            pri_digits > 0
                && trimmed.get(1 + pri_digits) == Some(&b'>')
                && trimmed
                    .get(2 + pri_digits)
                    .is_some_and(|byte| byte.is_ascii_digit())
        }
        Some(first) => first.is_ascii_digit(),
        None => false,
    };
    if may_be_rfc5424 {
        Variant::Either
    } else {
        Variant::RFC3164
    }
}

/// The receive time as the sender's wall clock reads it, labelled UTC, so that the year of a
/// zone-less date is judged against the date the sender saw.
fn wall_clock(received: Timestamp, zone: FixedOffset) -> DateTime<Utc> {
    received
        .to_datetime()
        .with_timezone(&zone)
        .naive_local()
        .and_utc()
}

/// `syslog_loose` returns the whole input as an RFC 3164 message with nothing else when neither
/// grammar matched.
fn is_fallback(message: &Message<&str>) -> bool {
    message.protocol == Protocol::RFC3164
        && message.facility.is_none()
        && message.severity.is_none()
        && message.timestamp.is_none()
        && message.hostname.is_none()
}

fn fill_event(event: &mut Event, message: &Message<&str>) {
    if let Some(timestamp) = message.timestamp {
        event.timestamp = Timestamp::from_datetime(timestamp);
    }
    if let Some(hostname) = message.hostname {
        event.host_ip = hostname.parse::<IpAddr>().ok();
        event.host_name = Some(hostname.to_owned());
    }
    event.facility = message.facility.map(|facility| facility as u8);
    event.severity = message.severity.map(|severity| severity as u8);
    if let Protocol::RFC5424(version) = message.protocol {
        event.syslog_version = Some(version);
    }
    event.process_name = message.appname.map(str::to_owned);
    match &message.procid {
        Some(ProcId::PID(pid)) => event.process_pid = Some(i64::from(*pid)),
        // syslog_loose reads only i32 pids; a larger number is still a pid.
        Some(ProcId::Name(name)) => match name.parse::<i64>() {
            Ok(pid) => event.process_pid = Some(pid),
            Err(_) => event.procid = Some((*name).to_owned()),
        },
        None => {}
    }
    event.msgid = message.msgid.map(str::to_owned);
    event.structured_data = message
        .structured_data
        .iter()
        .map(|element| StructuredElement {
            id: element.id.to_owned(),
            // `params()` resolves the escapes (\" \\ \]) that syslog_loose leaves in place.
            params: element
                .params()
                .map(|(name, value)| ((*name).to_owned(), value))
                .collect(),
        })
        .collect();
    event.message = message.msg.to_owned();
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn utc(year: i32, month: u32, day: u32, hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(year, month, day, hour, 0, 0)
            .single()
            .expect("valid test date")
    }

    fn context_at(received: DateTime<Utc>, offset_secs: i32) -> DecodeContext {
        DecodeContext {
            received: Timestamp::from_datetime(received),
            default_tz: FixedOffset::east_opt(offset_secs).expect("valid offset"),
        }
    }

    fn decode(line: &str) -> Event {
        decode_syslog(line.as_bytes(), &context_at(utc(2025, 6, 15, 12), 0))
    }

    #[test]
    fn decode_rfc3164_with_pid() {
        let event = decode("<34>Oct 11 22:14:15 mymachine su[230]: 'su root' failed for lonvick");
        assert_eq!(event.facility, Some(4));
        assert_eq!(event.severity, Some(2));
        assert_eq!(event.host_name.as_deref(), Some("mymachine"));
        assert_eq!(event.process_name.as_deref(), Some("su"));
        assert_eq!(event.process_pid, Some(230));
        assert_eq!(event.syslog_version, None);
        assert_eq!(event.message, "'su root' failed for lonvick");
        assert_eq!(event.timestamp.to_string(), "2025-10-11T22:14:15Z");
        assert!(event.flags.is_empty());
    }

    #[test]
    fn decode_rfc3164_without_pid_and_with_ip_host() {
        let event = decode("<13>Feb  5 17:32:18 10.0.0.99 sshd: Accepted publickey");
        assert_eq!(event.host_name.as_deref(), Some("10.0.0.99"));
        assert_eq!(event.host_ip, Some("10.0.0.99".parse().expect("ip")));
        assert_eq!(event.process_name.as_deref(), Some("sshd"));
        assert_eq!(event.process_pid, None);
        assert_eq!(event.procid, None);
        assert_eq!(event.message, "Accepted publickey");
    }

    #[test]
    fn decode_rfc5424_with_structured_data() {
        let line = r#"<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog ab12 ID47 [exampleSDID@32473 iut="3" eventSource="App\"lication"][origin ip="1.2.3.4"] An application event"#;
        let event = decode(line);
        assert_eq!(event.syslog_version, Some(1));
        assert_eq!(event.facility, Some(20));
        assert_eq!(event.severity, Some(5));
        assert_eq!(event.timestamp.to_string(), "2003-10-11T22:14:15.003Z");
        assert_eq!(event.process_name.as_deref(), Some("evntslog"));
        assert_eq!(event.procid.as_deref(), Some("ab12"));
        assert_eq!(event.msgid.as_deref(), Some("ID47"));
        assert_eq!(event.structured_data.len(), 2);
        assert_eq!(event.structured_data[0].id, "exampleSDID@32473");
        assert_eq!(
            event.structured_data[0].params,
            [
                ("iut".to_owned(), "3".to_owned()),
                ("eventSource".to_owned(), "App\"lication".to_owned())
            ]
        );
        assert_eq!(event.message, "An application event");
        assert_eq!(event.original, line.as_bytes());
    }

    #[test]
    fn decode_rfc5424_nils_leave_fields_empty() {
        let event = decode("<14>1 - - - - - -");
        assert_eq!(event.syslog_version, Some(1));
        assert_eq!(event.facility, Some(1));
        assert_eq!(event.severity, Some(6));
        assert_eq!(event.created, event.timestamp);
        assert_eq!(event.host_name, None);
        assert_eq!(event.process_name, None);
        assert_eq!(event.process_pid, None);
        assert_eq!(event.msgid, None);
        assert!(event.structured_data.is_empty());
        assert_eq!(event.message, "");
        assert!(event.flags.is_empty());
    }

    #[test]
    fn decode_garbage_keeps_the_whole_line_unparsed() {
        let line = "  this is not syslog at all ";
        let event = decode(line);
        assert!(event.flags.contains(EventFlags::UNPARSED));
        assert_eq!(event.message, line);
        assert_eq!(event.facility, None);
        assert_eq!(event.timestamp, event.created);
    }

    #[test]
    fn decode_invalid_utf8_is_lossy_and_original_exact() {
        let frame = b"<13>1 - host app - - - caf\xe9 \xff";
        let event = decode_syslog(frame, &context_at(utc(2025, 6, 15, 12), 0));
        assert!(event.flags.contains(EventFlags::INVALID_UTF8));
        assert!(!event.flags.contains(EventFlags::UNPARSED));
        assert_eq!(event.message, "caf\u{fffd} \u{fffd}");
        assert_eq!(event.original, frame);
    }

    #[test]
    fn decode_nul_bytes_do_not_break_decoding() {
        let event = decode("<13>1 - host app - - - a\0b");
        assert_eq!(event.message, "a\0b");
        let event = decode("\0\0\0");
        assert!(event.flags.contains(EventFlags::UNPARSED));
        assert_eq!(event.original, b"\0\0\0");
    }

    #[test]
    fn decode_empty_frame_is_unparsed() {
        let event = decode("");
        assert!(event.flags.contains(EventFlags::UNPARSED));
        assert_eq!(event.message, "");
    }

    #[test]
    fn decode_dec_31_received_jan_1_is_last_year() {
        let context = context_at(utc(2026, 1, 1, 0), 0);
        let event = decode_syslog(b"<13>Dec 31 23:59:58 host app: x", &context);
        assert_eq!(event.timestamp.to_string(), "2025-12-31T23:59:58Z");
    }

    #[test]
    fn decode_jan_1_received_dec_31_is_next_year() {
        let context = context_at(utc(2025, 12, 31, 23), 0);
        let event = decode_syslog(b"<13>Jan  1 00:00:03 host app: x", &context);
        assert_eq!(event.timestamp.to_string(), "2026-01-01T00:00:03Z");
    }

    #[test]
    fn variant_shortcut_decodes_like_either() {
        let context = context_at(utc(2025, 6, 15, 12), 0);
        let lines = [
            "<13>Jan  2 03:04:05 h t: x",
            "<13>1 - - - - - -",
            "  <13>1 2025-01-01T00:00:00Z h a p m - x",
            "1 - - - - - -",
            "Jan  2 03:04:05 h t: x",
            "<999>1 - - - - - -",
            "<13>x",
            "<>1",
            "<",
            "",
        ];
        for line in lines {
            let either = syslog_loose::parse_message_with_year_tz(
                line,
                |_| 2025,
                Some(context.default_tz),
                Variant::Either,
            );
            let chosen = syslog_loose::parse_message_with_year_tz(
                line,
                |_| 2025,
                Some(context.default_tz),
                variant_for(line),
            );
            assert_eq!(format!("{either:?}"), format!("{chosen:?}"), "{line:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn variant_shortcut_decodes_like_either_on_any_text(
            line in "[ <>0-9a-zA-Z:\\[\\]=\"-]{0,40}",
        ) {
            let tz = Some(Utc.fix());
            let either = syslog_loose::parse_message_with_year_tz(&line, |_| 2025, tz, Variant::Either);
            let chosen = syslog_loose::parse_message_with_year_tz(&line, |_| 2025, tz, variant_for(&line));
            proptest::prop_assert_eq!(format!("{either:?}"), format!("{chosen:?}"));
        }
    }

    #[test]
    fn infer_year_picks_the_closest_year() {
        let received = utc(2025, 6, 15, 12);
        assert_eq!(infer_year(received, 6, 14), 2025);
        assert_eq!(infer_year(received, 12, 1), 2025);
        assert_eq!(infer_year(received, 1, 1), 2025);
        assert_eq!(infer_year(utc(2026, 1, 2, 0), 12, 20), 2025);
        assert_eq!(infer_year(utc(2025, 12, 30, 0), 1, 3), 2026);
        assert_eq!(infer_year(utc(2025, 6, 15, 0), 13, 40), 2025);
    }

    #[test]
    fn decode_uses_default_zone_for_zoneless_dates() {
        // Received 2026-01-01 03:00 UTC: in UTC+05:00 it is already 08:00 on Jan 1 there.
        let context = context_at(utc(2026, 1, 1, 3), 5 * 3600);
        let event = decode_syslog(b"<13>Jan  1 07:30:00 host app: x", &context);
        assert_eq!(event.timestamp.to_string(), "2026-01-01T02:30:00Z");
        // In UTC-05:00 it is still Dec 31 there: a Dec 31 date is this (sender's) year.
        let context = context_at(utc(2026, 1, 1, 3), -5 * 3600);
        let event = decode_syslog(b"<13>Dec 31 22:00:00 host app: x", &context);
        assert_eq!(event.timestamp.to_string(), "2026-01-01T03:00:00Z");
    }

    #[test]
    fn decode_keeps_explicit_zone_over_default() {
        let context = context_at(utc(2025, 6, 15, 12), 5 * 3600);
        let event = decode_syslog(b"<13>1 2025-06-15T10:00:00+02:00 h a - - - x", &context);
        assert_eq!(event.timestamp.to_string(), "2025-06-15T08:00:00Z");
    }
}
