//! The channel end to end on loopback, over TLS 1.3 with mutual authentication: an outbox of
//! batches reaches a receiver exactly once even when the receiver drops the connection in the
//! middle (between delivering a batch and acknowledging it), and a sender without a certificate
//! is refused.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use tokio::net::TcpListener;
use vigil_channel::link::{
    receive, run_sender, BoxFuture, Deliver, Ledger, Outgoing, Peer, Received, ReceiverOptions,
    SenderMetrics, SenderOptions,
};
use vigil_channel::{encode_batch, Outbox, OutboxOptions};
use vigil_event::{Event, Timestamp};
use vigil_pipeline::{Metrics, Shutdown};
use vigil_tls::pki::{self, Validity};

/// Remembers per stream what was delivered; once batch 30 is recorded it cuts the first
/// connection's writes, so that batch is durable at the receiver but its ack is lost.
#[derive(Default)]
struct MemoryLedger {
    acked: Mutex<HashMap<[u8; 16], u64>>,
    cut: Arc<AtomicBool>,
}

impl Ledger for MemoryLedger {
    fn held(&self, stream: &[u8; 16]) -> u64 {
        self.acked.lock().unwrap().get(stream).copied().unwrap_or(0)
    }
}

/// A stream whose writes fail once `cut` is set: the connection dies between a batch being
/// recorded and its ack being written.
struct CutWrites<S> {
    inner: S,
    cut: Arc<AtomicBool>,
}

impl<S: AsyncRead + Unpin> AsyncRead for CutWrites<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buffer: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(context, buffer)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for CutWrites<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
        bytes: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        if self.cut.load(Ordering::SeqCst) {
            return Poll::Ready(Err(std::io::ErrorKind::BrokenPipe.into()));
        }
        Pin::new(&mut self.inner).poll_write(context, bytes)
    }
    fn poll_flush(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(context)
    }
    fn poll_shutdown(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(context)
    }
}

/// Keeps the events and records each batch in the ledger with them, as the archive does.
struct MemoryDeliver {
    messages: Mutex<Vec<String>>,
    batches: AtomicU64,
    ledger: Arc<MemoryLedger>,
}

impl Deliver for MemoryDeliver {
    #[allow(clippy::async_yields_async)]
    fn deliver(&self, peer: &Peer, seq: u64, events: Vec<Event>) -> BoxFuture<BoxFuture<bool>> {
        self.messages
            .lock()
            .unwrap()
            .extend(events.into_iter().map(|event| event.message));
        self.batches.fetch_add(1, Ordering::SeqCst);
        self.ledger.acked.lock().unwrap().insert(peer.stream, seq);
        if seq == 30 {
            self.ledger.cut.store(true, Ordering::SeqCst);
        }
        Box::pin(async {
            let durable: BoxFuture<bool> = Box::pin(async { true });
            durable
        })
    }
}

