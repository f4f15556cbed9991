//! `vigil`: the one binary. Subcommands: `serve` (the SOC node), `agent` (the edge collector),
//! `search`, `import`, `verify` (archive integrity), `retention plan` and `certs`. This crate wires the
//! layers below it together and is the only place that uses `anyhow`.

mod agent;
mod certs;
mod cli;
mod data_dir;
mod forward;
mod import;
mod offline;
mod rules;
mod serve;

use clap::Parser;

/// mimalloc rather than glibc's malloc: ingest allocates an event's strings on one thread and
/// frees them on another (the index thread), which glibc's arenas handle slowly.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let cli = cli::Cli::parse();
    let outcome = match cli.command {
        cli::Command::Serve(args) => serve::run(args),
        cli::Command::Agent(args) => agent::run(*args),
        cli::Command::Search(args) => offline::search(args),
        cli::Command::Import(args) => import::run(args),
        cli::Command::Verify(args) => offline::verify(args),
        cli::Command::Retention(cli::RetentionCommand::Plan(args)) => offline::retention_plan(args),
        cli::Command::Certs(cli::CertsCommand::Init(args)) => certs::init(args),
        cli::Command::Certs(cli::CertsCommand::Client(args)) => certs::client(args),
        cli::Command::Rules(cli::RulesCommand::Lint(args)) => rules::lint(args),
        cli::Command::Rules(cli::RulesCommand::Test(args)) => rules::test(args),
        cli::Command::Rules(cli::RulesCommand::Backtest(args)) => rules::backtest(args),
    };
    match outcome {
        Ok(code) => code,
        Err(error) => {
            eprintln!("vigil: {error:#}");
            std::process::ExitCode::from(2)
        }
    }
}
