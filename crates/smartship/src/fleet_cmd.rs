//! `smartship fleet ...`: one template version to many apps, with a live
//! progress display, a resumable state file and a final report. The engine
//! is `smartship_client::fleet`; this module parses flags and renders.

use crate::output::{OpenApiArgs, print_json};
use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};
use smartship_client::OpenApiClient;
use smartship_client::fleet::{self, AppRecord, FleetReport, Outcome, Progress, UpgradeOptions};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

#[derive(Debug, Args)]
pub struct FleetArgs {
    #[command(flatten)]
    api: OpenApiArgs,
    #[command(subcommand)]
    command: FleetCommand,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ProgressMode {
    /// A live bar on a terminal, log lines otherwise.
    Auto,
    /// The live bar.
    Bar,
    /// One line per finished app and a summary every 5 seconds.
    Log,
    /// Only the final report.
    None,
}

#[derive(Debug, Subcommand)]
enum FleetCommand {
    /// Upload (and submit, wait for the audit, release) a template version
    /// to every app of an apps file. Run it again to resume.
    Upgrade {
        /// Template id.
        #[arg(long)]
        template: i64,
        /// Apps file: a JSON array (or JSON lines) of {app_id, access_token,
        /// refresh_token, ext_json}; `admin apps create --json` output works.
        #[arg(long)]
        apps: PathBuf,
        /// user_version of the new packages.
        #[arg(long)]
        version: String,
        /// user_desc of the new packages.
        #[arg(long)]
        desc: Option<String>,
        /// Base ext_json (text or @FILE); each app's ext_json is merged over it.
        #[arg(long, default_value = r#"{"extEnable":true}"#)]
        ext_json: String,
        /// Submit each built package for audit.
        #[arg(long)]
        submit: bool,
        /// Wait for each audit's result (implies --submit).
        #[arg(long)]
        wait_audit: bool,
        /// Release each passed package (implies --submit --wait-audit).
        #[arg(long)]
        release: bool,
        /// Release each passed package to this share of its users, 1-100
        /// (a phased release; implies --release). Run again with a higher
        /// share to raise every app's; 100 releases to everyone.
        #[arg(long, value_parser = clap::value_parser!(u8).range(1..=100))]
        gray: Option<u8>,
        /// Stop starting new steps after the first failure.
        #[arg(long)]
        stop_on_failure: bool,
        /// Apps driven at once (apps waiting for a reviewer do not count).
        #[arg(long, default_value_t = 16)]
        concurrency: usize,
        /// Leave this many of each app's weekly audit submissions unused.
        #[arg(long, default_value_t = 0)]
        keep_quota: i64,
        /// Try apps that failed or were skipped in an earlier run again,
        /// from a fresh upload.
        #[arg(long)]
        retry_failed: bool,
        /// Seconds before the first check of an audit; later checks back
        /// off, doubling up to a minute.
        #[arg(long, default_value_t = 1.0)]
        audit_poll: f64,
        /// Stop waiting for an audit after this many seconds.
        #[arg(long)]
        audit_timeout: Option<f64>,
        /// State file (default: fleet-<template>-<version>.state in the
        /// current directory). Rerunning with it resumes.
        #[arg(long)]
        state: Option<PathBuf>,
        /// Also write the report here: .csv or .json by extension.
        #[arg(long)]
        report: Option<PathBuf>,
        #[arg(long, value_enum, default_value = "auto")]
        progress: ProgressMode,
    },
    /// The report of a state file as it stands (no server calls).
    Status {
        #[arg(long)]
        state: PathBuf,
        /// Also write the report here: .csv or .json by extension.
        #[arg(long)]
        report: Option<PathBuf>,
    },
    /// Roll back every app an upgrade released, if that package is still online.
    Rollback {
        #[arg(long)]
        state: PathBuf,
        /// The apps file of the upgrade (for the tokens).
        #[arg(long)]
        apps: PathBuf,
        #[arg(long, default_value_t = 16)]
        concurrency: usize,
        #[arg(long)]
        report: Option<PathBuf>,
        #[arg(long, value_enum, default_value = "auto")]
        progress: ProgressMode,
    },
}

fn secs(s: f64, flag: &str) -> anyhow::Result<Duration> {
    Duration::try_from_secs_f64(s)
        .map_err(|_| anyhow::anyhow!("{flag} must be a positive number of seconds"))
}

fn write_report(report: &FleetReport, path: &Path) -> anyhow::Result<()> {
    let text = match path.extension().and_then(|e| e.to_str()) {
        Some("csv") => report.to_csv(),
        Some("json") => serde_json::to_string_pretty(&report.to_json())? + "\n",
        _ => anyhow::bail!("--report must end in .csv or .json: {}", path.display()),
    };
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
    eprintln!("report written to {}", path.display());
    Ok(())
}

/// Prints the report: JSON with --json; otherwise the summary and a table
/// of every app (at most 50) or of the apps that did not succeed.
fn print_report(report: &FleetReport, as_json: bool) {
    if as_json {
        print_json(&report.to_json());
        return;
    }
    let rows: Vec<&AppRecord> = if report.apps.len() <= 50 {
        report.apps.iter().collect()
    } else {
        report
            .apps
            .iter()
            .filter(|a| a.outcome.is_none_or(Outcome::is_failure))
            .collect()
    };
    if !rows.is_empty() {
        print!("{}", FleetReport::table(rows.iter().copied()));
    }
    println!("{} apps: {}", report.apps.len(), report.summary());
}

fn describe(r: &AppRecord) -> Option<String> {
    let outcome = r.outcome?;
    let package = r
        .package_id
        .map(|p| format!(" (package {p})"))
        .unwrap_or_default();
    Some(match (outcome.is_failure(), &r.reason) {
        (true, Some(reason)) => format!(
            "app {}: {} at {}: {}",
            r.app,
            outcome.as_str(),
            r.stage.as_str(),
            crate::output::printable(reason)
        ),
        _ => format!("app {}: {}{package}", r.app, outcome.as_str()),
    })
}

/// The live display: a two-line bar on a terminal, or log lines.
struct Display {
    bar: Option<indicatif::ProgressBar>,
    ticker: tokio::task::JoinHandle<()>,
}

impl Display {
    fn start(mode: ProgressMode, progress: Arc<Progress>, manual: Option<bool>) -> Display {
        let mode = match mode {
            ProgressMode::Auto if std::io::stderr().is_terminal() => ProgressMode::Bar,
            ProgressMode::Auto => ProgressMode::Log,
            m => m,
        };
        let total = progress.snapshot().total as u64;
        let bar = (mode == ProgressMode::Bar).then(|| {
            let bar = indicatif::ProgressBar::new(total);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "[{elapsed_precise}] [{bar:32}] {pos}/{len} apps  {prefix}\n{msg}",
                )
                .expect("valid template")
                .progress_chars("=> "),
            );
            bar
        });
        let ticker = {
            let bar = bar.clone();
            tokio::spawn(async move {
                let period = if bar.is_some() {
                    Duration::from_millis(200)
                } else {
                    Duration::from_secs(5)
                };
                loop {
                    tokio::time::sleep(period).await;
                    let s = progress.snapshot();
                    match (&bar, mode) {
                        (Some(bar), _) => {
                            bar.set_position(s.finished as u64);
                            bar.set_prefix(format!("{:.1} apps/s  {}", s.rate, s.eta_text()));
                            let hint = s
                                .waiting_hint(manual)
                                .map(|h| format!("\n  {h}"))
                                .unwrap_or_default();
                            bar.set_message(format!(
                                "  now:  {}\n  done: {}{hint}",
                                s.stage_counts(" · "),
                                s.outcome_counts(" · ")
                            ));
                        }
                        (None, ProgressMode::Log) => {
                            eprintln!("{}", s.line());
                            if let Some(hint) = s.waiting_hint(manual) {
                                eprintln!("{hint}");
                            }
                        }
                        _ => {}
                    }
                }
            })
        };
        Display { bar, ticker }
    }

    /// Per-app log lines (log mode only).
    fn hook(mode: ProgressMode) -> Option<fleet::RecordHook> {
        let log = match mode {
            ProgressMode::Log => true,
            ProgressMode::Auto => !std::io::stderr().is_terminal(),
            _ => false,
        };
        log.then(|| {
            Arc::new(|r: &AppRecord| {
                if let Some(line) = describe(r) {
                    eprintln!("{line}");
                }
            }) as fleet::RecordHook
        })
    }

    fn finish(self, progress: &Progress) {
        self.ticker.abort();
        let s = progress.snapshot();
        if let Some(bar) = self.bar {
            bar.set_position(s.finished as u64);
            bar.finish_and_clear();
        }
        eprintln!("{}", s.line());
    }
}

