//! The trap receiver: one datagram in, one notification (and, for a v2c inform, the Response to
//! send back) out, after the community or USM checks.

use std::fmt;
use std::net::Ipv4Addr;
use std::ops::Range;

use vigil_event::Timestamp;

use crate::snmp::cache::{BoundedCache, EngineTimes};
use crate::snmp::error::{shown_name, SnmpError};
use crate::snmp::limits::SnmpLimits;
use crate::snmp::message::{
    encode_inform_response, parse_decrypted_scoped_pdu, parse_message, CommunityMessage, Message,
    Pdu, PduType, ScopedPduData, SnmpVersion, StandardPdu, TrapV1Pdu, UsmSecurityParameters,
    V3Message, SECURITY_MODEL_USM,
};
use crate::snmp::oid::{Oid, SNMP_TRAPS, SNMP_TRAP_OID, SYS_UP_TIME};
use crate::snmp::usm::{
    aes128_key, decrypt_aes128_cfb, localize_key, password_to_key, verify_digest, SecurityLevel,
    UsmUser,
};
use crate::snmp::value::{SnmpValue, VarBind};

/// What a trap listener accepts. `Debug` shows how many communities there are, not what they
/// are.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct TrapConfig {
    /// The v1/v2c communities accepted; empty accepts any.
    pub communities: Vec<String>,
    /// The v3 users accepted; a v3 message from anyone else is refused.
    pub users: Vec<UsmUser>,
    pub limits: SnmpLimits,
}

impl fmt::Debug for TrapConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TrapConfig")
            .field("num_communities", &self.communities.len())
            .field("users", &self.users)
            .field("limits", &self.limits)
            .finish()
    }
}

/// The kind of notification.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PduKind {
    /// The SNMPv1 Trap-PDU.
    TrapV1,
    /// SNMPv2-Trap-PDU (v2c or v3).
    TrapV2,
    /// InformRequest-PDU: a trap the sender wants acknowledged.
    Inform,
}

impl PduKind {
    /// As `snmp.pdu` spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            PduKind::TrapV1 => "trap",
            PduKind::TrapV2 => "snmpv2-trap",
            PduKind::Inform => "inform",
        }
    }
}

/// One decoded notification, whatever the version. For v2c and v3 the leading `sysUpTime.0` and
/// `snmpTrapOID.0` varbinds become `uptime` and `trap_oid` and are not repeated in `varbinds`;
/// when a sender leaves them out, those stay `None` and empty.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trap {
    pub version: SnmpVersion,
    pub pdu: PduKind,
    /// v2c and v3.
    pub request_id: Option<i32>,
    /// v3: the USM user.
    pub security_name: Option<String>,
    /// v3.
    pub security_level: Option<SecurityLevel>,
    /// v3: the authoritative (sending) engine.
    pub engine_id: Option<Vec<u8>>,
    /// `snmpTrapOID.0`; for v1, the RFC 3584 §3.1 translation of generic/specific trap.
    pub trap_oid: Oid,
    /// sysUpTime of the sender, in hundredths of a second (v1: the time-stamp).
    pub uptime: Option<u32>,
    /// v1.
    pub enterprise: Option<Oid>,
    /// v1.
    pub agent_address: Option<Ipv4Addr>,
    /// v1.
    pub generic_trap: Option<i64>,
    /// v1.
    pub specific_trap: Option<i64>,
    pub varbinds: Vec<VarBind>,
}

/// An accepted datagram.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Received {
    pub trap: Trap,
    /// For a v2c InformRequest, the Response PDU to send to the sender.
    pub response: Option<Vec<u8>>,
}

/// Decodes and checks trap datagrams; keeps, bounded, what USM needs between them (remote
/// engines' clocks, keys). Sans-IO: the caller passes each datagram and its receive time.
///
/// v3 informs are decoded like traps but not answered: acknowledging one needs this receiver to
/// act as an authoritative engine (its own engine id, boots and time), which it does not.
#[derive(Clone)]
pub struct TrapReceiver {
    communities: Vec<Vec<u8>>,
    users: Vec<UserState>,
    limits: SnmpLimits,
    engine_times: EngineTimes,
    key_derivations: u64,
}

#[derive(Clone)]
struct UserState {
    user: UsmUser,
    /// Ku of the authentication and privacy passwords, derived on first use (1 MiB of hashing
    /// each), never again.
    master_keys: Option<MasterKeys>,
    /// Keys localized to each engine this user's messages authenticated from.
    localized: BoundedCache<LocalizedKeys>,
}

