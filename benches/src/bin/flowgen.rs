//! `vigil-flowgen`: sends NetFlow v9 at a steady rate to a flow listener, for a fixed time, then
//! prints one JSON line.
//!
//! ```text
//! vigil-flowgen --target 127.0.0.1:2055 --flows-per-sec 100000 --duration-secs 60
//! {"records": 6000000, "datagrams": 200000, "elapsed_secs": 60.0, "records_per_sec": 100000.0}
//! ```
//! Each datagram holds `--records` flow records of a softflowd-like template (IPv4 addresses,
//! ports, protocol, TCP flags, bytes, packets, first/last switched, interfaces); the template
//! is repeated every 100 datagrams, as exporters refresh theirs. Record `n` of the run has
//! `bytes = 1000 + n % 1000` and `packets = 1 + n % 10`, so the receiver's sums can be checked.

use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Parser;

#[derive(Debug, Parser)]
#[command(name = "vigil-flowgen", about = "Send NetFlow v9 at a steady rate")]
struct Args {
    /// The flow listener.
    #[arg(long)]
    target: SocketAddr,
    /// Flow records per second in all; 0 = as fast as possible.
    #[arg(long, default_value_t = 100_000)]
    flows_per_sec: u64,
    /// How long to send.
    #[arg(long, default_value_t = 60.0)]
    duration_secs: f64,
    /// Flow records per datagram (softflowd sends up to 30).
    #[arg(long, default_value_t = 30)]
    records: u16,
}

const TEMPLATE_ID: u16 = 256;
/// (element id, length): src/dst IPv4, src/dst port, protocol, tcp flags, bytes, packets,
/// last/first switched, input/output interface.
const FIELDS: [(u16, u16); 12] = [
    (8, 4),
    (12, 4),
    (7, 2),
    (11, 2),
    (4, 1),
    (6, 1),
    (1, 4),
    (2, 4),
    (21, 4),
    (22, 4),
    (10, 4),
    (14, 4),
];

fn header(out: &mut Vec<u8>, count: u16, sequence: u32, uptime_ms: u32) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_secs());
    out.extend_from_slice(&9u16.to_be_bytes());
    out.extend_from_slice(&count.to_be_bytes());
    out.extend_from_slice(&uptime_ms.to_be_bytes());
    out.extend_from_slice(&u32::try_from(now).unwrap_or(u32::MAX).to_be_bytes());
    out.extend_from_slice(&sequence.to_be_bytes());
    out.extend_from_slice(&1u32.to_be_bytes());
}

fn template_set(out: &mut Vec<u8>) {
    let length = 4 + 4 + 4 * FIELDS.len();
    out.extend_from_slice(&0u16.to_be_bytes());
    out.extend_from_slice(&(length as u16).to_be_bytes());
    out.extend_from_slice(&TEMPLATE_ID.to_be_bytes());
    out.extend_from_slice(&(FIELDS.len() as u16).to_be_bytes());
    for (id, length) in FIELDS {
        out.extend_from_slice(&id.to_be_bytes());
        out.extend_from_slice(&length.to_be_bytes());
    }
}

fn data_set(out: &mut Vec<u8>, first: u64, records: u16, uptime_ms: u32) {
    let record_length: usize = FIELDS.iter().map(|(_, length)| usize::from(*length)).sum();
    let length = 4 + record_length * usize::from(records);
    out.extend_from_slice(&TEMPLATE_ID.to_be_bytes());
    out.extend_from_slice(&(length as u16).to_be_bytes());
    for n in first..first + u64::from(records) {
        let host = (n % 250) as u8 + 1;
        out.extend_from_slice(&[10, 1, (n / 250 % 250) as u8, host]);
        out.extend_from_slice(&[192, 0, 2, host]);
        out.extend_from_slice(&(1024 + (n % 60_000) as u16).to_be_bytes());
        out.extend_from_slice(&443u16.to_be_bytes());
        out.push(6);
        out.push(0x1b);
        out.extend_from_slice(&(1_000 + (n % 1_000) as u32).to_be_bytes());
        out.extend_from_slice(&(1 + (n % 10) as u32).to_be_bytes());
        out.extend_from_slice(&uptime_ms.saturating_sub(10).to_be_bytes());
        out.extend_from_slice(&uptime_ms.saturating_sub(2_000).to_be_bytes());
        out.extend_from_slice(&1u32.to_be_bytes());
        out.extend_from_slice(&2u32.to_be_bytes());
    }
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    anyhow::ensure!(
        (1..=40).contains(&args.records),
        "--records is 1 to 40 (one datagram)"
    );
    let socket = UdpSocket::bind("127.0.0.1:0").context("bind")?;
    let started = Instant::now();
    let deadline = started + Duration::from_secs_f64(args.duration_secs);
    let per_datagram = u64::from(args.records);
    let mut sent_records = 0u64;
    let mut datagrams = 0u64;
    let mut packet = Vec::with_capacity(2_000);
    while Instant::now() < deadline {
        if args.flows_per_sec > 0 {
            // Pace by the clock: never ahead of the rate asked for.
            let due = Duration::from_secs_f64(sent_records as f64 / args.flows_per_sec as f64);
            let elapsed = started.elapsed();
            if due > elapsed {
                let wait = due - elapsed;
                if wait > Duration::from_micros(200) {
                    std::thread::sleep(wait);
                }
                continue;
            }
        }
        let uptime = u32::try_from(started.elapsed().as_millis()).unwrap_or(u32::MAX) + 60_000;
        packet.clear();
        let with_template = datagrams.is_multiple_of(100);
        header(
            &mut packet,
            args.records + u16::from(with_template),
            u32::try_from(datagrams).unwrap_or(u32::MAX),
            uptime,
        );
        if with_template {
            template_set(&mut packet);
        }
        data_set(&mut packet, sent_records, args.records, uptime);
        socket.send_to(&packet, args.target).context("send")?;
        datagrams += 1;
        sent_records += per_datagram;
    }
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "{{\"records\": {sent_records}, \"datagrams\": {datagrams}, \"elapsed_secs\": {elapsed:.3}, \"records_per_sec\": {:.1}}}",
        sent_records as f64 / elapsed
    );
    Ok(())
}