/// Ctrl-C or SIGTERM (a service manager, `kill`, a CI timeout): both stop a
/// run the same way, with the state saved and the report printed.
async fn interrupted() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate()).expect("installing a SIGTERM handler");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}

fn load_apps(path: &Path) -> anyhow::Result<Vec<fleet::FleetApp>> {
    fleet::load_apps(path).map_err(anyhow::Error::msg)
}

/// Exit status of `fleet upgrade` when some apps failed or were skipped.
const EXIT_FAILED: u8 = 3;
/// ... when some apps stopped short of the goal without failing (still
/// under audit when `--audit-timeout` passed).
const EXIT_SHORT: u8 = 4;
/// ... when the run was interrupted (Ctrl-C, SIGTERM).
const EXIT_INTERRUPTED: u8 = 5;

/// Whether the server reviews by hand, when the operator's token says so
/// (`SMARTSHIP_ADMIN_TOKEN`); None when it cannot be asked.
async fn manual_review(server: &str) -> Option<bool> {
    let token = std::env::var("SMARTSHIP_ADMIN_TOKEN").ok()?;
    let admin = smartship_client::AdminClient::new(server, token);
    let status = tokio::time::timeout(Duration::from_secs(5), admin.get("/admin/v1/status"))
        .await
        .ok()?
        .ok()?;
    Some(status["review_policy"].as_str()? == "manual")
}

