//! Fixtures: NXLog `im_msvistalog` + `to_json()` records (field set and order as NXLog writes
//! them, from public NXLog samples: the 4625 and 4732 records of a public SIEM test-data
//! generator, the 4769 record of a public normalizer's tests), and Winlogbeat records (the
//! 1102 record of elastic/beats `x-pack/winlogbeat/module/security/test/testdata`, and
//! Winlogbeat 8 output of the same shape for the others).

use super::*;
use crate::body::test_support::{int, list, text, time};
use crate::body::{Input, Output};

fn windows(line: &str) -> Option<Output> {
    crate::body::test_support::recognised(super::super::json::decode, line)
}

const NXLOG_4625: &str = r#"{"EventTime":"2019-10-18 09:31:59","Hostname":"DC01.corp.example.com","Keywords":-9218868437227405312,"EventType":"AUDIT_FAILURE","SeverityValue":4,"Severity":"ERROR","EventID":4625,"SourceName":"Microsoft-Windows-Security-Auditing","ProviderGuid":"{54849625-5478-4994-A5BA-3E3B0328C30D}","Version":0,"Task":12544,"OpcodeValue":0,"RecordNumber":2341244,"ProcessID":576,"ThreadID":2424,"Channel":"Security","Message":"An account failed to log on.","Category":"Logon","Opcode":"Info","SubjectUserSid":"S-1-0-0","SubjectUserName":"-","SubjectDomainName":"-","SubjectLogonId":"0x0","TargetUserSid":"S-1-0-0","TargetUserName":"administrator","TargetDomainName":"CORP","Status":"0xc000006d","FailureReason":"%%2313","SubStatus":"0xc000006a","LogonType":"3","LogonProcessName":"NtLmSsp ","AuthenticationPackageName":"NTLM","WorkstationName":"KALI","TransmittedServices":"-","LmPackageName":"-","KeyLength":"0","ProcessId":"0x0","ProcessName":"-","IpAddress":"203.0.113.77","IpPort":"51234","EventReceivedTime":"2019-10-18 09:32:00","SourceModuleName":"eventlog","SourceModuleType":"im_msvistalog"}"#;

#[test]
fn nxlog_4625_logon_failure() {
    let out = windows(NXLOG_4625).unwrap();
    assert_eq!(text(&out, "event.code"), Some("4625"));
    assert_eq!(text(&out, "event.category"), Some("authentication"));
    assert_eq!(text(&out, "event.type"), Some("start"));
    assert_eq!(text(&out, "event.action"), Some("logon-failed"));
    assert_eq!(text(&out, "event.outcome"), Some("failure"));
    assert_eq!(text(&out, "user.name"), Some("administrator"));
    assert_eq!(text(&out, "user.domain"), Some("CORP"));
    assert_eq!(text(&out, "user.id"), Some("S-1-0-0"));
    assert_eq!(text(&out, "source.ip"), Some("203.0.113.77"));
    assert_eq!(int(&out, "source.port"), Some(51234));
    assert_eq!(text(&out, "source.domain"), Some("KALI"));
    assert_eq!(text(&out, "winlog.logon.type"), Some("Network"));
    assert_eq!(
        text(&out, "winlog.logon.failure.status"),
        Some("This is either due to a bad username or authentication information")
    );
    assert_eq!(
        text(&out, "winlog.logon.failure.sub_status"),
        Some("User logon with misspelled or bad password")
    );
    assert_eq!(text(&out, "error.code"), Some("0xc000006a"));
    assert_eq!(text(&out, "host.hostname"), Some("DC01.corp.example.com"));
    assert_eq!(text(&out, "winlog.channel"), Some("Security"));
    assert_eq!(
        text(&out, "winlog.provider_name"),
        Some("Microsoft-Windows-Security-Auditing")
    );
    assert_eq!(int(&out, "winlog.record_id"), Some(2341244));
    assert_eq!(time(&out), Some("2019-10-18T09:31:59Z".to_owned()));
    assert_eq!(text(&out, "winlog.event_data.LogonType"), Some("3"));
    assert_eq!(text(&out, "winlog.event_data.Status"), Some("0xc000006d"));
    // Placeholders and system fields are not event data.
    assert_eq!(out.get("winlog.event_data.SubjectUserName"), None);
    assert_eq!(out.get("winlog.event_data.EventReceivedTime"), None);
    assert_eq!(out.get("winlog.event_data.Hostname"), None);
    // `ProcessName` is `-`: no process.
    assert_eq!(out.get("process.executable"), None);
}

