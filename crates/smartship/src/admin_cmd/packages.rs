//! `smartship admin package ...` and `admin template list`: packages,
//! their review and the review queue; templates.

use super::{PageArgs, cell, list_path, print, print_list};
use crate::output;
use anyhow::Context;
use clap::Subcommand;
use smartship_client::AdminClient;
use smartship_client::requests::admin::{QueueQuery, Review};
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub enum TemplateCommand {
    /// List templates, newest first.
    List {
        /// Only this platform's.
        #[arg(long)]
        client_id: Option<String>,
        #[command(flatten)]
        page: PageArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum PackageCommand {
    /// List packages of every app (retired ones included), newest first.
    List {
        #[arg(long)]
        app_id: Option<i64>,
        /// Only packages of this platform's apps.
        #[arg(long)]
        client_id: Option<String>,
        /// A state (development, auditing, audit_failed, audit_passed,
        /// online, rolling_back, history, superseded, rolled_back) or a
        /// wire status (1, 3, 4, 5, 6, 8).
        #[arg(long)]
        state: Option<String>,
        /// user_version.
        #[arg(long)]
        version: Option<String>,
        #[command(flatten)]
        page: PageArgs,
    },
    /// Show a package and its transition history.
    Show { package_id: i64 },
    /// Pass or fail the audit of a package under audit, or of every package
    /// in the review queue (--all-queued).
    Review {
        #[arg(required_unless_present = "all_queued", conflicts_with = "all_queued")]
        package_id: Option<i64>,
        /// Every package waiting in the review queue, oldest first.
        #[arg(long)]
        all_queued: bool,
        #[arg(long, conflicts_with = "fail")]
        pass: bool,
        /// Fail with this reason.
        #[arg(long)]
        fail: Option<String>,
    },
    /// Packages under audit, oldest submission first.
    Queue {
        #[arg(long, default_value_t = 100)]
        limit: i64,
    },
    /// Download a built package as a zip.
    Download {
        package_id: i64,
        #[arg(short, long)]
        output: PathBuf,
    },
}

/// Reviews the review queue page by page until it is empty. A package
/// another reviewer (or a withdraw) took meanwhile is skipped, not an error.
async fn review_queued(c: &AdminClient, decision: &Review) -> anyhow::Result<()> {
    let mut reviewed = 0u64;
    let mut skipped = std::collections::HashSet::new();
    let page = QueueQuery { limit: Some(1000) };
    loop {
        let queue = c.review_queue(&page).await?;
        let ids: Vec<i64> = queue
            .packages
            .iter()
            .map(|p| p.package_id)
            .filter(|id| !skipped.contains(id))
            .collect();
        if ids.is_empty() {
            break;
        }
        for id in ids {
            match c.review_package(id, decision).await {
                Ok(_) => reviewed += 1,
                Err(e) => {
                    eprintln!("package {id}: {e:#}");
                    skipped.insert(id);
                }
            }
            if reviewed > 0 && reviewed.is_multiple_of(100) {
                eprintln!("reviewed {reviewed} packages");
            }
        }
    }
    println!("reviewed {reviewed} packages ({} skipped)", skipped.len());
    Ok(())
}

pub async fn run(c: &AdminClient, cmd: PackageCommand, as_json: bool) -> anyhow::Result<()> {
    match cmd {
        PackageCommand::List {
            app_id,
            client_id,
            state,
            version,
            page,
        } => print_list(
            &c.get(&list_path(
                "/admin/v1/packages",
                &[
                    ("app_id", app_id.map(|i| i.to_string())),
                    ("client_id", client_id),
                    ("state", state),
                    ("version", version),
                ],
                page,
            ))
            .await?,
            "packages",
            &[
                ("PACKAGE_ID", "package_id"),
                ("APP_ID", "app_id"),
                ("VERSION", "version"),
                ("STATE", "state"),
                ("BUILD", "build"),
                ("COMMITTED", "commit_time"),
                ("DESCRIPTION", "version_desc"),
            ],
            as_json,
        ),
        PackageCommand::Show { package_id } => {
            print(&c.get(&format!("/admin/v1/packages/{package_id}")).await?)
        }
        PackageCommand::Review {
            package_id,
            all_queued,
            pass,
            fail,
        } => {
            let body = match (pass, fail) {
                (true, None) => Review::pass(),
                (false, Some(reason)) => Review::fail(reason),
                _ => anyhow::bail!("give exactly one of --pass or --fail REASON"),
            };
            match package_id {
                Some(id) => print(
                    &c.post(&format!("/admin/v1/packages/{id}/review"), &body)
                        .await?,
                ),
                None if all_queued => review_queued(c, &body).await?,
                None => anyhow::bail!("give a PACKAGE_ID or --all-queued"),
            }
        }
        PackageCommand::Queue { limit } => {
            let v = c
                .get(&format!("/admin/v1/review-queue?limit={limit}"))
                .await?;
            if as_json {
                print(&v)
            } else {
                let rows: Vec<Vec<String>> = v["packages"]
                    .as_array()
                    .map(Vec::as_slice)
                    .unwrap_or_default()
                    .iter()
                    .map(|p| {
                        [
                            "package_id",
                            "app_id",
                            "version",
                            "submitted_at",
                            "waiting_secs",
                            "version_desc",
                        ]
                        .iter()
                        .map(|f| cell(&p[*f]))
                        .collect()
                    })
                    .collect();
                print!(
                    "{}",
                    output::table(
                        &[
                            "PACKAGE_ID",
                            "APP_ID",
                            "VERSION",
                            "SUBMITTED",
                            "WAITING_S",
                            "DESCRIPTION"
                        ],
                        &rows
                    )
                );
                println!(
                    "{} waiting (pass one: smartship admin package review ID --pass; all: --all-queued --pass)",
                    rows.len()
                );
            }
        }
        PackageCommand::Download { package_id, output } => {
            let bytes = c
                .get_bytes(&format!("/admin/v1/packages/{package_id}/download"))
                .await?;
            std::fs::write(&output, &bytes)
                .with_context(|| format!("writing {}", output.display()))?;
            eprintln!("wrote {} bytes to {}", bytes.len(), output.display());
        }
    }
    Ok(())
}

pub async fn run_templates(
    c: &AdminClient,
    cmd: TemplateCommand,
    as_json: bool,
) -> anyhow::Result<()> {
    match cmd {
        TemplateCommand::List { client_id, page } => print_list(
            &c.get(&list_path(
                "/admin/v1/templates",
                &[("client_id", client_id)],
                page,
            ))
            .await?,
            "templates",
            &[
                ("ID", "template_id"),
                ("PLATFORM", "client_id"),
                ("VERSION", "user_version"),
                ("CREATED", "created_at"),
                ("DESCRIPTION", "user_desc"),
            ],
            as_json,
        ),
    }
    Ok(())
}
