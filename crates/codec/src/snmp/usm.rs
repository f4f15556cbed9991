//! The User-based Security Model's cryptography: users, password-to-key and key localization
//! (RFC 3414 §2.6, A.2), HMAC-SHA digests (RFC 3414 §7, RFC 7860) and AES-128-CFB privacy
//! (RFC 3826).

use std::fmt;
use std::ops::Range;

use aes::Aes128;
use cfb_mode::cipher::{AsyncStreamCipher, KeyIvInit};
use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Digest, Sha224, Sha256, Sha384, Sha512};

use crate::snmp::error::SnmpError;

/// How many bytes of repeated password are hashed into a key (RFC 3414 A.2): 1 MiB, which is
/// why keys are cached rather than derived per message.
pub const PASSWORD_TO_KEY_BYTES: usize = 1_048_576;
/// The AES-128 key and block size.
const AES128_KEY_BYTES: usize = 16;
/// `msgPrivacyParameters` of AES: the 8-byte salt (RFC 3826 §3.1.2.1).
const AES_SALT_BYTES: usize = 8;

/// The authentication protocols: usmHMACSHAAuthProtocol (RFC 3414) and the SHA-2 family of
/// RFC 7860.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AuthProtocol {
    /// HMAC-SHA-96: SHA-1, 12-byte digest.
    Sha1,
    /// usmHMAC128SHA224AuthProtocol: 16-byte digest.
    Sha224,
    /// usmHMAC192SHA256AuthProtocol: 24-byte digest.
    Sha256,
    /// usmHMAC256SHA384AuthProtocol: 32-byte digest.
    Sha384,
    /// usmHMAC384SHA512AuthProtocol: 48-byte digest.
    Sha512,
}

impl AuthProtocol {
    /// The length of `msgAuthenticationParameters`: the HMAC truncated to this.
    pub fn mac_bytes(self) -> usize {
        match self {
            AuthProtocol::Sha1 => 12,
            AuthProtocol::Sha224 => 16,
            AuthProtocol::Sha256 => 24,
            AuthProtocol::Sha384 => 32,
            AuthProtocol::Sha512 => 48,
        }
    }

    /// The length of a (localized) key: the hash's output.
    pub fn key_bytes(self) -> usize {
        match self {
            AuthProtocol::Sha1 => 20,
            AuthProtocol::Sha224 => 28,
            AuthProtocol::Sha256 => 32,
            AuthProtocol::Sha384 => 48,
            AuthProtocol::Sha512 => 64,
        }
    }
}

/// The privacy protocols.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PrivProtocol {
    /// usmAesCfb128Protocol (RFC 3826): AES-128 in CFB mode, IV = boots ‖ time ‖ salt.
    Aes128,
}

/// The security level of a v3 message, from its `msgFlags`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SecurityLevel {
    NoAuthNoPriv,
    AuthNoPriv,
    AuthPriv,
}

impl SecurityLevel {
    /// As RFC 3411 spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            SecurityLevel::NoAuthNoPriv => "noAuthNoPriv",
            SecurityLevel::AuthNoPriv => "authNoPriv",
            SecurityLevel::AuthPriv => "authPriv",
        }
    }

    /// The level `msgFlags` asks for; privacy without authentication is invalid (RFC 3412 §7.2
    /// step 5).
    pub fn from_msg_flags(flags: u8) -> Result<Self, SnmpError> {
        match (flags & 1 != 0, flags & 2 != 0) {
            (false, false) => Ok(SecurityLevel::NoAuthNoPriv),
            (true, false) => Ok(SecurityLevel::AuthNoPriv),
            (true, true) => Ok(SecurityLevel::AuthPriv),
            (false, true) => Err(SnmpError::Malformed(
                "msgFlags: privacy without authentication",
            )),
        }
    }
}

