//! `smartship runtime ...`: what a host runtime does, from a terminal: pull
//! the version a user gets into a folder, verified (docs/release.md).

use anyhow::Context;
use clap::{Args, Subcommand};
use smartship_client::runtime::{Pulled, RuntimeClient};
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct RuntimeArgs {
    /// Server base URL.
    #[arg(long, env = "SMARTSHIP_SERVER", hide_env_values = true, global = true)]
    server: Option<String>,
    /// Host-app key (`shk_...`).
    #[arg(
        long,
        env = "SMARTSHIP_HOST_KEY",
        hide_env_values = true,
        global = true
    )]
    host_key: Option<String>,
    #[command(subcommand)]
    command: RuntimeCommand,
}

#[derive(Debug, Subcommand)]
enum RuntimeCommand {
    /// Bring DIR to the version USER gets: checks the SHA-256 and the
    /// Ed25519 signature, applies the incremental package when offered,
    /// and replaces DIR only with a complete, verified copy.
    Pull {
        /// The app.
        #[arg(long)]
        app: i64,
        /// The host's user id (places the user in a phased release).
        #[arg(long)]
        user: Option<String>,
        /// The local copy (created if missing).
        #[arg(long)]
        dir: PathBuf,
    },
}

pub async fn run(args: RuntimeArgs) -> anyhow::Result<()> {
    let server = args
        .server
        .context("no server: give --server URL or set SMARTSHIP_SERVER")?;
    let key = args
        .host_key
        .context("no host-app key: give --host-key or set SMARTSHIP_HOST_KEY")?;
    let client = RuntimeClient::new(server, key);
    match args.command {
        RuntimeCommand::Pull { app, user, dir } => {
            let pulled = client.pull(app, user.as_deref(), &dir).await?;
            let (copy, how) = match &pulled {
                Pulled::UpToDate(c) => (c, "already up to date".to_owned()),
                Pulled::Full { copy, bytes } => (copy, format!("whole package, {bytes} bytes")),
                Pulled::Incremental { copy, bytes } => {
                    (copy, format!("incremental package, {bytes} bytes"))
                }
            };
            println!(
                "app {} version {} (package {}) in {}: {how}, {} files verified",
                copy.app_id,
                copy.version,
                copy.package_id,
                dir.display(),
                copy.files.len()
            );
        }
    }
    Ok(())
}
