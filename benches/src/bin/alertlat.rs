//! `vigil-alertlat`: end-to-end alert latency of a running `vigil serve` — from the moment a
//! syslog line leaves this process to the moment its alert arrives on the live alert stream
//! (`GET /api/v1/alerts/stream`, followed with curl, a real server-sent-events client).
//!
//! The server must run a rule that fires on every `process.name: probe` line with the line as
//! its summary (`benches/alert_latency.sh` sets that up): each probe line carries its send time
//! in nanoseconds, so every alert says how long it took.

use std::io::{BufRead, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use clap::Parser;

#[derive(Debug, Parser)]
#[command(
    name = "vigil-alertlat",
    about = "Event → alert latency through a running vigil serve"
)]
struct Args {
    /// The syslog TCP listener.
    #[arg(long)]
    syslog: SocketAddr,
    /// The API address.
    #[arg(long)]
    api: SocketAddr,
    /// The server's data folder (for the API token and its CA).
    #[arg(long)]
    data: PathBuf,
    /// Probe lines to send.
    #[arg(long, default_value_t = 2_000)]
    count: usize,
    /// Probe lines per second.
    #[arg(long, default_value_t = 100)]
    rate: u64,
}

fn now_nanos() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_nanos())
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let token = std::fs::read_to_string(args.data.join("secrets/api-token"))
        .context("API token")?
        .trim()
        .to_owned();
    let mut curl = std::process::Command::new("curl")
        .args(["-s", "-N", "--cacert"])
        .arg(args.data.join("tls/ca.crt"))
        .arg("-H")
        .arg(format!("Authorization: Bearer {token}"))
        .arg(format!("https://{}/api/v1/alerts/stream", args.api))
        .stdout(std::process::Stdio::piped())
        .spawn()
        .context("curl")?;
    let stdout = curl.stdout.take().context("curl stdout")?;
    let (sender, receiver) = std::sync::mpsc::channel::<(u128, u128)>();
    let (opened_tx, opened) = std::sync::mpsc::channel::<()>();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            let arrived = now_nanos();
            if line.starts_with(": ok") {
                let _ = opened_tx.send(());
            }
            let Some(data) = line.strip_prefix("data: ") else {
                continue;
            };
            let Ok(alert) = serde_json::from_str::<serde_json::Value>(data) else {
                continue;
            };
            let sent = alert["summary"]
                .as_str()
                .and_then(|summary| summary.strip_prefix("probe "))
                .and_then(|sent| sent.trim().parse::<u128>().ok());
            if let Some(sent) = sent {
                if sender.send((sent, arrived)).is_err() {
                    break;
                }
            }
        }
    });
    opened
        .recv_timeout(Duration::from_secs(10))
        .context("the alert stream did not open")?;

    let mut stream = TcpStream::connect(args.syslog).context("syslog TCP")?;
    stream.set_nodelay(true)?;
    let interval = Duration::from_nanos(1_000_000_000 / args.rate.max(1));
    let started = Instant::now();
    for at in 0..args.count {
        let due = started + interval * at as u32;
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        let message = format!("<134>1 - bench probe {at} - - probe {}", now_nanos());
        stream.write_all(format!("{} {message}", message.len()).as_bytes())?;
    }
    let mut latencies: Vec<u128> = Vec::with_capacity(args.count);
    let deadline = Instant::now() + Duration::from_secs(30);
    while latencies.len() < args.count {
        let Some(left) = deadline.checked_duration_since(Instant::now()) else {
            break;
        };
        match receiver.recv_timeout(left) {
            Ok((sent, arrived)) => latencies.push(arrived.saturating_sub(sent)),
            Err(_) => break,
        }
    }
    let _ = curl.kill();
    let _ = curl.wait();
    latencies.sort_unstable();
    let percentile = |share: f64| -> f64 {
        if latencies.is_empty() {
            return f64::NAN;
        }
        let at = ((latencies.len() as f64 * share).ceil() as usize).clamp(1, latencies.len()) - 1;
        latencies[at] as f64 / 1e6
    };
    println!(
        "{}",
        serde_json::json!({
            "sent": args.count,
            "alerts": latencies.len(),
            "missing": args.count - latencies.len(),
            "rate_per_second": args.rate,
            "p50_ms": percentile(0.50),
            "p90_ms": percentile(0.90),
            "p99_ms": percentile(0.99),
            "max_ms": percentile(1.0),
        })
    );
    Ok(())
}
