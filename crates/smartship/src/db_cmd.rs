//! `smartship db`: the database of an installation, offline.

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use figment::Figment;
use figment::providers::Serialized;
use serde_json::{Map, Value};
use smartship_server::config::Config;
use smartship_server::redacted;
use smartship_store::copy::{BlobProgress, Copy, TableProgress};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(Debug, Args)]
pub struct DbArgs {
    #[command(subcommand)]
    command: DbCommand,
}

#[derive(Debug, Subcommand)]
enum DbCommand {
    /// Create the database's tables or bring them to the current schema
    /// (`serve` does the same when it starts).
    Migrate {
        /// TOML configuration file (its database_url and data_dir).
        #[arg(long)]
        config: Option<PathBuf>,
        /// Data directory; the database defaults to <data-dir>/smartship.db.
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Database URL: sqlite:PATH or postgres://USER@HOST:PORT/DATABASE.
        #[arg(long, value_name = "URL")]
        database: Option<String>,
    },
    /// Copy an installation's SQLite database into PostgreSQL, then
    /// compare every table. Stop the server first. Run it again to finish
    /// an interrupted copy: rows already copied are kept.
    Copy {
        /// Data directory of the SQLite installation (holds smartship.db).
        #[arg(long, value_name = "DATA_DIR")]
        from: PathBuf,
        /// The PostgreSQL database to copy into (created beforehand, may be
        /// empty or hold an earlier, interrupted copy).
        #[arg(long, value_name = "URL")]
        to: String,
    },
}

pub async fn run(a: DbArgs) -> anyhow::Result<()> {
    match a.command {
        DbCommand::Migrate {
            config,
            data_dir,
            database,
        } => migrate(config, data_dir, database).await,
        DbCommand::Copy { from, to } => copy(&from, &to).await,
    }
}

async fn migrate(
    config: Option<PathBuf>,
    data_dir: Option<PathBuf>,
    database: Option<String>,
) -> anyhow::Result<()> {
    let mut flags = Map::new();
    if let Some(d) = data_dir {
        flags.insert("data_dir".into(), Value::String(d.display().to_string()));
    }
    if let Some(u) = database {
        flags.insert("database_url".into(), Value::String(u));
    }
    let config = Config::load(
        config.as_deref(),
        Figment::from(Serialized::defaults(Value::Object(flags))),
    )?;
    let url = config.database_url();
    if url.starts_with("sqlite:") {
        std::fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("creating {}", config.data_dir.display()))?;
    }
    smartship_store::open(&url)
        .await
        .with_context(|| format!("migrating {}", redacted(&url)))?;
    println!("{}: at the current schema", redacted(&url));
    Ok(())
}

/// A server still running on the data directory would write while it is
/// copied: its server.json names a live process.
fn refuse_running_server(data_dir: &Path) -> anyhow::Result<()> {
    let Ok(text) = std::fs::read_to_string(data_dir.join("server.json")) else {
        return Ok(());
    };
    let pid = serde_json::from_str::<Value>(&text)
        .ok()
        .and_then(|v| v["pid"].as_u64());
    #[cfg(unix)]
    if let Some(pid) = pid.and_then(|p| i32::try_from(p).ok()) {
        // SAFETY: signal 0 only checks that the process exists.
        if unsafe { libc::kill(pid, 0) } == 0 {
            bail!(
                "a server (pid {pid}) is running on {}: stop it before copying",
                data_dir.display()
            );
        }
    }
    Ok(())
}

async fn copy(from: &Path, to: &str) -> anyhow::Result<()> {
    let db = from.join("smartship.db");
    if !db.exists() {
        bail!("{} has no smartship.db", from.display());
    }
    refuse_running_server(from)?;
    let source = format!("sqlite:{}", db.display());
    let started = Instant::now();
    let mut copy = Copy::open(&source, to)
        .await
        .with_context(|| format!("opening {} and {}", db.display(), redacted(to)))?;
    let tty = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let mut rows = 0u64;
    let mut written = 0u64;
    copy.copy_all(|p: &TableProgress| {
        let line = format!(
            "{:<20} {:>9}/{} rows, {} written",
            p.table, p.read, p.total, p.written
        );
        let done = p.read == p.total;
        if done {
            rows += p.total;
            written += p.written;
        }
        let mut err = std::io::stderr();
        if tty {
            // One line per table, rewritten as its batches go.
            let _ = write!(err, "\r\x1b[2K{line}");
            if done {
                let _ = writeln!(err);
            }
        } else if done {
            let _ = writeln!(err, "{line}");
        }
    })
    .await
    .context("copying")?;
    eprintln!(
        "copied {rows} rows ({written} written, {} already there) in {:.1} s",
        rows - written,
        started.elapsed().as_secs_f64()
    );
    let blobs_dir = from.join("blobs");
    let mut blobs = BlobProgress::default();
    copy.copy_blobs(&blobs_dir, |p: &BlobProgress| {
        blobs = p.clone();
        if tty {
            let _ = write!(
                std::io::stderr(),
                "\r\x1b[2Kblobs {:>9}/{}, {} written ({} bytes)",
                p.done,
                p.total,
                p.written,
                p.bytes_written
            );
        }
    })
    .await
    .context("copying the blobs")?;
    if tty {
        eprintln!();
    }
    eprintln!(
        "copied {} blobs ({} written, {} bytes; {} already there); comparing...",
        blobs.total,
        blobs.written,
        blobs.bytes_written,
        blobs.total - blobs.written
    );
    let checks = copy.verify().await.context("comparing")?;
    let mut differ = Vec::new();
    for c in &checks {
        let mark = if c.equal() { "equal" } else { "DIFFERENT" };
        println!(
            "{:<20} {:>9} rows  sha256 {}  {mark}",
            c.table,
            c.target_rows,
            &c.target_sha256[..16]
        );
        if !c.equal() {
            differ.push(format!(
                "{}: {} rows here, {} there",
                c.table, c.source_rows, c.target_rows
            ));
        }
    }
    let blob_check = copy
        .verify_blobs(&blobs_dir)
        .await
        .context("comparing the blobs")?;
    println!(
        "{:<20} {:>9} blobs ({} bytes) read back, each hashing to its name  {}",
        "blobs",
        blob_check.checked,
        blob_check.bytes,
        if blob_check.equal() {
            "equal"
        } else {
            "DIFFERENT"
        }
    );
    if !blob_check.equal() {
        differ.push(format!(
            "blobs: {} missing, {} with other bytes",
            blob_check.missing.len(),
            blob_check.corrupt.len()
        ));
    }
    if !differ.is_empty() {
        bail!(
            "the copy differs from the source ({}); run the copy again with the server stopped",
            differ.join("; ")
        );
    }
    println!(
        "every table and blob is equal. Start the server on it (the data directory still \
         holds the admin token): smartship serve --data-dir {} --database {}",
        from.display(),
        redacted(to)
    );
    Ok(())
}
