//! Writes a mixed log file for `vigil import` benchmarks: RFC 5424 lines whose bodies cycle
//! through every decoder family's sample (`vigil_benches::SAMPLE_LINES`), with the sshd and web
//! lines three times as often, addresses varied per line, and times in the last hour — the
//! syslog header's and the dates inside the samples' bodies (an imported event keeps the time
//! its body gives), so nothing is past retention.
//!
//! `vigil-importgen --bytes 1000000000 > mixed.log`

use std::io::{BufWriter, Write};

use clap::Parser;
use vigil_benches::SAMPLE_LINES;

#[derive(Parser)]
struct Args {
    /// Stop after about this many bytes.
    #[arg(long, default_value_t = 1_000_000_000)]
    bytes: u64,
}

fn main() -> std::io::Result<()> {
    let args = Args::parse();
    let now = chrono::Utc::now();
    // The samples' own dates, moved to today.
    let dates = [
        ("2024-05-10", now.format("%Y-%m-%d").to_string()),
        ("2024/05/10", now.format("%Y/%m/%d").to_string()),
        ("10/May/2024", now.format("%d/%b/%Y").to_string()),
        ("1715340867", now.timestamp().to_string()),
        (
            "Sun Dec 04 04:51:08 2005",
            now.format("%a %b %d %H:%M:%S %Y").to_string(),
        ),
        (
            "11:37:47",
            (now - chrono::Duration::minutes(5))
                .format("%H:%M:%S")
                .to_string(),
        ),
    ];
    let mut mix: Vec<(&str, String)> = Vec::new();
    for (family, app, message) in SAMPLE_LINES {
        let mut message = (*message).to_owned();
        for (then, today) in &dates {
            message = message.replace(then, today);
        }
        let copies = if matches!(*family, "sshd" | "web") {
            3
        } else {
            1
        };
        for _ in 0..copies {
            mix.push((app, message.clone()));
        }
    }
    let start = chrono::Utc::now() - chrono::Duration::hours(1);
    let stdout = std::io::stdout();
    let mut out = BufWriter::with_capacity(1 << 20, stdout.lock());
    let mut written = 0u64;
    let mut line = String::new();
    let mut index = 0u64;
    while written < args.bytes {
        let (app, message) = &mix[(index % mix.len() as u64) as usize];
        let time = start + chrono::Duration::milliseconds((index % 3_600_000) as i64);
        // Vary the documentation-range addresses so indexes see many distinct values.
        let varied = message.replace(
            "198.51.100.7",
            &format!("198.51.{}.{}", (index >> 8) % 256, index % 256),
        );
        line.clear();
        line.push_str(&format!(
            "<134>1 {} host{:03} {} {} - - {}\n",
            time.format("%Y-%m-%dT%H:%M:%S%.3fZ"),
            index % 500,
            if app.is_empty() { "-" } else { *app },
            1000 + index % 30000,
            varied
        ));
        out.write_all(line.as_bytes())?;
        written += line.len() as u64;
        index += 1;
    }
    out.flush()
}
