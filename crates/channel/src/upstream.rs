//! Senders to receivers that do not speak the channel: an HTTPS endpoint taking JSON batches,
//! and a syslog-over-TLS receiver (RFC 5425) taking RFC 5424 lines with a JSON body. They drain
//! the same outbox as [`crate::link::run_sender`], with the same retry and backoff:
//!
//! - **HTTPS**: one POST per batch, `content-encoding: zstd` or `gzip`, bearer token and/or a
//!   client certificate. A 2xx acknowledges the batch; anything else is retried (nothing is
//!   dropped). Each request carries `x-vigil-stream`, `x-vigil-seq` and an `idempotency-key`,
//!   and each event its `event.id`, for the receiver to deduplicate a resend.
//! - **syslog/TLS** has no acknowledgement: a batch counts as delivered once written and
//!   flushed. After a broken connection the batch in flight is sent again, so the receiver may
//!   see it twice (at least once; deduplicate by `event.id` in the JSON body).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use tokio::io::AsyncWriteExt;
use vigil_event::Event;
use vigil_pipeline::ShutdownSignal;

use crate::link::{keep_sessions, ChannelError, Outgoing};
use crate::{decode_batch, BatchLimits};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ContentEncoding {
    Zstd,
    Gzip,
}

/// Where and how the HTTPS sender posts.
#[derive(Clone)]
pub struct HttpOptions {
    pub addresses: Vec<SocketAddr>,
    /// The `host` header and the name the server's certificate must carry.
    pub host: String,
    pub server_name: rustls::pki_types::ServerName<'static>,
    pub path: String,
    /// With a client certificate for mutual TLS, or without.
    pub tls: Arc<rustls::ClientConfig>,
    pub bearer_token: Option<String>,
    pub encoding: ContentEncoding,
    pub node: String,
    pub timeout: Duration,
    pub backoff_min: Duration,
    pub backoff_max: Duration,
}

/// Where the syslog sender writes.
#[derive(Clone)]
pub struct SyslogOptions {
    pub addresses: Vec<SocketAddr>,
    pub server_name: rustls::pki_types::ServerName<'static>,
    pub tls: Arc<rustls::ClientConfig>,
    pub node: String,
    pub timeout: Duration,
    pub backoff_min: Duration,
    pub backoff_max: Duration,
}

/// The next unacknowledged batch, decoded, waiting for one to be appended; `None` on shutdown.
async fn next_batch(
    outgoing: &Outgoing,
    shutdown: &mut ShutdownSignal,
) -> Result<Option<(u64, Vec<Event>)>, ChannelError> {
    loop {
        if let Some(batch) = read_next(outgoing)? {
            return Ok(Some(batch));
        }
        tokio::select! {
            () = outgoing.appended.notified() => {}
            () = shutdown.wait() => return Ok(None),
        }
    }
}

