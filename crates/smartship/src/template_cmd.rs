//! `smartship template ...`: commands of a third-party platform.

use anyhow::Context;
use clap::{Args, Subcommand};
use smartship_client::OpenApiClient;
use std::path::{Path, PathBuf};

#[derive(Debug, Args)]
pub struct TemplateArgs {
    /// Server base URL.
    #[arg(long, env = "SMARTSHIP_SERVER")]
    server: String,
    /// Third-party platform access token.
    #[arg(
        long,
        visible_alias = "token",
        env = "SMARTSHIP_TOKEN",
        hide_env_values = true
    )]
    access_token: String,
    #[command(subcommand)]
    command: TemplateCommand,
}

#[derive(Debug, Subcommand)]
enum TemplateCommand {
    /// Upload a draft: a zip file, or a directory that is zipped on the fly.
    UploadDraft {
        path: PathBuf,
        #[arg(long)]
        user_version: String,
        #[arg(long)]
        user_desc: String,
    },
    /// Turn a draft into a template.
    Add {
        draft_id: i64,
        #[arg(long)]
        user_desc: String,
    },
    /// List drafts.
    Drafts,
    /// List templates.
    List,
    /// Delete a template.
    Delete { template_id: i64 },
}

fn collect(dir: &Path, base: &Path, out: &mut Vec<(String, Vec<u8>)>) -> anyhow::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        let kind = entry.file_type()?;
        if kind.is_symlink() {
            anyhow::bail!(
                "{} is a symbolic link; drafts may not contain links",
                path.display()
            );
        } else if kind.is_dir() {
            collect(&path, base, out)?;
        } else {
            let rel = path
                .strip_prefix(base)
                .expect("walked below base")
                .to_string_lossy()
                .replace('\\', "/");
            out.push((rel, std::fs::read(&path)?));
        }
    }
    Ok(())
}

fn zip_of(path: &Path) -> anyhow::Result<Vec<u8>> {
    if path.is_dir() {
        let mut files = Vec::new();
        collect(path, path, &mut files)?;
        files.sort();
        Ok(smartship_core::archive::write_zip(
            files.iter().map(|(p, b)| (p.as_str(), b.as_slice())),
        )?)
    } else {
        std::fs::read(path).with_context(|| format!("reading {}", path.display()))
    }
}

pub async fn run(a: TemplateArgs) -> anyhow::Result<()> {
    let c = OpenApiClient::new(a.server, a.access_token);
    let out = match a.command {
        TemplateCommand::UploadDraft {
            path,
            user_version,
            user_desc,
        } => {
            let zip = zip_of(&path)?;
            let d = c.upload_draft(zip, &user_version, &user_desc).await?;
            serde_json::json!({"draft_id": d.draft_id})
        }
        TemplateCommand::Add {
            draft_id,
            user_desc,
        } => {
            let id = draft_id.to_string();
            smartship_client::decode(
                c.call(
                    "template/addtotemplate",
                    &[("draft_id", &id), ("user_desc", &user_desc)],
                )
                .await?,
            )?
        }
        TemplateCommand::Drafts => {
            smartship_client::decode(c.call("template/gettemplatedraftlist", &[]).await?)?
        }
        TemplateCommand::List => {
            smartship_client::decode(c.call("template/gettemplatelist", &[]).await?)?
        }
        TemplateCommand::Delete { template_id } => {
            let id = template_id.to_string();
            smartship_client::decode(
                c.call("template/deltemplate", &[("template_id", &id)])
                    .await?,
            )?
        }
    };
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(())
}
