//! `smartship package ...`: the package lifecycle of one app, with its app
//! token.

use crate::output::{OpenApiArgs, print_fields, print_json, status_name, table};
use anyhow::Context;
use clap::{Args, Subcommand};
use serde_json::{Value, json};
use smartship_api::package::PackageInfo;
use smartship_client::{OpenApiClient, PackageSelector, RollbackTarget, TestAccount};
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
    /// Release a package that passed its audit (now, or --at a time).
    Release {
        package_id: i64,
        /// Unix seconds: hold the release until then.
        #[arg(long)]
        at: Option<i64>,
    },
    /// Cancel a scheduled release.
    CancelRelease { package_id: i64 },
    /// Roll the online package back: to the previous version, or to any
    /// earlier one (`smartship package history` lists them).
    Rollback {
        package_id: i64,
        /// The earlier version to return to, by package id.
        #[arg(long, conflicts_with = "to_version")]
        to_package: Option<i64>,
        /// The earlier version to return to, by version.
        #[arg(long)]
        to_version: Option<String>,
    },
    /// The versions that were online, with who released and rolled back.
    History {
        #[arg(long, default_value_t = 1)]
        page: u32,
        #[arg(long, default_value_t = 20)]
        page_size: u32,
    },
    /// Phased release: start, raise, pause, resume, revert, show.
    Gray {
        #[command(subcommand)]
        command: GrayCommand,
    },
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
    /// The pre-review checks of a built package (exit 1 when one blocks
    /// its submission).
    Check { package_id: i64 },
}

#[derive(Debug, Subcommand)]
enum GrayCommand {
    /// Start a phased release of a package that passed audit, or raise the
    /// live one's percentage (100 releases it).
    Start {
        package_id: i64,
        /// Share of users, 1 to 100.
        #[arg(long)]
        percent: u8,
        /// Host user ids that get it whatever the percentage (comma-separated).
        #[arg(long, value_delimiter = ',')]
        users: Vec<String>,
        /// Later steps as JSON: [{"gray_percentage":50,"at":UNIX_SECONDS}].
        #[arg(long)]
        ramp: Option<String>,
    },
    /// Pause the ramp.
    Pause,
    /// Resume the ramp.
    Resume,
    /// Everyone back on the online version.
    Revert,
    /// The newest plan.
    Plan,
}

fn print_plan(p: &smartship_api::release::GrayPlanInfo, as_json: bool) {
    if as_json {
        print_json(&serde_json::to_value(p).expect("serializable"));
        return;
    }
    use smartship_api::release::GrayPlanStatus;
    let status = match p.plan_status() {
        Some(GrayPlanStatus::None) => "none",
        Some(GrayPlanStatus::Running) => "running",
        Some(GrayPlanStatus::Paused) => "paused",
        Some(GrayPlanStatus::Finished) => "finished",
        Some(GrayPlanStatus::Reverted) => "reverted",
        None => "unknown",
    };
    let mut fields = vec![("status", format!("{} ({status})", p.status))];
    if let (Some(id), Some(v)) = (p.package_id, &p.version) {
        fields.push(("package", format!("{id} ({v})")));
    }
    if let Some(pct) = p.gray_percentage {
        fields.push(("percentage", format!("{pct}%")));
    }
    if let Some(u) = p.user_list.as_ref().filter(|u| !u.is_empty()) {
        fields.push(("users", u.join(",")));
    }
    if let Some(r) = p.ramp.as_ref().filter(|r| !r.is_empty()) {
        let steps: Vec<String> = r
            .iter()
            .map(|s| format!("{}% at {}", s.gray_percentage, s.at))
            .collect();
        fields.push(("ramp", steps.join(", ")));
    }
    print_fields(&fields);
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
        let dev = c.package_list().await?.into_iter().find(|p| {
            p.package_status() == Some(smartship_api::package::PackageStatus::Development)
                && p.version == version
        });
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
        PackageCommand::Release {
            package_id,
            at: None,
        } => {
            c.package_release(package_id).await?;
            done(as_json, "released", package_id);
        }
        PackageCommand::Release {
            package_id,
            at: Some(at),
        } => {
            c.package_release_at(package_id, at).await?;
            done(as_json, &format!("release scheduled at {at}"), package_id);
        }
        PackageCommand::CancelRelease { package_id } => {
            c.package_cancel_release(package_id).await?;
            done(as_json, "scheduled release cancelled", package_id);
        }
        PackageCommand::Rollback {
            package_id,
            to_package,
            to_version,
        } => {
            let target = match (to_package, to_version) {
                (Some(p), _) => RollbackTarget::Package(p),
                (None, Some(v)) => RollbackTarget::Version(v),
                (None, None) => RollbackTarget::Previous,
            };
            c.package_rollback_to(package_id, target).await?;
            done(as_json, "rolling back", package_id);
        }
        PackageCommand::History { page, page_size } => {
            let h = c.package_history(page, page_size).await?;
            if as_json {
                print_json(&serde_json::to_value(&h)?);
            } else {
                let rows: Vec<Vec<String>> = h
                    .list
                    .iter()
                    .map(|e| {
                        let who = |at: Option<i64>, by: &Option<String>| match (at, by) {
                            (Some(at), Some(by)) => format!("{at} by {by}"),
                            _ => String::new(),
                        };
                        vec![
                            e.package_id.to_string(),
                            e.version.clone(),
                            e.state.clone(),
                            who(e.released_at, &e.released_by),
                            who(e.rolled_back_at, &e.rolled_back_by),
                        ]
                    })
                    .collect();
                print!(
                    "{}",
                    table(
                        &["PACKAGE", "VERSION", "STATE", "RELEASED", "ROLLED BACK"],
                        &rows
                    )
                );
                println!("{} of {} versions", h.list.len(), h.count);
            }
        }
        PackageCommand::Gray { command } => {
            let plan = match command {
                GrayCommand::Start {
                    package_id,
                    percent,
                    users,
                    ramp,
                } => {
                    c.gray_release(package_id, percent, &users, ramp.as_deref())
                        .await?
                }
                GrayCommand::Pause => c.gray_pause().await?,
                GrayCommand::Resume => c.gray_resume().await?,
                GrayCommand::Revert => c.gray_revert().await?,
                GrayCommand::Plan => c.gray_plan().await?,
            };
            print_plan(&plan, as_json);
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
        PackageCommand::Check { package_id } => {
            let r = c.package_precheck(package_id).await?;
            if as_json {
                print_json(&serde_json::to_value(&r)?);
            } else {
                for f in &r.findings {
                    let level = if f.blocking { "BLOCKS" } else { "note" };
                    println!("{level}  {}  {}:{}  {}", f.check, f.file, f.line, f.message);
                }
                println!(
                    "package {}: {} finding(s), {} blocking",
                    r.package_id,
                    r.findings.len(),
                    r.blocking
                );
            }
            if !r.passed {
                anyhow::bail!("pre-review checks failed: submitaudit would answer 47034");
            }
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