impl fmt::Display for SecurityLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One SNMPv3 user traps are accepted from. `Debug` never shows the passwords.
#[derive(Clone, PartialEq, Eq)]
pub struct UsmUser {
    /// The security name (`msgUserName`).
    pub name: String,
    /// The sending engine's id, when the user is tied to one; `None` accepts any engine, with
    /// keys localized per engine on first use and cached.
    pub engine_id: Option<Vec<u8>>,
    /// Protocol and password; `None` for a noAuthNoPriv user.
    pub auth: Option<(AuthProtocol, String)>,
    /// Protocol and password; needs `auth`. The key is derived with the auth protocol's hash.
    pub privacy: Option<(PrivProtocol, String)>,
}

impl UsmUser {
    /// The level this user's messages must have; `None` when privacy is configured without
    /// authentication, which no message can satisfy.
    pub fn security_level(&self) -> Option<SecurityLevel> {
        match (&self.auth, &self.privacy) {
            (None, None) => Some(SecurityLevel::NoAuthNoPriv),
            (Some(_), None) => Some(SecurityLevel::AuthNoPriv),
            (Some(_), Some(_)) => Some(SecurityLevel::AuthPriv),
            (None, Some(_)) => None,
        }
    }
}

impl fmt::Debug for UsmUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UsmUser")
            .field("name", &self.name)
            .field("engine_id", &self.engine_id.as_deref().map(hex))
            .field("auth", &self.auth.as_ref().map(|(protocol, _)| protocol))
            .field(
                "privacy",
                &self.privacy.as_ref().map(|(protocol, _)| protocol),
            )
            .finish_non_exhaustive()
    }
}

/// Lowercase hex, for engine ids.
pub(crate) fn hex(bytes: &[u8]) -> String {
    let mut text = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        text.push(char::from(b"0123456789abcdef"[usize::from(byte >> 4)]));
        text.push(char::from(b"0123456789abcdef"[usize::from(byte & 0xf)]));
    }
    text
}

/// The master key Ku: the hash of 1 MiB of the password repeated (RFC 3414 A.2.2; RFC 7860 §9
/// with the SHA-2 hashes). An empty password, which no agent accepts (net-snmp wants 8
/// characters), hashes as no bytes rather than looping.
pub fn password_to_key(protocol: AuthProtocol, password: &[u8]) -> Vec<u8> {
    match protocol {
        AuthProtocol::Sha1 => password_to_key_with::<Sha1>(password),
        AuthProtocol::Sha224 => password_to_key_with::<Sha224>(password),
        AuthProtocol::Sha256 => password_to_key_with::<Sha256>(password),
        AuthProtocol::Sha384 => password_to_key_with::<Sha384>(password),
        AuthProtocol::Sha512 => password_to_key_with::<Sha512>(password),
    }
}

fn password_to_key_with<D: Digest>(password: &[u8]) -> Vec<u8> {
    let mut hasher = D::new();
    if !password.is_empty() {
        // The stream is the password repeated; hash it a run of whole passwords at a time.
        let repeats = 4096usize.div_ceil(password.len());
        let run = password.repeat(repeats);
        let mut remaining = PASSWORD_TO_KEY_BYTES;
        while remaining > 0 {
            let take = remaining.min(run.len());
            hasher.update(&run[..take]);
            remaining -= take;
        }
    }
    hasher.finalize().to_vec()
}

/// The localized key Kul = H(Ku ‖ engineID ‖ Ku) (RFC 3414 §2.6).
pub fn localize_key(protocol: AuthProtocol, master_key: &[u8], engine_id: &[u8]) -> Vec<u8> {
    fn with<D: Digest>(master_key: &[u8], engine_id: &[u8]) -> Vec<u8> {
        let mut hasher = D::new();
        hasher.update(master_key);
        hasher.update(engine_id);
        hasher.update(master_key);
        hasher.finalize().to_vec()
    }
    match protocol {
        AuthProtocol::Sha1 => with::<Sha1>(master_key, engine_id),
        AuthProtocol::Sha224 => with::<Sha224>(master_key, engine_id),
        AuthProtocol::Sha256 => with::<Sha256>(master_key, engine_id),
        AuthProtocol::Sha384 => with::<Sha384>(master_key, engine_id),
        AuthProtocol::Sha512 => with::<Sha512>(master_key, engine_id),
    }
}

