//! The documents' commands, run as written.
//!
//! Every fenced shell block (`sh`, `bash`, `shell`, `console`) of README.md
//! and docs/*.md carries a marker on the line before it:
//!
//! - `<!-- run -->`: run here. A document's run blocks are joined, in order,
//!   into one `bash -euo pipefail` script, run in a fresh directory inside
//!   the workspace (so that `cargo run` finds it) with `target/release` and
//!   the test build of `smartship` on PATH. A block may start its own server
//!   (`cargo run --release -- serve ...` or `smartship serve ...`): that line
//!   is started in the background and the script goes on once the server has
//!   written `server.json` in its data directory; every server is stopped
//!   with SIGTERM at the end, and must remove its `server.json`. A document
//!   whose blocks start no server gets `smartship serve --demo` running in
//!   its directory (data in `./data`) before its first block, as its prose
//!   asks the reader to have.
//! - `<!-- tested: NAME -->`: run by the test named NAME elsewhere.
//! - `<!-- not run: REASON -->`: shown only, for the reason given.
//!
//! A block without a marker fails the test, so a new example is either run
//! or says why not.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

mod support;

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

#[derive(Debug, Clone, PartialEq)]
enum Marker {
    Run,
    Tested(String),
    NotRun(String),
}

#[derive(Debug, Clone)]
struct Block {
    doc: String,
    line: usize,
    marker: Option<Marker>,
    text: String,
}

const SHELL_LANGS: [&str; 4] = ["sh", "bash", "shell", "console"];

fn marker(line: &str) -> Option<Marker> {
    let inner = line
        .trim()
        .strip_prefix("<!--")?
        .strip_suffix("-->")?
        .trim();
    if inner == "run" {
        Some(Marker::Run)
    } else if let Some(name) = inner.strip_prefix("tested:") {
        Some(Marker::Tested(name.trim().to_owned()))
    } else {
        inner
            .strip_prefix("not run:")
            .map(|why| Marker::NotRun(why.trim().to_owned()))
    }
}

/// The shell blocks of one Markdown document, with their markers.
fn shell_blocks(doc: &str, text: &str) -> Vec<Block> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let Some(lang) = lines[i].trim_start().strip_prefix("```") else {
            i += 1;
            continue;
        };
        let lang = lang.trim().to_owned();
        let start = i;
        let end = (i + 1..lines.len())
            .find(|&j| lines[j].trim_start().starts_with("```"))
            .unwrap_or_else(|| panic!("{doc}:{}: unclosed code block", start + 1));
        if SHELL_LANGS.contains(&lang.as_str()) {
            let before = (0..start)
                .rev()
                .map(|j| lines[j])
                .find(|l| !l.trim().is_empty());
            out.push(Block {
                doc: doc.to_owned(),
                line: start + 1,
                marker: before.and_then(marker),
                text: lines[start + 1..end].join("\n"),
            });
        }
        i = end + 1;
    }
    out
}

