//! `smartship serve`.

use anyhow::Context;
use clap::Args;
use figment::Figment;
use figment::providers::Serialized;
use serde_json::{Map, Value};
use smartship_server::config::Config;
use smartship_server::{StartOptions, demo};
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// TOML configuration file (settings: docs/operations.md).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Address to listen on, e.g. 127.0.0.1:8080 (port 0 picks one).
    #[arg(long)]
    listen: Option<String>,
    /// Data directory (database, blobs, server.json, demo.json).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Database URL: `sqlite:PATH` (default `sqlite:<data-dir>/smartship.db`)
    /// or `postgres://USER@HOST:PORT/DATABASE`; also SMARTSHIP_DATABASE_URL.
    #[arg(long, value_name = "URL")]
    database: Option<String>,
    /// What this node does: `all` (the APIs and the workers), `api` or
    /// `worker`; also SMARTSHIP_ROLE (docs/scaling.md).
    #[arg(long, value_name = "all|api|worker")]
    role: Option<String>,
    /// Seed demo data and write demo.json with fresh tokens.
    #[arg(long)]
    demo: bool,
}

/// Log timestamps in the platform's time zone, with the offset written out,
/// like every other time smartship shows (docs/operations.md, "Times").
struct PlatformTime(chrono::FixedOffset);

impl tracing_subscriber::fmt::time::FormatTime for PlatformTime {
    fn format_time(&self, w: &mut tracing_subscriber::fmt::format::Writer<'_>) -> std::fmt::Result {
        let now = chrono::Utc::now().with_timezone(&self.0);
        write!(
            w,
            "{}",
            now.to_rfc3339_opts(chrono::SecondsFormat::Millis, false)
        )
    }
}

/// Every log line names the node it comes from (docs/scaling.md): a JSON
/// line gets a `node` field first, a text line starts with `node=NAME`.
struct WithNode<F> {
    inner: F,
    node: String,
    json: bool,
}

impl<S, N, F> tracing_subscriber::fmt::FormatEvent<S, N> for WithNode<F>
where
    F: tracing_subscriber::fmt::FormatEvent<S, N>,
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
    N: for<'a> tracing_subscriber::fmt::FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &tracing_subscriber::fmt::FmtContext<'_, S, N>,
        mut writer: tracing_subscriber::fmt::format::Writer<'_>,
        event: &tracing::Event<'_>,
    ) -> std::fmt::Result {
        if !self.json {
            // Before the rest, which may carry colour codes for a terminal.
            write!(writer, "node={} ", self.node)?;
            return self.inner.format_event(ctx, writer, event);
        }
        let mut line = String::new();
        self.inner.format_event(
            ctx,
            tracing_subscriber::fmt::format::Writer::new(&mut line),
            event,
        )?;
        match line.strip_prefix('{') {
            Some(rest) => write!(
                writer,
                "{{\"node\":{},{rest}",
                serde_json::Value::String(self.node.clone())
            ),
            None => writer.write_str(&line),
        }
    }
}

fn init_logging(format: &str, tz: chrono::FixedOffset, node: String) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("SMARTSHIP_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    // Colour only for a person at a terminal: escape codes in a log file or
    // a journal are noise.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_timer(PlatformTime(tz))
        // A log that cannot be written (a full disk) must not take the
        // server down: the default reports it with eprintln!, which panics
        // when stderr itself fails, inside whatever task was logging.
        .log_internal_errors(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    if format == "json" {
        builder
            .json()
            .map_event_format(|inner| WithNode {
                inner,
                node,
                json: true,
            })
            .init();
    } else {
        builder
            .map_event_format(|inner| WithNode {
                inner,
                node,
                json: false,
            })
            .init();
    }
}

/// Waits for SIGINT or SIGTERM. The handlers are installed when this is
/// called, not when it is first polled: a signal that arrives while the
/// server starts (server.json may already be written) must stop it cleanly
/// instead of killing it with the default action.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut int = signal(SignalKind::interrupt()).expect("installing a SIGINT handler");
        let mut term = signal(SignalKind::terminate()).expect("installing a SIGTERM handler");
        async move {
            tokio::select! {
                _ = int.recv() => {}
                _ = term.recv() => {}
            }
        }
    }
    #[cfg(not(unix))]
    async {
        let _ = tokio::signal::ctrl_c().await;
    }
}

pub async fn run(a: ServeArgs) -> anyhow::Result<()> {
    let mut flags = Map::new();
    if let Some(l) = a.listen {
        flags.insert("listen".into(), Value::String(l));
    }
    if let Some(u) = a.database {
        flags.insert("database_url".into(), Value::String(u));
    }
    if let Some(r) = a.role {
        flags.insert("role".into(), Value::String(r));
    }
    if let Some(d) = a.data_dir {
        flags.insert("data_dir".into(), Value::String(d.display().to_string()));
    }
    let config = Config::load(
        a.config.as_deref(),
        Figment::from(Serialized::defaults(Value::Object(flags))),
    )?;
    init_logging(&config.log_format, config.tz()?, config.node_name());
    let signalled = shutdown_signal();
    let server = smartship_server::start(config, StartOptions { demo: a.demo })
        .await
        .context("starting the server")?;
    if let Some(info) = &server.demo {
        println!("{}", demo::instructions(info));
    }
    let stop = server.shutdown_token();
    tokio::spawn(async move {
        signalled.await;
        // Stop first: the log line may fail, the shutdown must not.
        stop.cancel();
        tracing::info!("shutting down");
    });
    server.wait().await
}
