//! Windows event log records as JSON, from two shippers:
//!
//! - NXLog `im_msvistalog` with `to_json()`: one flat object, system fields (`EventTime`,
//!   `Hostname`, `EventID`, `SourceName`, `Channel`, `EventType`, `RecordNumber`, …) next to the
//!   event's own data (`TargetUserName`, `IpAddress`, `LogonType`, …);
//! - Winlogbeat (7.x and 8.x, ECS): `winlog.event_id`, `winlog.channel`,
//!   `winlog.computer_name`, `winlog.event_data.*` / `winlog.user_data.*`, `event.code`,
//!   `@timestamp`.
//!
//! Every record gets `event.code` (the event id as text), `winlog.channel`,
//! `winlog.provider_name`, `winlog.record_id`, `host.hostname`, the event time, and its event
//! data under `winlog.event_data.<Name>` (`-` placeholders left out). These ids are mapped
//! to ECS categories, actions, outcomes and user/source fields:
//!
//! | id | meaning |
//! | --- | --- |
//! | 4624 / 4625 | logon success / failure (`LogonType`, source address and port, `Status`/`SubStatus` → `winlog.logon.failure.*`) |
//! | 4634 / 4647 | logoff |
//! | 4672 | special privileges assigned to a new logon (an administrator logon) |
//! | 4688 | process created (`process.executable`, `process.command_line`, parent) |
//! | 4720 / 4726 | user account created / deleted (`user.target.*`) |
//! | 4728 / 4732 / 4756 | member added to a security-enabled global / local / universal group |
//! | 4729 / 4733 / 4757 | member removed from such a group |
//! | 4740 | account locked out |
//! | 1102 | audit log cleared |
//! | 7045 | service installed (`service.name`, `file.path` from `ImagePath`) |
//!
//! The mapping applies only to records of the channel those ids belong to (`System` for 7045,
//! `Security` for the others) or of no stated channel: ids are per provider.
//!
//! NXLog's `EventTime` without an offset (its default `YYYY-MM-DD hh:mm:ss` local time) is read
//! as UTC: the record does not say which zone the Windows host is in. Not handled: the XML
//! rendering of events, and the event's free-text `Message`.

use vigil_event::{ToCompactString, Value};

use super::json::{self, get_path, int_of, is_placeholder, text_of};
use super::json_value::{Json, Map};
use super::search::Search;
use super::{prefixed, Output};

/// NXLog fields that describe the record rather than carry the event's data. A `match`, which
/// compiles to a switch on the length and a few compares, where a scan of a list of 36 names ran
/// for every member of every record.
fn is_nxlog_system_field(key: &str) -> bool {
    matches!(
        key,
        "EventTime"
            | "Hostname"
            | "Keywords"
            | "EventType"
            | "SeverityValue"
            | "Severity"
            | "EventID"
            | "SourceName"
            | "ProviderGuid"
            | "Version"
            | "Task"
            | "TaskValue"
            | "OpcodeValue"
            | "RecordNumber"
            | "ActivityID"
            | "ActivityId"
            | "RelatedActivityID"
            | "ProcessID"
            | "ThreadID"
            | "ExecutionProcessID"
            | "ExecutionThreadID"
            | "Channel"
            | "Computer"
            | "Domain"
            | "AccountName"
            | "UserID"
            | "AccountType"
            | "Message"
            | "Category"
            | "Opcode"
            | "Level"
            | "EventReceivedTime"
            | "SourceModuleName"
            | "SourceModuleType"
            | "MessageSourceAddress"
            | "DevType"
    )
}

const EVENT_DATA_PREFIX: &str = "winlog.event_data.";
const USER_DATA_PREFIX: &str = "winlog.user_data.";

/// Which shipper wrote the record: the data lookups differ.
#[derive(Clone, Copy)]
enum Shape<'a> {
    /// NXLog: the data is at the top level.
    Nxlog(&'a Map<'a>),
    /// Winlogbeat: the data is in `winlog.event_data` or `winlog.user_data`.
    Winlogbeat {
        event_data: Option<&'a Map<'a>>,
        user_data: Option<&'a Map<'a>>,
    },
}