#[test]
fn nxlog_4624_logon_success() {
    let line = r#"{"EventTime":"2021-03-31T12:03:46.974060+03:00","Hostname":"ws17.corp.example.com","Keywords":"9232379236109516800","EventType":"AUDIT_SUCCESS","SeverityValue":2,"Severity":"INFO","EventID":4624,"SourceName":"Microsoft-Windows-Security-Auditing","ProviderGuid":"54849625-5478-4994-A5BA-3E3B0328C30D","Version":2,"TaskValue":12544,"OpcodeValue":0,"RecordNumber":152410252,"ExecutionProcessID":596,"ExecutionThreadID":1748,"Channel":"Security","Category":"Logon","Opcode":"Info","SubjectUserSid":"S-1-5-18","SubjectUserName":"WS17$","SubjectDomainName":"CORP","SubjectLogonId":"0x3e7","TargetUserSid":"S-1-5-21-3641220510-1468267075-587743419-11657","TargetUserName":"jdoe","TargetDomainName":"CORP","TargetLogonId":"0x8f2a4c1","LogonType":"10","LogonProcessName":"User32 ","AuthenticationPackageName":"Negotiate","WorkstationName":"WS17","LogonGuid":"{00000000-0000-0000-0000-000000000000}","TransmittedServices":"-","LmPackageName":"-","KeyLength":"0","ProcessId":"0x1c4","ProcessName":"C:\\Windows\\System32\\svchost.exe","IpAddress":"::ffff:10.22.23.24","IpPort":"0","ImpersonationLevel":"%%1833","EventReceivedTime":"2021-03-31T12:03:56.514071+03:00","SourceModuleName":"in","SourceModuleType":"im_msvistalog"}"#;
    let out = windows(line).unwrap();
    assert_eq!(text(&out, "event.action"), Some("logged-in"));
    assert_eq!(text(&out, "event.outcome"), Some("success"));
    assert_eq!(text(&out, "user.name"), Some("jdoe"));
    assert_eq!(
        text(&out, "user.id"),
        Some("S-1-5-21-3641220510-1468267075-587743419-11657")
    );
    assert_eq!(text(&out, "winlog.logon.type"), Some("RemoteInteractive"));
    assert_eq!(text(&out, "source.ip"), Some("10.22.23.24"));
    assert_eq!(out.get("source.port"), None);
    assert_eq!(
        text(&out, "process.executable"),
        Some(r"C:\Windows\System32\svchost.exe")
    );
    assert_eq!(text(&out, "process.name"), Some("svchost.exe"));
    assert_eq!(time(&out), Some("2021-03-31T09:03:46.974060Z".to_owned()));
    assert_eq!(out.get("winlog.event_data.TaskValue"), None);
}

