//! `cargo run --release -p smartship-bench -- <scenario> [--quick]`
//!
//! Each scenario starts what it measures itself (a server on port 0 in a
//! temporary data directory, a local receiver), runs a baseline in the same
//! process for comparison, and prints one line per scenario: raw figures and
//! the ratio to the baseline. `--quick` shrinks the load for a smoke run;
//! its numbers are not meant to be judged.

mod events;

use clap::{Parser, ValueEnum};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Scenario {
    /// Every scenario.
    All,
    /// A burst of events drained to a local receiver.
    Events,
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

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        if matches!(args.scenario, Scenario::All | Scenario::Events) {
            let n = args.events.unwrap_or(if args.quick { 500 } else { 10_000 });
            events::run(n).await?;
        }
        Ok(())
    })
}
