//! `vigil agent`: the edge collector. Syslog listeners and tailed files feed the outbox sink;
//! the sender drains the outbox to the first SOC of the failover list that answers.
//!
//! ```text
//! DATA_DIR/outbox/     batches not yet acknowledged (vigil_channel::outbox)
//! DATA_DIR/positions   tailed files' positions (a MarkLog; the outbox holds the newest too)
//! DATA_DIR/listening.json
//! ```

use std::collections::HashMap;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use vigil_channel::link::{run_sender, Outgoing, SenderMetrics, SenderOptions};
use vigil_channel::sink::{OutboxSink, OutboxSinkOptions};
use vigil_channel::{Outbox, OutboxOptions};
use vigil_collect::syslog::{StreamOptions, SyslogTcpSource, SyslogUdpSource, TlsOptions};
use vigil_collect::tail::{FileTailSource, TailOptions};
use vigil_collect::{Stamper, UnmappedSources};
use vigil_config::{SourceMap, TcpLimits, UnmappedConfig};
use vigil_pipeline::marks::MarkLog;
use vigil_pipeline::{batch_channel, Metrics, Shutdown, ShutdownSignal, Sink, Source};

use crate::cli::AgentArgs;
use crate::data_dir;

/// Deliveries between the inputs and the outbox sink; full means the inputs wait.
const PIPELINE_BATCHES: usize = 64;
const POSITIONS_FILE: &str = "positions";
const OUTBOX_DIR: &str = "outbox";

pub fn run(args: AgentArgs) -> anyhow::Result<ExitCode> {
    crate::serve::init_tracing();
    if !(1..=19).contains(&args.zstd_level) {
        anyhow::bail!("--zstd-level {} is outside 1..=19", args.zstd_level);
    }
    if args.syslog_tcp.is_none()
        && args.syslog_udp.is_none()
        && args.syslog_tls.is_none()
        && args.netflow.is_none()
        && args.snmp_trap.is_none()
        && args.tails.is_empty()
    {
        anyhow::bail!(
            "nothing to collect: give --syslog-tcp, --syslog-udp, --syslog-tls, --netflow, \
             --snmp-trap or --tail"
        );
    }
    data_dir::raise_open_files_limit();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("vigil-agent")
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(agent(args))?;
    Ok(ExitCode::SUCCESS)
}

/// The host part of HOST:PORT (brackets of an IPv6 address removed).
pub(crate) fn host_of(server: &str) -> &str {
    let host = server.rsplit_once(':').map_or(server, |(host, _)| host);
    host.trim_start_matches('[').trim_end_matches(']')
}

pub(crate) async fn resolve(servers: &[String]) -> anyhow::Result<Vec<SocketAddr>> {
    let mut addresses = Vec::new();
    for server in servers {
        let resolved = tokio::net::lookup_host(server.as_str())
            .await
            .with_context(|| format!("cannot resolve --server {server}"))?;
        addresses.extend(resolved);
    }
    Ok(addresses)
}