#[derive(Clone)]
struct MasterKeys {
    auth: Vec<u8>,
    privacy: Option<Vec<u8>>,
}

#[derive(Clone)]
struct LocalizedKeys {
    auth: Vec<u8>,
    privacy: Option<[u8; 16]>,
}

impl fmt::Debug for TrapReceiver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TrapReceiver")
            .field("num_communities", &self.communities.len())
            .field(
                "users",
                &self
                    .users
                    .iter()
                    .map(|state| &state.user)
                    .collect::<Vec<_>>(),
            )
            .field("limits", &self.limits)
            .field("known_engines", &self.engine_times.len())
            .field("key_derivations", &self.key_derivations)
            .finish()
    }
}

impl TrapReceiver {
    pub fn new(config: TrapConfig) -> Self {
        let limits = config.limits;
        Self {
            communities: config
                .communities
                .into_iter()
                .map(String::into_bytes)
                .collect(),
            users: config
                .users
                .into_iter()
                .map(|user| UserState {
                    user,
                    master_keys: None,
                    localized: BoundedCache::new(limits.max_engines),
                })
                .collect(),
            engine_times: EngineTimes::new(limits.max_engines),
            limits,
            key_derivations: 0,
        }
    }

    pub fn limits(&self) -> &SnmpLimits {
        &self.limits
    }

    /// How many times a password was turned into a key (1 MiB of hashing each): once per
    /// configured password at most, however many messages arrive.
    pub fn key_derivations(&self) -> u64 {
        self.key_derivations
    }

    /// How many remote engines' clocks are tracked for the time window.
    pub fn known_engines(&self) -> usize {
        self.engine_times.len()
    }

    /// One UDP datagram. `Ok` carries the decoded notification and, for a v2c InformRequest,
    /// the Response PDU to send back (same community, request id and varbinds; error-status 0).
    pub fn receive(&mut self, datagram: &[u8], now: Timestamp) -> Result<Received, SnmpError> {
        let parsed = parse_message(datagram, &self.limits)?;
        match parsed.message {
            Message::Community(message) => {
                self.receive_community(datagram, message, parsed.varbind_list)
            }
            Message::V3(message) => self.receive_v3(datagram, message, parsed.auth_params, now),
        }
    }

    fn receive_community(
        &self,
        datagram: &[u8],
        message: CommunityMessage,
        varbind_list: Option<Range<usize>>,
    ) -> Result<Received, SnmpError> {
        if !self.community_allowed(&message.community) {
            return Err(SnmpError::UnknownCommunity);
        }
        match (message.version, message.pdu) {
            (SnmpVersion::V1, Pdu::TrapV1(pdu)) => Ok(Received {
                trap: v1_trap(pdu),
                response: None,
            }),
            (SnmpVersion::V2c, Pdu::Standard(pdu)) => {
                let kind = notification_kind(pdu.pdu_type)?;
                let response = match kind {
                    PduKind::Inform => {
                        let varbinds = varbind_list
                            .and_then(|range| datagram.get(range))
                            .ok_or(SnmpError::Malformed("varbind list"))?;
                        Some(encode_inform_response(
                            &message.community,
                            pdu.request_id,
                            varbinds,
                        ))
                    }
                    _ => None,
                };
                Ok(Received {
                    trap: v2_trap(SnmpVersion::V2c, kind, pdu),
                    response,
                })
            }
            (_, pdu) => Err(SnmpError::NotANotification {
                pdu: pdu.pdu_type(),
            }),
        }
    }

    /// Every configured community is compared, each in constant time, so that timing tells
    /// nothing about which prefix matched.
    fn community_allowed(&self, community: &[u8]) -> bool {
        if self.communities.is_empty() {
            return true;
        }
        self.communities.iter().fold(false, |found, allowed| {
            found | constant_time_eq(allowed, community)
        })
    }