#[test]
fn nxlog_4688_process_created() {
    let line = r#"{"EventTime":"2022-06-14 16:02:11","Hostname":"WS01","Keywords":-9214364837600034816,"EventType":"AUDIT_SUCCESS","SeverityValue":2,"Severity":"INFO","EventID":4688,"SourceName":"Microsoft-Windows-Security-Auditing","ProviderGuid":"{54849625-5478-4994-A5BA-3E3B0328C30D}","Version":2,"Task":13312,"OpcodeValue":0,"RecordNumber":88123,"ProcessID":4,"ThreadID":9460,"Channel":"Security","Message":"A new process has been created.","Category":"Process Creation","Opcode":"Info","SubjectUserSid":"S-1-5-21-1377283216-344919071-3415362939-1104","SubjectUserName":"alice","SubjectDomainName":"CORP","SubjectLogonId":"0x3a4f1","NewProcessId":"0x1a2c","NewProcessName":"C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe","TokenElevationType":"%%1936","ProcessId":"0x2f8","CommandLine":"powershell.exe -nop -w hidden -enc SQBFAFgA","TargetUserSid":"S-1-0-0","TargetUserName":"-","TargetDomainName":"-","TargetLogonId":"0x0","ParentProcessName":"C:\\Windows\\explorer.exe","MandatoryLabel":"S-1-16-8192","EventReceivedTime":"2022-06-14 16:02:12","SourceModuleName":"in","SourceModuleType":"im_msvistalog"}"#;
    let out = windows(line).unwrap();
    assert_eq!(text(&out, "event.category"), Some("process"));
    assert_eq!(text(&out, "event.type"), Some("start"));
    assert_eq!(text(&out, "event.action"), Some("created-process"));
    assert_eq!(text(&out, "user.name"), Some("alice"));
    assert_eq!(text(&out, "user.domain"), Some("CORP"));
    assert_eq!(
        text(&out, "process.executable"),
        Some(r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe")
    );
    assert_eq!(text(&out, "process.name"), Some("powershell.exe"));
    assert_eq!(int(&out, "process.pid"), Some(0x1a2c));
    assert_eq!(
        text(&out, "process.command_line"),
        Some("powershell.exe -nop -w hidden -enc SQBFAFgA")
    );
    assert_eq!(
        text(&out, "process.parent.executable"),
        Some(r"C:\Windows\explorer.exe")
    );
    assert_eq!(text(&out, "process.parent.name"), Some("explorer.exe"));
    assert_eq!(int(&out, "process.parent.pid"), Some(0x2f8));
}

#[test]
fn nxlog_account_management() {
    let created = r#"{"EventTime":"2023-02-01 10:15:00","Hostname":"DC01","EventType":"AUDIT_SUCCESS","EventID":4720,"SourceName":"Microsoft-Windows-Security-Auditing","Channel":"Security","Category":"User Account Management","TargetUserName":"svc_backup","TargetDomainName":"CORP","TargetSid":"S-1-5-21-1084394783-3819715951-2594813741-1106","SubjectUserSid":"S-1-5-21-1084394783-3819715951-2594813741-500","SubjectUserName":"Administrator","SubjectDomainName":"CORP","SubjectLogonId":"0x337d1","PrivilegeList":"-","SamAccountName":"svc_backup","DisplayName":"%%1793","UserPrincipalName":"-","SourceModuleName":"in","SourceModuleType":"im_msvistalog"}"#;
    let out = windows(created).unwrap();
    assert_eq!(text(&out, "event.category"), Some("iam"));
    assert_eq!(list(&out, "event.type"), Some(vec!["user", "creation"]));
    assert_eq!(text(&out, "event.action"), Some("added-user-account"));
    assert_eq!(text(&out, "user.name"), Some("Administrator"));
    assert_eq!(text(&out, "user.target.name"), Some("svc_backup"));
    assert_eq!(text(&out, "user.target.domain"), Some("CORP"));
    assert_eq!(
        text(&out, "user.target.id"),
        Some("S-1-5-21-1084394783-3819715951-2594813741-1106")
    );

    let deleted = created.replace("\"EventID\":4720", "\"EventID\":4726");
    let out = windows(&deleted).unwrap();
    assert_eq!(list(&out, "event.type"), Some(vec!["user", "deletion"]));
    assert_eq!(text(&out, "event.action"), Some("deleted-user-account"));
    assert_eq!(text(&out, "user.target.name"), Some("svc_backup"));

    let locked = r#"{"EventTime":"2023-02-01 10:20:00","Hostname":"DC01","EventType":"AUDIT_SUCCESS","EventID":4740,"SourceName":"Microsoft-Windows-Security-Auditing","Channel":"Security","TargetUserName":"jdoe","TargetDomainName":"WS17","TargetSid":"S-1-5-21-1084394783-3819715951-2594813741-1107","SubjectUserSid":"S-1-5-18","SubjectUserName":"DC01$","SubjectDomainName":"CORP","SubjectLogonId":"0x3e7"}"#;
    let out = windows(locked).unwrap();
    assert_eq!(text(&out, "event.action"), Some("locked-out-user-account"));
    assert_eq!(text(&out, "user.target.name"), Some("jdoe"));
    assert_eq!(text(&out, "user.name"), Some("DC01$"));
}

// The 4732 record of a public SIEM test-data generator (placeholders filled in).
#[test]
fn nxlog_4732_member_added_to_local_group() {
    let line = r#"{"EventTime": "2020-04-21 13:05:44", "Hostname": "WIN-SRV01", "Keywords": -9214364837600035000, "EventType": "AUDIT_SUCCESS", "SeverityValue": 2, "Severity": "INFO", "EventID": "4732", "SourceName": "Microsoft-Windows-Security-Auditing", "ProviderGuid": "{54849625-5478-4994-A5BA-3E3B0328C30D}", "Version": 0, "Task": 13826, "OpcodeValue": 0, "RecordNumber": 91958, "ProcessID": 660, "ThreadID": 3300, "Channel": "Security", "Message": "A member was added to a security-enabled local group.", "Category": "Security Group Management", "Opcode": "Info", "MemberName": "-", "MemberSid": "S-1-5-21-1084394783-3819715951-2594813741-1002", "TargetUserName": "Administrators", "TargetDomainName": "Builtin", "TargetSid": "S-1-5-32-544", "SubjectUserSid": "S-1-5-21-1084394783-3819715951-2594813741-500", "SubjectUserName": "Administrator", "SubjectDomainName": "WIN-SRV01", "SubjectLogonId": "0x337d1", "PrivilegeList": "-", "EventReceivedTime": "2020-04-21 13:05:45", "SourceModuleName": "eventlog", "SourceModuleType": "im_msvistalog"}"#;
    let out = windows(line).unwrap();
    assert_eq!(text(&out, "event.code"), Some("4732"));
    assert_eq!(list(&out, "event.type"), Some(vec!["group", "change"]));
    assert_eq!(text(&out, "event.action"), Some("added-member-to-group"));
    assert_eq!(text(&out, "group.name"), Some("Administrators"));
    assert_eq!(text(&out, "group.domain"), Some("Builtin"));
    assert_eq!(text(&out, "group.id"), Some("S-1-5-32-544"));
    assert_eq!(out.get("user.target.name"), None);
    assert_eq!(
        text(&out, "user.target.id"),
        Some("S-1-5-21-1084394783-3819715951-2594813741-1002")
    );
    assert_eq!(text(&out, "user.name"), Some("Administrator"));
}

#[test]
fn group_members_named_by_distinguished_name() {
    let line = r#"{"EventTime":"2023-02-01 11:00:00","Hostname":"DC01","EventID":4728,"SourceName":"Microsoft-Windows-Security-Auditing","Channel":"Security","MemberName":"CN=Doe\\, John,OU=Staff,DC=corp,DC=local","MemberSid":"S-1-5-21-1-2-3-1108","TargetUserName":"Domain Admins","TargetDomainName":"CORP","TargetSid":"S-1-5-21-1-2-3-512","SubjectUserName":"Administrator","SubjectDomainName":"CORP"}"#;
    let out = windows(line).unwrap();
    assert_eq!(text(&out, "group.name"), Some("Domain Admins"));
    assert_eq!(text(&out, "user.target.name"), Some(r"Doe\, John"));
}

// elastic/beats x-pack/winlogbeat/module/security/test/testdata/1102.evtx.golden.json
#[test]
fn winlogbeat_1102_audit_log_cleared() {
    let line = r#"{"@timestamp":"2019-11-07T10:34:29.0559196Z","event":{"action":"audit-log-cleared","category":["iam"],"code":"1102","kind":"event","module":"security","outcome":"success","provider":"Microsoft-Windows-Eventlog","type":["admin","change"]},"host":{"name":"WIN-41OB2LO92CR.wlbeat.local"},"log":{"level":"information"},"winlog":{"api":"wineventlog","channel":"Security","computer_name":"WIN-41OB2LO92CR.wlbeat.local","event_id":"1102","keywords":["Audit Success"],"logon":{"id":"0x50e87"},"opcode":"Info","process":{"pid":1144,"thread":{"id":1824}},"provider_guid":"{fc65ddd8-d6ef-4962-83d5-6e5cfe9ce148}","provider_name":"Microsoft-Windows-Eventlog","record_id":14224,"task":"Log clear","user_data":{"SubjectDomainName":"WLBEAT","SubjectLogonId":"0x50e87","SubjectUserName":"Administrator","SubjectUserSid":"S-1-5-21-101361758-2486510592-3018839910-500","xml_name":"LogFileCleared"}}}"#;
    let out = windows(line).unwrap();
    assert_eq!(text(&out, "event.code"), Some("1102"));
    assert_eq!(text(&out, "event.category"), Some("iam"));
    assert_eq!(list(&out, "event.type"), Some(vec!["admin", "change"]));
    assert_eq!(text(&out, "event.action"), Some("audit-log-cleared"));
    assert_eq!(text(&out, "event.outcome"), Some("success"));
    assert_eq!(text(&out, "user.name"), Some("Administrator"));
    assert_eq!(text(&out, "user.domain"), Some("WLBEAT"));
    assert_eq!(
        text(&out, "host.hostname"),
        Some("WIN-41OB2LO92CR.wlbeat.local")
    );
    assert_eq!(text(&out, "winlog.channel"), Some("Security"));
    assert_eq!(int(&out, "winlog.record_id"), Some(14224));
    assert_eq!(
        text(&out, "winlog.user_data.xml_name"),
        Some("LogFileCleared")
    );
    assert_eq!(
        time(&out),
        Some("2019-11-07T10:34:29.055919600Z".to_owned())
    );
}

#[test]
fn winlogbeat_4625_and_4672() {
    let line = r#"{"@timestamp":"2024-03-05T08:12:44.512Z","agent":{"type":"winlogbeat","version":"8.12.2"},"event":{"code":"4625","kind":"event","provider":"Microsoft-Windows-Security-Auditing","action":"Logon","outcome":"failure","created":"2024-03-05T08:12:45.101Z"},"host":{"name":"srv-web01"},"log":{"level":"information"},"message":"An account failed to log on.","winlog":{"channel":"Security","computer_name":"srv-web01.corp.example.com","event_data":{"AuthenticationPackageName":"NTLM","FailureReason":"%%2313","IpAddress":"198.51.100.23","IpPort":"0","KeyLength":"0","LogonProcessName":"NtLmSsp ","LogonType":"3","ProcessId":"0x0","ProcessName":"-","Status":"0xc000006d","SubStatus":"0xc0000064","SubjectUserName":"-","SubjectUserSid":"S-1-0-0","TargetDomainName":"","TargetUserName":"admin","TargetUserSid":"S-1-0-0","WorkstationName":"-"},"event_id":"4625","keywords":["Audit Failure"],"opcode":"Info","provider_guid":"{54849625-5478-4994-a5ba-3e3b0328c30d}","provider_name":"Microsoft-Windows-Security-Auditing","record_id":"1209345","task":"Logon"}}"#;
    let out = windows(line).unwrap();
    assert_eq!(text(&out, "event.action"), Some("logon-failed"));
    assert_eq!(text(&out, "event.outcome"), Some("failure"));
    assert_eq!(text(&out, "user.name"), Some("admin"));
    assert_eq!(out.get("user.domain"), None);
    assert_eq!(text(&out, "source.ip"), Some("198.51.100.23"));
    assert_eq!(out.get("source.port"), None);
    assert_eq!(out.get("source.domain"), None);
    assert_eq!(text(&out, "error.code"), Some("0xc0000064"));
    assert_eq!(
        text(&out, "host.hostname"),
        Some("srv-web01.corp.example.com")
    );
    assert_eq!(int(&out, "winlog.record_id"), Some(1209345));
    assert_eq!(
        text(&out, "winlog.event_data.SubStatus"),
        Some("0xc0000064")
    );
    assert_eq!(time(&out), Some("2024-03-05T08:12:44.512Z".to_owned()));

    let special = r#"{"@timestamp":"2024-03-05T08:13:00.000Z","event":{"code":4672},"winlog":{"channel":"Security","computer_name":"DC01","event_id":4672,"event_data":{"SubjectUserSid":"S-1-5-21-1-2-3-500","SubjectUserName":"Administrator","SubjectDomainName":"CORP","SubjectLogonId":"0x4a8e2","PrivilegeList":"SeSecurityPrivilege\n\t\t\tSeBackupPrivilege"}}}"#;
    let out = windows(special).unwrap();
    assert_eq!(text(&out, "event.category"), Some("iam"));
    assert_eq!(text(&out, "event.type"), Some("admin"));
    assert_eq!(text(&out, "event.action"), Some("logged-in-special"));
    assert_eq!(text(&out, "user.name"), Some("Administrator"));
    assert!(text(&out, "winlog.event_data.PrivilegeList").is_some());
}

#[test]
fn logoff_and_service_install() {
    let logoff = r#"{"EventTime":"2023-05-02 18:00:01","Hostname":"WS01","EventID":4634,"SourceName":"Microsoft-Windows-Security-Auditing","Channel":"Security","TargetUserSid":"S-1-5-21-1-2-3-1104","TargetUserName":"alice","TargetDomainName":"CORP","TargetLogonId":"0x3a4f1","LogonType":"2"}"#;
    let out = windows(logoff).unwrap();
    assert_eq!(text(&out, "event.type"), Some("end"));
    assert_eq!(text(&out, "event.action"), Some("logged-out"));
    assert_eq!(text(&out, "user.name"), Some("alice"));
    assert_eq!(text(&out, "winlog.logon.type"), Some("Interactive"));

    let service = r#"{"EventTime":"2023-05-02 18:05:12","Hostname":"WS01","Keywords":-9187343239835811840,"EventType":"INFO","SeverityValue":2,"Severity":"INFO","EventID":7045,"SourceName":"Service Control Manager","ProviderGuid":"{555908D1-A6D7-4695-8E1E-26931D2012F4}","Version":0,"Task":0,"OpcodeValue":0,"RecordNumber":5512,"ProcessID":640,"ThreadID":7208,"Channel":"System","Domain":"CORP","AccountName":"alice","UserID":"S-1-5-21-1-2-3-1104","AccountType":"User","Message":"A service was installed in the system.","Opcode":"Info","ServiceName":"PSEXESVC","ImagePath":"%SystemRoot%\\PSEXESVC.exe","ServiceType":"user mode service","StartType":"demand start","EventReceivedTime":"2023-05-02 18:05:13","SourceModuleName":"in","SourceModuleType":"im_msvistalog"}"#;
    let out = windows(service).unwrap();
    assert_eq!(text(&out, "event.category"), Some("configuration"));
    assert_eq!(text(&out, "event.type"), Some("creation"));
    assert_eq!(text(&out, "event.action"), Some("service-installed"));
    assert_eq!(text(&out, "service.name"), Some("PSEXESVC"));
    assert_eq!(text(&out, "service.type"), Some("user mode service"));
    assert_eq!(text(&out, "file.path"), Some(r"%SystemRoot%\PSEXESVC.exe"));
    assert_eq!(text(&out, "winlog.channel"), Some("System"));
    assert_eq!(
        text(&out, "winlog.event_data.StartType"),
        Some("demand start")
    );
    assert_eq!(out.get("winlog.event_data.AccountName"), None);
}

#[test]
fn unmapped_ids_keep_their_record() {
    // The 4769 record of a public normalizer's tests.
    let line = r#"{"EventTime":"2021-03-31T12:03:46.974060+03:00","Hostname":"hostname3","Keywords":"9232379236109516800","EventType":"AUDIT_SUCCESS","SeverityValue":2,"Severity":"INFO","EventID":4769,"SourceName":"Microsoft-Windows-Security-Auditing","ProviderGuid":"54849625-5478-4994-A5BA-3E3B0328C30D","Version":0,"TaskValue":14337,"OpcodeValue":0,"RecordNumber":152410252,"ExecutionProcessID":596,"ExecutionThreadID":1748,"Channel":"Security","Category":"Kerberos Service Ticket Operations","Opcode":"Info","TargetUserName":"user1$@DOMAIN.RU","TargetDomainName":"DOMAIN.RU","ServiceName":"SRV1$","ServiceSid":"S-1-5-21-31881595-2612140365-1407298719-2602","TicketOptions":"0x40810000","TicketEncryptionType":"0x12","IpAddress":"::ffff:10.22.23.24","IpPort":"53942","Status":"0x0","LogonGuid":"F1720C32-F360-1638-52ED-1318CE6E6558","TransmittedServices":"-","EventReceivedTime":"2021-03-31T12:03:56.514071+03:00","SourceModuleName":"in_msvistalog_welf","SourceModuleType":"im_msvistalog","md5":"421cfea4d5348090d4a11ed24df69616","DevType":"Windows2k8Security00001"}"#;
    let out = windows(line).unwrap();
    assert_eq!(text(&out, "event.code"), Some("4769"));
    assert_eq!(out.get("event.category"), None);
    assert_eq!(text(&out, "winlog.event_data.ServiceName"), Some("SRV1$"));
    assert_eq!(
        text(&out, "winlog.event_data.IpAddress"),
        Some("::ffff:10.22.23.24")
    );
    assert_eq!(text(&out, "host.hostname"), Some("hostname3"));
}

#[test]
fn near_misses_are_not_windows_events() {
    // EventID alone (no SourceName/Channel) is some other JSON: the generic decoder takes it.
    let mut out = Output::default();
    let line = r#"{"EventID":4625,"TargetUserName":"bob"}"#;
    assert_eq!(
        super::super::decode(&Input::new(line), &mut out),
        Some("json")
    );
    assert_eq!(out.get("event.code"), None);
    assert_eq!(int(&out, "json.EventID"), Some(4625));

    // The shape is right but the id is not an event id.
    for line in [
        r#"{"EventID":"logon","SourceName":"Microsoft-Windows-Security-Auditing","Channel":"Security"}"#,
        r#"{"EventID":99999999,"Channel":"Security"}"#,
        r#"{"winlog":{"event_id":null,"channel":"Security"}}"#,
        r#"{"EventID":[4625],"Channel":"Security"}"#,
    ] {
        let root = crate::body::json::parse_object(line).unwrap();
        assert!(is_windows_event(&root), "{line}");
        assert!(!decode_object(&root, &mut Output::default()), "{line}");
    }

    // event.code without a Windows channel is an ordinary ECS document.
    let root = crate::body::json::parse_object(r#"{"event":{"code":"4625"}}"#).unwrap();
    assert!(!is_windows_event(&root));
}

#[test]
fn the_dispatcher_sends_windows_json_here() {
    let mut out = Output::default();
    let line = format!("  {NXLOG_4625}");
    assert_eq!(
        super::super::decode(&Input::new(&line), &mut out),
        Some("json")
    );
    assert_eq!(text(&out, "event.code"), Some("4625"));
    assert_eq!(text(&out, "user.name"), Some("administrator"));
}

#[test]
fn ids_of_other_channels_are_not_mapped() {
    let line = r#"{"EventTime":"2023-05-02 18:05:12","Hostname":"WS01","EventID":1102,"SourceName":"SomeApp","Channel":"Application","SubjectUserName":"bob"}"#;
    let out = windows(line).unwrap();
    assert_eq!(text(&out, "event.code"), Some("1102"));
    assert_eq!(out.get("event.action"), None);
    assert_eq!(out.get("user.name"), None);
    assert_eq!(text(&out, "winlog.event_data.SubjectUserName"), Some("bob"));
}
