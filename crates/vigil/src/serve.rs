//! `vigil serve`: builds every stage from config (the one registry of stages is
//! [`build_sources`]), runs them, and stops them in order on SIGTERM/SIGINT.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use vigil_api::{ApiState, AuditLog};
use vigil_channel::link::{Ledger, Peer, ReceiverOptions};
use vigil_channel::listener::{Admission, ChannelListenerOptions, ChannelSource, ReceiverLedger};
use vigil_collect::syslog::{StreamOptions, SyslogTcpSource, SyslogUdpSource, TlsOptions};
use vigil_collect::{Origin, Stamper, UnmappedSources};
use vigil_config::{
    ChannelTlsConfig, ClientAuthMode, Compression, ListenerConfig, RetentionMinimums, ServerConfig,
    TlsClientConfig, TlsListenerConfig,
};
use vigil_event::Timestamp;
use vigil_normalize::Normalizer;
use vigil_pipeline::{
    batch_channel, spawn_transform, Metrics, Shutdown, ShutdownSignal, Sink, Source,
};
use vigil_store::index::IndexCatalog;
use vigil_store::retention::{delete_partition, plan_deletions, remove_leftovers};
use vigil_store::search::Searcher;
use vigil_store::{list_partitions, DeliveryLedger, Ingest, IngestOptions};
use vigil_tls::pki::Issued;

use crate::cli::ServeArgs;
use crate::data_dir;
use crate::import::{ImportContext, ServeImporter, UPLOAD_INFLATION_LIMIT};

/// Batches in flight between the listeners and the archive; full means backpressure.
pub(crate) const PIPELINE_BATCHES: usize = 128;
/// How long `serve` waits at stop for API calls (an upload) to finish.
const API_STOP_DEADLINE: std::time::Duration = std::time::Duration::from_secs(30);

pub fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    init_tracing();
    let mut config = data_dir::load_config(&args.location)?;
    apply_flags(&mut config, &args);
    config.validate()?;
    data_dir::raise_open_files_limit();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("vigil-worker")
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(serve(config))?;
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("VIGIL_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let colour = std::io::IsTerminal::is_terminal(&std::io::stderr());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(colour)
        .with_writer(std::io::stderr)
        .init();
}

/// Flags describe one run: they replace the address of the first listener of their kind, or add
/// one when the config has none.
fn apply_flags(config: &mut ServerConfig, args: &ServeArgs) {
    if let Some(address) = args.api {
        config.api.listen = address;
    }
    // The defaults hold one listener of each kind, the template for a flag without one.
    let defaults = ServerConfig::default().listeners;
    for (address, template) in [
        args.syslog_udp,
        args.syslog_tcp,
        args.syslog_tls,
        args.channel,
        args.netflow,
        args.snmp_trap,
    ]
    .into_iter()
    .zip(defaults)
    {
        let Some(address) = address else { continue };
        let kind = std::mem::discriminant(&template);
        match config
            .listeners
            .iter_mut()
            .find(|listener| std::mem::discriminant(*listener) == kind)
        {
            Some(listener) => *listener.address_mut() = address,
            None => {
                let mut listener = template;
                *listener.address_mut() = address;
                config.listeners.push(listener);
            }
        }
    }
}

/// Server certificates for the API and the TLS listeners. Those not configured come from the
/// data directory's local CA and server certificate, made on first start and read once per run.
struct Certificates {
    dir: PathBuf,
    /// The local CA and server certificate, once made or read.
    local: Option<(Issued, Issued)>,
}

impl Certificates {
    fn new(config: &ServerConfig) -> Self {
        Self {
            dir: config.data_dir.join(data_dir::TLS_DIR),
            local: None,
        }
    }

