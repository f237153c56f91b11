//! How third-party commands print: a table for people, `--json` for scripts.

use clap::Args;
use serde_json::Value;

/// `--server` and `--token`, shared by the commands that call the open API.
#[derive(Debug, Args)]
pub struct OpenApiArgs {
    /// Server base URL.
    #[arg(long, env = "SMARTSHIP_SERVER", global = true)]
    pub server: Option<String>,
    /// Access token: the app's for `package`, the platform's for `template`
    /// and `fleet` (used there to refresh app tokens).
    #[arg(
        long,
        visible_alias = "access-token",
        env = "SMARTSHIP_TOKEN",
        hide_env_values = true,
        global = true
    )]
    pub token: Option<String>,
    /// Print JSON instead of a table.
    #[arg(long, global = true)]
    pub json: bool,
}

impl OpenApiArgs {
    pub fn server(&self) -> anyhow::Result<&str> {
        self.server
            .as_deref()
            .ok_or_else(|| anyhow::anyhow!("no server: give --server URL or set SMARTSHIP_SERVER"))
    }

    pub fn token(&self) -> anyhow::Result<&str> {
        self.token
            .as_deref()
            .ok_or_else(|| anyhow::anyhow!("no token: give --token TOKEN or set SMARTSHIP_TOKEN"))
    }

    pub fn client(&self) -> anyhow::Result<smartship_client::OpenApiClient> {
        Ok(smartship_client::OpenApiClient::new(
            self.server()?,
            self.token()?,
        ))
    }
}

/// A left-aligned table; every cell is text.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut out = String::new();
        for (i, (cell, w)) in cells.iter().zip(&widths).enumerate() {
            if i + 1 == cells.len() {
                out.push_str(cell);
            } else {
                out.push_str(cell);
                out.push_str(&" ".repeat(w - cell.chars().count() + 2));
            }
        }
        out.trim_end().to_owned() + "\n"
    };
    let mut out = line(headers.to_vec());
    for row in rows {
        out.push_str(&line(row.iter().map(String::as_str).collect()));
    }
    out
}

pub fn print_json(v: &Value) {
    println!("{}", serde_json::to_string_pretty(v).expect("JSON prints"));
}

/// Key/value lines for one object.
pub fn print_fields(fields: &[(&str, String)]) {
    let width = fields.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    for (k, v) in fields {
        println!("{k:<width$}  {v}");
    }
}

/// The public status numbers by name.
pub fn status_name(status: i64) -> &'static str {
    match status {
        1 => "online",
        3 => "development",
        4 => "under audit",
        5 => "audit failed",
        6 => "audit passed",
        8 => "rolling back",
        _ => "unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_pads_columns_to_the_widest_cell() {
        let t = table(
            &["ID", "NAME"],
            &[
                vec!["1".into(), "a".into()],
                vec!["1000".into(), "bb".into()],
            ],
        );
        assert_eq!(t, "ID    NAME\n1     a\n1000  bb\n");
    }
}
