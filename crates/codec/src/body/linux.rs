//! Linux system messages: the kernel's own lines (boot and hardware: version, command line,
//! memory map, zones, caches, CPUs, buses, protocol families) and small system daemons (udev
//! device nodes, snmpd's requests, sysctl settings, daemons announcing their version).
//!
//! Table-driven: each entry is a template of literal text with `{field}` (text) or
//! `{field:int}` (integer) holes, matched left to right, each hole taking the text up to the
//! next literal (the last one up to the template's tail). Only lines under the entry's
//! app-names are tried, and only templates whose first literal the line starts with, so a line
//! costs a handful of prefix checks. Kernel firewall lines (`IN=… OUT=…`) are `netfilter`'s;
//! the dispatcher tries that first.
//!
//! Fields: `host.os.kernel` and `linux.kernel.*` (boot facts), `file.path` (device nodes),
//! `source.ip` (snmpd), `sysctl.name`/`sysctl.value`, `service.name`/`service.version`;
//! `event.category` `host`, `driver` (device nodes) or `configuration` (sysctl).

use super::pam::put_event;
use super::search::Search;
use super::{Input, Output};

/// One known message: the app-names it comes under, its template, and what it means.
struct Template {
    apps: &'static [&'static str],
    pattern: &'static str,
    category: &'static str,
    action: &'static str,
    /// Constant fields the message implies (`service.name` of a daemon).
    constants: &'static [(&'static str, &'static str)],
}

const KERNEL: &[&str] = &["kernel"];

const fn kernel(pattern: &'static str, action: &'static str) -> Template {
    Template {
        apps: KERNEL,
        pattern,
        category: "host",
        action,
        constants: &[],
    }
}