    /// The configured certificate and key, or the local ones (then also the local CA, to check
    /// clients against).
    fn server(
        &mut self,
        cert: &Option<PathBuf>,
        key: &Option<PathBuf>,
    ) -> anyhow::Result<(PathBuf, PathBuf, Option<PathBuf>)> {
        if let (Some(cert), Some(key)) = (cert, key) {
            return Ok((cert.clone(), key.clone(), None));
        }
        let local = |(ca, server): &(Issued, Issued)| {
            (
                server.cert.clone(),
                server.key.clone(),
                Some(ca.cert.clone()),
            )
        };
        if let Some(made) = &self.local {
            return Ok(local(made));
        }
        let names = crate::certs::default_server_names();
        let (ca, server, created) =
            vigil_tls::pki::ensure_server(&self.dir, &names).with_context(|| {
                format!("cannot make or read the local CA in {}", self.dir.display())
            })?;
        if created {
            tracing::info!(ca = %ca.cert.display(), sha256 = %ca.fingerprint, "made a local CA and server certificate for the API and TLS listeners; give clients this CA");
        } else {
            tracing::info!(ca = %ca.cert.display(), sha256 = %ca.fingerprint, "the API and TLS listeners use the local CA");
        }
        let made = (ca, server);
        let result = local(&made);
        self.local = Some(made);
        Ok(result)
    }
}

/// The API's TLS config, or `None` when `api.tls` is off.
fn api_tls(
    config: &ServerConfig,
    certificates: &mut Certificates,
) -> anyhow::Result<Option<Arc<rustls::ServerConfig>>> {
    if !config.api.tls {
        tracing::warn!("the API is plain HTTP (api.tls = false): put it behind a TLS proxy");
        return Ok(None);
    }
    let (cert, key, _) = certificates.server(&config.api.cert, &config.api.key)?;
    let tls = vigil_tls::server_config(&vigil_tls::ServerTls {
        cert,
        key,
        client_ca: None,
        client_auth: vigil_tls::ClientAuth::None,
    })
    .context("API TLS setup failed")?;
    Ok(Some(tls))
}

/// The rustls side of a TLS listener. Without a configured certificate, the data directory's
/// local CA and server certificate, made on first start.
fn tls_options(
    tls: &TlsListenerConfig,
    certificates: &mut Certificates,
) -> anyhow::Result<TlsOptions> {
    let (cert, key, local_ca) = certificates.server(&tls.cert, &tls.key)?;
    let client_ca = tls.client_ca.clone().or(local_ca);
    let client_auth = match tls.client_auth {
        ClientAuthMode::None => vigil_tls::ClientAuth::None,
        ClientAuthMode::Optional => vigil_tls::ClientAuth::Optional,
        ClientAuthMode::Required => vigil_tls::ClientAuth::Required,
    };
    let server = vigil_tls::server_config(&vigil_tls::ServerTls {
        cert,
        key,
        client_ca,
        client_auth,
    })?;
    let clients = tls
        .clients
        .iter()
        .map(origin_of)
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(TlsOptions {
        config: server,
        handshake_timeout: tls.handshake_timeout.0,
        clients,
    })
}

pub(crate) fn node_name(config: &ServerConfig) -> String {
    config
        .node_name
        .clone()
        .or_else(crate::certs::machine_name)
        .unwrap_or_else(|| "vigil".into())
}

/// A syslog stream listener (TCP or TLS), bound now.
fn stream_source(
    name: String,
    address: SocketAddr,
    limits: &vigil_config::TcpLimits,
    options: StreamOptions,
    stamper: &Arc<Stamper>,
    metrics: &Metrics,
) -> anyhow::Result<(String, SocketAddr, Box<dyn Source>)> {
    let source = SyslogTcpSource::bind(
        &name,
        address,
        limits.clone(),
        options,
        stamper.clone(),
        metrics,
    )?;
    Ok((name, source.local_addr()?, Box::new(source)))
}

