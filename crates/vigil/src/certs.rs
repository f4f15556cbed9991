//! `vigil certs`: a local PKI for TLS listeners, agents and forwarding (see `vigil_tls::pki`).

use std::process::ExitCode;

use anyhow::Context;
use vigil_tls::pki::{self, Validity};

use crate::cli::{CertsClientArgs, CertsInitArgs};

/// This machine's name, from `/etc/hostname`, if it has one.
pub fn machine_name() -> Option<String> {
    std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
}

/// The names a server certificate made here is valid for when none are given.
pub fn default_server_names() -> Vec<String> {
    let mut names: Vec<String> = machine_name()
        .filter(|host| host != "localhost")
        .into_iter()
        .collect();
    names.extend(["localhost", "127.0.0.1", "::1"].map(String::from));
    names
}

pub fn init(args: CertsInitArgs) -> anyhow::Result<ExitCode> {
    let names = if args.server_names.is_empty() {
        default_server_names()
    } else {
        args.server_names.clone()
    };
    let ca = pki::create_ca(&args.dir, "Vigil CA", Validity::days(pki::CA_DAYS))
        .context("cannot make the CA")?;
    println!(
        "CA          {}  SHA-256 {}",
        ca.cert.display(),
        ca.fingerprint
    );
    let server = pki::issue_server(&args.dir, &names, Validity::days(args.days))
        .context("cannot make the server certificate")?;
    println!(
        "server      {}  for {}",
        server.cert.display(),
        names.join(", ")
    );
    for name in &args.clients {
        let client = pki::issue_client(&args.dir, name, Validity::days(args.days))
            .with_context(|| format!("cannot make the client certificate {name:?}"))?;
        println!("client      {}  ({name})", client.cert.display());
    }
    println!("private keys (*.key) are readable by their owner only; keep ca.key offline");
    Ok(ExitCode::SUCCESS)
}

pub fn client(args: CertsClientArgs) -> anyhow::Result<ExitCode> {
    let client = pki::issue_client(&args.dir, &args.name, Validity::days(args.days))
        .with_context(|| format!("cannot make the client certificate {:?}", args.name))?;
    println!("client      {}  ({})", client.cert.display(), args.name);
    println!("key         {}", client.key.display());
    Ok(ExitCode::SUCCESS)
}
