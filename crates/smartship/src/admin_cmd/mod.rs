//! `smartship admin ...`: operator commands over the /admin/v1 API, a
//! module per resource, each over the typed `AdminClient`.

mod apps;
mod events;
mod examinations;
mod operators;
mod packages;
mod platforms;

use anyhow::Context;
use clap::{Args, Subcommand};
use serde_json::Value;
use smartship_client::AdminClient;
use smartship_client::requests::admin::NoBody;
use std::path::PathBuf;

use crate::output;

#[derive(Debug, Args)]
pub struct AdminArgs {
    /// Server base URL; default: `base_url` of <data-dir>/server.json.
    #[arg(long, env = "SMARTSHIP_SERVER", hide_env_values = true)]
    server: Option<String>,
    /// Admin bearer token; default: <data-dir>/admin_token.
    #[arg(long, env = "SMARTSHIP_ADMIN_TOKEN", hide_env_values = true)]
    admin_token: Option<String>,
    /// Data directory of a local server, used to find the two values above.
    #[arg(long, default_value = "./data")]
    data_dir: PathBuf,
    /// Print JSON instead of a table (lists and status).
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: AdminCommand,
}

#[derive(Debug, Subcommand)]
enum AdminCommand {
    /// Counts of apps, platforms, packages by state, the review queue and
    /// events by status.
    Status,
    /// Templates of every platform (or of one).
    #[command(subcommand)]
    Template(packages::TemplateCommand),
    /// Third-party platforms.
    #[command(subcommand)]
    Tp(platforms::TpCommand),
    /// Mini-programs.
    #[command(subcommand, alias = "apps")]
    App(apps::AppCommand),
    /// Packages.
    #[command(subcommand)]
    Package(packages::PackageCommand),
    /// Pushed events and their delivery.
    #[command(subcommand)]
    Events(events::EventsCommand),
    /// Changes of apps' basic information waiting for review.
    #[command(subcommand)]
    Examinations(examinations::ExaminationsCommand),
    /// Accounts of the operator console (/console).
    #[command(subcommand)]
    Operators(operators::OperatorsCommand),
    /// Remove the stored files no draft, template, package or image names
    /// any more (what the collector does every blob_gc_interval_secs).
    CollectBlobs,
}

/// `--page` and `--page-size` of the list commands.
#[derive(Debug, Clone, Copy, clap::Args)]
pub struct PageArgs {
    /// Page number, from 1.
    #[arg(long, default_value_t = 1)]
    pub page: i64,
    /// Rows per page (at most 500).
    #[arg(long, default_value_t = 50)]
    pub page_size: i64,
}

fn client(a: &AdminArgs) -> anyhow::Result<AdminClient> {
    let server = match &a.server {
        Some(s) => s.clone(),
        None => {
            let path = a.data_dir.join("server.json");
            let text = std::fs::read_to_string(&path).with_context(|| {
                format!(
                    "no server: give --server URL or set SMARTSHIP_SERVER \
                     (or run beside the server's data directory: {} is unreadable)",
                    path.display()
                )
            })?;
            let v: Value = serde_json::from_str(&text)?;
            v["base_url"]
                .as_str()
                .context("server.json has no base_url")?
                .to_owned()
        }
    };
    let token = match &a.admin_token {
        Some(t) => t.clone(),
        None => {
            let path = a.data_dir.join("admin_token");
            std::fs::read_to_string(&path)
                .with_context(|| {
                    format!(
                        "no admin token: give --admin-token or set SMARTSHIP_ADMIN_TOKEN \
                         (or run beside the server's data directory: {} is unreadable)",
                        path.display()
                    )
                })?
                .trim()
                .to_owned()
        }
    };
    Ok(AdminClient::new(server, token))
}

pub(crate) fn print(v: &Value) {
    println!("{}", serde_json::to_string_pretty(v).expect("JSON prints"));
}

/// A list route's path with its filters and page, query-encoded.
pub(crate) fn list_path(route: &str, filters: &[(&str, Option<String>)], page: PageArgs) -> String {
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in filters {
        if let Some(v) = v {
            q.append_pair(k, v);
        }
    }
    q.append_pair("page", &page.page.to_string());
    q.append_pair("page_size", &page.page_size.to_string());
    format!("{route}?{}", q.finish())
}