    fn receive_v3(
        &mut self,
        datagram: &[u8],
        message: V3Message,
        auth_params: Option<Range<usize>>,
        now: Timestamp,
    ) -> Result<Received, SnmpError> {
        if message.security_model != SECURITY_MODEL_USM {
            return Err(SnmpError::UnsupportedSecurityModel {
                model: message.security_model,
            });
        }
        let Some(usm) = message.usm else {
            return Err(SnmpError::Malformed("msgSecurityParameters"));
        };
        let level = SecurityLevel::from_msg_flags(message.flags)?;
        let user_index = self.find_user(&usm)?;
        let user = self
            .users
            .get(user_index)
            .map(|state| &state.user)
            .ok_or(SnmpError::Malformed("user index"))?;
        // RFC 3414 §3.2 step 5: a level the user has the keys for is accepted, a lower one
        // too (as net-snmp's snmptrapd does); which levels to trust is access control's say.
        let supported = match (user.security_level(), level) {
            (None, _) => false,
            (_, SecurityLevel::NoAuthNoPriv) => true,
            (Some(capable), SecurityLevel::AuthNoPriv) => capable != SecurityLevel::NoAuthNoPriv,
            (Some(capable), SecurityLevel::AuthPriv) => capable == SecurityLevel::AuthPriv,
        };
        if !supported {
            return Err(SnmpError::UnsupportedSecurityLevel {
                user: user.name.clone(),
                requested: level,
            });
        }
        let security_name = user.name.clone();
        let scoped_pdu = match (level, message.data) {
            (SecurityLevel::NoAuthNoPriv, ScopedPduData::Plaintext(scoped_pdu)) => scoped_pdu,
            (SecurityLevel::NoAuthNoPriv, ScopedPduData::Encrypted(_)) => {
                return Err(SnmpError::Malformed("encrypted scoped PDU without privacy"))
            }
            (level, data) => {
                let auth_params = auth_params.ok_or(SnmpError::AuthenticationFailed)?;
                let keys = self.authenticate(user_index, datagram, auth_params, &usm)?;
                self.engine_times.check_and_update(
                    &usm.engine_id,
                    usm.engine_boots,
                    usm.engine_time,
                    now,
                )?;
                match (level, data) {
                    (SecurityLevel::AuthPriv, ScopedPduData::Encrypted(mut bytes)) => {
                        let key = keys.privacy.ok_or(SnmpError::DecryptionFailed)?;
                        decrypt_aes128_cfb(
                            &key,
                            usm.engine_boots,
                            usm.engine_time,
                            &usm.priv_params,
                            &mut bytes,
                        )?;
                        parse_decrypted_scoped_pdu(&bytes, &self.limits)?
                    }
                    (SecurityLevel::AuthPriv, ScopedPduData::Plaintext(_)) => {
                        return Err(SnmpError::Malformed("plaintext scoped PDU with privacy"))
                    }
                    (_, ScopedPduData::Plaintext(scoped_pdu)) => scoped_pdu,
                    (_, ScopedPduData::Encrypted(_)) => {
                        return Err(SnmpError::Malformed("encrypted scoped PDU without privacy"))
                    }
                }
            }
        };
        let Pdu::Standard(pdu) = scoped_pdu.pdu else {
            return Err(SnmpError::NotANotification {
                pdu: PduType::TrapV1,
            });
        };
        let kind = notification_kind(pdu.pdu_type)?;
        let mut trap = v2_trap(SnmpVersion::V3, kind, pdu);
        trap.security_name = Some(security_name);
        trap.security_level = Some(level);
        trap.engine_id = Some(usm.engine_id);
        Ok(Received {
            trap,
            response: None,
        })
    }

    /// The user by name, and by engine when the user is tied to one.
    fn find_user(&self, usm: &UsmSecurityParameters) -> Result<usize, SnmpError> {
        self.users
            .iter()
            .position(|state| {
                state.user.name.as_bytes() == usm.user_name.as_slice()
                    && state
                        .user
                        .engine_id
                        .as_deref()
                        .is_none_or(|engine_id| engine_id == usm.engine_id.as_slice())
            })
            .ok_or_else(|| SnmpError::UnknownUser {
                name: shown_name(&usm.user_name),
            })
    }

