//! `smartship admin events ...`: pushed events and their delivery.

use super::print;
use clap::Subcommand;
use smartship_client::AdminClient;
use smartship_client::requests::admin::NoBody;

#[derive(Debug, Subcommand)]
pub enum EventsCommand {
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

pub async fn run(c: &AdminClient, cmd: EventsCommand) -> anyhow::Result<()> {
    match cmd {
        EventsCommand::List {
            client_id,
            status,
            limit,
        } => {
            let mut query = format!("/admin/v1/events?limit={limit}");
            if let Some(c) = client_id {
                query.push_str(&format!("&client_id={c}"));
            }
            if let Some(s) = status {
                query.push_str(&format!("&status={s}"));
            }
            print(&c.get(&query).await?)
        }
        EventsCommand::Show { event_id } => {
            print(&c.get(&format!("/admin/v1/events/{event_id}")).await?)
        }
        EventsCommand::Replay { event_id } => print(
            &c.post(&format!("/admin/v1/events/{event_id}/replay"), &NoBody {})
                .await?,
        ),
        EventsCommand::ReplayFailed { client_id } => print(
            &c.post(
                &format!("/admin/v1/tps/{client_id}/events/replay-failed"),
                &NoBody {},
            )
            .await?,
        ),
    }
    Ok(())
}
