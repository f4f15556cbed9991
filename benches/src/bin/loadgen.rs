//! `vigil-loadgen`: floods a syslog TCP listener with realistic RFC 5424 messages, RFC 6587
//! octet-counted, over several connections, for a fixed time, then prints one JSON line.
//!
//! ```text
//! vigil-loadgen --target 127.0.0.1:5514 --connections 4 --duration-secs 60 --size 250
//! {"sent": 12345678, "bytes": 3123456789, "elapsed_secs": 60.001, "events_per_sec": 205761.2, "connections": 4, "wire_bytes": 3198765432}
//! ```
//! `bytes` counts the messages themselves (what a sender logged: the raw size disk use is
//! compared with); `wire_bytes` adds the octet-count framing.
//! Each message carries `seq=<conn>-<n>` (unique) and APP-NAME = `--tag`, so the receiver can be
//! checked for loss with `process.name:<tag>`. Messages are written in whole chunks of about
//! 64 KiB; `sent` counts only messages whose chunk was fully written, and no chunk is started
//! after the deadline.
//!
//! With `--tls-ca FILE` it speaks syslog over TLS (RFC 5425) instead, trusting that CA and
//! expecting a certificate for `localhost`.

use std::io::Write;
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Parser;
use vigil_benches::LineGenerator;

#[derive(Debug, Parser)]
#[command(
    name = "vigil-loadgen",
    about = "Send RFC 5424 syslog over TCP (octet-counted) as fast as possible"
)]
struct Args {
    /// The syslog TCP listener.
    #[arg(long)]
    target: SocketAddr,
    /// Parallel TCP connections, one thread each.
    #[arg(long, default_value_t = 4)]
    connections: usize,
    /// How long to send.
    #[arg(long, default_value_t = 60.0)]
    duration_secs: f64,
    /// Approximate bytes per message (without framing).
    #[arg(long, default_value_t = 250)]
    size: usize,
    /// Messages per second per connection; 0 = as fast as possible.
    #[arg(long, default_value_t = 0)]
    rate_per_conn: u64,
    /// Stop after this many messages in all (split evenly over the connections), or at
    /// `--duration-secs`, whichever comes first; 0 = no count. Two runs of the same count give
    /// the receiver the same work, whoever buffers it (an agent's outbox, the TCP window).
    #[arg(long, default_value_t = 0)]
    count: u64,
    /// APP-NAME of every message (`process.name` in Vigil).
    #[arg(long, default_value = "loadgen")]
    tag: String,
    /// Bytes per write.
    #[arg(long, default_value_t = 64 * 1024)]
    chunk_bytes: usize,
    /// Speak TLS, trusting this CA (PEM); the server certificate must name `localhost`.
    #[arg(long, value_name = "FILE")]
    tls_ca: Option<std::path::PathBuf>,
}

/// The connection: plain TCP or TLS over it.
enum Connection {
    Plain(TcpStream),
    Tls(Box<rustls::StreamOwned<rustls::ClientConnection, TcpStream>>),
}

impl Connection {
    fn open(args: &Args) -> anyhow::Result<Self> {
        let tcp = TcpStream::connect(args.target)
            .with_context(|| format!("cannot connect to {}", args.target))?;
        let Some(ca) = &args.tls_ca else {
            return Ok(Connection::Plain(tcp));
        };
        let config = vigil_tls::client_config(ca, None)?;
        let name = rustls::pki_types::ServerName::try_from("localhost")?;
        let connection = rustls::ClientConnection::new(config, name)?;
        Ok(Connection::Tls(Box::new(rustls::StreamOwned::new(
            connection, tcp,
        ))))
    }

    fn write_all(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        match self {
            Connection::Plain(stream) => stream.write_all(bytes),
            Connection::Tls(stream) => stream.write_all(bytes),
        }
    }

    /// Everything written reaches the server, then a clean close.
    fn finish(self) -> std::io::Result<()> {
        match self {
            Connection::Plain(mut stream) => {
                stream.flush()?;
                let _ = stream.shutdown(Shutdown::Write);
            }
            Connection::Tls(mut stream) => {
                stream.flush()?;
                stream.conn.send_close_notify();
                stream.flush()?;
                let _ = stream.sock.shutdown(Shutdown::Write);
                // Read until the server closes: anything it sent left unread would make the
                // kernel reset the connection, and a reset discards what the server has not read.
                let _ = std::io::copy(&mut stream, &mut std::io::sink());
            }
        }
        Ok(())
    }
}