fn documents() -> Vec<(String, PathBuf)> {
    let root = Path::new(ROOT);
    let mut docs = vec![("README.md".to_owned(), root.join("README.md"))];
    let mut names: Vec<_> = std::fs::read_dir(root.join("docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    names.sort();
    for p in names {
        let name = format!("docs/{}", p.file_name().unwrap().to_string_lossy());
        docs.push((name, p));
    }
    docs
}

fn all_blocks() -> Vec<Block> {
    documents()
        .iter()
        .flat_map(|(name, path)| shell_blocks(name, &std::fs::read_to_string(path).unwrap()))
        .collect()
}

/// The data directory a `serve` line uses: its `--data-dir`, else `data`.
fn data_dir_of(line: &str) -> String {
    let words: Vec<&str> = line.split_whitespace().collect();
    words
        .iter()
        .position(|w| *w == "--data-dir")
        .and_then(|i| words.get(i + 1))
        .map(|w| w.to_string())
        .unwrap_or_else(|| "data".to_owned())
}

fn is_serve_line(line: &str) -> bool {
    let l = line.trim();
    let command = l
        .split_whitespace()
        .skip_while(|w| w.contains('=') && !w.starts_with('-'))
        .collect::<Vec<_>>()
        .join(" ");
    command.starts_with("cargo run --release -- serve") || command.starts_with("smartship serve")
}

/// A document's run blocks as one script; serve lines go to the background.
fn script(blocks: &[&Block]) -> (String, bool) {
    let mut out = String::from(
        r#"set -euo pipefail
__servers=()
__stop_servers() {
  for pid in "${__servers[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${__servers[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap __stop_servers EXIT
# Waits until the server started last has written DIR/server.json (a
# release build on a fresh checkout takes minutes).
__wait_ready() {
  local dir=$1 pid=${__servers[-1]}
  for _ in $(seq 1 12000); do
    [ -s "$dir/server.json" ] && return 0
    kill -0 "$pid" 2>/dev/null || { echo "the server exited; its log:" >&2; cat "$__log" >&2; return 1; }
    sleep 0.05
  done
  echo "no $dir/server.json after 600 s" >&2; return 1
}
"#,
    );
    let mut starts_server = false;
    for (n, b) in blocks.iter().enumerate() {
        out.push_str(&format!("\n# ---- {}:{}\n", b.doc, b.line));
        for line in b.text.lines() {
            if is_serve_line(line) {
                starts_server = true;
                let dir = data_dir_of(line);
                out.push_str(&format!(
                    "__log=serve-{n}.log; {line} > \"$__log\" 2>&1 &\n__servers+=($!); __wait_ready {dir}\n"
                ));
            } else {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    (out, starts_server)
}

fn target_dir() -> PathBuf {
    Path::new(support::BIN)
        .parent()
        .and_then(Path::parent)
        .unwrap()
        .to_path_buf()
}

/// Builds the release binaries once for every document that asks for them,
/// before any script starts its clock. The documents' own `cargo run
/// --release` then finds them built: several documents compiling the same
/// cold release build at once, beside the other test binaries, can take
/// longer than a script's wait for its server.
fn release_build() {
    static BUILT: std::sync::Mutex<bool> = std::sync::Mutex::new(false);
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    if *built {
        return;
    }
    let out = Command::new("cargo")
        .args(["build", "--release"])
        .current_dir(ROOT)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "cargo build --release failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    *built = true;
}

/// Runs one document's run blocks; panics with the script's output on failure.
fn run_document(doc: &str) {
    run_document_with(doc, &[], |_| true);
}

/// [`run_document`] with extra environment variables, running only the
/// blocks `keep` chooses.
fn run_document_with(doc: &str, env: &[(&str, &str)], keep: impl Fn(&Block) -> bool) {
    let blocks = all_blocks();
    let runnable: Vec<&Block> = blocks
        .iter()
        .filter(|b| b.doc == doc && b.marker == Some(Marker::Run) && keep(b))
        .collect();
    assert!(!runnable.is_empty(), "{doc} has no <!-- run --> block");
    let (script, starts_server) = script(&runnable);
    if script.contains("cargo run --release") || script.contains("cargo build --release") {
        release_build();
    }
    let parent = target_dir().join("docs-test");
    std::fs::create_dir_all(&parent).unwrap();
    let dir = tempfile::Builder::new()
        .prefix(&doc.replace(['/', '.'], "-"))
        .tempdir_in(&parent)
        .unwrap();
    let tmp = dir.path().join("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    let mut own_server = None;
    if !starts_server {
        let data = dir.path().join("data");
        std::fs::create_dir_all(&data).unwrap();
        own_server = Some(support::start_demo(&data, &[]));
    }
    // The binary this test run built comes first: a release build left
    // from an earlier checkout must not answer for this source.
    let bin_dir = Path::new(support::BIN).parent().unwrap();
    let release_dir = target_dir().join("release");
    let path = format!(
        "{}:{}:{}",
        bin_dir.display(),
        release_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new("bash")
        .arg("-c")
        .arg(&script)
        .current_dir(dir.path())
        .env("PATH", path)
        .env("TMPDIR", &tmp)
        // A server a document starts listens on a free port (its address
        // is read from server.json or demo.json, as the documents do).
        .env("SMARTSHIP_LISTEN", "127.0.0.1:0")
        .env_remove("SMARTSHIP_SERVER")
        .env_remove("SMARTSHIP_ADMIN_TOKEN")
        .env_remove("SMARTSHIP_TOKEN")
        .envs(env.iter().copied())
        .output()
        .unwrap();
    if let Some((mut child, _)) = own_server {
        let _ = child.kill();
        let _ = child.wait();
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{doc}: its commands failed ({}).\n--- script\n{script}\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
        out.status
    );
    if starts_server {
        // Every server the document started was stopped by SIGTERM and
        // removed its server.json (no dead pid left behind).
        let left: Vec<_> = walk(dir.path())
            .into_iter()
            .filter(|p| p.file_name().is_some_and(|n| n == "server.json"))
            .collect();
        assert!(
            left.is_empty(),
            "{doc}: server.json left after shutdown: {left:?}"
        );
    }
    // Give the OS a moment to release the ports before the next document.
    std::thread::sleep(Duration::from_millis(50));
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

#[test]
fn every_shell_block_is_run_or_says_why_not() {
    let blocks = all_blocks();
    assert!(blocks.len() > 10, "found only {} blocks", blocks.len());
    let unmarked: Vec<String> = blocks
        .iter()
        .filter(|b| b.marker.is_none())
        .map(|b| format!("{}:{}", b.doc, b.line))
        .collect();
    assert!(
        unmarked.is_empty(),
        "shell blocks without <!-- run -->, <!-- tested: NAME --> or <!-- not run: REASON -->: {unmarked:?}"
    );
    for b in &blocks {
        if let Some(Marker::NotRun(why)) | Some(Marker::Tested(why)) = &b.marker {
            assert!(
                !why.is_empty(),
                "{}:{}: a marker needs its reason or test name",
                b.doc,
                b.line
            );
        }
    }
}

/// Blocks run the way a reader pastes them: a server started in the
/// foreground ends its block, since pasted, what follows it would never
/// run (the reader goes on "in a second terminal", a block of its own).
#[test]
fn a_server_started_in_the_foreground_ends_its_block() {
    for b in all_blocks() {
        if b.marker != Some(Marker::Run) {
            continue;
        }
        let lines: Vec<&str> = b
            .text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .collect();
        for (i, l) in lines.iter().enumerate() {
            if is_serve_line(l) && !l.ends_with('&') {
                assert_eq!(
                    i + 1,
                    lines.len(),
                    "{}:{}: `{l}` runs in the foreground: pasted, the rest of the block \
                     never runs; end the block there and go on in another, \
                     \"in a second terminal\"",
                    b.doc,
                    b.line
                );
            }
        }
    }
}

#[test]
fn the_marker_parser_reads_the_three_markers() {
    let doc = "x\n<!-- run -->\n```sh\necho a\n```\n\n<!-- not run: needs a GPU -->\n\n```bash\necho b\n```\n```sh\necho c\n```\n```json\n{}\n```\n";
    let b = shell_blocks("t.md", doc);
    assert_eq!(b.len(), 3);
    assert_eq!(b[0].marker, Some(Marker::Run));
    assert_eq!(b[0].text, "echo a");
    assert_eq!(b[1].marker, Some(Marker::NotRun("needs a GPU".into())));
    assert_eq!(
        b[2].marker, None,
        "a block right after another has no marker"
    );
    assert!(is_serve_line("cargo run --release -- serve --demo"));
    assert!(is_serve_line(
        "SMARTSHIP_REVIEW_POLICY=auto-pass smartship serve --demo"
    ));
    assert!(!is_serve_line("smartship admin status"));
    assert_eq!(data_dir_of("smartship serve --data-dir /tmp/x"), "/tmp/x");
    assert_eq!(data_dir_of("cargo run --release -- serve --demo"), "data");
}

#[test]
fn the_readme_runs_as_written() {
    run_document("README.md");
}

/// The README's walkthrough, every server of it on PostgreSQL (a schema of
/// its own); the blocks that name their own database are left out.
#[test]
fn the_readme_runs_as_written_on_postgres() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let db = rt.block_on(smartship_store::test_db::TestDb::new(
        smartship_store::test_db::Backend::Postgres,
    ));
    run_document_with("README.md", &[("SMARTSHIP_DATABASE_URL", db.url())], |b| {
        !b.text.contains("--database")
    });
    drop(db);
}

#[test]
fn the_auth_walkthrough_runs_as_written() {
    run_document("docs/auth.md");
}

#[test]
fn the_api_reference_examples_run_as_written() {
    run_document("docs/api.md");
}

#[test]
fn the_events_example_runs_as_written() {
    run_document("docs/events.md");
}

#[test]
fn the_sdk_example_runs_as_written() {
    run_document("docs/sdk.md");
}

#[test]
fn the_release_guide_runs_as_written() {
    run_document("docs/release.md");
}

#[test]
fn the_console_guide_runs_as_written() {
    run_document("docs/console.md");
}

#[test]
fn the_operations_examples_run_as_written() {
    run_document("docs/operations.md");
}
