//! rustls configs from PEM files, with the ring provider and TLS 1.2 and 1.3 only.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::RootCertStore;

use crate::TlsError;

/// Whether a listener asks clients for a certificate.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ClientAuth {
    /// No client certificate is asked for.
    #[default]
    None,
    /// Asked for; a client without one is accepted, a client with a bad one is refused.
    Optional,
    /// A client without a valid certificate from the client CA is refused.
    Required,
}

/// What a TLS server needs: its chain and key, and how it checks clients.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerTls {
    pub cert: PathBuf,
    pub key: PathBuf,
    /// CA bundle that client certificates must chain to. Needed unless `client_auth` is `None`.
    pub client_ca: Option<PathBuf>,
    pub client_auth: ClientAuth,
}

pub(crate) fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

const VERSIONS: &[&rustls::SupportedProtocolVersion] =
    &[&rustls::version::TLS13, &rustls::version::TLS12];

/// The certificates of a PEM file, in order; at least one.
pub fn load_certs(path: &Path) -> crate::Result<Vec<CertificateDer<'static>>> {
    let pem_error = |message: String| TlsError::Pem {
        path: path.to_path_buf(),
        message,
    };
    let bytes = std::fs::read(path).map_err(TlsError::io("read", path))?;
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| pem_error(format!("not a PEM certificate file: {error}")))?;
    if certs.is_empty() {
        return Err(pem_error("holds no certificate".into()));
    }
    Ok(certs)
}

/// The private key of a PEM file (PKCS#8, PKCS#1 or SEC1).
pub fn load_key(path: &Path) -> crate::Result<PrivateKeyDer<'static>> {
    let bytes = std::fs::read(path).map_err(TlsError::io("read", path))?;
    PrivateKeyDer::from_pem_slice(&bytes).map_err(|error| TlsError::Pem {
        path: path.to_path_buf(),
        message: format!("no usable private key: {error}"),
    })
}

fn roots(path: &Path) -> crate::Result<RootCertStore> {
    let mut roots = RootCertStore::empty();
    for cert in load_certs(path)? {
        roots.add(cert).map_err(|error| TlsError::Pem {
            path: path.to_path_buf(),
            message: format!("not a usable CA certificate: {error}"),
        })?;
    }
    Ok(roots)
}

/// A server config: TLS 1.2 and 1.3, the given chain, and client certificates as asked.
pub fn server_config(tls: &ServerTls) -> crate::Result<Arc<rustls::ServerConfig>> {
    build_server(tls, VERSIONS)
}

/// The Vigil channel's receiving side: TLS 1.3 only, and a client certificate from `client_ca`
/// required.
pub fn channel_server_config(
    cert: &Path,
    key: &Path,
    client_ca: &Path,
) -> crate::Result<Arc<rustls::ServerConfig>> {
    let tls = ServerTls {
        cert: cert.to_path_buf(),
        key: key.to_path_buf(),
        client_ca: Some(client_ca.to_path_buf()),
        client_auth: ClientAuth::Required,
    };
    build_server(&tls, &[&rustls::version::TLS13])
}

/// The Vigil channel's sending side: TLS 1.3 only, trusting `ca`, presenting its certificate.
pub fn channel_client_config(
    ca: &Path,
    cert: &Path,
    key: &Path,
) -> crate::Result<Arc<rustls::ClientConfig>> {
    build_client(ca, Some((cert, key)), &[&rustls::version::TLS13])
}

fn build_server(
    tls: &ServerTls,
    versions: &[&'static rustls::SupportedProtocolVersion],
) -> crate::Result<Arc<rustls::ServerConfig>> {
    let provider = provider();
    let verifier = match (tls.client_auth, &tls.client_ca) {
        (ClientAuth::None, _) => WebPkiClientVerifier::no_client_auth(),
        (_, None) => {
            return Err(TlsError::Pem {
                path: tls.cert.clone(),
                message: "client certificates are asked for, but no client CA is configured".into(),
            })
        }
        (auth, Some(ca)) => {
            let builder =
                WebPkiClientVerifier::builder_with_provider(Arc::new(roots(ca)?), provider.clone());
            if auth == ClientAuth::Optional {
                builder.allow_unauthenticated().build()?
            } else {
                builder.build()?
            }
        }
    };
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)?
        .with_client_cert_verifier(verifier)
        .with_single_cert(load_certs(&tls.cert)?, load_key(&tls.key)?)?;
    // No TLS 1.3 session tickets: senders hold long connections, so resumption gains nothing,
    // and a sender that only writes never reads the tickets; closing its socket with them unread
    // makes its kernel send a reset, and the reset throws away whatever the server had not yet
    // read. Measured: 2.6 MB of the last writes of a loadgen connection lost that way.
    config.send_tls13_tickets = 0;
    Ok(Arc::new(config))
}

/// A client config that trusts `ca` only, presenting `identity` (certificate, key) if given.
pub fn client_config(
    ca: &Path,
    identity: Option<(&Path, &Path)>,
) -> crate::Result<Arc<rustls::ClientConfig>> {
    build_client(ca, identity, VERSIONS)
}

fn build_client(
    ca: &Path,
    identity: Option<(&Path, &Path)>,
    versions: &[&'static rustls::SupportedProtocolVersion],
) -> crate::Result<Arc<rustls::ClientConfig>> {
    let builder = rustls::ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(versions)?
        .with_root_certificates(roots(ca)?);
    let config = match identity {
        Some((cert, key)) => builder.with_client_auth_cert(load_certs(cert)?, load_key(key)?)?,
        None => builder.with_no_client_auth(),
    };
    Ok(Arc::new(config))
}
