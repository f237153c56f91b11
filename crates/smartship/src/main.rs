//! `smartship`: the server and its command-line tools.

/// The server's request path makes many small, short-lived allocations;
/// mimalloc serves them with less work than the system allocator (see
/// docs/PERFORMANCE.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod admin_cmd;
mod fleet_cmd;
mod output;
mod package_cmd;
mod serve_cmd;
mod template_cmd;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "smartship",
    version,
    about = "Self-hostable mini-program release platform"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server.
    Serve(serve_cmd::ServeArgs),
    /// Operator commands (talk to a running server's /admin/v1 API).
    Admin(admin_cmd::AdminArgs),
    /// Third-party platform template commands (TP token).
    Template(template_cmd::TemplateArgs),
    /// One app's package lifecycle (app token).
    Package(package_cmd::PackageArgs),
    /// One template version to many apps: upgrade, status, rollback.
    Fleet(fleet_cmd::FleetArgs),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime starts");
    let result = runtime.block_on(async {
        match cli.command {
            Command::Serve(a) => serve_cmd::run(a).await,
            Command::Admin(a) => admin_cmd::run(a).await,
            Command::Template(a) => template_cmd::run(a).await,
            Command::Package(a) => package_cmd::run(a).await,
            Command::Fleet(a) => fleet_cmd::run(a).await,
        }
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            // Errors quote the server's messages: escape what could drive
            // the terminal.
            eprintln!("error: {}", output::printable(&format!("{e:#}")));
            std::process::ExitCode::FAILURE
        }
    }
}