async fn agent(args: AgentArgs) -> anyhow::Result<()> {
    let data = args.data_dir.clone();
    std::fs::create_dir_all(&data).with_context(|| format!("cannot create {}", data.display()))?;
    let _lock = data_dir::lock(&data)?;
    let metrics = Metrics::default();
    let node = args
        .name
        .clone()
        .or_else(crate::certs::machine_name)
        .unwrap_or_else(|| "vigil-agent".into());

    let (outbox, recovered) = Outbox::open(
        &data.join(OUTBOX_DIR),
        OutboxOptions {
            max_bytes: args.outbox_max_mib.max(1) * 1024 * 1024,
            ..OutboxOptions::default()
        },
    )?;
    if recovered.batches > 0 || recovered.cut_bytes > 0 {
        tracing::info!(
            batches = recovered.batches,
            bytes = recovered.bytes,
            cut_bytes = recovered.cut_bytes,
            "outbox holds batches not yet acknowledged; they are sent first"
        );
    }
    // Where each tailed file was left: the newer of the positions file and the outbox.
    let positions_path = data.join(POSITIONS_FILE);
    let (positions_log, _) = MarkLog::open(&positions_path)
        .with_context(|| format!("cannot open {}", positions_path.display()))?;
    let mut positions: HashMap<[u8; 16], u64> = positions_log.held().clone();
    for (file, offset) in outbox.marks() {
        let position = positions.entry(*file).or_default();
        *position = (*position).max(*offset);
    }
    let outgoing = Outgoing::new(outbox, SenderMetrics::new(&metrics, "agent"));

    let source_map = SourceMap::build(&[], &UnmappedConfig::default())
        .map_err(|errors| anyhow::anyhow!("{errors:?}"))?;
    let unmapped = Arc::new(UnmappedSources::new(&metrics));
    // Lines go out undecoded: the SOC decodes them (see `Stamper::relaying`).
    let stamper = Arc::new(Stamper::new(source_map, &node, unmapped).relaying());
    let mut sources: Vec<(String, SocketAddr, Box<dyn Source>)> = Vec::new();
    if let Some(address) = args.syslog_tcp {
        let source = SyslogTcpSource::bind(
            "syslog-tcp",
            address,
            TcpLimits::default(),
            StreamOptions::default(),
            stamper.clone(),
            &metrics,
        )?;
        sources.push(("syslog-tcp".into(), source.local_addr()?, Box::new(source)));
    }
    if let (Some(address), Some(cert), Some(key)) =
        (args.syslog_tls, &args.syslog_tls_cert, &args.syslog_tls_key)
    {
        let client_auth = match args.syslog_tls_client_ca {
            Some(_) => vigil_tls::ClientAuth::Required,
            None => vigil_tls::ClientAuth::None,
        };
        let config = vigil_tls::server_config(&vigil_tls::ServerTls {
            cert: cert.clone(),
            key: key.clone(),
            client_ca: args.syslog_tls_client_ca.clone(),
            client_auth,
        })
        .context("syslog/TLS listener setup failed")?;
        let options = StreamOptions {
            zlib: true,
            tls: Some(TlsOptions {
                config,
                handshake_timeout: Duration::from_secs(10),
                clients: Vec::new(),
            }),
        };
        let source = SyslogTcpSource::bind(
            "syslog-tls",
            address,
            TcpLimits::default(),
            options,
            stamper.clone(),
            &metrics,
        )?;
        sources.push(("syslog-tls".into(), source.local_addr()?, Box::new(source)));
    }
    if let Some(address) = args.syslog_udp {
        let source =
            SyslogUdpSource::bind("syslog-udp", address, 64 * 1024, stamper.clone(), &metrics)
                .await?;
        sources.push(("syslog-udp".into(), source.local_addr()?, Box::new(source)));
    }
    if let Some(address) = args.netflow {
        let source = vigil_collect::flow::FlowSource::bind(
            "netflow",
            address,
            vigil_codec::flow::FlowLimits::default(),
            stamper.clone(),
            &metrics,
        )
        .await?;
        sources.push(("netflow".into(), source.local_addr()?, Box::new(source)));
    }
    if let Some(address) = args.snmp_trap {
        let source = vigil_collect::snmp::SnmpTrapSource::bind(
            "snmp-trap",
            address,
            vigil_collect::snmp::trap_config(&[], &[])?,
            stamper.clone(),
            &metrics,
        )
        .await?;
        sources.push(("snmp-trap".into(), source.local_addr()?, Box::new(source)));
    }
    let tail = (!args.tails.is_empty()).then(|| {
        FileTailSource::new(
            "tail",
            TailOptions {
                paths: args.tails.clone(),
                ..TailOptions::default()
            },
            positions,
            stamper.clone(),
            &metrics,
        )
    });

    let servers = resolve(&args.servers).await?;
    let server_name = args
        .server_name
        .clone()
        .unwrap_or_else(|| host_of(&args.servers[0]).to_owned());
    let server_name = rustls::pki_types::ServerName::try_from(server_name.clone())
        .with_context(|| format!("{server_name:?} is not a valid server name"))?;
    let tls = vigil_tls::channel_client_config(&args.ca, &args.cert, &args.key)
        .context("channel TLS setup failed")?;
    let metrics_listener = match args.metrics {
        Some(address) => Some(
            tokio::net::TcpListener::bind(address)
                .await
                .with_context(|| format!("cannot listen on {address} for metrics"))?,
        ),
        None => None,
    };

    let (shutdown, signal) = Shutdown::new();
    let (batches, input) = batch_channel(PIPELINE_BATCHES);
    let sink = OutboxSink::new(
        outgoing.clone(),
        OutboxSinkOptions {
            zstd_level: args.zstd_level,
            ..OutboxSinkOptions::default()
        },
        Some(Arc::new(Mutex::new(positions_log))),
        &metrics,
        "agent",
    );
    let sink = tokio::spawn(Box::new(sink).run(input));
    let (mut listening, mut running) = crate::serve::start_sources(sources, &batches, &signal);
    if let Some(tail) = tail {
        for path in &args.tails {
            tracing::info!(path = %path.display(), "tailing");
        }
        running.push(tokio::spawn(
            Box::new(tail).run(batches.clone(), signal.clone()),
        ));
    }
    drop(batches);
    let sender = tokio::spawn(run_sender(
        outgoing.clone(),
        SenderOptions {
            servers: servers.clone(),
            server_name,
            tls,
            node: node.clone(),
            window: args.window,
            connect_timeout: Duration::from_secs(10),
            backoff_min: Duration::from_millis(200),
            backoff_max: Duration::from_secs(30),
        },
        signal.clone(),
    ));
    if let Some(listener) = metrics_listener {
        let address = listener.local_addr()?;
        tracing::info!(%address, "listening: metrics");
        listening.insert("metrics".into(), address.to_string());
        tokio::spawn(serve_metrics(listener, metrics.clone(), signal.clone()));
    }
    crate::serve::write_listening(&data, &listening)?;
    tracing::info!(%node, servers = ?servers, data_dir = %data.display(), "vigil agent is ready");

    crate::serve::wait_for_signal().await;
    tracing::info!("stopping: inputs first, then the outbox");
    shutdown.trigger();
    crate::serve::join_sources(running).await;
    sink.await.context("the outbox sink panicked")??;
    sender.await.context("the sender panicked")?;
    let unacked = outgoing.lock().unacked_batches();
    tracing::info!(
        unacknowledged_batches = unacked,
        "stopped; what is not acknowledged stays in the outbox for the next start"
    );
    Ok(())
}

