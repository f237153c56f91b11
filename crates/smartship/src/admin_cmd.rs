//! `smartship admin ...`: operator commands over the /admin/v1 API.

use anyhow::Context;
use clap::{Args, Subcommand};
use serde_json::Value;
use smartship_client::AdminClient;
use smartship_client::requests::admin::{
    AppAdmin, Authorize, CreateApp, CreateTp, NewOperator, NoBody, PasswordReset, QueueQuery,
    Review, UpdateApp, UpdateTp,
};
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
    Template(TemplateCommand),
    /// Third-party platforms.
    #[command(subcommand)]
    Tp(TpCommand),
    /// Mini-programs.
    #[command(subcommand, alias = "apps")]
    App(AppCommand),
    /// Packages.
    #[command(subcommand)]
    Package(PackageCommand),
    /// Pushed events and their delivery.
    #[command(subcommand)]
    Events(EventsCommand),
    /// Changes of apps' basic information waiting for review.
    #[command(subcommand)]
    Examinations(ExaminationsCommand),
    /// Accounts of the operator console (/console).
    #[command(subcommand)]
    Operators(OperatorsCommand),
    /// Remove the stored files no draft, template, package or image names
    /// any more (what the collector does every blob_gc_interval_secs).
    CollectBlobs,
}

#[derive(Debug, Subcommand)]
enum OperatorsCommand {
    /// Make an operator; prints the generated password once unless
    /// --password-stdin gives one.
    Add {
        username: String,
        /// admin, reviewer or viewer.
        #[arg(long)]
        role: String,
        /// Read the password from standard input (one line).
        #[arg(long)]
        password_stdin: bool,
    },
    /// List the operators.
    List,
    /// Remove an operator (its console sessions end).
    Remove { username: String },
    /// Set a new password (generated and printed once unless
    /// --password-stdin gives one); the operator's sessions end.
    ResetPassword {
        username: String,
        #[arg(long)]
        password_stdin: bool,
    },
}

/// A password from standard input, or none (the server generates one).
fn password_from_stdin(read: bool) -> anyhow::Result<Option<String>> {
    if !read {
        return Ok(None);
    }
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .context("reading the password from standard input")?;
    Ok(Some(line.trim_end_matches(['\r', '\n']).to_owned()))
}

/// A value as one path segment.
fn path_segment(raw: &str) -> String {
    url::form_urlencoded::byte_serialize(raw.as_bytes()).collect()
}

/// Prints an operator just made or reset, with its generated password.
fn print_operator(v: &Value, as_json: bool) {
    if as_json {
        print(v);
        return;
    }
    let o = &v["operator"];
    println!(
        "operator {} ({})",
        o["username"].as_str().unwrap_or(""),
        o["role"].as_str().unwrap_or("")
    );
    if let Some(p) = v["password"].as_str() {
        println!("password: {p}");
        println!("(shown once: give it to the operator, who signs in at /console)");
    }
}

#[derive(Debug, Subcommand)]
enum ExaminationsCommand {
    /// List examinations, oldest first.
    List {
        /// pending, passed or failed.
        #[arg(long, default_value = "pending")]
        status: String,
        #[arg(long)]
        app_id: Option<i64>,
    },
    /// Pass an examination.
    Pass { examine_id: i64 },
    /// Fail an examination with a reason the platform sees.
    Fail {
        examine_id: i64,
        #[arg(long)]
        reason: String,
    },
}

#[derive(Debug, Subcommand)]
enum EventsCommand {
    /// List events, newest first.
    List {
        #[arg(long)]
        client_id: Option<String>,
        /// pending, delivered or failed.
        #[arg(long)]
        status: Option<String>,
        #[arg(long, default_value_t = 100)]
        limit: i64,
    },
    /// Show an event and every delivery attempt.
    Show { event_id: String },
    /// Send an event again (a fresh retry series, same webhook-id).
    Replay { event_id: String },
    /// Replay every failed event of a third-party platform.
    ReplayFailed {
        #[arg(long)]
        client_id: String,
    },
}

/// `--page` and `--page-size` of the list commands.
#[derive(Debug, Clone, Copy, clap::Args)]
struct PageArgs {
    /// Page number, from 1.
    #[arg(long, default_value_t = 1)]
    page: i64,
    /// Rows per page (at most 500).
    #[arg(long, default_value_t = 50)]
    page_size: i64,
}

