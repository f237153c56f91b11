//! `cargo run --release -p smartship-bench -- [all|read|writes|fleet|events|connections|runtime|console|peers] [--quick]`
//!
//! Each scenario starts what it measures itself (a server on port 0 in a
//! temporary data directory, a local receiver, a baseline), generates the
//! load in-process, and prints one line: raw figures and the ratio to the
//! baseline measured in the same run. `--quick` shrinks every scenario to a
//! smoke run (CI runs it; its numbers are not meant to be judged).
//! `--chart-dir DIR` writes the throughput and latency charts as SVG.

/// The server's request path makes many small, short-lived allocations;
/// mimalloc serves them with less work than the system allocator (see
/// docs/PERFORMANCE.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod chart;
mod connections;
mod console;
mod events;
mod fleet;
mod loadgen;
mod nodes;
mod peers;
mod pgbench;
mod read;
mod runtime;
mod setup;
mod writes;

use clap::{Parser, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Scenario {
    /// Every scenario.
    All,
    /// package/get against a plain hyper server, closed and open loop.
    Read,
    /// Durable lifecycle transitions against fsynced SQLite commits.
    Writes,
    /// A fleet of apps through the whole lifecycle, with storage.
    Fleet,
    /// A burst of events drained to a local receiver.
    Events,
    /// Prism, json-server and WireMock on the same read route.
    Peers,
    /// Reads while 5,000 idle and 500 slowloris connections are held open.
    Connections,
    /// The host-runtime update check and a 2 MB download, against hyper
    /// and a static-file server.
    Runtime,
    /// The console's review queue page with 10,000 packages waiting.
    Console,
}

#[derive(Debug, Parser)]
#[command(about = "smartship benchmark harness")]
struct Args {
    #[arg(value_enum, default_value_t = Scenario::All)]
    scenario: Scenario,
    /// Small load, for a smoke run.
    #[arg(long)]
    quick: bool,
    /// Events in the burst (default 10,000; 500 with --quick).
    #[arg(long)]
    events: Option<usize>,
    /// Apps in the fleet (default 10,000; 100 with --quick).
    #[arg(long)]
    apps: Option<usize>,
    /// Run `writes` and `fleet` on PostgreSQL (a fresh schema on the server
    /// SMARTSHIP_TEST_POSTGRES names, default the local one), `writes` with a
    /// pgbench baseline.
    #[arg(long)]
    postgres: bool,
    /// Run `read`, `writes` and `fleet` on this many nodes of one
    /// PostgreSQL database behind an in-process round-robin balancer
    /// (implies --postgres; 1 measures the balancer's path with one node,
    /// the baseline of more).
    #[arg(long)]
    nodes: Option<usize>,
    /// Write bench-throughput.svg and bench-latency.svg here.
    #[arg(long)]
    chart_dir: Option<PathBuf>,
    /// Write the scenario's figures here as JSON instead of printing the
    /// summary (how `all` collects its child processes' results).
    #[arg(long, hide = true)]
    collect_json: Option<PathBuf>,
}

/// Resident set size of this process, in KiB (Linux).
pub fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

/// A percentile's label, smartship's latency and the harness's own (ms).
type LatencyPoint = (String, f64, f64);

/// What a scenario contributes to the summary and the charts; a child
/// process of `all` hands it to its parent as JSON.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
struct Collected {
    summary: Vec<String>,
    /// (label, per second, is a baseline)
    bars: Vec<(String, f64, bool)>,
    /// (title, [(percentile, smartship ms, the harness against hyper ms)])
    latency: Option<(String, Vec<LatencyPoint>)>,
}

async fn run_scenarios(args: &Args, only: Scenario) -> anyhow::Result<Collected> {
    let wants = |s: Scenario| only == s;
    let mut bars: Vec<(String, f64, bool)> = Vec::new();
    let mut latency = None;
    let mut summary: Vec<String> = Vec::new();
    let verdict = |ok: bool| if ok { "met" } else { "NOT met" };
    if wants(Scenario::Read)
        && let Some(k) = args.nodes
    {
        let rps = read::through_nodes(args.quick, k).await?;
        bars.push((format!("read on PostgreSQL, {k} node(s)"), rps, k == 1));
        summary.push(format!(
            "read    PostgreSQL, {k} node(s) behind the balancer: {rps:.0} req/s"
        ));
    } else if wants(Scenario::Read) {
        let r = read::run(args.quick).await?;
        bars.push((
            "read: package/get (64 conns)".into(),
            r.smartship.rps(),
            false,
        ));
        bars.push(("baseline: hello-JSON hyper".into(), r.baseline.rps(), true));
        let ratio = r.smartship.rps() / r.baseline.rps();
        summary.push(format!(
            "read    {:.0} req/s = {ratio:.2} of hyper (>= 0.50: {}); p99 {:.2} ms at {:.0} req/s open loop (< 5 ms: {})",
            r.smartship.rps(),
            verdict(ratio >= 0.5),
            r.open_loop.ms(99.0),
            r.open_rate,
            verdict(r.open_loop.ms(99.0) < 5.0 && r.open_loop.errors == 0),
        ));
        summary.push(format!(
            "        (the harness alone, same schedule against hyper: p99 {:.2} ms)",
            r.baseline_open_loop.ms(99.0)
        ));
        latency = Some((
            format!(
                "package/get latency, open loop at {:.0} req/s (64 connections)",
                r.open_rate
            ),
            [50.0, 90.0, 99.0, 99.9]
                .iter()
                .map(|p| {
                    (
                        format!("p{p}"),
                        r.open_loop.ms(*p),
                        r.baseline_open_loop.ms(*p),
                    )
                })
                .collect(),
        ));
    }
    if wants(Scenario::Writes) {
        let w = writes::run(args.quick, args.postgres, args.nodes).await?;
        if args.postgres {
            bars.push((
                "writes on PostgreSQL: durable transitions".into(),
                w.transitions_per_sec,
                false,
            ));
            bars.push((
                "baseline: pgbench, same statements".into(),
                w.commits_per_sec,
                true,
            ));
            summary.push(format!(
                "writes  PostgreSQL {:.0} durable transitions/s, {} errors, {:.2}x pgbench (>= 3,000 and >= 1.0x: {})",
                w.transitions_per_sec,
                w.errors,
                w.transitions_per_sec / w.commits_per_sec,
                verdict(
                    w.transitions_per_sec >= 3000.0
                        && w.transitions_per_sec >= w.commits_per_sec
                        && w.errors == 0
                ),
            ));
        } else {
            bars.push((
                "writes: durable transitions".into(),
                w.transitions_per_sec,
                false,
            ));
            bars.push((
                "baseline: fsynced SQLite commits".into(),
                w.commits_per_sec,
                true,
            ));
            summary.push(format!(
                "writes  {:.0} durable transitions/s, {} errors (>= 5,000: {})",
                w.transitions_per_sec,
                w.errors,
                verdict(w.transitions_per_sec >= 5000.0 && w.errors == 0),
            ));
        }
    }
    if wants(Scenario::Events) {
        let n = args.events.unwrap_or(if args.quick { 500 } else { 10_000 });
        let e = events::run(n).await?;
        bars.push((
            "events: delivered (draining)".into(),
            e.draining_per_sec,
            false,
        ));
        bars.push(("baseline: plain POSTs".into(), e.baseline_per_sec, true));
        summary.push(format!(
            "events  {:.0}/s draining, {:.0}/s end to end, peak RSS {} MiB (>= 5,000: {})",
            e.draining_per_sec,
            e.end_to_end_per_sec,
            e.peak_rss_mib,
            verdict(e.end_to_end_per_sec >= 5000.0),
        ));
    }
    if wants(Scenario::Fleet) {
        let n = args.apps.unwrap_or(if args.quick { 100 } else { 10_000 });
        let f = fleet::run(n, args.postgres, args.nodes).await?;
        bars.push((
            "fleet: apps released".into(),
            f.apps as f64 / f.seconds,
            false,
        ));
        bars.push((
            "baseline: one package/get per app".into(),
            f.baseline_reads_per_sec,
            true,
        ));
        // The PostgreSQL target allows for the network round trips.
        let fleet_limit = if args.postgres { 45.0 } else { 30.0 };
        let per_app_kb = (f.blob_bytes_added + f.db_bytes_added) as f64 / 1024.0 / f.apps as f64;
        summary.push(format!(
            "fleet   {}{} apps, {} released, {} events in {:.1} s (<= {} s: {}); peak RSS {} MiB (< 512: {}); \
             storage template {:.2} MB + {per_app_kb:.1} KB/app (<= 10 KB/app: {})",
            if args.postgres { "PostgreSQL " } else { "" },
            f.apps,
            f.released,
            f.events_delivered,
            f.seconds,
            fleet_limit,
            verdict(f.seconds <= fleet_limit && f.released == f.apps),
            f.peak_rss_mib,
            verdict(f.peak_rss_mib < 512),
            f.template_bytes as f64 / 1e6,
            verdict(per_app_kb <= 10.0),
        ));
    }
    if wants(Scenario::Connections) {
        let c = connections::run(args.quick).await?;
        bars.push((
            "connections: package/get p99 under attack (ms)".into(),
            c.under_attack.ms(99.0),
            false,
        ));
        summary.push(format!(
            "conns   p99 {:.2} ms with {} idle + {} slowloris (baseline {:.2} ms) (< 50 ms: {}); idle closed {}/{} by {:.1} s (timeout {:.0} s); slow cut {}/{} by {:.1} s (timeout {:.0} s)",
            c.under_attack.ms(99.0),
            c.idle,
            c.slow,
            c.baseline.ms(99.0),
            verdict(c.under_attack.ms(99.0) < 50.0 && c.under_attack.errors == 0 && c.under_attack.ok as f64 >= c.rate),
            c.idle_closed,
            c.idle,
            c.idle_closed_by.as_secs_f64(),
            c.idle_timeout.as_secs_f64(),
            c.slow_cut,
            c.slow,
            c.slow_cut_by.as_secs_f64(),
            c.header_timeout.as_secs_f64(),
        ));
    }
    if wants(Scenario::Runtime) {
        let r = runtime::run(args.quick).await?;
        let check_ratio = r.check.rps() / r.check_baseline.rps();
        let mb = |s: &loadgen::Stats| s.rps() * r.zip_bytes as f64 / 1e6;
        let dl_ratio = mb(&r.download) / mb(&r.download_baseline);
        println!(
            "runtime: update check (host key, gray, online package, Ed25519 signature), 64 connections: {:.0} req/s (p50 {:.2} ms, p99 {:.2} ms, {} errors); \
             baseline hello-JSON hyper {:.0} req/s; ratio {check_ratio:.2} (target >= 0.50); \
             download of a {} B zip, 8 connections: {:.0} MB/s ({} errors); baseline static-file hyper {:.0} MB/s; ratio {dl_ratio:.2} (target >= 0.80)",
            r.check.rps(),
            r.check.ms(50.0),
            r.check.ms(99.0),
            r.check.errors,
            r.check_baseline.rps(),
            r.zip_bytes,
            mb(&r.download),
            r.download.errors,
            mb(&r.download_baseline),
        );
        bars.push((
            "runtime: update check (64 conns)".into(),
            r.check.rps(),
            false,
        ));
        bars.push((
            "baseline: hello-JSON hyper".into(),
            r.check_baseline.rps(),
            true,
        ));
        summary.push(format!(
            "runtime update check {:.0} req/s = {check_ratio:.2} of hyper (>= 0.50: {}); download {:.0} MB/s = {dl_ratio:.2} of a static-file server (>= 0.80: {})",
            r.check.rps(),
            verdict(check_ratio >= 0.5 && r.check.errors == 0),
            mb(&r.download),
            verdict(dl_ratio >= 0.8 && r.download.errors == 0),
        ));
    }
    if wants(Scenario::Console) {
        let c = console::run(args.quick).await?;
        let p = |v: &[f64], q: f64| console::percentile(v, q);
        let ratio = p(&c.first_page, 50.0) / p(&c.baseline, 50.0);
        println!(
            "console: review queue with {} packages waiting (uploads answered in {:.1} s, all in the queue after {:.1} s): first page p50 {:.2} ms, p99 {:.2} ms ({} requests); \
             the {} pages after it p50 {:.2} ms, p99 {:.2} ms, slowest {:.2} ms; baseline /healthz p50 {:.2} ms, p99 {:.2} ms; ratio {ratio:.1} (first page p50 / baseline p50; target: every page < 100 ms)",
            c.waiting,
            c.uploaded_seconds,
            c.seed_seconds,
            p(&c.first_page, 50.0),
            p(&c.first_page, 99.0),
            c.first_page.len(),
            c.later_pages.len(),
            p(&c.later_pages, 50.0),
            p(&c.later_pages, 99.0),
            p(&c.later_pages, 100.0),
            p(&c.baseline, 50.0),
            p(&c.baseline, 99.0),
        );
        let worst = p(&c.first_page, 100.0).max(p(&c.later_pages, 100.0));
        summary.push(format!(
            "console review queue of {}: first page p99 {:.1} ms, any page at most {worst:.1} ms (< 100 ms: {})",
            c.waiting,
            p(&c.first_page, 99.0),
            verdict(worst < 100.0),
        ));
    }
    if wants(Scenario::Peers) {
        match peers::run(args.quick).await? {
            Some(p) => {
                bars.push((
                    "peers run: smartship package/get".into(),
                    p.smartship.rps(),
                    false,
                ));
                for peer in &p.peers {
                    let ratio = p.smartship.rps() / peer.stats.rps().max(1.0);
                    bars.push((format!("peer: {}", peer.name), peer.stats.rps(), true));
                    summary.push(format!(
                        "peers   {:.1}x {} ({:.0} vs {:.0} req/s) (>= 10x: {})",
                        ratio,
                        peer.name,
                        p.smartship.rps(),
                        peer.stats.rps(),
                        verdict(ratio >= 10.0),
                    ));
                }
            }
            None => {
                summary.push("peers   not installed (scripts/bench-peers): not measured".into())
            }
        }
    }
    Ok(Collected {
        summary,
        bars,
        latency,
    })
}

/// `all`: each scenario in a fresh child process, so that none inherits
/// another's memory, threads or sockets.
fn run_children(args: &Args) -> anyhow::Result<Collected> {
    let mut all = Collected::default();
    for scenario in [
        "read",
        "writes",
        "events",
        "fleet",
        "connections",
        "runtime",
        "console",
        "peers",
    ] {
        let out = tempfile::NamedTempFile::new()?;
        let mut cmd = std::process::Command::new(std::env::current_exe()?);
        cmd.arg(scenario).arg("--collect-json").arg(out.path());
        if let Some(k) = args.nodes {
            cmd.arg("--nodes").arg(k.to_string());
        }
        if args.postgres {
            cmd.arg("--postgres");
        }
        if args.quick {
            cmd.arg("--quick");
        }
        if let Some(n) = args.events {
            cmd.arg("--events").arg(n.to_string());
        }
        if let Some(n) = args.apps {
            cmd.arg("--apps").arg(n.to_string());
        }
        let status = cmd.status()?;
        anyhow::ensure!(status.success(), "scenario {scenario} failed: {status}");
        let c: Collected = serde_json::from_slice(&std::fs::read(out.path())?)?;
        all.summary.extend(c.summary);
        all.bars.extend(c.bars);
        all.latency = all.latency.or(c.latency);
    }
    Ok(all)
}

fn main() -> anyhow::Result<()> {
    let mut args = Args::parse();
    // Several nodes share a PostgreSQL database.
    args.postgres |= args.nodes.is_some();
    let collected = if args.scenario == Scenario::All {
        run_children(&args)?
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?
            .block_on(run_scenarios(&args, args.scenario))?
    };
    if let Some(path) = &args.collect_json {
        std::fs::write(path, serde_json::to_vec(&collected)?)?;
        return Ok(());
    }
    if !collected.summary.is_empty() {
        println!(
            "summary{}:",
            if args.quick {
                " (--quick: smoke run, not judged)"
            } else {
                ""
            }
        );
        for line in &collected.summary {
            println!("  {line}");
        }
    }
    if let Some(dir) = &args.chart_dir {
        std::fs::create_dir_all(dir)?;
        chart::throughput(&dir.join("bench-throughput.svg"), &collected.bars)?;
        if let Some((title, points)) = &collected.latency {
            chart::latency(&dir.join("bench-latency.svg"), title, points, 5.0)?;
        }
        println!("charts written to {}", dir.display());
    }
    Ok(())
}