/// Who may send over a channel listener, and how their events are stamped.
struct RelayAdmission {
    /// The allow-list: identity → tenant (and level). Empty: any client of the CA.
    clients: Vec<(String, Origin)>,
    stamper: Arc<Stamper>,
    listener: Arc<str>,
    /// Lines relayed undecoded (an agent's syslog) and decoded here, and those of them that
    /// did not parse as syslog.
    decoded: vigil_pipeline::Counter,
    parse_fallbacks: vigil_pipeline::Counter,
}

impl RelayAdmission {
    fn origin(&self, identities: &[String]) -> Option<&Origin> {
        self.clients
            .iter()
            .find(|(identity, _)| identities.contains(identity))
            .map(|(_, origin)| origin)
    }
}

impl Admission for RelayAdmission {
    fn admit(&self, identities: &[String]) -> Result<(), String> {
        if self.clients.is_empty() || self.origin(identities).is_some() {
            Ok(())
        } else {
            Err("its certificate names no allowed client".into())
        }
    }

    fn stamp(&self, peer: &Peer, event: &mut vigil_event::Event) {
        if self.stamper.decode_relayed(event) {
            self.decoded.inc();
            if event.flags.contains(vigil_event::EventFlags::UNPARSED) {
                self.parse_fallbacks.inc();
            }
        }
        self.stamper.stamp_relayed(
            event,
            self.origin(&peer.identities),
            &self.listener,
            &peer.node,
        );
    }
}

/// The store's delivery ledger, as the channel sees it.
struct StoreLedger(Arc<DeliveryLedger>);

impl Ledger for StoreLedger {
    fn held(&self, stream: &[u8; 16]) -> u64 {
        self.0.held(stream)
    }
}

impl ReceiverLedger for StoreLedger {
    fn archived(&self, id: &vigil_event::EventId) -> bool {
        self.0.recovered(id)
    }
}

/// A channel listener, bound now.
async fn channel_source(
    name: String,
    address: SocketAddr,
    (tls, max_connections, idle_timeout): (&ChannelTlsConfig, usize, std::time::Duration),
    certificates: &mut Certificates,
    (stamper, ledger, node): (&Arc<Stamper>, &Arc<DeliveryLedger>, &str),
    metrics: &Metrics,
) -> anyhow::Result<(String, SocketAddr, Box<dyn Source>)> {
    let (cert, key, local_ca) = certificates.server(&tls.cert, &tls.key)?;
    let client_ca = tls
        .client_ca
        .clone()
        .or(local_ca)
        .context("a channel listener needs client_ca with a configured cert")?;
    let server = vigil_tls::channel_server_config(&cert, &key, &client_ca)?;
    let clients = tls
        .clients
        .iter()
        .map(origin_of)
        .collect::<anyhow::Result<Vec<_>>>()?;
    let labels = [("listener", name.as_str())];
    let admission = RelayAdmission {
        clients,
        stamper: stamper.clone(),
        listener: Arc::from(name.as_str()),
        decoded: metrics.counter(
            "vigil_channel_lines_decoded_total",
            "Syslog lines a relay sent undecoded, decoded by this node.",
            &labels,
        ),
        parse_fallbacks: metrics.counter(
            "vigil_channel_parse_fallbacks_total",
            "Relayed lines that did not parse as syslog and were kept whole as message.",
            &labels,
        ),
    };
    let options = ChannelListenerOptions {
        name: name.clone(),
        tls: server,
        handshake_timeout: tls.handshake_timeout.0,
        max_connections,
        receiver: ReceiverOptions {
            node: node.to_owned(),
            // The hello follows the handshake at once; a sender that dawdles is refused.
            hello_timeout: tls.handshake_timeout.0,
            idle_timeout,
            ..ReceiverOptions::default()
        },
    };
    let source = ChannelSource::bind(
        address,
        options,
        Arc::new(StoreLedger(ledger.clone())),
        Arc::new(admission),
        metrics,
    )
    .await
    .with_context(|| format!("cannot listen on {address} for {name:?}"))?;
    Ok((name, source.local_addr()?, Box::new(source)))
}