impl<'a> Shape<'a> {
    /// The event data member `name`, unless it is missing or a placeholder (`-`, empty).
    fn data(&self, name: &str) -> Option<&'a Json<'a>> {
        let value = match self {
            Shape::Nxlog(root) => root.get(name),
            Shape::Winlogbeat {
                event_data,
                user_data,
            } => event_data
                .and_then(|data| data.get(name))
                .or_else(|| user_data.and_then(|data| data.get(name))),
        }?;
        match value.as_str() {
            Some(text) if is_placeholder(text) => None,
            _ => Some(value),
        }
    }

    fn text(&self, name: &str) -> Option<std::borrow::Cow<'a, str>> {
        self.data(name).and_then(text_of)
    }
}

/// Whether a JSON object is a Windows event record from NXLog or Winlogbeat.
pub(super) fn is_windows_event(root: &Map<'_>) -> bool {
    let nxlog = root.contains_key("EventID")
        && (root.contains_key("SourceName") || root.contains_key("Channel"));
    nxlog
        || get_path(root, &["winlog", "event_id"]).is_some()
        || (get_path(root, &["event", "code"]).is_some()
            && get_path(root, &["winlog", "channel"]).is_some())
}

pub(super) fn decode_object(root: &Map<'_>, out: &mut Output) -> bool {
    let (shape, id) = if root.contains_key("EventID") {
        (Shape::Nxlog(root), root.get("EventID"))
    } else {
        let shape = Shape::Winlogbeat {
            event_data: get_path(root, &["winlog", "event_data"]).and_then(Json::as_object),
            user_data: get_path(root, &["winlog", "user_data"]).and_then(Json::as_object),
        };
        let id = get_path(root, &["winlog", "event_id"]).or(get_path(root, &["event", "code"]));
        (shape, id)
    };
    let Some(id) = id.and_then(int_of).filter(|id| (0..=65535).contains(id)) else {
        return false;
    };
    out.put("event.code", Value::Str(id.to_compact_string()));
    put_record_fields(root, shape, out);
    // Ids are per provider: 1102 of some application is not the Security log's 1102.
    let channel = out.get("winlog.channel").and_then(Value::as_str);
    if channel.is_none_or(|channel| channel.eq_ignore_ascii_case(channel_of(id))) {
        map_event(id, shape, out);
    }
    if outcome_from_keywords(root) == Some("failure") && out.get("event.outcome").is_none() {
        out.put("event.outcome", "failure");
    }
    true
}

/// Channel, provider, record number, host, time, and the event data as fields.
fn put_record_fields(root: &Map<'_>, shape: Shape<'_>, out: &mut Output) {
    match shape {
        Shape::Nxlog(_) => {
            json::put_text_value(out, "winlog.channel", root.get("Channel"));
            json::put_text_value(out, "winlog.provider_name", root.get("SourceName"));
            json::put_int_value(out, "winlog.record_id", root.get("RecordNumber"));
            json::put_text_value(
                out,
                "host.hostname",
                root.get("Hostname").or(root.get("Computer")),
            );
            if let Some(time) = root.get("EventTime").and_then(json::time_value) {
                out.set_timestamp(time);
            }
            for (key, value) in root {
                if out.len() >= json::MAX_FIELDS {
                    break;
                }
                let is_data = !is_nxlog_system_field(key)
                    && !matches!(value, Json::Object(_) | Json::Array(_))
                    && !value.as_str().is_some_and(is_placeholder);
                if is_data && !key.is_empty() {
                    json::put_value(out, prefixed(EVENT_DATA_PREFIX, key), value);
                }
            }
        }
        Shape::Winlogbeat {
            event_data,
            user_data,
        } => {
            let winlog = |key: &str| get_path(root, &["winlog", key]);
            json::put_text_value(out, "winlog.channel", winlog("channel"));
            json::put_text_value(out, "winlog.provider_name", winlog("provider_name"));
            json::put_int_value(out, "winlog.record_id", winlog("record_id"));
            json::put_text_value(
                out,
                "host.hostname",
                winlog("computer_name").or(get_path(root, &["host", "name"])),
            );
            if let Some(time) = root.get("@timestamp").and_then(json::time_value) {
                out.set_timestamp(time);
            }
            if let Some(data) = event_data {
                json::put_members(out, EVENT_DATA_PREFIX, data);
            }
            if let Some(data) = user_data {
                json::put_members(out, USER_DATA_PREFIX, data);
            }
        }
    }
}

