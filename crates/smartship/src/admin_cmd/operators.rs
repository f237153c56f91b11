//! `smartship admin operators ...`: accounts of the operator console.

use super::print;
use anyhow::Context;
use clap::Subcommand;
use serde_json::Value;
use smartship_client::AdminClient;
use smartship_client::requests::admin::{NewOperator, PasswordReset};

#[derive(Debug, Subcommand)]
pub enum OperatorsCommand {
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

pub async fn run(c: &AdminClient, cmd: OperatorsCommand, as_json: bool) -> anyhow::Result<()> {
    match cmd {
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
    }
    Ok(())
}
