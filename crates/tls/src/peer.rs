//! What a handshake tells about the peer: the names its certificate carries, and why it failed.

use rustls::pki_types::CertificateDer;
use rustls::{CertificateError, Error};
use x509_parser::extensions::GeneralName;
use x509_parser::prelude::FromDer;

/// The identities a client certificate names: each subject common name, then each DNS name,
/// e-mail address and URI of its subject alternative names. Empty if it does not parse (the
/// handshake has already verified it, so that does not happen with a verified chain).
pub fn identities(cert: &CertificateDer<'_>) -> Vec<String> {
    let Ok((_, parsed)) = x509_parser::certificate::X509Certificate::from_der(cert.as_ref()) else {
        return Vec::new();
    };
    let mut names: Vec<String> = parsed
        .subject()
        .iter_common_name()
        .filter_map(|name| name.as_str().ok().map(str::to_owned))
        .collect();
    if let Ok(Some(san)) = parsed.subject_alternative_name() {
        for name in &san.value.general_names {
            match name {
                GeneralName::DNSName(text)
                | GeneralName::RFC822Name(text)
                | GeneralName::URI(text) => names.push((*text).to_owned()),
                _ => {}
            }
        }
    }
    names
}

/// Every reason [`failure_reason`] gives, plus those a listener adds itself (`timeout`,
/// `identity_not_allowed`); `other` covers the rest.
pub const FAILURE_REASONS: &[&str] = &[
    "certificate_expired",
    "unknown_ca",
    "certificate_revoked",
    "bad_certificate",
    "no_client_certificate",
    "not_tls",
    "incompatible_client",
    "client_alert",
    "closed_during_handshake",
    "timeout",
    "io",
    "identity_not_allowed",
    "other",
];

/// Why a TLS handshake failed, as one of a closed set of reasons (a metrics label).
pub fn failure_reason(error: &std::io::Error) -> &'static str {
    let Some(tls) = error
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<Error>())
    else {
        return match error.kind() {
            std::io::ErrorKind::UnexpectedEof => "closed_during_handshake",
            std::io::ErrorKind::TimedOut => "timeout",
            _ => "io",
        };
    };
    match tls {
        Error::InvalidCertificate(CertificateError::Expired)
        | Error::InvalidCertificate(CertificateError::ExpiredContext { .. })
        | Error::InvalidCertificate(CertificateError::NotValidYet)
        | Error::InvalidCertificate(CertificateError::NotValidYetContext { .. }) => {
            "certificate_expired"
        }
        Error::InvalidCertificate(CertificateError::UnknownIssuer) => "unknown_ca",
        Error::InvalidCertificate(CertificateError::Revoked) => "certificate_revoked",
        Error::InvalidCertificate(_) => "bad_certificate",
        Error::NoCertificatesPresented => "no_client_certificate",
        Error::InvalidMessage(_)
        | Error::InappropriateMessage { .. }
        | Error::InappropriateHandshakeMessage { .. } => "not_tls",
        Error::PeerIncompatible(_) => "incompatible_client",
        Error::AlertReceived(_) => "client_alert",
        _ => "other",
    }
}
