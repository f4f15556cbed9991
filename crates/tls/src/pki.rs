//! A small PKI in one folder: a CA, server certificates and client certificates (ECDSA P-256).
//!
//! Files: `ca.crt`/`ca.key`, `server.crt`/`server.key`, `client-NAME.crt`/`client-NAME.key`.
//! Keys are written `0600`. Nothing is ever overwritten: a file that exists is an error, so a
//! second `certs init` cannot orphan the certificates already handed out.

use std::io::Write;
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};

use crate::TlsError;

pub const CA_CERT: &str = "ca.crt";
pub const CA_KEY: &str = "ca.key";
pub const SERVER_CERT: &str = "server.crt";
pub const SERVER_KEY: &str = "server.key";
/// Default validity of the CA.
pub const CA_DAYS: u32 = 3650;
/// Default validity of server and client certificates.
pub const LEAF_DAYS: u32 = 825;

/// The files of one certificate and its key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Issued {
    pub cert: PathBuf,
    pub key: PathBuf,
    /// SHA-256 of the certificate's DER, as colon-separated hex (what `openssl x509
    /// -fingerprint -sha256` prints).
    pub fingerprint: String,
}

/// The validity window of a new certificate.
#[derive(Clone, Copy, Debug)]
pub struct Validity {
    pub not_before: OffsetDateTime,
    pub not_after: OffsetDateTime,
}

impl Validity {
    /// From an hour ago (clock skew) for `days`.
    pub fn days(days: u32) -> Self {
        let now = OffsetDateTime::now_utc();
        Self {
            not_before: now - Duration::hours(1),
            not_after: now + Duration::days(i64::from(days)),
        }
    }
}

pub fn client_cert_file(name: &str) -> String {
    format!("client-{name}.crt")
}

pub fn client_key_file(name: &str) -> String {
    format!("client-{name}.key")
}

/// SHA-256 of DER bytes as `AB:CD:…`.
pub fn fingerprint(der: &[u8]) -> String {
    Sha256::digest(der)
        .iter()
        .map(|byte| format!("{byte:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

fn params(
    common_name: &str,
    names: &[String],
    validity: Validity,
) -> crate::Result<CertificateParams> {
    let mut params = CertificateParams::new(names.to_vec())?;
    params
        .distinguished_name
        .push(DnType::CommonName, common_name);
    params
        .distinguished_name
        .push(DnType::OrganizationName, "Vigil");
    params.not_before = validity.not_before;
    params.not_after = validity.not_after;
    Ok(params)
}

/// Makes a new CA in `dir` (`ca.crt`, `ca.key`). Its common name is `common_name` plus a tag
/// from its key, so that two installations' CAs never share a name: a client certificate from
/// another Vigil's CA is then refused as from an unknown CA, not as a bad signature.
pub fn create_ca(dir: &Path, common_name: &str, validity: Validity) -> crate::Result<Issued> {
    use rcgen::PublicKeyData;
    let key = KeyPair::generate()?;
    let tag: String = Sha256::digest(key.der_bytes())
        .iter()
        .take(4)
        .map(|byte| format!("{byte:02x}"))
        .collect();
    let mut params = params(&format!("{common_name} {tag}"), &[], validity)?;
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let cert = params.self_signed(&key)?;
    write(
        dir,
        CA_CERT,
        CA_KEY,
        cert.pem(),
        key.serialize_pem(),
        cert.der(),
    )
}

/// The CA of `dir`, ready to sign.
fn load_ca(dir: &Path) -> crate::Result<Issuer<'static, KeyPair>> {
    let read = |name: &str| {
        let path = dir.join(name);
        std::fs::read_to_string(&path).map_err(TlsError::io("read", &path))
    };
    let key = KeyPair::from_pem(&read(CA_KEY)?)?;
    Ok(Issuer::from_ca_cert_pem(&read(CA_CERT)?, key)?)
}

/// A server certificate for `names` (DNS names or IP addresses; the first is the common name),
/// signed by the CA of `dir`.
pub fn issue_server(dir: &Path, names: &[String], validity: Validity) -> crate::Result<Issued> {
    let common_name = names.first().map_or("vigil", String::as_str);
    let mut params = params(common_name, names, validity)?;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    issue(dir, params, SERVER_CERT, SERVER_KEY)
}

/// A client certificate naming `name` (common name and DNS name), signed by the CA of `dir`.
/// `name` is also part of the file names, so it is letters, digits, `.`, `-`, `_` and `@`.
pub fn issue_client(dir: &Path, name: &str, validity: Validity) -> crate::Result<Issued> {
    let usable = !name.is_empty()
        && name.len() <= 64
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '@'));
    if !usable {
        return Err(TlsError::BadName {
            name: name.to_owned(),
        });
    }
    let mut params = params(name, &[name.to_owned()], validity)?;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    issue(dir, params, &client_cert_file(name), &client_key_file(name))
}

