//! `smartship app ...`: one app's basic information and settings, with its
//! app token (images with the platform's token): what an operator's
//! review then passes or fails (`smartship admin examinations`).

use crate::output::{OpenApiArgs, print_json};
use anyhow::Context;
use clap::{Args, Subcommand};
use serde_json::json;
use smartship_client::DomainChange;

#[derive(Debug, Args)]
pub struct AppArgs {
    #[command(flatten)]
    api: OpenApiArgs,
    #[command(subcommand)]
    command: AppCommand,
}

#[derive(Debug, Subcommand)]
enum AppCommand {
    /// The app's information and the state of each review (`app/info`).
    Info,
    /// Upload an image (platform token): prints its URL.
    UploadImage {
        file: std::path::PathBuf,
        /// 1 icon, 2 category qualification, 3 name material.
        #[arg(long, default_value_t = 1)]
        kind: u8,
    },
    /// Check a name: 0 available, 1 needs qualification, 2 forbidden, 3 taken.
    CheckName {
        name: String,
        #[arg(long)]
        qual_materials: Option<String>,
    },
    /// Ask for a new name (reviewed).
    SetName {
        name: String,
        #[arg(long)]
        qual_materials: Option<String>,
    },
    /// Ask for a new icon, by an uploaded image's URL (reviewed).
    SetIcon { image_url: String },
    /// Ask for a new description (reviewed).
    SetDescription { description: String },
    /// The category catalogue (1 personal, 2 all).
    Categories {
        #[arg(long, default_value_t = 2)]
        category_type: u8,
    },
    /// Ask for categories: ids comma-separated, or the JSON array (reviewed).
    SetCategories { categorys: String },
    /// Read or change the app's server domains.
    Domains {
        /// add, delete, set or get.
        #[arg(long, default_value = "get")]
        action: String,
        #[arg(long)]
        request: Option<String>,
        #[arg(long)]
        upload: Option<String>,
        #[arg(long)]
        download: Option<String>,
        #[arg(long)]
        socket: Option<String>,
    },
    /// Write the QR code (PNG) that opens a package at a page.
    Qrcode {
        #[arg(long, default_value = "")]
        path: String,
        #[arg(long)]
        package_id: Option<i64>,
        #[arg(long, default_value_t = 430)]
        width: u32,
        /// Where to write the PNG.
        #[arg(long, short)]
        out: std::path::PathBuf,
    },
    /// Pause the app's service (host runtimes are not served).
    Pause,
    /// Resume a paused app.
    Resume,
    /// Take the app's traffic offline (`appflow/control` type 2: host
    /// runtimes are not served), or open it again with `--open` (type 1).
    Traffic {
        #[arg(long, conflicts_with = "offline", required_unless_present = "offline")]
        open: bool,
        #[arg(long)]
        offline: bool,
    },
}

pub async fn run(a: AppArgs) -> anyhow::Result<()> {
    let c = a.api.client()?;
    let examined = |id: i64| print_json(&json!({"examine_id": id}));
    match a.command {
        AppCommand::Info => print_json(&serde_json::to_value(c.app_info().await?)?),
        AppCommand::UploadImage { file, kind } => {
            let bytes =
                std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            println!("{}", c.upload_image(bytes, kind).await?);
        }
        AppCommand::CheckName {
            name,
            qual_materials,
        } => print_json(&serde_json::to_value(
            c.check_name(&name, qual_materials.as_deref()).await?,
        )?),
        AppCommand::SetName {
            name,
            qual_materials,
        } => examined(c.set_name(&name, qual_materials.as_deref()).await?),
        AppCommand::SetIcon { image_url } => examined(c.set_icon(&image_url).await?),
        AppCommand::SetDescription { description } => {
            examined(c.set_description(&description).await?)
        }
        AppCommand::Categories { category_type } => print_json(&serde_json::to_value(
            c.category_list(category_type).await?,
        )?),
        AppCommand::SetCategories { categorys } => examined(c.set_categories(&categorys).await?),
        AppCommand::Domains {
            action,
            request,
            upload,
            download,
            socket,
        } => {
            let change = DomainChange {
                action: Some(action),
                request,
                upload,
                download,
                socket,
            };
            print_json(&serde_json::to_value(c.app_domains(&change).await?)?)
        }
        AppCommand::Qrcode {
            path,
            package_id,
            width,
            out,
        } => {
            let png = c.qrcode(&path, package_id, width).await?;
            std::fs::write(&out, &png).with_context(|| format!("writing {}", out.display()))?;
            eprintln!("wrote {} ({} bytes)", out.display(), png.len());
        }
        AppCommand::Pause => print_json(&c.call("app/pause", &[]).await?),
        AppCommand::Resume => print_json(&c.call("app/resume", &[]).await?),
        AppCommand::Traffic { open, .. } => print_json(
            &c.call("appflow/control", &[("type", if open { "1" } else { "2" })])
                .await?,
        ),
    }
    Ok(())
}