/// NXLog `EventType` / Winlogbeat `winlog.keywords` say whether an audit event failed.
fn outcome_from_keywords(root: &Map<'_>) -> Option<&'static str> {
    let failed = match root.get("EventType").and_then(Json::as_str) {
        Some(kind) => kind == "AUDIT_FAILURE",
        None => get_path(root, &["winlog", "keywords"])
            .and_then(Json::as_array)?
            .iter()
            .any(|keyword| keyword.as_str() == Some("Audit Failure")),
    };
    failed.then_some("failure")
}

/// What one event id means, in ECS terms.
struct Meaning {
    category: &'static str,
    types: &'static [&'static str],
    action: &'static str,
    outcome: &'static str,
}

const fn meaning(
    category: &'static str,
    types: &'static [&'static str],
    action: &'static str,
    outcome: &'static str,
) -> Meaning {
    Meaning {
        category,
        types,
        action,
        outcome,
    }
}

fn meaning_of(id: i64) -> Option<Meaning> {
    const SUCCESS: &str = "success";
    Some(match id {
        4624 => meaning("authentication", &["start"], "logged-in", SUCCESS),
        4625 => meaning("authentication", &["start"], "logon-failed", "failure"),
        4634 | 4647 => meaning("authentication", &["end"], "logged-out", SUCCESS),
        4672 => meaning("iam", &["admin"], "logged-in-special", SUCCESS),
        4688 => meaning("process", &["start"], "created-process", SUCCESS),
        4720 => meaning("iam", &["user", "creation"], "added-user-account", SUCCESS),
        4726 => meaning(
            "iam",
            &["user", "deletion"],
            "deleted-user-account",
            SUCCESS,
        ),
        4728 | 4732 | 4756 => meaning(
            "iam",
            &["group", "change"],
            "added-member-to-group",
            SUCCESS,
        ),
        4729 | 4733 | 4757 => meaning(
            "iam",
            &["group", "change"],
            "removed-member-from-group",
            SUCCESS,
        ),
        4740 => meaning(
            "iam",
            &["user", "change"],
            "locked-out-user-account",
            SUCCESS,
        ),
        1102 => meaning("iam", &["admin", "change"], "audit-log-cleared", SUCCESS),
        7045 => meaning("configuration", &["creation"], "service-installed", SUCCESS),
        _ => return None,
    })
}

/// The channel the mapped ids are written to.
fn channel_of(id: i64) -> &'static str {
    match id {
        7045 => "System",
        _ => "Security",
    }
}

fn map_event(id: i64, shape: Shape<'_>, out: &mut Output) {
    let Some(meaning) = meaning_of(id) else {
        return;
    };
    out.put("event.category", meaning.category);
    let types: Value = match meaning.types {
        [single] => Value::from(*single),
        several => Value::List(several.iter().map(|kind| Value::from(*kind)).collect()),
    };
    out.put("event.type", types);
    out.put("event.action", meaning.action);
    out.put("event.outcome", meaning.outcome);
    match id {
        4624 | 4625 => {
            put_user(out, shape, "Target", "user");
            put_logon(out, shape);
            if id == 4625 {
                put_failure(out, shape);
            }
        }
        4634 | 4647 => {
            put_user(out, shape, "Target", "user");
            put_logon_type(out, shape);
        }
        4672 | 1102 => put_user(out, shape, "Subject", "user"),
        4688 => {
            put_user(out, shape, "Subject", "user");
            put_process(out, shape);
        }
        4720 | 4726 | 4740 => {
            put_user(out, shape, "Subject", "user");
            put_target_account(out, shape);
        }
        4728 | 4732 | 4756 | 4729 | 4733 | 4757 => {
            put_user(out, shape, "Subject", "user");
            put_group_change(out, shape);
        }
        7045 => put_service(out, shape),
        _ => {}
    }
}

/// `<role>UserName` / `<role>DomainName` / `<role>UserSid` as `<prefix>.name` / `.domain` / `.id`.
fn put_user(out: &mut Output, shape: Shape<'_>, role: &str, prefix: &'static str) {
    let name_field = [prefix, ".name"].concat();
    if let Some(name) = shape.text(&format!("{role}UserName")) {
        out.put_str(name_field, &name);
    }
    if let Some(domain) = shape.text(&format!("{role}DomainName")) {
        out.put_str([prefix, ".domain"].concat(), &domain);
    }
    if let Some(sid) = shape.text(&format!("{role}UserSid")) {
        out.put_str([prefix, ".id"].concat(), &sid);
    }
}