fn issue(
    dir: &Path,
    params: CertificateParams,
    cert_file: &str,
    key_file: &str,
) -> crate::Result<Issued> {
    let issuer = load_ca(dir)?;
    let key = KeyPair::generate()?;
    let cert = params.signed_by(&key, &issuer)?;
    write(
        dir,
        cert_file,
        key_file,
        cert.pem(),
        key.serialize_pem(),
        cert.der(),
    )
}

/// Writes a certificate and its key, refusing to replace either, key first and `0600`.
fn write(
    dir: &Path,
    cert_file: &str,
    key_file: &str,
    cert_pem: String,
    key_pem: String,
    der: &[u8],
) -> crate::Result<Issued> {
    std::fs::create_dir_all(dir).map_err(TlsError::io("create", dir))?;
    let cert = dir.join(cert_file);
    let key = dir.join(key_file);
    for path in [&cert, &key] {
        if path.exists() {
            return Err(TlsError::Exists { path: path.clone() });
        }
    }
    write_new(&key, key_pem.as_bytes(), 0o600)?;
    write_new(&cert, cert_pem.as_bytes(), 0o644)?;
    Ok(Issued {
        cert,
        key,
        fingerprint: fingerprint(der),
    })
}

fn write_new(path: &Path, contents: &[u8], mode: u32) -> crate::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .map_err(|source| match source.kind() {
            std::io::ErrorKind::AlreadyExists => TlsError::Exists {
                path: path.to_path_buf(),
            },
            _ => TlsError::Io {
                action: "create",
                path: path.to_path_buf(),
                source,
            },
        })?;
    file.write_all(contents)
        .and_then(|()| file.sync_all())
        .map_err(TlsError::io("write", path))
}

/// The CA and server certificate `vigil serve` uses when none is configured: made in `dir` on
/// first start, reused after. The returned flag says whether they were made now.
pub fn ensure_server(dir: &Path, names: &[String]) -> crate::Result<(Issued, Issued, bool)> {
    let ca_cert = dir.join(CA_CERT);
    let server_cert = dir.join(SERVER_CERT);
    let mut created = false;
    if !ca_cert.exists() {
        create_ca(dir, "Vigil local CA", Validity::days(CA_DAYS))?;
        created = true;
    }
    if !server_cert.exists() {
        issue_server(dir, names, Validity::days(LEAF_DAYS))?;
        created = true;
    }
    let describe = |cert: PathBuf, key: PathBuf| -> crate::Result<Issued> {
        let der = crate::config::load_certs(&cert)?;
        Ok(Issued {
            fingerprint: fingerprint(der[0].as_ref()),
            cert,
            key,
        })
    };
    Ok((
        describe(ca_cert, dir.join(CA_KEY))?,
        describe(server_cert, dir.join(SERVER_KEY))?,
        created,
    ))
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn a_ca_issues_server_and_client_certificates_that_rustls_accepts() {
        let dir = tempfile::tempdir().unwrap();
        let ca = create_ca(dir.path(), "Test CA", Validity::days(10)).unwrap();
        let server = issue_server(
            dir.path(),
            &["localhost".into(), "127.0.0.1".into()],
            Validity::days(10),
        )
        .unwrap();
        let client = issue_client(dir.path(), "agency-a", Validity::days(10)).unwrap();
        let mode = std::fs::metadata(&client.key).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(ca.fingerprint.len(), 32 * 3 - 1);

        crate::server_config(&crate::ServerTls {
            cert: server.cert.clone(),
            key: server.key.clone(),
            client_ca: Some(ca.cert.clone()),
            client_auth: crate::ClientAuth::Required,
        })
        .unwrap();
        crate::client_config(&ca.cert, Some((&client.cert, &client.key))).unwrap();
        let der = crate::config::load_certs(&client.cert).unwrap();
        assert_eq!(crate::identities(&der[0]), ["agency-a", "agency-a"]);
    }

    #[test]
    fn nothing_is_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        create_ca(dir.path(), "A", Validity::days(1)).unwrap();
        let before = std::fs::read(dir.path().join(CA_KEY)).unwrap();
        let error = create_ca(dir.path(), "B", Validity::days(1)).unwrap_err();
        assert!(matches!(error, TlsError::Exists { .. }), "{error}");
        assert_eq!(std::fs::read(dir.path().join(CA_KEY)).unwrap(), before);
    }

    #[test]
    fn ensure_server_makes_once_then_reuses() {
        let dir = tempfile::tempdir().unwrap();
        let names = vec!["localhost".to_string()];
        let (ca, server, created) = ensure_server(dir.path(), &names).unwrap();
        assert!(created);
        let (ca_again, server_again, created_again) = ensure_server(dir.path(), &names).unwrap();
        assert!(!created_again);
        assert_eq!(ca, ca_again);
        assert_eq!(server, server_again);
    }
}