#[derive(Debug, Subcommand)]
enum TemplateCommand {
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
enum TpCommand {
    /// List third-party platforms.
    List {
        #[command(flatten)]
        page: PageArgs,
    },
    /// Register a third-party platform (secrets are generated).
    Create {
        #[arg(long)]
        name: String,
        #[arg(long)]
        client_id: Option<String>,
        #[arg(long)]
        message_url: Option<String>,
        #[arg(long)]
        auth_event_url: Option<String>,
    },
    /// Show a third-party platform.
    Show { client_id: String },
    /// Mint a third-party platform access token.
    Token { client_id: String },
    /// Show the platform's current ticket (for local development).
    Ticket { client_id: String },
    /// Set where events are pushed (an empty value clears a URL or secret).
    SetUrls {
        client_id: String,
        /// Receives audit results.
        #[arg(long)]
        message_url: Option<String>,
        /// Receives tickets and authorization changes.
        #[arg(long)]
        auth_event_url: Option<String>,
        /// Standard Webhooks signing secret (whsec_...).
        #[arg(long)]
        webhook_secret: Option<String>,
        /// Domain consent redirects must point to.
        #[arg(long)]
        redirect_domain: Option<String>,
        /// Networks API callers must come from (comma-separated CIDRs).
        #[arg(long)]
        ip_allowlist: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
enum AppCommand {
    /// List mini-programs.
    List {
        /// Only apps whose name contains this text.
        #[arg(long)]
        name: Option<String>,
        /// Only apps authorized to this platform.
        #[arg(long)]
        client_id: Option<String>,
        #[command(flatten)]
        page: PageArgs,
    },
    /// Register a mini-program.
    ///
    /// `admin apps create --count 500 --tp CLIENT_ID --approved --json` makes
    /// a fleet for tests and demos: a JSON array of `{app_id, access_token,
    /// refresh_token, ...}` on stdout.
    Create {
        /// Name (numbered "NAME 1", "NAME 2"... with --count).
        #[arg(long, default_value = "Mini program")]
        name: String,
        /// Explicit id (only with --count 1).
        #[arg(long)]
        app_id: Option<i64>,
        /// How many apps to create.
        #[arg(long, default_value_t = 1)]
        count: u32,
        /// Basic info approved and authenticity verified: ready to submit
        /// and release.
        #[arg(long)]
        approved: bool,
        /// Basic info approved only (authenticity not verified).
        #[arg(long, conflicts_with = "approved")]
        basic_info_only: bool,
        /// Authorize each app to this third-party platform and mint its tokens.
        #[arg(long = "tp")]
        tp: Option<String>,
        /// Print a JSON array (one object per app) even for one app.
        #[arg(long)]
        json: bool,
    },
    /// Show a mini-program.
    Show { app_id: i64 },
    /// Change a mini-program's approval states.
    Set {
        app_id: i64,
        #[arg(long)]
        basic_info_approved: Option<bool>,
        #[arg(long)]
        authenticity_verified: Option<bool>,
    },
    /// Authorize an app to a third-party platform and mint its tokens.
    Authorize {
        app_id: i64,
        #[arg(long)]
        client_id: String,
    },
    /// Create (or reset) an administrator account of the app, used to sign
    /// in on the consent page.
    AddAdmin {
        app_id: i64,
        #[arg(long)]
        username: String,
        /// At least 8 characters.
        #[arg(long, env = "SMARTSHIP_APP_ADMIN_PASSWORD", hide_env_values = true)]
        password: String,
    },
    /// End an app's authorization: its tokens stop working at once.
    Unauthorize {
        app_id: i64,
        #[arg(long)]
        client_id: String,
    },
    /// List every package of an app, retired ones included.
    Packages { app_id: i64 },
}

#[derive(Debug, Subcommand)]
enum PackageCommand {
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

fn print(v: &Value) {
    println!("{}", serde_json::to_string_pretty(v).expect("JSON prints"));
}

/// A list route's path with its filters and page, query-encoded.
fn list_path(route: &str, filters: &[(&str, Option<String>)], page: PageArgs) -> String {
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
fn print_list(v: &Value, key: &str, columns: &[(&str, &str)], as_json: bool) {
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

fn cell(v: &Value) -> String {
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

pub async fn run(a: AdminArgs) -> anyhow::Result<()> {
    let c = client(&a)?;
    let as_json = a.json;
    match a.command {
        AdminCommand::Operators(cmd) => match cmd {
            OperatorsCommand::Add {
                username,
                role,
                password_stdin,
            } => {
                let body = NewOperator {
                    username,
                    role,
                    password: password_from_stdin(password_stdin)?,
                };
                print_operator(&c.post("/admin/v1/operators", &body).await?, as_json);
            }
            OperatorsCommand::List => {
                let v = c.get("/admin/v1/operators").await?;
                if as_json {
                    print(&v);
                } else {
                    for o in v["operators"].as_array().into_iter().flatten() {
                        println!(
                            "{}\t{}",
                            o["username"].as_str().unwrap_or(""),
                            o["role"].as_str().unwrap_or("")
                        );
                    }
                }
            }
            OperatorsCommand::Remove { username } => {
                c.delete(&format!("/admin/v1/operators/{}", path_segment(&username)))
                    .await?;
                println!("operator {username} removed");
            }
            OperatorsCommand::ResetPassword {
                username,
                password_stdin,
            } => {
                let body = PasswordReset {
                    password: password_from_stdin(password_stdin)?,
                };
                let path = format!("/admin/v1/operators/{}/password", path_segment(&username));
                print_operator(&c.post(&path, &body).await?, as_json);
            }
        },
        AdminCommand::Examinations(cmd) => {
            let (id, body) = match cmd {
                ExaminationsCommand::List { status, app_id } => {
                    let mut path = format!(
                        "/admin/v1/examinations?status={}",
                        url::form_urlencoded::byte_serialize(status.as_bytes()).collect::<String>()
                    );
                    if let Some(a) = app_id {
                        path.push_str(&format!("&app_id={a}"));
                    }
                    let v = c.get(&path).await?;
                    if as_json {
                        print(&v);
                    } else {
                        for e in v["examinations"].as_array().into_iter().flatten() {
                            println!(
                                "{}\tapp {}\t{}\t{}\t{}",
                                e["examine_id"],
                                e["app_id"],
                                e["field"].as_str().unwrap_or(""),
                                e["status"].as_str().unwrap_or(""),
                                e["value"].as_str().unwrap_or("")
                            );
                        }
                    }
                    return Ok(());
                }
                ExaminationsCommand::Pass { examine_id } => (examine_id, Review::pass()),
                ExaminationsCommand::Fail { examine_id, reason } => {
                    (examine_id, Review::fail(reason))
                }
            };
            print(
                &c.post(&format!("/admin/v1/examinations/{id}/review"), &body)
                    .await?,
            );
        }
        AdminCommand::Status => {
            let v = c.get("/admin/v1/status").await?;
            if as_json { print(&v) } else { print_status(&v) }
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
        }
        AdminCommand::Template(TemplateCommand::List { client_id, page }) => print_list(
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
        AdminCommand::Tp(TpCommand::List { page }) => print_list(
            &c.get(&list_path("/admin/v1/tps", &[], page)).await?,
            "tps",
            &[
                ("CLIENT_ID", "client_id"),
                ("NAME", "name"),
                ("MESSAGE_URL", "message_url"),
                ("AUTH_EVENT_URL", "auth_event_url"),
                ("CREATED", "created_at"),
            ],
            as_json,
        ),
        AdminCommand::App(AppCommand::List {
            name,
            client_id,
            page,
        }) => print_list(
            &c.get(&list_path(
                "/admin/v1/apps",
                &[("q", name), ("client_id", client_id)],
                page,
            ))
            .await?,
            "apps",
            &[
                ("APP_ID", "app_id"),
                ("NAME", "name"),
                ("BASIC_INFO", "basic_info_approved"),
                ("AUTHENTICITY", "authenticity_verified"),
            ],
            as_json,
        ),
        AdminCommand::Package(PackageCommand::List {
            app_id,
            client_id,
            state,
            version,
            page,
        }) => print_list(
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
        AdminCommand::Tp(TpCommand::Create {
            name,
            client_id,
            message_url,
            auth_event_url,
        }) => print(
            &c.post(
                "/admin/v1/tps",
                &CreateTp {
                    name,
                    client_id,
                    message_url,
                    auth_event_url,
                    ..CreateTp::default()
                },
            )
            .await?,
        ),
        AdminCommand::Tp(TpCommand::Show { client_id }) => {
            print(&c.get(&format!("/admin/v1/tps/{client_id}")).await?)
        }
        AdminCommand::Tp(TpCommand::Token { client_id }) => print(
            &c.post(&format!("/admin/v1/tps/{client_id}/token"), &NoBody {})
                .await?,
        ),
        AdminCommand::Tp(TpCommand::Ticket { client_id }) => {
            print(&c.get(&format!("/admin/v1/tps/{client_id}/ticket")).await?)
        }
        AdminCommand::App(AppCommand::AddAdmin {
            app_id,
            username,
            password,
        }) => print(
            &c.post(
                &format!("/admin/v1/apps/{app_id}/admins"),
                &AppAdmin { username, password },
            )
            .await?,
        ),
        AdminCommand::App(AppCommand::Unauthorize { app_id, client_id }) => print(
            &c.delete(&format!("/admin/v1/apps/{app_id}/authorize/{client_id}"))
                .await?,
        ),
        AdminCommand::Tp(TpCommand::SetUrls {
            client_id,
            message_url,
            auth_event_url,
            webhook_secret,
            redirect_domain,
            ip_allowlist,
        }) => {
            // An empty value clears the setting (`null`), an absent one
            // leaves it.
            let set = |v: Option<String>| v.map(|v| (!v.is_empty()).then_some(v));
            let body = UpdateTp {
                message_url: set(message_url),
                auth_event_url: set(auth_event_url),
                webhook_secret: set(webhook_secret),
                redirect_domain: set(redirect_domain),
                ip_allowlist: set(ip_allowlist),
                release_events: None,
            };
            print(
                &c.patch(&format!("/admin/v1/tps/{client_id}"), &body)
                    .await?,
            )
        }
        AdminCommand::Events(EventsCommand::List {
            client_id,
            status,
            limit,
        }) => {
            let mut query = format!("/admin/v1/events?limit={limit}");
            if let Some(c) = client_id {
                query.push_str(&format!("&client_id={c}"));
            }
            if let Some(s) = status {
                query.push_str(&format!("&status={s}"));
            }
            print(&c.get(&query).await?)
        }
        AdminCommand::Events(EventsCommand::Show { event_id }) => {
            print(&c.get(&format!("/admin/v1/events/{event_id}")).await?)
        }
        AdminCommand::Events(EventsCommand::Replay { event_id }) => print(
            &c.post(&format!("/admin/v1/events/{event_id}/replay"), &NoBody {})
                .await?,
        ),
        AdminCommand::Events(EventsCommand::ReplayFailed { client_id }) => print(
            &c.post(
                &format!("/admin/v1/tps/{client_id}/events/replay-failed"),
                &NoBody {},
            )
            .await?,
        ),
        AdminCommand::App(AppCommand::Create {
            name,
            app_id,
            count,
            approved,
            basic_info_only,
            tp,
            json: as_array,
        }) => {
            if count == 0 || (count > 1 && app_id.is_some()) {
                anyhow::bail!("--count must be at least 1, and --app-id needs --count 1");
            }
            let mut created = Vec::with_capacity(count as usize);
            for i in 1..=count {
                let name = if count > 1 {
                    format!("{name} {i}")
                } else {
                    name.clone()
                };
                let mut app = c
                    .post(
                        "/admin/v1/apps",
                        &CreateApp {
                            app_id,
                            name,
                            basic_info_approved: approved || basic_info_only,
                            authenticity_verified: approved,
                            ..CreateApp::default()
                        },
                    )
                    .await?;
                if let Some(client_id) = &tp {
                    let id = app["app_id"].as_i64().context("app_id in the answer")?;
                    let tokens = c
                        .post(
                            &format!("/admin/v1/apps/{id}/authorize"),
                            &Authorize {
                                client_id: client_id.clone(),
                                scopes: None,
                            },
                        )
                        .await?;
                    for key in ["access_token", "refresh_token", "expires_in", "client_id"] {
                        app[key] = tokens[key].clone();
                    }
                }
                if count > 1 && i % 100 == 0 {
                    eprintln!("created {i} of {count} apps");
                }
                created.push(app);
            }
            if as_array || count > 1 || tp.is_some() {
                print(&Value::Array(created))
            } else {
                print(&created[0])
            }
        }
        AdminCommand::App(AppCommand::Show { app_id }) => {
            print(&c.get(&format!("/admin/v1/apps/{app_id}")).await?)
        }
        AdminCommand::App(AppCommand::Set {
            app_id,
            basic_info_approved,
            authenticity_verified,
        }) => print(
            &c.patch(
                &format!("/admin/v1/apps/{app_id}"),
                &UpdateApp {
                    basic_info_approved,
                    authenticity_verified,
                    ..UpdateApp::default()
                },
            )
            .await?,
        ),
        AdminCommand::App(AppCommand::Authorize { app_id, client_id }) => print(
            &c.post(
                &format!("/admin/v1/apps/{app_id}/authorize"),
                &Authorize {
                    client_id,
                    scopes: None,
                },
            )
            .await?,
        ),
        AdminCommand::App(AppCommand::Packages { app_id }) => {
            print(&c.get(&format!("/admin/v1/apps/{app_id}/packages")).await?)
        }
        AdminCommand::Package(PackageCommand::Show { package_id }) => {
            print(&c.get(&format!("/admin/v1/packages/{package_id}")).await?)
        }
        AdminCommand::Package(PackageCommand::Review {
            package_id,
            all_queued,
            pass,
            fail,
        }) => {
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
                None if all_queued => review_queued(&c, &body).await?,
                None => anyhow::bail!("give a PACKAGE_ID or --all-queued"),
            }
        }
        AdminCommand::Package(PackageCommand::Queue { limit }) => {
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
        AdminCommand::Package(PackageCommand::Download { package_id, output }) => {
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