const TEMPLATES: &[Template] = &[
    kernel(
        "Linux version {host.os.kernel} ({linux.kernel.build_host}) ({linux.kernel.compiler}) {linux.kernel.build}",
        "kernel-boot",
    ),
    kernel("Kernel command line: {linux.kernel.command_line}", "kernel-boot"),
    kernel(
        "BIOS-e820: {linux.kernel.e820.start} - {linux.kernel.e820.end} ({linux.kernel.e820.type})",
        "kernel-memory-map",
    ),
    kernel("{linux.kernel.memory.highmem} HIGHMEM available.", "kernel-memory"),
    kernel("{linux.kernel.memory.lowmem} LOWMEM available.", "kernel-memory"),
    kernel(
        "Memory: {linux.kernel.memory.available} available ({linux.kernel.memory.code} kernel code, {linux.kernel.memory.reserved} reserved, {linux.kernel.memory.data} data, {linux.kernel.memory.init} init, {linux.kernel.memory.highmem} highmem)",
        "kernel-memory",
    ),
    kernel(
        "{linux.kernel.zone.name} zone: {linux.kernel.zone.pages:int} pages, LIFO batch:{linux.kernel.zone.batch:int}",
        "kernel-memory",
    ),
    kernel(
        "On node {linux.kernel.node:int} totalpages: {linux.kernel.total_pages:int}",
        "kernel-memory",
    ),
    kernel(
        "{linux.kernel.hash_table.name} hash table entries: {linux.kernel.hash_table.entries:int} (order: {linux.kernel.hash_table.order:int}, {linux.kernel.hash_table.bytes:int} bytes)",
        "kernel-memory",
    ),
    kernel(
        "{linux.kernel.hash_table.name} hash table entries: {linux.kernel.hash_table.entries:int} (order {linux.kernel.hash_table.order:int}, {linux.kernel.hash_table.bytes:int} bytes)",
        "kernel-memory",
    ),
    kernel(
        "{linux.kernel.hash_table.name} hash table entries: {linux.kernel.hash_table.entries:int} (order {linux.kernel.hash_table.order:int}: {linux.kernel.hash_table.bytes:int} bytes)",
        "kernel-memory",
    ),
    kernel("Built {linux.kernel.zonelists:int} zonelists", "kernel-memory"),
    kernel("Initializing CPU#{linux.kernel.cpu:int}", "kernel-cpu"),
    kernel(
        "Intel machine check reporting enabled on CPU#{linux.kernel.cpu:int}.",
        "kernel-cpu",
    ),
    kernel("Detected {linux.kernel.cpu_mhz} MHz processor.", "kernel-cpu"),
    kernel(
        "Calibrating delay loop... {linux.kernel.bogomips} BogoMIPS",
        "kernel-cpu",
    ),
    kernel(
        "CPU: L1 I cache: {linux.kernel.cache.l1i}, L1 D cache: {linux.kernel.cache.l1d}",
        "kernel-cpu",
    ),
    kernel("CPU: L2 cache: {linux.kernel.cache.l2}", "kernel-cpu"),
    kernel(
        "CPU {linux.kernel.cpu:int} irqstacks, hard={linux.kernel.irqstack.hard} soft={linux.kernel.irqstack.soft}",
        "kernel-cpu",
    ),
    kernel("CPU: {linux.kernel.cpu_model} stepping {linux.kernel.cpu_stepping}", "kernel-cpu"),
    kernel("DMI {linux.kernel.dmi_version} present.", "kernel-boot"),
    kernel(
        "ACPI disabled because your bios is from {linux.kernel.bios_year:int} and too old",
        "kernel-boot",
    ),
    kernel("ACPI: Subsystem revision {linux.kernel.acpi_revision}", "kernel-boot"),
    kernel(
        "PCI: PCI BIOS revision {linux.kernel.pci.bios_revision} entry at {linux.kernel.pci.entry}, last bus={linux.kernel.pci.last_bus:int}",
        "kernel-bus",
    ),
    kernel("PCI: Using configuration type {linux.kernel.pci.config_type:int}", "kernel-bus"),
    kernel("PCI: Probing PCI hardware (bus {linux.kernel.pci.bus})", "kernel-bus"),
    kernel(
        "PCI: Using IRQ router {linux.kernel.pci.irq_router} [{linux.kernel.pci.irq_router_id}] at {linux.kernel.pci.irq_router_address}",
        "kernel-bus",
    ),
    kernel("NET: Registered protocol family {linux.kernel.protocol_family:int}", "kernel-network"),
    kernel("Console: colour {linux.kernel.console.type} {linux.kernel.console.size}", "kernel-boot"),
    kernel(
        "{service.name} v{service.version} (c) {linux.kernel.driver_author}",
        "kernel-driver",
    ),
    kernel("{service.name} Driver v{service.version}", "kernel-driver"),
    kernel("{service.name} v{service.version} initialized", "kernel-driver"),
    kernel("mapped 4G/4G trampoline to {linux.kernel.trampoline}.", "kernel-boot"),
    Template {
        apps: &["udev", "udevd"],
        pattern: "creating device node '{file.path}'",
        category: "driver",
        action: "device-node-created",
        constants: &[],
    },
    Template {
        apps: &["udev", "udevd"],
        pattern: "removing device node '{file.path}'",
        category: "driver",
        action: "device-node-removed",
        constants: &[],
    },
    Template {
        apps: &["snmpd"],
        pattern: "Received SNMP packet(s) from {source.ip}",
        category: "network",
        action: "snmp-request",
        constants: &[("service.name", "snmpd")],
    },
    Template {
        apps: &["snmpd"],
        pattern: "Connection from UDP: [{source.ip}]:{source.port:int}->[{destination.ip}]:{destination.port:int}",
        category: "network",
        action: "snmp-request",
        constants: &[("service.name", "snmpd")],
    },
    Template {
        apps: &["sysctl"],
        pattern: "{sysctl.name} = {sysctl.value}",
        category: "configuration",
        action: "sysctl-set",
        constants: &[],
    },
    Template {
        apps: &["rpc.statd"],
        pattern: "Version {service.version} Starting",
        category: "host",
        action: "service-started",
        constants: &[("service.name", "rpc.statd")],
    },
    Template {
        apps: &["hcid"],
        pattern: "HCI daemon ver {service.version} started",
        category: "host",
        action: "service-started",
        constants: &[("service.name", "hcid")],
    },
    Template {
        apps: &["sdpd"],
        pattern: "sdpd v{service.version} started",
        category: "host",
        action: "service-started",
        constants: &[("service.name", "sdpd")],
    },
    Template {
        apps: &["gpm"],
        pattern: "*** info [{file.name}({log.origin.file.line:int})]:",
        category: "host",
        action: "service-info",
        constants: &[("service.name", "gpm")],
    },
    Template {
        apps: &["gpm"],
        pattern: "imps2: Auto-detected {linux.gpm.mouse}",
        category: "driver",
        action: "device-detected",
        constants: &[("service.name", "gpm")],
    },
];