fn batch_events(batch: usize, count: usize) -> Vec<Event> {
    (0..count)
        .map(|n| {
            let text = format!("batch {batch} event {n}");
            let mut event = Event::new(Timestamp::now(), text.clone().into_bytes());
            event.message = text;
            event
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_batch_arrives_once_across_a_dropped_connection() {
    let dir = tempfile::tempdir().unwrap();
    let pki_dir = dir.path().join("pki");
    let ca = pki::create_ca(&pki_dir, "Test CA", Validity::days(2)).unwrap();
    let server = pki::issue_server(&pki_dir, &["localhost".into()], Validity::days(2)).unwrap();
    let client = pki::issue_client(&pki_dir, "agent-1", Validity::days(2)).unwrap();
    let server_tls = vigil_tls::channel_server_config(&server.cert, &server.key, &ca.cert).unwrap();

    let ledger = Arc::new(MemoryLedger::default());
    let deliver = Arc::new(MemoryDeliver {
        messages: Mutex::default(),
        batches: AtomicU64::default(),
        ledger: ledger.clone(),
    });
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let connections = Arc::new(AtomicU64::new(0));
    let duplicates = Arc::new(AtomicU64::new(0));
    let refused = Arc::new(AtomicU64::new(0));
    {
        let (ledger, deliver) = (ledger.clone(), deliver.clone());
        let (connections, duplicates, refused) =
            (connections.clone(), duplicates.clone(), refused.clone());
        tokio::spawn(async move {
            let acceptor = tokio_rustls::TlsAcceptor::from(server_tls);
            loop {
                let (tcp, _) = listener.accept().await.unwrap();
                let Ok(tls) = acceptor.accept(tcp).await else {
                    refused.fetch_add(1, Ordering::SeqCst);
                    continue;
                };
                let first = connections.fetch_add(1, Ordering::SeqCst) == 0;
                let (ledger, deliver, duplicates) =
                    (ledger.clone(), deliver.clone(), duplicates.clone());
                tokio::spawn(async move {
                    let options = ReceiverOptions::default();
                    if first {
                        let cut = ledger.cut.clone();
                        let stream = CutWrites { inner: tls, cut };
                        let mut received = Received::default();
                        let ended = receive(
                            stream,
                            Vec::new(),
                            &options,
                            ledger.as_ref(),
                            deliver.as_ref(),
                            &mut received,
                        );
                        assert!(ended.await.is_err(), "the first connection is cut");
                    } else {
                        let mut received = Received::default();
                        let ended = receive(
                            tls,
                            Vec::new(),
                            &options,
                            ledger.as_ref(),
                            deliver.as_ref(),
                            &mut received,
                        );
                        if ended.await.is_ok() {
                            duplicates.fetch_add(received.duplicates, Ordering::SeqCst);
                        }
                    }
                });
            }
        });
    }

    // A client without a certificate is refused during the handshake.
    {
        let anonymous = vigil_tls::client_config(&ca.cert, None).unwrap();
        let tcp = tokio::net::TcpStream::connect(address).await.unwrap();
        let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
        let connected = tokio_rustls::TlsConnector::from(anonymous)
            .connect(name, tcp)
            .await;
        if let Ok(mut stream) = connected {
            // TLS 1.3: the refusal arrives on the first read.
            use tokio::io::AsyncReadExt;
            let mut byte = [0u8; 1];
            assert!(!matches!(stream.read(&mut byte).await, Ok(1)));
        }
    }

    let (outbox, _) = Outbox::open(&dir.path().join("outbox"), OutboxOptions::default()).unwrap();
    let outgoing = Outgoing::new(outbox, SenderMetrics::new(&Metrics::default(), "test"));
    for batch in 0..50 {
        let mut frame = [encode_batch(0, &batch_events(batch, 10), 3).unwrap()];
        outgoing.append(&mut frame).unwrap();
    }
    let (shutdown, signal) = Shutdown::new();
    let sender = tokio::spawn(run_sender(
        outgoing.clone(),
        SenderOptions {
            servers: vec![address],
            server_name: rustls::pki_types::ServerName::try_from("localhost").unwrap(),
            tls: vigil_tls::channel_client_config(&ca.cert, &client.cert, &client.key).unwrap(),
            node: "agent-1".into(),
            window: 8,
            connect_timeout: Duration::from_secs(5),
            backoff_min: Duration::from_millis(10),
            backoff_max: Duration::from_millis(100),
        },
        signal,
    ));
    // The rest while the sender runs: each append wakes it.
    for batch in 50..100 {
        let mut frame = [encode_batch(0, &batch_events(batch, 10), 3).unwrap()];
        outgoing.append(&mut frame).unwrap();
        if batch % 10 == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    let deadline = Instant::now() + Duration::from_secs(30);
    while outgoing.outbox.lock().unwrap().acked() < 100 {
        assert!(
            Instant::now() < deadline,
            "not all batches acknowledged in 30 s"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    shutdown.trigger();
    tokio::time::timeout(Duration::from_secs(10), sender)
        .await
        .expect("sender stops on shutdown")
        .unwrap();

    let messages = deliver.messages.lock().unwrap().clone();
    let mut unique = messages.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 1000, "every event arrived");
    assert_eq!(messages.len(), 1000, "and none twice");
    assert!(
        connections.load(Ordering::SeqCst) >= 2,
        "the sender reconnected"
    );
    assert_eq!(refused.load(Ordering::SeqCst), 1, "the anonymous client");
    assert_eq!(outgoing.outbox.lock().unwrap().unacked_batches(), 0);
}