/// A page of a list: JSON with --json; otherwise a table of `columns`
/// (header, field) and a line with the total.
pub(crate) fn print_list(v: &Value, key: &str, columns: &[(&str, &str)], as_json: bool) {
    if as_json {
        print(v);
        return;
    }
    let rows: Vec<Vec<String>> = v[key]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|item| columns.iter().map(|(_, f)| cell(&item[*f])).collect())
        .collect();
    let headers: Vec<&str> = columns.iter().map(|(h, _)| *h).collect();
    print!("{}", output::table(&headers, &rows));
    let (total, page, size) = (
        v["total"].as_i64().unwrap_or(0),
        v["page"].as_i64().unwrap_or(1),
        v["page_size"].as_i64().unwrap_or(1),
    );
    let first = (page - 1) * size + 1;
    if rows.is_empty() {
        println!("{total} in all; none on page {page}");
    } else {
        println!("{first}-{} of {total}", first + rows.len() as i64 - 1);
    }
}

pub(crate) fn cell(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn print_status(v: &Value) {
    let counts = |o: &Value| -> String {
        match o.as_object() {
            Some(m) if !m.is_empty() => m
                .iter()
                .map(|(k, n)| format!("{k} {n}"))
                .collect::<Vec<_>>()
                .join(", "),
            _ => "none".to_owned(),
        }
    };
    let queue = &v["review_queue"];
    let waiting = queue["waiting"].as_i64().unwrap_or(0);
    let queue_text = if waiting == 0 {
        "empty".to_owned()
    } else {
        format!(
            "{waiting} waiting for a reviewer, the oldest since {} ({}s); see `smartship admin package queue`",
            cell(&queue["oldest_since"]),
            cell(&queue["oldest_wait_secs"])
        )
    };
    let undeliverable = v["undeliverable_tps"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let mut fields = vec![
        ("apps", cell(&v["apps"])),
        ("platforms", cell(&v["tps"])),
        ("templates", cell(&v["templates"])),
        ("packages", counts(&v["packages"])),
        (
            "builds",
            format!(
                "{} pending, {} failed",
                cell(&v["builds"]["pending"]),
                cell(&v["builds"]["failed"])
            ),
        ),
        ("review queue", queue_text),
        ("review policy", cell(&v["review_policy"])),
        (
            "rollbacks",
            format!("{} pending", cell(&v["rollbacks_pending"])),
        ),
        ("events", counts(&v["events"])),
    ];
    if !undeliverable.is_empty() {
        let ids: Vec<String> = undeliverable.iter().map(cell).collect();
        fields.push((
            "undeliverable",
            format!(
                "events held for platforms with no event URL: {} (set one with `smartship admin tp set-urls`)",
                ids.join(", ")
            ),
        ));
    }
    output::print_fields(&fields);
}

pub async fn run(a: AdminArgs) -> anyhow::Result<()> {
    let c = client(&a)?;
    let as_json = a.json;
    match a.command {
        AdminCommand::Operators(cmd) => operators::run(&c, cmd, as_json).await,
        AdminCommand::Examinations(cmd) => examinations::run(&c, cmd, as_json).await,
        AdminCommand::Template(cmd) => packages::run_templates(&c, cmd, as_json).await,
        AdminCommand::Tp(cmd) => platforms::run(&c, cmd, as_json).await,
        AdminCommand::App(cmd) => apps::run(&c, cmd, as_json).await,
        AdminCommand::Package(cmd) => packages::run(&c, cmd, as_json).await,
        AdminCommand::Events(cmd) => events::run(&c, cmd).await,
        AdminCommand::Status => {
            let v = c.get("/admin/v1/status").await?;
            if as_json {
                print(&v)
            } else {
                print_status(&v)
            }
            Ok(())
        }
        AdminCommand::CollectBlobs => {
            let v = c.post("/admin/v1/blobs/collect", &NoBody {}).await?;
            if as_json {
                print(&v)
            } else {
                println!(
                    "removed {} blobs, {} bytes",
                    v["blobs_removed"], v["bytes_removed"]
                )
            }
            Ok(())
        }
    }
}