fn origin_of(client: &TlsClientConfig) -> anyhow::Result<(String, Origin)> {
    let level = client
        .level
        .map(vigil_event::SecurityLevel::new)
        .transpose()
        .context("client level")?;
    Ok((
        client.identity.clone(),
        Origin {
            tenant: Arc::from(client.tenant.as_str()),
            level,
        },
    ))
}

/// The one registry of stages: each listener config becomes its source here, bound now so that
/// a taken port fails the start.
async fn build_sources(
    config: &ServerConfig,
    certificates: &mut Certificates,
    stamper: &Arc<Stamper>,
    ledger: &Arc<DeliveryLedger>,
    metrics: &Metrics,
) -> anyhow::Result<Vec<(String, SocketAddr, Box<dyn Source>)>> {
    let node = node_name(config);
    let mut sources: Vec<(String, SocketAddr, Box<dyn Source>)> = Vec::new();
    for listener in &config.listeners {
        let name = listener.name().to_owned();
        match listener {
            ListenerConfig::SyslogUdp {
                address,
                max_frame_bytes,
                ..
            } => {
                let source = SyslogUdpSource::bind(
                    &name,
                    *address,
                    *max_frame_bytes,
                    stamper.clone(),
                    metrics,
                )
                .await?;
                sources.push((name, source.local_addr()?, Box::new(source)));
            }
            ListenerConfig::SyslogTcp {
                address,
                limits,
                compression,
                ..
            } => {
                let options = StreamOptions {
                    zlib: *compression == Compression::Zlib,
                    tls: None,
                };
                sources.push(stream_source(
                    name, *address, limits, options, stamper, metrics,
                )?);
            }
            ListenerConfig::SyslogTls {
                address,
                limits,
                compression,
                tls,
                ..
            } => {
                let tls = tls_options(tls, certificates)
                    .with_context(|| format!("listener {name:?}: TLS setup failed"))?;
                let options = StreamOptions {
                    zlib: *compression == Compression::Zlib,
                    tls: Some(tls),
                };
                sources.push(stream_source(
                    name, *address, limits, options, stamper, metrics,
                )?);
            }
            ListenerConfig::Flow {
                address, limits, ..
            } => {
                let source = vigil_collect::flow::FlowSource::bind(
                    &name,
                    *address,
                    vigil_collect::flow::limits(limits),
                    stamper.clone(),
                    metrics,
                )
                .await?;
                sources.push((name, source.local_addr()?, Box::new(source)));
            }
            ListenerConfig::SnmpTrap {
                address,
                communities,
                users,
                ..
            } => {
                let source = vigil_collect::snmp::SnmpTrapSource::bind(
                    &name,
                    *address,
                    vigil_collect::snmp::trap_config(communities, users)?,
                    stamper.clone(),
                    metrics,
                )
                .await?;
                sources.push((name, source.local_addr()?, Box::new(source)));
            }
            ListenerConfig::Channel {
                address,
                tls,
                max_connections,
                idle_timeout,
                ..
            } => {
                sources.push(
                    channel_source(
                        name,
                        *address,
                        (tls, *max_connections, idle_timeout.0),
                        certificates,
                        (stamper, ledger, &node),
                        metrics,
                    )
                    .await?,
                );
            }
        }
    }
    Ok(sources)
}

