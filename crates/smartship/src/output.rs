//! How third-party commands print: a table for people, `--json` for scripts.

use clap::Args;
use serde_json::Value;

/// `--server` and `--token`, shared by the commands that call the open API.
#[derive(Debug, Args)]
pub struct OpenApiArgs {
    /// Server base URL.
    #[arg(long, env = "SMARTSHIP_SERVER", hide_env_values = true, global = true)]
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

pub use smartship_client::terminal::printable;

/// A left-aligned table; every cell is text, shown through [`printable`].
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|r| r.iter().map(|c| printable(c).into_owned()).collect())
        .collect();
    let rows = &rows;
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
        println!("{k:<width$}  {}", printable(v));
    }
}

/// The platform's time zone, in which every time a person sees is shown
/// (docs/operations.md, "Times"): the server's `timezone` setting, read
/// from the same `SMARTSHIP_TIMEZONE` variable, default +08:00.
pub fn platform_tz() -> chrono::FixedOffset {
    std::env::var("SMARTSHIP_TIMEZONE")
        .ok()
        .and_then(|t| t.trim().parse().ok())
        .unwrap_or_else(|| chrono::FixedOffset::east_opt(8 * 3600).expect("valid offset"))
}

/// A Unix-seconds time as `2026-12-01 21:50:12 +08:00`, in the platform's zone.
pub fn time(unix: i64) -> String {
    time_in(unix, platform_tz())
}

fn time_in(unix: i64, tz: chrono::FixedOffset) -> String {
    chrono::DateTime::from_timestamp(unix, 0)
        .map(|t| {
            t.with_timezone(&tz)
                .format("%Y-%m-%d %H:%M:%S %:z")
                .to_string()
        })
        .unwrap_or_default()
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
    fn times_show_the_platform_zone_and_its_offset() {
        // 2018-09-04 09:13:59 UTC is 17:13:59 at +08:00.
        let tz = "+08:00".parse().unwrap();
        assert_eq!(time_in(1_536_052_439, tz), "2018-09-04 17:13:59 +08:00");
        let utc = "+00:00".parse().unwrap();
        assert_eq!(time_in(1_536_052_439, utc), "2018-09-04 09:13:59 +00:00");
    }

    #[test]
    fn untrusted_text_cannot_drive_the_terminal() {
        assert_eq!(printable("plain 文本"), "plain 文本");
        assert_eq!(printable("a\u{1b}[2Jb"), "a\\u{1b}[2Jb");
        assert_eq!(printable("x\r\ny\0"), "x\\u{d}\\u{a}y\\u{0}");
        assert_eq!(printable("\u{202e}gpj.exe"), "\\u{202e}gpj.exe");
        let t = table(&["DESC"], &[vec!["\u{1b}]0;pwned\u{7}".into()]]);
        assert!(!t.contains('\u{1b}') && !t.contains('\u{7}'), "{t:?}");
    }

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

/// An error that ends the command with its own exit status (documented
/// per command, e.g. `smartship fleet`'s in docs/fleet.md).
#[derive(Debug)]
pub struct Exit {
    pub code: u8,
    pub message: String,
}

impl std::fmt::Display for Exit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Exit {}
