use std::net::SocketAddr;
use std::sync::Arc;

use vigil_codec::syslog::{decode_syslog, DecodeContext};
use vigil_config::SourceMap;
use vigil_event::{Event, EventFlags, Timestamp};

use crate::UnmappedSources;

/// Decodes a frame and stamps it with where it came from: the sender's information system,
/// tenant, level and time zone, the listener, the receiving node.
pub struct Stamper {
    source_map: SourceMap,
    observer: Arc<str>,
    unmapped: Arc<UnmappedSources>,
}

impl Stamper {
    pub fn new(source_map: SourceMap, observer: &str, unmapped: Arc<UnmappedSources>) -> Self {
        Self {
            source_map,
            observer: Arc::from(observer),
            unmapped,
        }
    }

    pub fn unmapped(&self) -> &Arc<UnmappedSources> {
        &self.unmapped
    }

    /// One syslog frame to one event. Never fails: what does not parse is kept whole.
    pub fn syslog_event(
        &self,
        frame: &[u8],
        truncated: bool,
        peer: SocketAddr,
        listener: &Arc<str>,
        received: Timestamp,
    ) -> Event {
        let by_address = self.source_map.match_address(peer.ip());
        let timezone = by_address.unwrap_or(self.source_map.unmapped()).timezone;
        let mut event = decode_syslog(
            frame,
            &DecodeContext {
                received,
                default_tz: timezone,
            },
        );
        let by_host = match by_address {
            Some(_) => None,
            None => event
                .host_name
                .as_deref()
                .and_then(|host| self.source_map.match_host(host)),
        };
        if let Some(matched) = by_host {
            // A zone-less (RFC 3164) time was read in the default zone: read it again in the
            // zone of the system the host name belongs to.
            let zone_less =
                event.syslog_version.is_none() && !event.flags.contains(EventFlags::UNPARSED);
            if zone_less && matched.timezone != timezone {
                let flags = event.flags;
                event = decode_syslog(
                    frame,
                    &DecodeContext {
                        received,
                        default_tz: matched.timezone,
                    },
                );
                event.flags.insert(flags);
            }
        }
        match by_address.or(by_host) {
            Some(matched) => {
                event.tenant = matched.tenant.clone();
                event.level = matched.level;
            }
            None => {
                let unmapped = self.source_map.unmapped();
                event.tenant = unmapped.tenant.clone();
                event.level = unmapped.level;
                event.flags.insert(EventFlags::UNMAPPED_SOURCE);
                self.unmapped
                    .record(peer.ip(), event.host_name.as_deref(), received);
            }
        }
        if truncated {
            event.flags.insert(EventFlags::TRUNCATED);
        }
        event.source = Some(peer);
        event.listener = listener.clone();
        event.observer = Some(self.observer.clone());
        event
    }
}
