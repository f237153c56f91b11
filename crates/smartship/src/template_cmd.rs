//! `smartship template ...`: commands of a third-party platform.

use crate::output::{OpenApiArgs, print_json, table};
use anyhow::Context;
use clap::{Args, Subcommand};
use serde_json::json;
use std::path::{Path, PathBuf};

#[derive(Debug, Args)]
pub struct TemplateArgs {
    #[command(flatten)]
    api: OpenApiArgs,
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
    Drafts {
        #[arg(long, default_value_t = 1)]
        page: u32,
        #[arg(long, default_value_t = 50)]
        page_size: u32,
    },
    /// List templates.
    List {
        #[arg(long, default_value_t = 1)]
        page: u32,
        #[arg(long, default_value_t = 50)]
        page_size: u32,
    },
    /// Delete a template.
    Delete { template_id: i64 },
    /// Delete a draft no template was made from (its files are collected
    /// later, once nothing else names them).
    DeleteDraft { draft_id: i64 },
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

/// A page of drafts or templates: JSON as on the wire, or a table of
/// (id, version, created, description) rows and the total count.
fn print_page<'a, T: serde::Serialize>(
    as_json: bool,
    page: &smartship_api::template::Page<T>,
    id_header: &str,
    noun: &str,
    rows: impl Iterator<Item = (i64, &'a String, i64, &'a String)>,
) -> anyhow::Result<()> {
    if as_json {
        print_json(&serde_json::to_value(page)?);
        return Ok(());
    }
    let rows: Vec<Vec<String>> = rows
        .map(|(id, version, created, desc)| {
            vec![
                id.to_string(),
                version.clone(),
                crate::output::time(created),
                desc.clone(),
            ]
        })
        .collect();
    print!(
        "{}",
        table(&[id_header, "VERSION", "CREATED", "DESCRIPTION"], &rows)
    );
    println!("({} {noun})", page.count);
    Ok(())
}

pub async fn run(a: TemplateArgs) -> anyhow::Result<()> {
    let c = a.api.client()?;
    let as_json = a.api.json;
    match a.command {
        TemplateCommand::UploadDraft {
            path,
            user_version,
            user_desc,
        } => {
            let zip = zip_of(&path)?;
            let d = c.upload_draft(zip, &user_version, &user_desc).await?;
            if as_json {
                print_json(&json!({"draft_id": d.draft_id}));
            } else {
                println!("draft {}", d.draft_id);
            }
        }
        TemplateCommand::Add {
            draft_id,
            user_desc,
        } => {
            let t = c.template_add(draft_id, &user_desc).await?;
            if as_json {
                print_json(&json!({"template_id": t.template_id}));
            } else {
                println!("template {}", t.template_id);
            }
        }
        TemplateCommand::Drafts { page, page_size } => {
            let list = c.template_draft_list(page, page_size).await?;
            let rows = list
                .list
                .iter()
                .map(|d| (d.draft_id, &d.user_version, d.create_time, &d.user_desc));
            print_page(as_json, &list, "DRAFT", "drafts", rows)?;
        }
        TemplateCommand::List { page, page_size } => {
            let list = c.template_list(page, page_size).await?;
            let rows = list
                .list
                .iter()
                .map(|t| (t.template_id, &t.user_version, t.create_time, &t.user_desc));
            print_page(as_json, &list, "TEMPLATE", "templates", rows)?;
        }
        TemplateCommand::DeleteDraft { draft_id } => {
            c.call("template/deldraft", &[("draft_id", &draft_id.to_string())])
                .await?;
            if as_json {
                print_json(&json!({"draft_id": draft_id, "deleted": true}));
            } else {
                println!("deleted draft {draft_id}");
            }
        }
        TemplateCommand::Delete { template_id } => {
            let r = c.template_delete(template_id).await?;
            if as_json {
                print_json(&json!({"result": r.result}));
            } else {
                println!("deleted template {template_id}");
            }
        }
    }
    Ok(())
}