#[derive(Default)]
struct ConnectionTotals {
    sent: u64,
    bytes: u64,
    wire_bytes: u64,
    last_write: Option<Instant>,
}

fn run_connection(
    args: &Args,
    connection: usize,
    start: Instant,
    deadline: Instant,
) -> anyhow::Result<ConnectionTotals> {
    let mut stream = Connection::open(args)?;
    let mut generator = LineGenerator::new(
        0x5eed_0000 + connection as u64,
        args.size,
        Some(args.tag.clone()),
    );
    let mut totals = ConnectionTotals::default();
    let mut chunk: Vec<u8> = Vec::with_capacity(args.chunk_bytes + args.size * 2 + 64);
    let mut line = String::with_capacity(args.size * 2 + 64);
    let mut number: u64 = 0;
    let quota = match args.count {
        0 => u64::MAX,
        count => {
            let share = count / args.connections as u64;
            share + u64::from((connection as u64) < count % args.connections as u64)
        }
    };
    loop {
        let now = Instant::now();
        if now >= deadline || totals.sent >= quota {
            break;
        }
        let mut budget = quota - totals.sent;
        if args.rate_per_conn > 0 {
            let allowed =
                (now.duration_since(start).as_secs_f64() * args.rate_per_conn as f64) as u64;
            budget = budget.min(allowed.saturating_sub(totals.sent));
            if budget == 0 {
                std::thread::sleep(
                    Duration::from_millis(1).min(deadline.saturating_duration_since(now)),
                );
                continue;
            }
        }
        // One timestamp per chunk: a chunk takes well under a millisecond to send.
        let timestamp = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
        chunk.clear();
        let mut in_chunk = 0u64;
        let mut message_bytes = 0u64;
        while chunk.len() < args.chunk_bytes && in_chunk < budget {
            line.clear();
            generator.write_line(&format!("{connection}-{number}"), &timestamp, &mut line);
            number += 1;
            in_chunk += 1;
            message_bytes += line.len() as u64;
            chunk.extend_from_slice(line.len().to_string().as_bytes());
            chunk.push(b' ');
            chunk.extend_from_slice(line.as_bytes());
        }
        stream.write_all(&chunk).context("send failed")?;
        totals.sent += in_chunk;
        totals.bytes += message_bytes;
        totals.wire_bytes += chunk.len() as u64;
        totals.last_write = Some(Instant::now());
    }
    // A clean FIN (and close_notify) after the last byte; the receiver reads everything first.
    stream.finish()?;
    Ok(totals)
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    anyhow::ensure!(args.connections > 0, "--connections must be at least 1");
    anyhow::ensure!(args.duration_secs > 0.0, "--duration-secs must be positive");
    let start = Instant::now();
    let deadline = start + Duration::from_secs_f64(args.duration_secs);
    let results: Vec<anyhow::Result<ConnectionTotals>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..args.connections)
            .map(|connection| {
                let args = &args;
                std::thread::Builder::new()
                    .name(format!("loadgen-{connection}"))
                    .spawn_scoped(scope, move || {
                        run_connection(args, connection, start, deadline)
                    })
                    .expect("cannot spawn a sender thread")
            })
            .collect();
        handles
            .into_iter()
            .map(|handle| {
                handle
                    .join()
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("a sender thread panicked")))
            })
            .collect()
    });
    let (mut sent, mut bytes, mut wire_bytes, mut last_write) = (0u64, 0u64, 0u64, start);
    let mut failures = Vec::new();
    for (connection, result) in results.into_iter().enumerate() {
        match result {
            Ok(totals) => {
                sent += totals.sent;
                bytes += totals.bytes;
                wire_bytes += totals.wire_bytes;
                last_write = last_write.max(totals.last_write.unwrap_or(start));
            }
            Err(error) => failures.push(format!("connection {connection}: {error:#}")),
        }
    }
    let elapsed = last_write
        .duration_since(start)
        .as_secs_f64()
        .max(f64::EPSILON);
    println!(
        "{{\"sent\": {sent}, \"bytes\": {bytes}, \"elapsed_secs\": {elapsed:.3}, \"events_per_sec\": {:.1}, \"connections\": {}, \"wire_bytes\": {wire_bytes}}}",
        sent as f64 / elapsed,
        args.connections
    );
    if !failures.is_empty() {
        for failure in &failures {
            eprintln!("vigil-loadgen: {failure}");
        }
        anyhow::bail!(
            "{} of {} connections failed",
            failures.len(),
            args.connections
        );
    }
    Ok(())
}