    /// Verifies the digest with the user's key for the sending engine; once it verifies, that
    /// key is cached (keys for engines that never authenticate are not: they cost one hash to
    /// localize, and caching them would let anyone evict the good ones).
    fn authenticate(
        &mut self,
        user_index: usize,
        datagram: &[u8],
        auth_params: Range<usize>,
        usm: &UsmSecurityParameters,
    ) -> Result<LocalizedKeys, SnmpError> {
        let state = self
            .users
            .get_mut(user_index)
            .ok_or(SnmpError::AuthenticationFailed)?;
        let Some((protocol, auth_password)) = &state.user.auth else {
            return Err(SnmpError::AuthenticationFailed);
        };
        let protocol = *protocol;
        if let Some(keys) = state.localized.get_mut(&usm.engine_id) {
            verify_digest(protocol, &keys.auth, datagram, auth_params)?;
            return Ok(keys.clone());
        }
        let privacy_password = state.user.privacy.as_ref().map(|(_, password)| password);
        let key_derivations = &mut self.key_derivations;
        let master_keys = state.master_keys.get_or_insert_with(|| {
            *key_derivations += 1 + u64::from(privacy_password.is_some());
            MasterKeys {
                auth: password_to_key(protocol, auth_password.as_bytes()),
                privacy: privacy_password
                    .map(|password| password_to_key(protocol, password.as_bytes())),
            }
        });
        let keys = LocalizedKeys {
            auth: localize_key(protocol, &master_keys.auth, &usm.engine_id),
            privacy: master_keys
                .privacy
                .as_ref()
                .and_then(|master| aes128_key(&localize_key(protocol, master, &usm.engine_id))),
        };
        verify_digest(protocol, &keys.auth, datagram, auth_params)?;
        state.localized.insert(usm.engine_id.clone(), keys.clone());
        Ok(keys)
    }
}

fn constant_time_eq(left: &[u8], right: &[u8]) -> bool {
    if left.len() != right.len() {
        return false;
    }
    left.iter()
        .zip(right)
        .fold(0u8, |difference, (a, b)| difference | (a ^ b))
        == 0
}

fn notification_kind(pdu_type: PduType) -> Result<PduKind, SnmpError> {
    match pdu_type {
        PduType::SnmpV2Trap => Ok(PduKind::TrapV2),
        PduType::InformRequest => Ok(PduKind::Inform),
        pdu => Err(SnmpError::NotANotification { pdu }),
    }
}

fn v1_trap(pdu: TrapV1Pdu) -> Trap {
    Trap {
        version: SnmpVersion::V1,
        pdu: PduKind::TrapV1,
        request_id: None,
        security_name: None,
        security_level: None,
        engine_id: None,
        trap_oid: v1_trap_oid(&pdu.enterprise, pdu.generic_trap, pdu.specific_trap),
        uptime: Some(pdu.time_stamp),
        enterprise: Some(pdu.enterprise),
        agent_address: Some(pdu.agent_address),
        generic_trap: Some(i64::from(pdu.generic_trap)),
        specific_trap: Some(i64::from(pdu.specific_trap)),
        varbinds: pdu.varbinds,
    }
}

/// RFC 3584 §3.1: generic traps 0-5 are `snmpTraps.(generic + 1)`; enterpriseSpecific (6, or
/// anything out of range) is `enterprise.0.specific`.
pub fn v1_trap_oid(enterprise: &Oid, generic_trap: i32, specific_trap: i32) -> Oid {
    match u32::try_from(generic_trap) {
        Ok(generic @ 0..=5) => Oid::from_slice(&SNMP_TRAPS).child(&[generic + 1]),
        _ => enterprise.child(&[0, u32::try_from(specific_trap).unwrap_or(0)]),
    }
}

fn v2_trap(version: SnmpVersion, kind: PduKind, pdu: StandardPdu) -> Trap {
    let mut varbinds = pdu.varbinds;
    let mut leading = 0;
    let uptime = match varbinds.first() {
        Some(VarBind {
            oid,
            value: SnmpValue::TimeTicks(ticks),
        }) if is_instance_zero(oid, &SYS_UP_TIME) => {
            leading += 1;
            Some(*ticks)
        }
        _ => None,
    };
    let trap_oid = match varbinds.get(leading) {
        Some(VarBind {
            oid,
            value: SnmpValue::ObjectId(trap_oid),
        }) if is_instance_zero(oid, &SNMP_TRAP_OID) => {
            let trap_oid = trap_oid.clone();
            leading += 1;
            trap_oid
        }
        _ => Oid::default(),
    };
    varbinds.drain(..leading);
    Trap {
        version,
        pdu: kind,
        request_id: Some(pdu.request_id),
        security_name: None,
        security_level: None,
        engine_id: None,
        trap_oid,
        uptime,
        enterprise: None,
        agent_address: None,
        generic_trap: None,
        specific_trap: None,
        varbinds,
    }
}

fn is_instance_zero(oid: &Oid, object: &[u32]) -> bool {
    oid.as_slice().strip_prefix(object) == Some(&[0][..])
}
