//! sshd's connection-level messages: connections opened, closed and refused, disconnects,
//! protocol and negotiation failures, reverse-lookup warnings, and the listener starting and
//! stopping. The fields are those of the parent module's documentation.

use super::super::pam::{put_event, FAILURE};
use super::super::search::Search;
use super::super::Output;
use super::{put_peer, put_user_and_peer};

/// After `Connection `: `closed by …`, `reset by …`, or `from IP port N on IP port N`.
pub(super) fn decode_connection(rest: &str, out: &mut Output) -> bool {
    if let Some(peer) = rest.strip_prefix("closed by ") {
        if !put_user_and_peer(peer, out) {
            return false;
        }
        put_event(
            out,
            "network",
            &["connection", "end"],
            "ssh-connection-closed",
            None,
        );
        return true;
    }
    if let Some(peer) = rest.strip_prefix("reset by ") {
        if !put_user_and_peer(peer, out) {
            return false;
        }
        put_event(
            out,
            "network",
            &["connection", "end"],
            "ssh-connection-reset",
            None,
        );
        return true;
    }
    let Some(rest) = rest.strip_prefix("from ") else {
        return false;
    };
    let Some((source, destination)) = rest.split_once_str(" on ") else {
        return false;
    };
    let destination = destination
        .split_str(" rdomain ")
        .next()
        .unwrap_or(destination);
    let Some((address, port)) = destination.split_once_str(" port ") else {
        return false;
    };
    if !put_peer(source, out)
        || !out.put_ip("destination.ip", address)
        || !out.put_int("destination.port", port)
    {
        return false;
    }
    put_event(
        out,
        "network",
        &["connection", "start"],
        "ssh-connection",
        None,
    );
    true
}

/// After `Received `: `disconnect from IP[ port N]: CODE: TEXT` or `signal N; terminating.`
pub(super) fn decode_received(rest: &str, out: &mut Output) -> bool {
    if let Some(signal) = rest
        .strip_prefix("signal ")
        .and_then(|rest| rest.strip_suffix("; terminating."))
    {
        if !out.put_int("sshd.signal", signal) {
            return false;
        }
        put_event(out, "process", &["end"], "ssh-server-stopped", None);
        return true;
    }
    let Some(rest) = rest.strip_prefix("disconnect from ") else {
        return false;
    };
    // `IP port N:11: text` (OpenSSH ≥ 7.3) or `IP: 11: text` (IPv6 addresses hold ':' too,
    // so the address ends at the first `: ` when there is no port).
    let port_first = match (rest.find_str(" port "), rest.find_str(": ")) {
        (Some(port_at), Some(colon_at)) => port_at < colon_at,
        (Some(_), None) => true,
        (None, _) => false,
    };
    let (peer, rest) = match rest.split_once_str(" port ").filter(|_| port_first) {
        Some((address, rest)) => {
            let Some((port, rest)) = rest.split_once_char(':') else {
                return false;
            };
            if !out.put_int("source.port", port) {
                return false;
            }
            (address, rest)
        }
        None => match rest.split_once_str(": ") {
            Some(split) => split,
            None => return false,
        },
    };
    if !out.put_ip("source.ip", peer) {
        return false;
    }
    let (code, reason) = rest.split_once_char(':').unwrap_or((rest, ""));
    if !out.put_int("sshd.disconnect.code", code) {
        return false;
    }
    out.put_str("sshd.disconnect.reason", reason);
    put_event(
        out,
        "network",
        &["connection", "end"],
        "ssh-disconnect",
        None,
    );
    true
}

/// After `Disconnected `: `from [user X |invalid user X ]IP port N`.
pub(super) fn decode_disconnected(rest: &str, out: &mut Output) -> bool {
    let Some(peer) = rest.strip_prefix("from ") else {
        return false;
    };
    if !put_user_and_peer(peer, out) {
        return false;
    }
    put_event(
        out,
        "network",
        &["connection", "end"],
        "ssh-disconnect",
        None,
    );
    true
}

/// After `Disconnecting:`: `Too many authentication failures for root` (OpenSSH < 7.5), or
/// after `Disconnecting `: `invalid user X IP port N: Too many authentication failures`.
pub(super) fn decode_disconnecting(rest: &str, out: &mut Output) -> bool {
    let reason = match rest.split_once_str(": ") {
        Some((peer, reason)) if !peer.is_empty() => {
            if !put_user_and_peer(peer, out) {
                return false;
            }
            reason
        }
        _ => rest,
    };
    let reason = match reason.split_once_str(" for ") {
        Some((reason, user)) if reason.starts_with("Too many") => {
            out.put_str("user.name", user);
            reason
        }
        _ => reason,
    };
    if reason.is_empty() {
        return false;
    }
    out.put_str("sshd.disconnect.reason", reason);
    if reason.starts_with("Too many authentication failures") {
        put_event(
            out,
            "authentication",
            &["info"],
            "ssh-too-many-auth-failures",
            FAILURE,
        );
    } else {
        put_event(
            out,
            "network",
            &["connection", "end"],
            "ssh-disconnect",
            None,
        );
    }
    true
}

