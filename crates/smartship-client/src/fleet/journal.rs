//! The fleet's state file: an append-only JSON-lines journal.
//!
//! Line 1 is the run's header (template, version); every later line records
//! one app's progress or its refreshed tokens. Replaying the file gives each
//! app's last known stage. Progress lines are flushed to the OS (they survive
//! the process being killed; the run re-checks the server anyway), token
//! lines are fsynced before the tokens are used, because a refresh token is
//! single use.

use super::{Outcome, Stage};
use crate::session::{MemoryTokenStore, StoredTokens, TokenStore};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The first line: what run this state file belongs to.
///
/// ```
/// use smartship_client::fleet::journal::Header;
/// let h = Header { kind: "fleet".into(), template_id: 7, version: "2.0.0".into(), server: None, apps: None };
/// let line = serde_json::to_string(&h).unwrap();
/// assert_eq!(line, r#"{"kind":"fleet","template_id":7,"version":"2.0.0"}"#);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    /// Always `"fleet"`.
    pub kind: String,
    /// Template every app is upgraded from.
    pub template_id: i64,
    /// `user_version` of the upgrade.
    pub version: String,
    /// The server the run talks to: a state file is never resumed against
    /// another one (its apps and packages would be others).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    /// Which apps the run drives: the SHA-256 of their sorted ids and how
    /// many, `sha256:N`. A rerun with another apps file needs another state
    /// file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub apps: Option<String>,
}

/// One app's last known progress, as journaled.
///
/// ```
/// use smartship_client::fleet::{AppRecord, Stage};
/// let r = AppRecord {
///     app: 42, stage: Stage::Building, outcome: None, package_id: Some(420),
///     reason: None, code: None, at: 1_700_000_000_000,
/// };
/// // Empty optional fields are left out of the journal line.
/// let line = serde_json::to_string(&r).unwrap();
/// assert_eq!(line, r#"{"app":42,"stage":"building","package_id":420,"at":1700000000000}"#);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppRecord {
    /// The app.
    pub app: i64,
    /// Where it is (or where it ended).
    pub stage: Stage,
    /// Final outcome, once there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<Outcome>,
    /// The package of this version, once known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package_id: Option<i64>,
    /// Why it failed or was skipped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The errno or gateway code behind a failure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<i64>,
    /// Unix milliseconds of the record.
    pub at: i64,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(untagged)]
enum Line {
    Header(Header),
    Tokens { app: i64, tokens: StoredTokens },
    App(AppRecord),
}

/// What replaying a state file gives.
///
/// ```
/// use smartship_client::fleet::journal::Replayed;
/// let r = Replayed::default(); // what a missing state file replays as
/// assert!(r.header.is_none() && r.apps.is_empty() && r.tokens.is_empty());
/// assert_eq!(r.skipped_lines, 0);
/// ```
#[derive(Debug, Default)]
pub struct Replayed {
    /// The header, if the file had one.
    pub header: Option<Header>,
    /// Each app's last record.
    pub apps: HashMap<i64, AppRecord>,
    /// Each app's last saved tokens.
    pub tokens: HashMap<i64, StoredTokens>,
    /// Lines that did not parse (a torn last line after a crash).
    pub skipped_lines: usize,
}

/// Reads a state file; a missing file replays as empty.
///
/// ```
/// use smartship_client::fleet::journal::replay;
/// let path = std::env::temp_dir().join(format!("replay-doc-{}.state", std::process::id()));
/// assert!(replay(&path).unwrap().header.is_none()); // missing: empty
/// std::fs::write(&path, concat!(
///     r#"{"kind":"fleet","template_id":7,"version":"2.0.0"}"#, "\n",
///     r#"{"app":42,"stage":"done","outcome":"released","at":1}"#, "\n",
///     r#"{"app":43,"sta"#, // a torn last line
/// )).unwrap();
/// let r = replay(&path).unwrap();
/// assert_eq!((r.header.unwrap().template_id, r.apps.len(), r.skipped_lines), (7, 1, 1));
/// std::fs::remove_file(&path).unwrap();
/// ```
pub fn replay(path: &Path) -> std::io::Result<Replayed> {
    let mut out = Replayed::default();
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(e),
    };
    for line in BufReader::new(file).lines() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Line>(&line) {
            Ok(Line::Header(h)) => out.header = Some(h),
            Ok(Line::Tokens { app, tokens }) => {
                out.tokens.insert(app, tokens);
            }
            Ok(Line::App(r)) => {
                out.apps.insert(r.app, r);
            }
            Err(_) => out.skipped_lines += 1,
        }
    }
    Ok(out)
}

