//! `smartship package ...`: the package lifecycle of one app, with its app
//! token.

use crate::output::{OpenApiArgs, print_fields, print_json, status_name, table};
use anyhow::Context;
use clap::{Args, Subcommand};
use serde_json::{Value, json};
use smartship_api::package::PackageInfo;
use smartship_client::{OpenApiClient, PackageSelector, TestAccount};
use std::time::{Duration, Instant};

#[derive(Debug, Args)]
pub struct PackageArgs {
    #[command(flatten)]
    api: OpenApiArgs,
    #[command(subcommand)]
    command: PackageCommand,
}

#[derive(Debug, Subcommand)]
enum PackageCommand {
    /// Upload a package built from a template with ext_json.
    Upload {
        /// The template to build from (`smartship template list` shows them).
        #[arg(long)]
        template_id: i64,
        /// ext_json as text, or @FILE to read it from a file.
        #[arg(long, default_value = r#"{"extEnable":true}"#)]
        ext_json: String,
        /// user_version.
        #[arg(long = "version")]
        user_version: String,
        /// user_desc (required by the platform).
        #[arg(long = "desc")]
        user_desc: String,
        /// Reviewer test account (with --test-password).
        #[arg(long, requires = "test_password")]
        test_account: Option<String>,
        /// Password of the reviewer test account (with --test-account).
        #[arg(long, requires = "test_account")]
        test_password: Option<String>,
        /// Wait until the build finishes and print the package.
        #[arg(long)]
        wait: bool,
    },
    /// Submit a development package for audit.
    Submit {
        package_id: i64,
        /// What the reviewer is told the package does (required by the platform).
        #[arg(long)]
        content: String,
        #[arg(long, default_value = "")]
        remark: String,
    },
    /// Release a package that passed its audit.
    Release { package_id: i64 },
    /// Roll the online package back to the previous version.
    Rollback { package_id: i64 },
    /// Withdraw a package from audit.
    Withdraw { package_id: i64 },
    /// List the app's packages (development, audit and online slots).
    List,
    /// Show one package: by --id, by --status, or the online one.
    Detail {
        #[arg(long, conflicts_with = "status")]
        id: Option<i64>,
        /// 1 online, 3 development, 4 under audit, 5 failed, 6 passed, 8 rolling back.
        #[arg(long)]
        status: Option<i64>,
    },
    /// Audit submissions left this week.
    Quota,
}

pub fn read_ext_json(arg: &str) -> anyhow::Result<Value> {
    let text = match arg.strip_prefix('@') {
        Some(path) => std::fs::read_to_string(path).with_context(|| format!("reading {path}"))?,
        None => arg.to_owned(),
    };
    serde_json::from_str(&text).context("--ext-json is not valid JSON")
}

fn rows(list: &[PackageInfo]) -> Vec<Vec<String>> {
    list.iter()
        .map(|p| {
            vec![
                p.package_id.to_string(),
                p.version.clone(),
                format!("{} ({})", p.status, status_name(p.status)),
                match p.upload_status {
                    Some(1) => "building".to_owned(),
                    Some(2) => "built".to_owned(),
                    Some(3) => "failed".to_owned(),
                    _ => String::new(),
                },
                p.commit_time.clone(),
                p.upload_err_msg.clone().unwrap_or_else(|| p.msg.clone()),
            ]
        })
        .collect()
}

fn print_package(p: &PackageInfo, as_json: bool) {
    if as_json {
        print_json(&serde_json::to_value(p).expect("serializable"));
        return;
    }
    let mut fields = vec![
        ("package_id", p.package_id.to_string()),
        ("version", p.version.clone()),
        (
            "status",
            format!("{} ({})", p.status, status_name(p.status)),
        ),
        ("description", p.version_desc.clone()),
        ("committed", p.commit_time.clone()),
        ("remark", p.remark.clone()),
        ("msg", p.msg.clone()),
    ];
    if let Some(v) = &p.rollback_version {
        fields.push(("rollback_version", v.clone()));
    }
    if let Some(s) = p.upload_status {
        fields.push(("upload_status", s.to_string()));
    }
    if let Some(m) = &p.upload_err_msg {
        fields.push(("upload_error", m.clone()));
    }
    print_fields(&fields);
}

