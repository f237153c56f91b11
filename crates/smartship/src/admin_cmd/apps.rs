//! `smartship admin app ...`: mini-programs, their authorizations and
//! administrators.

use super::{PageArgs, list_path, print, print_list};
use anyhow::Context;
use clap::Subcommand;
use serde_json::Value;
use smartship_client::AdminClient;
use smartship_client::requests::admin::{AppAdmin, Authorize, CreateApp, UpdateApp};

#[derive(Debug, Subcommand)]
pub enum AppCommand {
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

pub async fn run(c: &AdminClient, cmd: AppCommand, as_json: bool) -> anyhow::Result<()> {
    match cmd {
        AppCommand::List {
            name,
            client_id,
            page,
        } => print_list(
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
        AppCommand::AddAdmin {
            app_id,
            username,
            password,
        } => print(
            &c.post(
                &format!("/admin/v1/apps/{app_id}/admins"),
                &AppAdmin { username, password },
            )
            .await?,
        ),
        AppCommand::Unauthorize { app_id, client_id } => print(
            &c.delete(&format!("/admin/v1/apps/{app_id}/authorize/{client_id}"))
                .await?,
        ),
        AppCommand::Create {
            name,
            app_id,
            count,
            approved,
            basic_info_only,
            tp,
            json: as_array,
        } => {
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
        AppCommand::Show { app_id } => print(&c.get(&format!("/admin/v1/apps/{app_id}")).await?),
        AppCommand::Set {
            app_id,
            basic_info_approved,
            authenticity_verified,
        } => print(
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
        AppCommand::Authorize { app_id, client_id } => print(
            &c.post(
                &format!("/admin/v1/apps/{app_id}/authorize"),
                &Authorize {
                    client_id,
                    scopes: None,
                },
            )
            .await?,
        ),
        AppCommand::Packages { app_id } => {
            print(&c.get(&format!("/admin/v1/apps/{app_id}/packages")).await?)
        }
    }
    Ok(())
}