/// `GET /metrics` in the Prometheus text format; every other request gets 404. One request
/// per connection, read with a deadline.
async fn serve_metrics(
    listener: tokio::net::TcpListener,
    metrics: Metrics,
    mut shutdown: ShutdownSignal,
) {
    loop {
        let (mut stream, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = shutdown.wait() => return,
        };
        let metrics = metrics.clone();
        tokio::spawn(async move {
            let mut request = vec![0u8; 4096];
            let mut read = 0;
            while !request[..read]
                .windows(4)
                .any(|window| window == b"\r\n\r\n")
            {
                let more =
                    tokio::time::timeout(Duration::from_secs(5), stream.read(&mut request[read..]))
                        .await;
                match more {
                    Ok(Ok(0)) | Err(_) | Ok(Err(_)) => return,
                    Ok(Ok(count)) => read += count,
                }
                if read == request.len() {
                    return;
                }
            }
            let (status, body) = if request.starts_with(b"GET /metrics ") {
                ("200 OK", metrics.render())
            } else {
                ("404 Not Found", String::from("not found\n"))
            };
            let response = format!(
                "HTTP/1.1 {status}\r\ncontent-type: text/plain; version=0.0.4\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(response.as_bytes()).await;
            let _ = stream.shutdown().await;
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_server_name_is_the_host_of_the_first_server() {
        assert_eq!(host_of("soc.example:6515"), "soc.example");
        assert_eq!(host_of("127.0.0.1:6515"), "127.0.0.1");
        assert_eq!(host_of("[::1]:6515"), "::1");
    }
}