/// The app-names this decoder serves (the dispatcher's table names them too).
pub(super) fn serves(app: &str) -> bool {
    TEMPLATES
        .iter()
        .any(|template| template.apps.contains(&app))
}

pub(super) fn decode(input: &Input<'_>, out: &mut Output) -> bool {
    let Some(app) = input.app else { return false };
    let message = strip_uptime(input.message.trimmed());
    for template in TEMPLATES
        .iter()
        .filter(|template| template.apps.contains(&app))
    {
        if fill(template.pattern, message, out) {
            put_event(out, template.category, &["info"], template.action, None);
            for (name, value) in template.constants {
                out.put(*name, *value);
            }
            return true;
        }
        out.clear();
    }
    false
}

/// Drops a kernel's `[  123.456789] ` uptime stamp.
fn strip_uptime(message: &str) -> &str {
    match message
        .strip_prefix('[')
        .and_then(|rest| rest.split_once_str("] "))
    {
        Some((stamp, rest))
            if stamp
                .trimmed()
                .bytes()
                .all(|b| b.is_ascii_digit() || b == b'.') =>
        {
            rest
        }
        _ => message,
    }
}

/// Matches `message` against `pattern`, putting each hole's text; `false` when it does not fit
/// (the caller clears what was put).
fn fill(pattern: &'static str, message: &str, out: &mut Output) -> bool {
    let mut rest = message;
    let mut pattern = pattern;
    // The literal before the first hole.
    let first = pattern.find_char('{').unwrap_or(pattern.len());
    let Some(after) = rest.strip_prefix(&pattern[..first]) else {
        return false;
    };
    rest = after;
    pattern = &pattern[first..];
    while let Some(open) = pattern.strip_prefix('{') {
        let Some(close) = open.find_char('}') else {
            return false;
        };
        let hole = &open[..close];
        let tail = &open[close + 1..];
        let literal_end = tail.find_char('{').unwrap_or(tail.len());
        let literal = &tail[..literal_end];
        let value = if literal_end == tail.len() {
            // The last hole: up to the template's tail, which must end the line.
            let Some(value) = rest.strip_suffix(literal) else {
                return false;
            };
            rest = "";
            value
        } else {
            if literal.is_empty() {
                return false;
            }
            let Some(at) = rest.find(literal) else {
                return false;
            };
            let value = &rest[..at];
            rest = &rest[at + literal.len()..];
            value
        };
        if value.trimmed().is_empty() || !put_hole(hole, value.trimmed(), out) {
            return false;
        }
        pattern = &tail[literal_end..];
    }
    rest.is_empty()
}