/// The next unacknowledged batch, decoded; `None` when the outbox is drained.
fn read_next(outgoing: &Outgoing) -> Result<Option<(u64, Vec<Event>)>, ChannelError> {
    let outbox = outgoing.lock();
    let acked = outbox.acked();
    let Some(batch) = outbox.read_after(acked, 1)?.into_iter().next() else {
        return Ok(None);
    };
    drop(outbox);
    let events =
        decode_batch(&batch, &BatchLimits::default()).map_err(|error| ChannelError::Batch {
            seq: batch.seq,
            error,
        })?;
    Ok(Some((batch.seq, events)))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// The JSON body of one batch.
fn json_batch(node: &str, stream: &[u8; 16], seq: u64, events: &[Event]) -> Vec<u8> {
    let body = serde_json::json!({
        "node": node,
        "stream": hex(stream),
        "seq": seq,
        "events": events.iter().map(Event::to_json).collect::<Vec<_>>(),
    });
    body.to_string().into_bytes()
}

fn compress(body: &[u8], encoding: ContentEncoding) -> std::io::Result<Vec<u8>> {
    match encoding {
        ContentEncoding::Zstd => zstd::bulk::compress(body, 3),
        ContentEncoding::Gzip => {
            use std::io::Write;
            let mut encoder =
                flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            encoder.write_all(body)?;
            encoder.finish()
        }
    }
}

async fn connect_tls(
    addresses: &[SocketAddr],
    attempt: usize,
    server_name: &rustls::pki_types::ServerName<'static>,
    tls: &Arc<rustls::ClientConfig>,
    timeout: Duration,
) -> Result<tokio_rustls::client::TlsStream<tokio::net::TcpStream>, ChannelError> {
    let Some(address) = addresses.get(attempt % addresses.len().max(1)) else {
        return Err(ChannelError::Protocol("no address to send to".into()));
    };
    let tcp = tokio::time::timeout(timeout, tokio::net::TcpStream::connect(address))
        .await
        .map_err(|_| ChannelError::Timeout("connect"))??;
    tcp.set_nodelay(true)?;
    let connector = tokio_rustls::TlsConnector::from(tls.clone());
    Ok(
        tokio::time::timeout(timeout, connector.connect(server_name.clone(), tcp))
            .await
            .map_err(|_| ChannelError::Timeout("TLS handshake"))??,
    )
}

/// Posts the outbox's batches to an HTTPS endpoint until `shutdown`.
pub async fn run_http_sender(
    outgoing: Arc<Outgoing>,
    options: HttpOptions,
    shutdown: ShutdownSignal,
) {
    let (outgoing, options) = (&*outgoing, &options);
    let backoff = (options.backoff_min, options.backoff_max);
    keep_sessions(
        outgoing,
        &options.host,
        backoff,
        shutdown,
        |attempt, shutdown, delivered| {
            http_batches(outgoing, options, attempt, shutdown, delivered)
        },
    )
    .await;
}

async fn http_batches(
    outgoing: &Outgoing,
    options: &HttpOptions,
    attempt: usize,
    mut shutdown: ShutdownSignal,
    delivered: Arc<AtomicBool>,
) -> Result<(), ChannelError> {
    let stream = connect_tls(
        &options.addresses,
        attempt,
        &options.server_name,
        &options.tls,
        options.timeout,
    )
    .await?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|error| ChannelError::Protocol(format!("HTTP handshake: {error}")))?;
    let driver = tokio::spawn(connection);
    let _stop_driver = AbortOnDrop(driver);
    outgoing.metrics.connected.set(1);
    let stream_id = outgoing.lock().stream();
    let encoding = match options.encoding {
        ContentEncoding::Zstd => "zstd",
        ContentEncoding::Gzip => "gzip",
    };
    while let Some((seq, events)) = next_batch(outgoing, &mut shutdown).await? {
        let body = compress(
            &json_batch(&options.node, &stream_id, seq, &events),
            options.encoding,
        )?;
        let mut request = hyper::Request::post(options.path.as_str())
            .header(hyper::header::HOST, options.host.as_str())
            .header(hyper::header::CONTENT_TYPE, "application/json")
            .header(hyper::header::CONTENT_ENCODING, encoding)
            .header("x-vigil-stream", hex(&stream_id))
            .header("x-vigil-seq", seq.to_string())
            .header("idempotency-key", format!("{}-{seq}", hex(&stream_id)));
        if let Some(token) = &options.bearer_token {
            request = request.header(hyper::header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let request = request
            .body(Full::new(Bytes::from(body.clone())))
            .map_err(|error| ChannelError::Protocol(error.to_string()))?;
        outgoing.count_sent(seq, body.len());
        let response = tokio::time::timeout(options.timeout, sender.send_request(request))
            .await
            .map_err(|_| ChannelError::Timeout("HTTP response"))?
            .map_err(|error| ChannelError::Protocol(format!("HTTP: {error}")))?;
        let status = response.status();
        // Drain the body so the connection can carry the next request.
        let _ = tokio::time::timeout(options.timeout, response.into_body().collect()).await;
        if !status.is_success() {
            return Err(ChannelError::Refused(format!("HTTP status {status}")));
        }
        outgoing.count_acked(events.len() as u64);
        outgoing.ack(seq)?;
        delivered.store(true, Ordering::Relaxed);
    }
    Ok(())
}

struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// One event as an RFC 5424 line whose message is the event's JSON, octet-counted (RFC 6587).
fn syslog_frame(node: &str, event: &Event) -> Vec<u8> {
    let facility = event.facility.unwrap_or(1);
    let severity = event.severity.unwrap_or(6);
    let priority = u16::from(facility) * 8 + u16::from(severity);
    let host = event.host_name.as_deref().unwrap_or(node);
    let app = event.process_name.as_deref().unwrap_or("vigil");
    let clean = |text: &str| -> String {
        let kept: String = text
            .chars()
            .filter(|c| c.is_ascii_graphic())
            .take(48)
            .collect();
        if kept.is_empty() {
            "-".into()
        } else {
            kept
        }
    };
    let line = format!(
        "<{priority}>1 {} {} {} - vigil - {}",
        event.timestamp,
        clean(host),
        clean(app),
        event.to_json()
    );
    let mut frame = format!("{} ", line.len()).into_bytes();
    frame.extend_from_slice(line.as_bytes());
    frame
}

/// Writes the outbox's batches as syslog over TLS until `shutdown`.
pub async fn run_syslog_sender(
    outgoing: Arc<Outgoing>,
    options: SyslogOptions,
    shutdown: ShutdownSignal,
) {
    let (outgoing, options) = (&*outgoing, &options);
    let backoff = (options.backoff_min, options.backoff_max);
    keep_sessions(
        outgoing,
        "syslog/TLS",
        backoff,
        shutdown,
        |attempt, shutdown, delivered| {
            syslog_batches(outgoing, options, attempt, shutdown, delivered)
        },
    )
    .await;
}

async fn syslog_batches(
    outgoing: &Outgoing,
    options: &SyslogOptions,
    attempt: usize,
    mut shutdown: ShutdownSignal,
    delivered: Arc<AtomicBool>,
) -> Result<(), ChannelError> {
    let mut stream = connect_tls(
        &options.addresses,
        attempt,
        &options.server_name,
        &options.tls,
        options.timeout,
    )
    .await?;
    outgoing.metrics.connected.set(1);
    while let Some((seq, events)) = next_batch(outgoing, &mut shutdown).await? {
        let mut bytes = Vec::new();
        for event in &events {
            bytes.extend_from_slice(&syslog_frame(&options.node, event));
        }
        outgoing.count_sent(seq, bytes.len());
        tokio::time::timeout(options.timeout, async {
            stream.write_all(&bytes).await?;
            stream.flush().await
        })
        .await
        .map_err(|_| ChannelError::Timeout("syslog write"))??;
        outgoing.count_acked(events.len() as u64);
        outgoing.ack(seq)?;
        delivered.store(true, Ordering::Relaxed);
    }
    let _ = stream.shutdown().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_syslog_frame_is_octet_counted_rfc5424_with_a_json_body() {
        let mut event = Event::new(vigil_event::Timestamp::now(), b"original".to_vec());
        event.message = "login failed".into();
        event.host_name = Some("fw 1".into());
        event.severity = Some(3);
        event.facility = Some(4);
        let frame = String::from_utf8(syslog_frame("soc", &event)).expect("utf-8");
        let (count, line) = frame.split_once(' ').expect("count");
        assert_eq!(count.parse::<usize>().expect("number"), line.len());
        assert!(line.starts_with("<35>1 "), "{line}");
        assert!(line.contains(" fw1 vigil - vigil - {"), "{line}");
        let json: serde_json::Value =
            serde_json::from_str(&line[line.find('{').expect("json")..]).expect("JSON body");
        assert_eq!(json["message"], "login failed");
        assert_eq!(json["event.id"], event.id.to_string());
    }

    #[test]
    fn batches_compress_as_declared() {
        let body = json_batch("soc", &[1; 16], 7, &[]);
        let zstd = compress(&body, ContentEncoding::Zstd).expect("zstd");
        assert_eq!(zstd::decode_all(&zstd[..]).expect("unzstd"), body);
        let gzip = compress(&body, ContentEncoding::Gzip).expect("gzip");
        let mut plain = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&gzip[..]), &mut plain)
            .expect("gunzip");
        assert_eq!(plain, body);
    }
}