/// Checks the digest of a whole message (RFC 3414 §6.3.2): the HMAC of the message with
/// `msgAuthenticationParameters` zeroed, truncated, compared in constant time with what was
/// sent there.
pub(crate) fn verify_digest(
    protocol: AuthProtocol,
    key: &[u8],
    message: &[u8],
    auth_params: Range<usize>,
) -> Result<(), SnmpError> {
    let Some(sent) = message.get(auth_params.clone()) else {
        return Err(SnmpError::AuthenticationFailed);
    };
    if sent.len() != protocol.mac_bytes() {
        return Err(SnmpError::AuthenticationFailed);
    }
    let before = message.get(..auth_params.start).unwrap_or_default();
    let after = message.get(auth_params.end..).unwrap_or_default();
    let zeros = [0u8; 48];
    let zeroed = zeros.get(..sent.len()).unwrap_or_default();
    let parts = [before, zeroed, after];
    let verified = match protocol {
        AuthProtocol::Sha1 => verify_with::<Hmac<Sha1>>(key, &parts, sent),
        AuthProtocol::Sha224 => verify_with::<Hmac<Sha224>>(key, &parts, sent),
        AuthProtocol::Sha256 => verify_with::<Hmac<Sha256>>(key, &parts, sent),
        AuthProtocol::Sha384 => verify_with::<Hmac<Sha384>>(key, &parts, sent),
        AuthProtocol::Sha512 => verify_with::<Hmac<Sha512>>(key, &parts, sent),
    };
    if verified {
        Ok(())
    } else {
        Err(SnmpError::AuthenticationFailed)
    }
}

fn verify_with<M: Mac + hmac::digest::KeyInit>(key: &[u8], parts: &[&[u8]], sent: &[u8]) -> bool {
    let Ok(mut mac) = <M as hmac::digest::KeyInit>::new_from_slice(key) else {
        return false;
    };
    for part in parts {
        mac.update(part);
    }
    mac.verify_truncated_left(sent).is_ok()
}

/// The AES-128 key: the first 16 bytes of the privacy password's localized key (RFC 3826
/// §1.2.1; every supported hash gives at least 20).
pub(crate) fn aes128_key(localized_priv_key: &[u8]) -> Option<[u8; AES128_KEY_BYTES]> {
    localized_priv_key.get(..AES128_KEY_BYTES)?.try_into().ok()
}

/// Decrypts an encrypted ScopedPDU in place (RFC 3826 §3.1.4): AES-128-CFB, IV = boots (4
/// bytes) ‖ time (4 bytes) ‖ salt (`msgPrivacyParameters`, 8 bytes).
pub(crate) fn decrypt_aes128_cfb(
    key: &[u8; AES128_KEY_BYTES],
    engine_boots: i32,
    engine_time: i32,
    salt: &[u8],
    data: &mut [u8],
) -> Result<(), SnmpError> {
    let salt: [u8; AES_SALT_BYTES] = salt.try_into().map_err(|_| SnmpError::DecryptionFailed)?;
    let mut iv = [0u8; 16];
    iv[..4].copy_from_slice(&engine_boots.to_be_bytes());
    iv[4..8].copy_from_slice(&engine_time.to_be_bytes());
    iv[8..].copy_from_slice(&salt);
    cfb_mode::Decryptor::<Aes128>::new(key.into(), &iv.into()).decrypt(data);
    Ok(())
}

