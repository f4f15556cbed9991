//! The archive as evidence and the retention law: `vigil verify` finds a flipped byte, `vigil
//! search` reads what `serve` archived, a config that shortens retention is refused, and the
//! janitor deletes only partitions past their period.

mod common;

use std::io::Write;
use std::net::TcpStream;

use common::{vigil, write_config, Server};

fn send_lines(port: u16, count: usize) {
    let mut connection = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    let mut chunk = Vec::new();
    for seq in 0..count {
        let line = format!(
            "<38>1 2026-11-26T10:00:00Z tamper-host evidence - - - archived line seq={seq}"
        );
        chunk.extend_from_slice(format!("{} {line}", line.len()).as_bytes());
    }
    connection.write_all(&chunk).expect("send");
}

fn segment_files(data: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    for level in std::fs::read_dir(data.join("partitions"))
        .expect("partitions")
        .flatten()
    {
        for day in std::fs::read_dir(level.path()).expect("days").flatten() {
            for segment in std::fs::read_dir(day.path().join("archive"))
                .expect("archive")
                .flatten()
            {
                found.push(segment.path());
            }
        }
    }
    found
}

#[test]
fn verify_names_the_batch_holding_a_flipped_byte() {
    let root = tempfile::tempdir().expect("temp dir");
    let config = write_config(root.path(), "[archive]\nfsync_interval = \"1ms\"");
    let mut server = Server::start(root.path(), &config);
    send_lines(server.address("syslog-tcp").port(), 300);
    assert_eq!(
        server.wait_for_total("process.name:evidence", 300, 1, 30)["total"],
        300
    );
    assert!(server.stop().success(), "{}", server.log());

    let data = server.data.to_str().expect("path").to_owned();
    let (code, stdout, _) = vigil(&[
        "search",
        "--data-dir",
        &data,
        "--from",
        "7d",
        "--limit",
        "1000",
        "--json",
        "process.name:evidence",
    ]);
    assert_eq!(code, 0);
    assert_eq!(
        stdout.lines().count(),
        300,
        "vigil search reads what serve archived"
    );
    let (code, stdout, stderr) = vigil(&["verify", "--data-dir", &data]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("archive intact: 1 partitions"), "{stdout}");
    assert!(stdout.contains("300 events"), "{stdout}");

    let segments = segment_files(&server.data);
    assert_eq!(segments.len(), 1);
    let mut bytes = std::fs::read(&segments[0]).expect("segment");
    let middle = bytes.len() * 2 / 3;
    bytes[middle] ^= 0x01;
    std::fs::write(&segments[0], &bytes).expect("tamper");

    let (code, stdout, _) = vigil(&["verify", "--data-dir", &data]);
    assert_eq!(code, 1, "a flipped byte fails verify: {stdout}");
    assert!(stdout.contains("BROKEN"), "{stdout}");
    assert!(
        stdout.contains(&segments[0].display().to_string()),
        "names the segment: {stdout}"
    );
    assert!(
        stdout.contains("events "),
        "names the event range: {stdout}"
    );
}

#[test]
fn retention_shorter_than_the_legal_minimum_is_refused_at_start() {
    let root = tempfile::tempdir().expect("temp dir");
    let config = write_config(root.path(), "[retention]\nlevel_4 = \"100 days\"");
    let (code, _, stderr) = vigil(&["serve", "--config", config.to_str().expect("path")]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("legal minimum of 180 days for level 4"),
        "{stderr}"
    );
}

#[test]
fn janitor_deletes_only_partitions_past_their_period() {
    let root = tempfile::tempdir().expect("temp dir");
    let config = write_config(
        root.path(),
        "[retention]\nlevel_2 = \"60 days\"\njanitor_interval = \"1h\"",
    );
    let data = root.path().join("data");
    let today = chrono::Utc::now().date_naive();
    let day = |days_ago: u64| {
        (today - chrono::Days::new(days_ago))
            .format("%Y-%m-%d")
            .to_string()
    };
    let partitions = [
        ("level-1", day(31), true),  // past 30 days
        ("level-1", day(29), false), // inside 30 days
        ("level-2", day(45), false), // config lengthened level 2 to 60 days
        ("level-2", day(61), true),
        ("level-5", day(200), false), // 365 days
        ("level-5", day(366), true),
    ];
    for (level, day, _) in &partitions {
        std::fs::create_dir_all(
            data.join("partitions")
                .join(level)
                .join(day)
                .join("archive"),
        )
        .expect("partition");
    }
    let config_path = config.to_str().expect("path");
    let (code, stdout, stderr) = vigil(&["retention", "plan", "--config", config_path]);
    assert_eq!(code, 0, "{stderr}");
    for (level, day, doomed) in &partitions {
        let named = stdout.contains(&format!("delete {level}/{day}"));
        assert_eq!(named, *doomed, "{level}/{day} in plan:\n{stdout}");
    }
    // serve's janitor runs once at start, then every janitor_interval.
    let mut server = Server::start(root.path(), &config);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let exists = |level: &str, day: &str| data.join("partitions").join(level).join(day).exists();
    while partitions
        .iter()
        .any(|(level, day, doomed)| *doomed && exists(level, day))
    {
        assert!(
            std::time::Instant::now() < deadline,
            "janitor did not run:\n{}",
            server.log()
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    for (level, day, doomed) in &partitions {
        assert_eq!(exists(level, day), !doomed, "{level}/{day}");
    }
    assert!(server.stop().success());
}