async fn serve(config: ServerConfig) -> anyhow::Result<()> {
    let data = config.data_dir.clone();
    std::fs::create_dir_all(&data).with_context(|| format!("cannot create {}", data.display()))?;
    let _lock = data_dir::lock(&data)?;
    let leftovers = remove_leftovers(&data)?;
    if leftovers > 0 {
        tracing::info!(
            partitions = leftovers,
            "finished deleting partitions an earlier run had started to delete"
        );
    }
    let (token, token_path) = data_dir::api_token(&data)?;
    tracing::info!(path = %token_path.display(), "API token (send it as `Authorization: Bearer <token>`)");

    let metrics = Metrics::default();
    let catalog = Arc::new(IndexCatalog::open(&data)?);
    let ledger = Arc::new(DeliveryLedger::open(&data)?);
    let ingest =
        Ingest::new(ingest_options(&config), catalog.clone(), &metrics).with_ledger(ledger.clone());
    let durable = ingest.durable();
    let recover_started = std::time::Instant::now();
    // Events that came over a channel may be resent by their sender after a crash.
    let channels: Vec<String> = config
        .listeners
        .iter()
        .filter(|listener| matches!(listener, ListenerConfig::Channel { .. }))
        .map(|listener| listener.name().to_owned())
        .collect();
    let replayed =
        ingest.recover(&|event| channels.iter().any(|name| **name == *event.listener))?;
    tracing::info!(
        events = replayed,
        elapsed_ms = recover_started.elapsed().as_millis() as u64,
        "indexes are up to date with the archive"
    );

    let unmapped = Arc::new(UnmappedSources::new(&metrics));
    let stamper = Arc::new(Stamper::new(
        config.source_map()?,
        &node_name(&config),
        unmapped.clone(),
    ));
    let normalizer = Arc::new(
        Normalizer::new(&config.normalize, &metrics)
            .map_err(|errors| anyhow::anyhow!("{}", errors.join("\n")))?,
    );
    normalizer
        .watch()
        .context("cannot start the mapping watcher")?;
    let rules = vigil_rules::RuleService::open(
        &config.rules.dir,
        Some(&data),
        crate::rules::options(&config),
        &metrics,
    )
    .context("cannot load the rules")?;
    rules.watch().context("cannot start the rules watcher")?;
    tracing::info!(
        dir = %config.rules.dir.display(),
        rules = rules.status_json()["rules"].as_array().map_or(0, Vec::len),
        broken_files = rules.errors().len(),
        "rules loaded"
    );
    let mut certificates = Certificates::new(&config);
    let sources = build_sources(&config, &mut certificates, &stamper, &ledger, &metrics).await?;

    // Everything that can fail at start fails before any listener takes a byte.
    let api_tls = api_tls(&config, &mut certificates)?;
    let scheme = if api_tls.is_some() { "https" } else { "http" };
    let api_listener = tokio::net::TcpListener::bind(config.api.listen)
        .await
        .with_context(|| format!("cannot listen on {} for the API", config.api.listen))?;
    let api_address = api_listener.local_addr()?;

    let (shutdown, signal) = Shutdown::new();
    // listeners → normalizer → rules (threads of their own) → archive and index; uploads join
    // after the normalizer. Alerts ride on as events of the batch that raised them.
    let (batches, raw_input) = batch_channel(PIPELINE_BATCHES);
    let (normalized, rules_input) = batch_channel(PIPELINE_BATCHES);
    let (correlated, batch_input) = batch_channel(PIPELINE_BATCHES);
    let transform = spawn_transform(
        "normalize",
        normalizer.clone(),
        raw_input,
        normalized.clone(),
        &metrics,
    )
    .context("cannot start the normalizer")?;
    let correlator = rules
        .spawn(
            rules_input,
            correlated,
            tokio::runtime::Handle::current(),
            &metrics,
        )
        .context("cannot start the rules")?;
    let sink = tokio::spawn(Box::new(ingest).run(batch_input));
    let (mut listening, running) = start_sources(sources, &batches, &signal);
    drop(batches);

    let state = Arc::new(ApiState {
        searcher: Searcher::new(catalog.clone()),
        metrics: metrics.clone(),
        unmapped,
        audit: AuditLog::open(&data.join(data_dir::AUDIT_FILE))
            .context("cannot open the audit log")?,
        token,
        importer: Some(Arc::new(ServeImporter {
            context: ImportContext::new(&config, normalizer.clone(), stamper.clone()),
            output: normalized,
            max_decompressed_bytes: (config.api.import_max_bytes as u64)
                .saturating_mul(UPLOAD_INFLATION_LIMIT),
            one_at_a_time: std::sync::Mutex::new(()),
        })),
        import_max_bytes: config.api.import_max_bytes,
        rules: Some(rules),
        stopping: signal.clone(),
    });
    let api = tokio::spawn(vigil_api::serve(
        api_listener,
        api_tls,
        vigil_api::router(state),
        signal.clone(),
    ));
    tracing::info!(address = %api_address, %scheme, "listening: API");
    listening.insert("api".into(), api_address.to_string());
    write_listening(&data, &listening)?;

    let forwards = crate::forward::start(
        &config.forward,
        &data,
        &node_name(&config),
        &durable,
        &metrics,
        &signal,
    )
    .await?;
    let janitor = tokio::spawn(janitor(catalog, config.clone(), signal.clone()));
    tracing::info!(data_dir = %data.display(), "vigil is ready");

    wait_for_signal().await;
    tracing::info!("stopping: listeners first, then the archive and index flush");
    shutdown.trigger();
    join_sources(running).await;
    // The API holds a way into the ingest (uploads): it stops before the ingest can drain,
    // within a deadline, so a slow upload cannot hold the node open.
    let mut api = api;
    let api_result = match tokio::time::timeout(API_STOP_DEADLINE, &mut api).await {
        Ok(result) => result,
        Err(_) => {
            tracing::warn!(
                seconds = API_STOP_DEADLINE.as_secs(),
                "API calls still running at the stop deadline are cut; uploads not yet \
                 answered were not acknowledged"
            );
            api.abort();
            match api.await {
                Err(error) if error.is_cancelled() => Ok(Ok(())),
                other => other,
            }
        }
    };
    let joined = tokio::task::spawn_blocking(move || transform.join()).await;
    if !matches!(joined, Ok(Ok(()))) {
        tracing::error!("the normalizer thread panicked");
    }
    let joined = tokio::task::spawn_blocking(move || correlator.join()).await;
    if !matches!(joined, Ok(Ok(()))) {
        tracing::error!("the rules thread panicked");
    }
    sink.await.context("the ingest task panicked")??;
    for forward in forwards {
        if let Err(error) = forward.await {
            tracing::error!(%error, "a forward task panicked");
        }
    }
    api_result.context("the API task panicked")??;
    janitor.abort();
    tracing::info!("stopped; everything received is archived and indexed");
    Ok(())
}