/// The account an administrator acted on (4720, 4726, 4740): `Target*` fields.
fn put_target_account(out: &mut Output, shape: Shape<'_>) {
    if let Some(name) = shape.text("TargetUserName") {
        out.put_str("user.target.name", &name);
    }
    if let Some(domain) = shape.text("TargetDomainName") {
        out.put_str("user.target.domain", &domain);
    }
    if let Some(sid) = shape.text("TargetSid") {
        out.put_str("user.target.id", &sid);
    }
}

/// Group membership changes: the group is `Target*`, the member `MemberName` (an LDAP DN, or
/// `-` for local accounts) and `MemberSid`.
fn put_group_change(out: &mut Output, shape: Shape<'_>) {
    if let Some(group) = shape.text("TargetUserName") {
        out.put_str("group.name", &group);
    }
    if let Some(domain) = shape.text("TargetDomainName") {
        out.put_str("group.domain", &domain);
    }
    if let Some(sid) = shape.text("TargetSid") {
        out.put_str("group.id", &sid);
    }
    if let Some(member) = shape.text("MemberName") {
        out.put_str("user.target.name", common_name(&member));
    }
    if let Some(sid) = shape.text("MemberSid") {
        out.put_str("user.target.id", &sid);
    }
}

/// `CN=John Doe,OU=Staff,DC=corp,DC=local` → `John Doe`; anything else as it is.
fn common_name(distinguished: &str) -> &str {
    let Some(rest) = distinguished
        .get(..3)
        .filter(|head| head.eq_ignore_ascii_case("CN="))
        .and_then(|_| distinguished.get(3..))
    else {
        return distinguished;
    };
    // A comma escaped as `\,` belongs to the name.
    let bytes = rest.as_bytes();
    let mut end = rest.len();
    let mut index = 0;
    while index < bytes.len() {
        match bytes[index] {
            b'\\' => index += 2,
            b',' => {
                end = index;
                break;
            }
            _ => index += 1,
        }
    }
    rest.get(..end).unwrap_or(rest)
}

/// Logon events: where from, how, and with which process.
fn put_logon(out: &mut Output, shape: Shape<'_>) {
    put_logon_type(out, shape);
    if let Some(address) = shape.text("IpAddress") {
        put_windows_ip(out, "source.ip", &address);
    }
    if let Some(port) = shape
        .data("IpPort")
        .and_then(int_of)
        .filter(|port| *port > 0)
    {
        out.put("source.port", Value::Int(port));
    }
    if let Some(workstation) = shape.text("WorkstationName") {
        out.put_str("source.domain", &workstation);
    }
    if let Some(executable) = shape.text("ProcessName") {
        put_executable(out, "process", &executable);
    }
}

/// Windows writes IPv4 peers of dual-stack sockets as `::ffff:10.0.0.5`: kept as the IPv4.
fn put_windows_ip(out: &mut Output, name: &'static str, text: &str) {
    let text = text.trimmed();
    let mapped = text
        .strip_prefix("::ffff:")
        .filter(|v4| v4.parse::<std::net::Ipv4Addr>().is_ok());
    out.put_ip(name, mapped.unwrap_or(text));
}

/// The numbered logon types of 4624/4625/4634, named as Winlogbeat names them.
fn logon_type_name(logon_type: i64) -> Option<&'static str> {
    Some(match logon_type {
        0 => "System",
        2 => "Interactive",
        3 => "Network",
        4 => "Batch",
        5 => "Service",
        7 => "Unlock",
        8 => "NetworkCleartext",
        9 => "NewCredentials",
        10 => "RemoteInteractive",
        11 => "CachedInteractive",
        12 => "CachedRemoteInteractive",
        13 => "CachedUnlock",
        _ => return None,
    })
}

fn put_logon_type(out: &mut Output, shape: Shape<'_>) {
    if let Some(name) = shape
        .data("LogonType")
        .and_then(int_of)
        .and_then(logon_type_name)
    {
        out.put("winlog.logon.type", name);
    }
}