/// Appends to a state file; shared by every app's driver.
///
/// It is also the fleet's [`TokenStore`]: saved tokens are journaled (and
/// fsynced) before they are used.
///
/// ```
/// use smartship_client::fleet::journal::{replay, Header, Journal};
/// use smartship_client::session::{StoredTokens, TokenStore};
/// let path = std::env::temp_dir().join(format!("journal-doc-{}.state", std::process::id()));
/// let header = Header { kind: "fleet".into(), template_id: 7, version: "2.0.0".into(), server: None, apps: None };
/// let journal = Journal::open(&path, &header, Default::default()).unwrap();
/// tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
///     journal.save(42, &StoredTokens::new("app.a", "refresh.r", 3600)).await.unwrap();
///     assert_eq!(journal.load(42).await.unwrap().unwrap().access_token, "app.a");
/// });
/// assert_eq!(replay(&path).unwrap().tokens[&42].refresh_token, "refresh.r");
/// std::fs::remove_file(&path).unwrap();
/// ```
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    file: Mutex<File>,
    /// The newest pair per app: what the journal's token lines say.
    tokens: MemoryTokenStore,
}

impl Journal {
    /// Opens `path` for appending, writing `header` first when the file is new.
    ///
    /// ```
    /// use smartship_client::fleet::journal::{replay, Header, Journal};
    /// let path = std::env::temp_dir().join(format!("open-doc-{}.state", std::process::id()));
    /// let header = Header { kind: "fleet".into(), template_id: 7, version: "2.0.0".into(), server: None, apps: None };
    /// drop(Journal::open(&path, &header, Default::default()).unwrap());
    /// // Reopening resumes the file: the header is not written again.
    /// drop(Journal::open(&path, &header, Default::default()).unwrap());
    /// assert_eq!(replay(&path).unwrap().header, Some(header));
    /// std::fs::remove_file(&path).unwrap();
    /// ```
    pub fn open(
        path: &Path,
        header: &Header,
        tokens: HashMap<i64, StoredTokens>,
    ) -> std::io::Result<Journal> {
        let mut options = OpenOptions::new();
        options.create(true).append(true);
        #[cfg(unix)]
        {
            // Tokens are credentials.
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(path)?;
        if file.metadata()?.len() == 0 {
            let mut line = serde_json::to_vec(&Line::Header(header.clone()))?;
            line.push(b'\n');
            file.write_all(&line)?;
            file.sync_all()?;
        } else {
            // A torn last line from a crash must not glue onto the next one.
            file.write_all(b"\n")?;
        }
        Ok(Journal {
            path: path.to_owned(),
            file: Mutex::new(file),
            tokens: MemoryTokenStore::from(tokens),
        })
    }

    /// The state file's path.
    ///
    /// ```
    /// use smartship_client::fleet::journal::{Header, Journal};
    /// let path = std::env::temp_dir().join(format!("path-doc-{}.state", std::process::id()));
    /// let header = Header { kind: "fleet".into(), template_id: 7, version: "2.0.0".into(), server: None, apps: None };
    /// let journal = Journal::open(&path, &header, Default::default()).unwrap();
    /// assert_eq!(journal.path(), path);
    /// std::fs::remove_file(&path).unwrap();
    /// ```
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn append(&self, line: &Line, durable: bool) -> std::io::Result<()> {
        let mut bytes = serde_json::to_vec(line)?;
        bytes.push(b'\n');
        let mut file = self.file.lock().expect("not poisoned");
        file.write_all(&bytes)?;
        if durable {
            file.sync_data()?;
        }
        Ok(())
    }

    /// Records an app's progress.
    ///
    /// ```
    /// use smartship_client::fleet::journal::{replay, AppRecord, Header, Journal};
    /// use smartship_client::fleet::{Outcome, Stage};
    /// let path = std::env::temp_dir().join(format!("record-doc-{}.state", std::process::id()));
    /// let header = Header { kind: "fleet".into(), template_id: 7, version: "2.0.0".into(), server: None, apps: None };
    /// let journal = Journal::open(&path, &header, Default::default()).unwrap();
    /// let done = AppRecord { app: 42, stage: Stage::Done, outcome: Some(Outcome::Built),
    ///     package_id: Some(420), reason: None, code: None, at: 0 };
    /// journal.record(&done).unwrap();
    /// assert_eq!(replay(&path).unwrap().apps[&42], done);
    /// std::fs::remove_file(&path).unwrap();
    /// ```
    pub fn record(&self, record: &AppRecord) -> std::io::Result<()> {
        self.append(&Line::App(record.clone()), false)
    }
}

#[async_trait::async_trait]
impl TokenStore for Journal {
    async fn load(&self, app_id: i64) -> std::io::Result<Option<StoredTokens>> {
        self.tokens.load(app_id).await
    }

    async fn save(&self, app_id: i64, tokens: &StoredTokens) -> std::io::Result<()> {
        self.append(
            &Line::Tokens {
                app: app_id,
                tokens: tokens.clone(),
            },
            true,
        )?;
        self.tokens.save(app_id, tokens).await
    }
}