/// The store's ingest settings from the config (`serve` and `import` share them).
pub(crate) fn ingest_options(config: &ServerConfig) -> IngestOptions {
    IngestOptions {
        data_dir: config.data_dir.clone(),
        fsync_interval: config.archive.fsync_interval.0,
        zstd_level: config.archive.zstd_level,
        segment_max_bytes: config.archive.segment_max_bytes,
        commit_interval: config.index.commit_interval.0,
        writer_memory_bytes: config.index.writer_memory_mib * 1024 * 1024,
        writer_threads: config.index.writer_threads,
    }
}

pub(crate) fn write_listening(
    data: &std::path::Path,
    listening: &BTreeMap<String, String>,
) -> anyhow::Result<()> {
    let path = data.join(data_dir::LISTENING_FILE);
    let temporary = data.join(format!("{}.tmp", data_dir::LISTENING_FILE));
    std::fs::write(&temporary, serde_json::to_vec_pretty(listening)?)?;
    std::fs::rename(&temporary, &path)?;
    Ok(())
}

/// Bound sources started, each logged; their addresses by name (for `listening.json`).
pub(crate) fn start_sources(
    sources: Vec<(String, SocketAddr, Box<dyn Source>)>,
    batches: &vigil_pipeline::BatchSender,
    signal: &ShutdownSignal,
) -> (
    BTreeMap<String, String>,
    Vec<tokio::task::JoinHandle<vigil_pipeline::Result<()>>>,
) {
    let mut listening = BTreeMap::new();
    let mut running = Vec::new();
    for (name, address, source) in sources {
        tracing::info!(listener = %name, %address, "listening");
        listening.insert(name, address.to_string());
        running.push(tokio::spawn(source.run(batches.clone(), signal.clone())));
    }
    (listening, running)
}