pub async fn run(a: FleetArgs) -> anyhow::Result<()> {
    let as_json = a.api.json;
    match a.command {
        FleetCommand::Status { state, report } => {
            let (header, r) = fleet::status(&state).map_err(anyhow::Error::msg)?;
            if let Some(h) = header
                && !as_json
            {
                println!("template {} version {}", h.template_id, h.version);
            }
            print_report(&r, as_json);
            if let Some(path) = report {
                write_report(&r, &path)?;
            }
            Ok(())
        }
        FleetCommand::Upgrade {
            template,
            apps,
            version,
            desc,
            ext_json,
            submit,
            wait_audit,
            release,
            gray,
            stop_on_failure,
            concurrency,
            keep_quota,
            retry_failed,
            audit_poll,
            audit_timeout,
            state,
            report,
            progress: mode,
        } => {
            let server = a.api.server()?;
            let tp = OpenApiClient::new(server, a.api.token.clone().unwrap_or_default());
            let list = load_apps(&apps)?;
            let base_ext = crate::package_cmd::read_ext_json(&ext_json)?;
            anyhow::ensure!(base_ext.is_object(), "--ext-json must be a JSON object");
            let mut options = UpgradeOptions::new(template, &version)
                .release(release)
                .concurrency(concurrency);
            if let Some(p) = gray {
                options = options.gray(p);
            }
            options.submit |= submit || wait_audit;
            options.wait_audit |= wait_audit;
            options.base_ext_json = base_ext;
            if let Some(d) = desc {
                options.description = d;
            }
            options.stop_on_failure = stop_on_failure;
            options.keep_quota = keep_quota;
            options.retry_failed = retry_failed;
            options.audit_poll = secs(audit_poll, "--audit-poll")?;
            options.audit_timeout = audit_timeout
                .map(|s| secs(s, "--audit-timeout"))
                .transpose()?;
            options.on_record = Display::hook(mode);
            let state =
                state.unwrap_or_else(|| PathBuf::from(format!("fleet-{template}-{version}.state")));
            let progress = Arc::new(Progress::new(list.len()));
            let stop = Arc::new(AtomicBool::new(false));
            {
                let stop = stop.clone();
                tokio::spawn(async move {
                    interrupted().await;
                    eprintln!(
                        "\nstopping: no app takes another step; run the same command again to resume"
                    );
                    stop.store(true, Ordering::Relaxed);
                });
            }
            eprintln!(
                "fleet upgrade: {} apps to template {template} version {version}; state file {}",
                list.len(),
                state.display()
            );
            let display = Display::start(mode, progress.clone(), manual_review(server).await);
            let result =
                fleet::upgrade_until(&tp, list, &options, &state, progress.clone(), stop.clone())
                    .await;
            display.finish(&progress);
            let r = result.map_err(anyhow::Error::msg)?;
            print_report(&r, as_json);
            if let Some(path) = report {
                write_report(&r, &path)?;
            }
            let goal = options.target();
            let failed = r
                .apps
                .iter()
                .filter(|a| a.outcome.is_some_and(Outcome::is_failure))
                .count();
            let short = r
                .apps
                .iter()
                .filter(|a| a.outcome.is_none_or(|o| !fleet::reached(o, goal)))
                .count();
            let exit = |code: u8, message: String| {
                Err(anyhow::Error::new(crate::output::Exit { code, message }))
            };
            if stop.load(Ordering::Relaxed) {
                return exit(
                    EXIT_INTERRUPTED,
                    format!(
                        "stopped with {} apps unfinished; run again to resume",
                        r.unfinished()
                    ),
                );
            }
            if failed > 0 {
                return exit(
                    EXIT_FAILED,
                    format!(
                        "{failed} of {} apps failed or were skipped (see the report)",
                        r.apps.len()
                    ),
                );
            }
            if short > 0 {
                return exit(
                    EXIT_SHORT,
                    format!(
                        "{short} of {} apps stopped short of {} (see the report); run again to continue",
                        r.apps.len(),
                        goal.as_str()
                    ),
                );
            }
            Ok(())
        }
        FleetCommand::Rollback {
            state,
            apps,
            concurrency,
            report,
            progress: mode,
        } => {
            let tp = OpenApiClient::new(a.api.server()?, a.api.token.clone().unwrap_or_default());
            let list = load_apps(&apps)?;
            let progress = Arc::new(Progress::new(list.len()));
            let display = Display::start(mode, progress.clone(), None);
            let result = fleet::rollback(&tp, list, &state, concurrency, progress.clone()).await;
            display.finish(&progress);
            let r = result.map_err(anyhow::Error::msg)?;
            print_report(&r, as_json);
            if let Some(path) = report {
                write_report(&r, &path)?;
            }
            let failed = r.count(Outcome::Failed);
            anyhow::ensure!(failed == 0, "{failed} rollbacks failed (see the report)");
            Ok(())
        }
    }
}