fn put_hole(hole: &'static str, value: &str, out: &mut Output) -> bool {
    match hole.strip_suffix(":int") {
        Some(name) => out.put_int(name, value),
        None if hole.ends_with(".ip") => out.put_ip(hole, value),
        None => {
            out.put_str(hole, value);
            true
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigil_event::Value;

    fn run(app: &str, message: &str) -> Option<Output> {
        let mut out = Output::default();
        decode(&Input::new(message).app(app), &mut out).then_some(out)
    }

    use crate::body::test_support::text;

    // Lines from loghub's Linux sample (Red Hat, kernel 2.6.5) and udev/snmpd/sysctl of the
    // same host.
    #[test]
    fn kernel_boot_lines_fill_their_fields() {
        let out = run("kernel", "Linux version 2.6.5-1.358 (bhcompile@bugs.build.redhat.com) (gcc version 3.3.3 20040412 (Red Hat Linux 3.3.3-7)) #1 Sat May 8 09:04:50 EDT 2004").unwrap();
        assert_eq!(text(&out, "host.os.kernel"), Some("2.6.5-1.358"));
        assert_eq!(
            text(&out, "linux.kernel.build_host"),
            Some("bhcompile@bugs.build.redhat.com")
        );
        assert_eq!(
            text(&out, "linux.kernel.compiler"),
            Some("gcc version 3.3.3 20040412 (Red Hat Linux 3.3.3-7)")
        );
        assert_eq!(
            text(&out, "linux.kernel.build"),
            Some("#1 Sat May 8 09:04:50 EDT 2004")
        );

        let out = run(
            "kernel",
            "BIOS-e820: 00000000000f0000 - 0000000000100000 (reserved)",
        )
        .unwrap();
        assert_eq!(
            text(&out, "linux.kernel.e820.start"),
            Some("00000000000f0000")
        );
        assert_eq!(text(&out, "linux.kernel.e820.type"), Some("reserved"));

        let out = run(
            "kernel",
            "Dentry cache hash table entries: 16384 (order: 4, 65536 bytes)",
        )
        .unwrap();
        assert_eq!(
            text(&out, "linux.kernel.hash_table.name"),
            Some("Dentry cache")
        );
        assert_eq!(
            out.get("linux.kernel.hash_table.bytes"),
            Some(&Value::Int(65536))
        );

        let out = run(
            "kernel",
            "PID hash table entries: 512 (order 9: 4096 bytes)",
        )
        .unwrap();
        assert_eq!(
            out.get("linux.kernel.hash_table.order"),
            Some(&Value::Int(9))
        );

        let out = run("kernel", "Memory: 125312k/129720k available (1540k kernel code, 3860k reserved, 599k data, 144k init, 0k highmem)").unwrap();
        assert_eq!(
            text(&out, "linux.kernel.memory.available"),
            Some("125312k/129720k")
        );
        assert_eq!(text(&out, "linux.kernel.memory.highmem"), Some("0k"));

        let out = run("kernel", "Normal zone: 28334 pages, LIFO batch:6").unwrap();
        assert_eq!(out.get("linux.kernel.zone.pages"), Some(&Value::Int(28334)));
        assert_eq!(text(&out, "event.category"), Some("host"));
    }

    #[test]
    fn daemon_lines_fill_their_fields() {
        let out = run("udev", "creating device node '/udev/vcs2'").unwrap();
        assert_eq!(text(&out, "file.path"), Some("/udev/vcs2"));
        assert_eq!(text(&out, "event.action"), Some("device-node-created"));
        let out = run("snmpd", "Received SNMP packet(s) from 67.170.148.126").unwrap();
        assert_eq!(text(&out, "source.ip"), Some("67.170.148.126"));
        let out = run("sysctl", "kernel.core_uses_pid = 1").unwrap();
        assert_eq!(text(&out, "sysctl.name"), Some("kernel.core_uses_pid"));
        assert_eq!(text(&out, "sysctl.value"), Some("1"));
        let out = run("hcid", "HCI daemon ver 2.4 started").unwrap();
        assert_eq!(text(&out, "service.version"), Some("2.4"));
        let out = run(
            "kernel",
            "[   12.345678] NET: Registered protocol family 16",
        )
        .unwrap();
        assert_eq!(
            out.get("linux.kernel.protocol_family"),
            Some(&Value::Int(16))
        );
    }

    #[test]
    fn near_misses_are_refused() {
        assert!(run("kernel", "Linux version 2.6.5").is_none());
        assert!(run("kernel", "Normal zone: many pages, LIFO batch:6").is_none());
        assert!(run("snmpd", "Received SNMP packet(s) from not-an-address").is_none());
        assert!(run("udev", "creating device node").is_none());
        assert!(run("myapp", "creating device node '/udev/vcs2'").is_none());
        assert!(run("kernel", "BIOS-e820: 0 - 1 (reserved) trailing").is_none());
    }

    #[test]
    fn kernel_lines_reach_it_after_netfilter() {
        let mut out = Output::default();
        let input = Input::new("Initializing CPU#0").app("kernel");
        assert_eq!(super::super::decode(&input, &mut out), Some("linux"));
        let firewall = Input::new(
            "[UFW BLOCK] IN=eth0 OUT= MAC= SRC=10.0.0.1 DST=10.0.0.2 LEN=40 PROTO=TCP SPT=1 DPT=2",
        )
        .app("kernel");
        assert_eq!(super::super::decode(&firewall, &mut out), Some("netfilter"));
    }
}