/// NTSTATUS codes of failed logons (4625 `Status`/`SubStatus`), as Microsoft documents them.
fn logon_failure_reason(status: &str) -> Option<&'static str> {
    Some(match status.to_ascii_lowercase().as_str() {
        "0xc000005e" => "There are currently no logon servers available to service the logon request.",
        "0xc0000064" => "User logon with misspelled or bad user account",
        "0xc000006a" => "User logon with misspelled or bad password",
        "0xc000006d" => "This is either due to a bad username or authentication information",
        "0xc000006e" => "Unknown user name or bad password.",
        "0xc000006f" => "User logon outside authorized hours",
        "0xc0000070" => "User logon from unauthorized workstation",
        "0xc0000071" => "User logon with expired password",
        "0xc0000072" => "User logon to account disabled by administrator",
        "0xc00000dc" => "Indicates the Sam Server was in the wrong state to perform the desired operation.",
        "0xc0000133" => "Clocks between DC and other computer too far out of sync",
        "0xc000015b" => "The user has not been granted the requested logon type (aka logon right) at this machine",
        "0xc000018c" => "The logon request failed because the trust relationship between the primary domain and the trusted domain failed.",
        "0xc0000192" => "An attempt was made to logon, but the Netlogon service was not started.",
        "0xc0000193" => "User logon with expired account",
        "0xc0000224" => "User is required to change password at next logon",
        "0xc0000225" => "Evidently a bug in Windows and not a risk",
        "0xc0000234" => "User logon with account locked",
        "0xc00002ee" => "Failure Reason: An Error occurred during Logon",
        "0xc0000413" => "Logon Failure: The machine you are logging onto is protected by an authentication firewall. The specified account is not allowed to authenticate to the machine.",
        _ => return None,
    })
}

fn put_failure(out: &mut Output, shape: Shape<'_>) {
    let status = shape.text("Status");
    let sub_status = shape.text("SubStatus").filter(|code| code != "0x0");
    if let Some(reason) = status.as_deref().and_then(logon_failure_reason) {
        out.put("winlog.logon.failure.status", reason);
    }
    if let Some(reason) = sub_status.as_deref().and_then(logon_failure_reason) {
        out.put("winlog.logon.failure.sub_status", reason);
    }
    if let Some(code) = sub_status.or(status) {
        out.put_str("error.code", &code);
    }
}

/// 4688: the new process and its parent.
fn put_process(out: &mut Output, shape: Shape<'_>) {
    if let Some(executable) = shape.text("NewProcessName") {
        put_executable(out, "process", &executable);
    }
    if let Some(pid) = shape.text("NewProcessId").and_then(|pid| windows_pid(&pid)) {
        out.put("process.pid", Value::Int(pid));
    }
    if let Some(command_line) = shape.text("CommandLine") {
        out.put_str("process.command_line", &command_line);
    }
    if let Some(parent) = shape.text("ParentProcessName") {
        put_executable(out, "process.parent", &parent);
    }
    if let Some(pid) = shape.text("ProcessId").and_then(|pid| windows_pid(&pid)) {
        out.put("process.parent.pid", Value::Int(pid));
    }
}

/// Security events write process ids in hexadecimal (`0x1a2c`).
fn windows_pid(text: &str) -> Option<i64> {
    let text = text.trimmed();
    match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) => i64::from_str_radix(hex, 16).ok(),
        None => text.parse().ok(),
    }
}

/// `<prefix>.executable` and `<prefix>.name` (the file name after the last `\`).
fn put_executable(out: &mut Output, prefix: &'static str, path: &str) {
    out.put_str([prefix, ".executable"].concat(), path);
    let name = path.rsplit(['\\', '/']).next().unwrap_or(path);
    out.put_str([prefix, ".name"].concat(), name);
}

/// 7045: the installed service and the file it runs.
fn put_service(out: &mut Output, shape: Shape<'_>) {
    if let Some(name) = shape.text("ServiceName") {
        out.put_str("service.name", &name);
    }
    if let Some(kind) = shape.text("ServiceType") {
        out.put_str("service.type", &kind);
    }
    if let Some(path) = shape.text("ImagePath") {
        out.put_str("file.path", &path);
    }
}

#[cfg(test)]
#[path = "windows_tests.rs"]
mod tests;