async fn wait_built(c: &OpenApiClient, version: &str) -> anyhow::Result<PackageInfo> {
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let dev = c
            .package_list()
            .await?
            .into_iter()
            .find(|p| p.status == 3 && p.version == version);
        match dev {
            Some(p) if p.upload_status != Some(1) => return Ok(p),
            _ if Instant::now() > deadline => {
                anyhow::bail!("the build did not finish in 10 minutes")
            }
            _ => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}

/// Prints what a state-changing call did.
fn done(as_json: bool, action: &str, package_id: i64) {
    if as_json {
        print_json(
            &json!({"errno": 0, "msg": "success", "action": action, "package_id": package_id}),
        );
    } else {
        println!("{action}: package {package_id}");
    }
}

pub async fn run(a: PackageArgs) -> anyhow::Result<()> {
    let c = a.api.client()?;
    let as_json = a.api.json;
    match a.command {
        PackageCommand::Upload {
            template_id,
            ext_json,
            user_version,
            user_desc,
            test_account,
            test_password,
            wait,
        } => {
            let ext = read_ext_json(&ext_json)?;
            let account = test_account
                .zip(test_password)
                .map(|(a, p)| TestAccount::new(a, p));
            c.package_upload_with(
                template_id,
                &ext,
                &user_version,
                &user_desc,
                account.as_ref(),
            )
            .await?;
            if wait {
                let p = wait_built(&c, &user_version).await?;
                print_package(&p, as_json);
                if p.upload_status == Some(3) {
                    anyhow::bail!("build failed: {}", p.upload_err_msg.unwrap_or_default());
                }
            } else if as_json {
                print_json(&json!({"errno": 0, "msg": "success"}));
            } else {
                println!(
                    "uploaded {user_version}; the build runs now (see `smartship package list`)"
                );
            }
        }
        PackageCommand::Submit {
            package_id,
            content,
            remark,
        } => {
            c.package_submit_audit(package_id, &content, &remark)
                .await?;
            done(as_json, "submitted for audit", package_id);
        }
        PackageCommand::Release { package_id } => {
            c.package_release(package_id).await?;
            done(as_json, "released", package_id);
        }
        PackageCommand::Rollback { package_id } => {
            c.package_rollback(package_id).await?;
            done(as_json, "rolling back", package_id);
        }
        PackageCommand::Withdraw { package_id } => {
            c.package_withdraw(package_id).await?;
            done(as_json, "withdrawn", package_id);
        }
        PackageCommand::List => {
            let list = c.package_list().await?;
            if as_json {
                print_json(&serde_json::to_value(&list)?);
            } else if list.is_empty() {
                println!("no packages");
            } else {
                print!(
                    "{}",
                    table(
                        &[
                            "PACKAGE",
                            "VERSION",
                            "STATUS",
                            "BUILD",
                            "COMMITTED",
                            "MESSAGE"
                        ],
                        &rows(&list)
                    )
                );
            }
        }
        PackageCommand::Detail { id, status } => {
            let which = match (id, status) {
                (Some(id), _) => PackageSelector::Id(id),
                (None, Some(s)) => PackageSelector::Status(s),
                (None, None) => PackageSelector::Online,
            };
            print_package(&c.package_detail(which).await?, as_json);
        }
        PackageCommand::Quota => {
            let q = c.audit_quota().await?;
            if as_json {
                print_json(&serde_json::to_value(&q)?);
            } else {
                let total = if q.quota_times < 0 {
                    "unlimited".to_owned()
                } else {
                    q.quota_times.to_string()
                };
                println!(
                    "{} of {total} audit submissions left this week",
                    q.remain_times
                );
            }
        }
    }
    Ok(())
}
