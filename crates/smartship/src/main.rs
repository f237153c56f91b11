//! `smartship`: the server and its command-line tools.

/// The server's request path makes many small, short-lived allocations;
/// mimalloc serves them with less work than the system allocator (see
/// docs/PERFORMANCE.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod admin_cmd;
mod app_cmd;
mod db_cmd;
mod fleet_cmd;
mod output;
mod package_cmd;
mod runtime_cmd;
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
    /// The database, offline: migrate it, copy SQLite into PostgreSQL.
    Db(db_cmd::DbArgs),
    /// Third-party platform template commands (TP token).
    Template(template_cmd::TemplateArgs),
    /// One app's package lifecycle (app token).
    Package(package_cmd::PackageArgs),
    /// One template version to many apps: upgrade, status, rollback.
    Fleet(fleet_cmd::FleetArgs),
    /// A host runtime's side: pull the version a user gets, verified.
    Runtime(runtime_cmd::RuntimeArgs),
    /// One app's basic information, domains and QR codes (app token).
    App(app_cmd::AppArgs),
}

/// Commands that print for a person or a pipe end quietly when the reader
/// goes away (`smartship admin ... | head`), as other Unix tools do, instead
/// of panicking on a broken pipe. The server keeps Rust's default (SIGPIPE
/// ignored): a closed stdout must not end it.
fn exit_quietly_on_broken_pipe() {
    #[cfg(unix)]
    // SAFETY: restoring the default disposition of one signal before any
    // thread is started has no other effect on the program.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    if !matches!(cli.command, Command::Serve(_)) {
        exit_quietly_on_broken_pipe();
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime starts");
    let result = runtime.block_on(async {
        match cli.command {
            Command::Serve(a) => serve_cmd::run(a).await,
            Command::Admin(a) => admin_cmd::run(a).await,
            Command::Db(a) => db_cmd::run(a).await,
            Command::Template(a) => template_cmd::run(a).await,
            Command::Package(a) => package_cmd::run(a).await,
            Command::Fleet(a) => fleet_cmd::run(a).await,
            Command::Runtime(a) => runtime_cmd::run(a).await,
            Command::App(a) => app_cmd::run(a).await,
        }
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            // Errors quote the server's messages: escape what could drive
            // the terminal.
            eprintln!("error: {}", output::printable(&format!("{e:#}")));
            match e.downcast_ref::<output::Exit>() {
                Some(exit) => std::process::ExitCode::from(exit.code),
                None => std::process::ExitCode::FAILURE,
            }
        }
    }
}