#[cfg(test)]
pub(crate) fn encrypt_aes128_cfb(
    key: &[u8; AES128_KEY_BYTES],
    engine_boots: i32,
    engine_time: i32,
    salt: &[u8; AES_SALT_BYTES],
    data: &mut [u8],
) {
    let mut iv = [0u8; 16];
    iv[..4].copy_from_slice(&engine_boots.to_be_bytes());
    iv[4..8].copy_from_slice(&engine_time.to_be_bytes());
    iv[8..].copy_from_slice(salt);
    cfb_mode::Encryptor::<Aes128>::new(key.into(), &iv.into()).encrypt(data);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unhex(text: &str) -> Vec<u8> {
        (0..text.len())
            .step_by(2)
            .map(|index| u8::from_str_radix(&text[index..index + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn password_to_key_matches_rfc3414_a_3_2() {
        let master = password_to_key(AuthProtocol::Sha1, b"maplesyrup");
        assert_eq!(hex(&master), "9fb5cc0381497b3793528939ff788d5d79145211");
        let engine_id = unhex("000000000000000000000002");
        let localized = localize_key(AuthProtocol::Sha1, &master, &engine_id);
        assert_eq!(hex(&localized), "6695febc9288e36282235fc7151f128497b38f3f");
    }

    #[test]
    fn password_to_key_repeats_passwords_of_any_length() {
        // A password longer than the 4 KiB run, and one that divides nothing evenly.
        let long = vec![b'x'; 5000];
        let mut expected = Sha1::new();
        expected.update(long.repeat(210).get(..PASSWORD_TO_KEY_BYTES).unwrap());
        assert_eq!(
            password_to_key(AuthProtocol::Sha1, &long),
            expected.finalize().to_vec()
        );
        let odd = b"abcdefg";
        let mut expected = Sha256::new();
        expected.update(
            odd.repeat(PASSWORD_TO_KEY_BYTES / 7 + 1)
                .get(..PASSWORD_TO_KEY_BYTES)
                .unwrap(),
        );
        assert_eq!(
            password_to_key(AuthProtocol::Sha256, odd),
            expected.finalize().to_vec()
        );
        assert_eq!(password_to_key(AuthProtocol::Sha1, b"").len(), 20);
    }

    #[test]
    fn keys_have_the_hash_length() {
        for protocol in [
            AuthProtocol::Sha1,
            AuthProtocol::Sha224,
            AuthProtocol::Sha256,
            AuthProtocol::Sha384,
            AuthProtocol::Sha512,
        ] {
            let master = password_to_key(protocol, b"authpass123");
            assert_eq!(master.len(), protocol.key_bytes());
            assert_eq!(
                localize_key(protocol, &master, b"\x80\0\0\0\x01").len(),
                protocol.key_bytes()
            );
            assert!(protocol.mac_bytes() < protocol.key_bytes());
        }
    }

    #[test]
    fn usm_user_debug_hides_passwords() {
        let user = UsmUser {
            name: "vigil".into(),
            engine_id: Some(vec![0x80, 0, 0, 0, 1]),
            auth: Some((AuthProtocol::Sha256, "authpass123".into())),
            privacy: Some((PrivProtocol::Aes128, "privpass123".into())),
        };
        let debug = format!("{user:?}");
        assert!(!debug.contains("authpass123"), "{debug}");
        assert!(!debug.contains("privpass123"), "{debug}");
        assert!(
            debug.contains("vigil") && debug.contains("Sha256") && debug.contains("8000000001")
        );
    }

    #[test]
    fn security_level_refuses_privacy_without_authentication() {
        assert_eq!(
            SecurityLevel::from_msg_flags(4),
            Ok(SecurityLevel::NoAuthNoPriv)
        );
        assert_eq!(
            SecurityLevel::from_msg_flags(7),
            Ok(SecurityLevel::AuthPriv)
        );
        assert_eq!(
            SecurityLevel::from_msg_flags(2).unwrap_err().kind(),
            "malformed"
        );
    }

    #[test]
    fn aes_cfb_round_trips_with_the_rfc3826_iv() {
        let key = [7u8; 16];
        let mut data = b"a scoped PDU that is not a whole number of blocks".to_vec();
        let original = data.clone();
        encrypt_aes128_cfb(&key, 3, 12_400, &[1, 2, 3, 4, 5, 6, 7, 8], &mut data);
        assert_ne!(data, original);
        decrypt_aes128_cfb(&key, 3, 12_400, &[1, 2, 3, 4, 5, 6, 7, 8], &mut data).unwrap();
        assert_eq!(data, original);
        assert_eq!(
            decrypt_aes128_cfb(&key, 3, 12_400, &[1, 2, 3], &mut data),
            Err(SnmpError::DecryptionFailed)
        );
    }
}
