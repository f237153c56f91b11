//! `smartship admin tp ...`: third-party platforms.

use super::{PageArgs, list_path, print, print_list};
use clap::Subcommand;
use smartship_client::AdminClient;
use smartship_client::requests::admin::{CreateTp, NoBody, UpdateTp};

#[derive(Debug, Subcommand)]
pub enum TpCommand {
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

pub async fn run(c: &AdminClient, cmd: TpCommand, as_json: bool) -> anyhow::Result<()> {
    match cmd {
        TpCommand::List { page } => print_list(
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
        TpCommand::Create {
            name,
            client_id,
            message_url,
            auth_event_url,
        } => print(
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
        TpCommand::Show { client_id } => {
            print(&c.get(&format!("/admin/v1/tps/{client_id}")).await?)
        }
        TpCommand::Token { client_id } => print(
            &c.post(&format!("/admin/v1/tps/{client_id}/token"), &NoBody {})
                .await?,
        ),
        TpCommand::Ticket { client_id } => {
            print(&c.get(&format!("/admin/v1/tps/{client_id}/ticket")).await?)
        }
        TpCommand::SetUrls {
            client_id,
            message_url,
            auth_event_url,
            webhook_secret,
            redirect_domain,
            ip_allowlist,
        } => {
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
    }
    Ok(())
}