/// After `Did `: `not receive identification string from IP[ port N]`.
pub(super) fn decode_no_identification(rest: &str, out: &mut Output) -> bool {
    let Some(peer) = rest.strip_prefix("not receive identification string from ") else {
        return false;
    };
    if !put_peer(peer, out) {
        return false;
    }
    put_event(
        out,
        "network",
        &["connection"],
        "ssh-no-identification",
        FAILURE,
    );
    true
}

/// After `reverse `: `mapping checking getaddrinfo for HOST [IP] failed[ - POSSIBLE BREAK-IN ATTEMPT!]`.
pub(super) fn decode_reverse_mapping(rest: &str, out: &mut Output) -> bool {
    let Some(rest) = rest.strip_prefix("mapping checking getaddrinfo for ") else {
        return false;
    };
    let Some((host, rest)) = rest.split_once_str(" [") else {
        return false;
    };
    let Some((address, _)) = rest.split_once_char(']') else {
        return false;
    };
    if !out.put_ip("source.ip", address) {
        return false;
    }
    out.put_str("source.domain", host);
    put_event(
        out,
        "network",
        &["info"],
        "ssh-reverse-mapping-failed",
        None,
    );
    true
}

/// After `Address `: `IP maps to HOST, but this does not map back to the address…`.
pub(super) fn decode_address_mismatch(rest: &str, out: &mut Output) -> bool {
    let Some((address, rest)) = rest.split_once_str(" maps to ") else {
        return false;
    };
    let Some((host, _)) = rest.split_once_str(", but this does not map back") else {
        return false;
    };
    if !out.put_ip("source.ip", address) {
        return false;
    }
    out.put_str("source.domain", host);
    put_event(
        out,
        "network",
        &["info"],
        "ssh-reverse-mapping-failed",
        None,
    );
    true
}

/// After `Timeout `: `before authentication for IP port N`.
pub(super) fn decode_timeout(rest: &str, out: &mut Output) -> bool {
    let Some(peer) = rest.strip_prefix("before authentication for ") else {
        return false;
    };
    if !put_peer(peer, out) {
        return false;
    }
    put_event(
        out,
        "network",
        &["connection", "end"],
        "ssh-auth-timeout",
        FAILURE,
    );
    true
}

/// After `Unable `: `to negotiate with IP port N: no matching … found. Their offer: …`.
pub(super) fn decode_unable_to_negotiate(rest: &str, out: &mut Output) -> bool {
    let Some(rest) = rest.strip_prefix("to negotiate with ") else {
        return false;
    };
    let Some((peer, reason)) = rest.split_once_str(": ") else {
        return false;
    };
    if !put_peer(peer, out) {
        return false;
    }
    out.put_str("error.message", reason);
    put_event(
        out,
        "network",
        &["connection"],
        "ssh-negotiation-failed",
        FAILURE,
    );
    true
}

/// After `Bad `: `protocol version identification 'VERSION' from IP port N`.
pub(super) fn decode_bad_version(rest: &str, out: &mut Output) -> bool {
    let Some(rest) = rest.strip_prefix("protocol version identification '") else {
        return false;
    };
    let Some((version, peer)) = rest.rsplit_once_str("' from ") else {
        return false;
    };
    if !put_peer(peer, out) {
        return false;
    }
    out.put_str("user_agent.original", version);
    put_event(
        out,
        "network",
        &["connection"],
        "ssh-bad-protocol-version",
        FAILURE,
    );
    true
}

/// After `Server `: `listening on IP port N[ rdomain X].`
pub(super) fn decode_listening(rest: &str, out: &mut Output) -> bool {
    let Some(rest) = rest.strip_prefix("listening on ") else {
        return false;
    };
    let Some((address, port)) = rest.split_once_str(" port ") else {
        return false;
    };
    let port = port.trim_end_matches('.');
    let port = port.split_char(' ').next().unwrap_or(port);
    if !out.put_ip("server.ip", address) || !out.put_int("server.port", port) {
        return false;
    }
    put_event(out, "process", &["start"], "ssh-server-started", None);
    true
}
