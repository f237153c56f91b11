//! `smartship admin examinations ...`: changes of apps' basic information.

use super::print;
use clap::Subcommand;
use smartship_client::AdminClient;
use smartship_client::requests::admin::Review;

#[derive(Debug, Subcommand)]
pub enum ExaminationsCommand {
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

pub async fn run(c: &AdminClient, cmd: ExaminationsCommand, as_json: bool) -> anyhow::Result<()> {
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
        ExaminationsCommand::Fail { examine_id, reason } => (examine_id, Review::fail(reason)),
    };
    print(
        &c.post(&format!("/admin/v1/examinations/{id}/review"), &body)
            .await?,
    );
    Ok(())
}