/// Waits for every source to stop, logging those that failed.
pub(crate) async fn join_sources(
    running: Vec<tokio::task::JoinHandle<vigil_pipeline::Result<()>>>,
) {
    for source in running {
        match source.await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => tracing::error!(%error, "an input failed"),
            Err(error) => tracing::error!(%error, "an input panicked"),
        }
    }
}

pub(crate) async fn wait_for_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut terminate), Ok(mut interrupt)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        tracing::error!("cannot listen for signals; stop with SIGKILL");
        std::future::pending::<()>().await;
        return;
    };
    tokio::select! {
        _ = terminate.recv() => {}
        _ = interrupt.recv() => {}
    }
}

/// Deletes day partitions past their level's period, every `janitor_interval`.
async fn janitor(catalog: Arc<IndexCatalog>, config: ServerConfig, mut signal: ShutdownSignal) {
    let policy = config.retention.policy(&RetentionMinimums::shipped());
    let mut ticker = tokio::time::interval(config.retention.janitor_interval.0);
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            () = signal.wait() => return,
        }
        let catalog = catalog.clone();
        let data = config.data_dir.clone();
        let swept = tokio::task::spawn_blocking(move || -> vigil_store::Result<usize> {
            let partitions = list_partitions(&data)?;
            let deletions = plan_deletions(&partitions, &policy, Timestamp::now().utc_day());
            for deletion in &deletions {
                tracing::info!(partition = %deletion.partition, reason = %deletion.reason, "retention: deleting partition");
                delete_partition(&catalog, &deletion.partition)?;
            }
            Ok(deletions.len())
        })
        .await;
        match swept {
            Ok(Ok(_)) => {}
            Ok(Err(error)) => tracing::error!(%error, "retention janitor failed"),
            Err(error) => tracing::error!(%error, "retention janitor panicked"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::Location;

    fn args(udp: Option<&str>, tls: Option<&str>) -> ServeArgs {
        ServeArgs {
            location: Location {
                config: None,
                data_dir: None,
            },
            syslog_udp: udp.map(|address| address.parse().expect("address")),
            syslog_tcp: None,
            syslog_tls: tls.map(|address| address.parse().expect("address")),
            channel: None,
            netflow: None,
            snmp_trap: None,
            api: None,
        }
    }

    #[test]
    fn a_flag_replaces_its_kinds_address_or_adds_a_listener() {
        let mut config = ServerConfig::default();
        apply_flags(&mut config, &args(None, Some("127.0.0.1:7000")));
        let addresses: Vec<String> = config
            .listeners
            .iter()
            .map(|listener| format!("{} {}", listener.name(), listener.address()))
            .collect();
        assert_eq!(
            addresses,
            [
                "syslog-udp 0.0.0.0:5514",
                "syslog-tcp 0.0.0.0:5514",
                "syslog-tls 127.0.0.1:7000",
                "channel 0.0.0.0:6515",
                "netflow 0.0.0.0:2055",
                "snmp-trap 0.0.0.0:1162",
                "ipfix 0.0.0.0:4739"
            ]
        );

        let mut config = ServerConfig::parse(
            "[[listeners]]\ntype = \"syslog_tcp\"\nname = \"in\"\naddress = \"127.0.0.1:1\"\n",
            "test",
        )
        .expect("config");
        apply_flags(&mut config, &args(Some("127.0.0.1:2"), None));
        assert_eq!(config.listeners.len(), 2);
        assert!(matches!(
            &config.listeners[1],
            ListenerConfig::SyslogUdp { name, address, .. }
                if name == "syslog-udp" && address.port() == 2
        ));
    }
}
