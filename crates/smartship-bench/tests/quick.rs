//! The harness's smoke run, as CI runs it: `all --quick` starts every
//! scenario's server, baseline and load itself, prints one line per
//! scenario with its ratio to the baseline, the summary, and the charts.
//! The figures of a debug build on a shared CI machine are not judged.

use std::process::Command;

#[test]
fn all_quick_prints_every_scenario_with_its_ratio_and_draws_the_charts() {
    let charts = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_smartship-bench"))
        .args(["all", "--quick", "--chart-dir"])
        .arg(charts.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for scenario in [
        "read:", "writes:", "events:", "fleet:", "runtime:", "console:",
    ] {
        let line = stdout
            .lines()
            .find(|l| l.starts_with(scenario))
            .unwrap_or_else(|| panic!("no {scenario} line in:\n{stdout}"));
        assert!(line.contains("ratio"), "{line}");
        assert!(line.contains("baseline"), "{line}");
    }
    assert!(
        stdout.contains("summary (--quick: smoke run, not judged):"),
        "{stdout}"
    );
    assert!(stdout.contains("0 errors"), "{stdout}");
    assert!(stdout.contains("100 apps, 100 released"), "{stdout}");
    for svg in ["bench-throughput.svg", "bench-latency.svg"] {
        let text = std::fs::read_to_string(charts.path().join(svg)).unwrap();
        assert!(text.starts_with("<svg"), "{svg}");
        assert!(text.contains("baseline") || text.contains("p99"), "{svg}");
    }
}

/// The PostgreSQL scenarios, as small: `writes` against its pgbench
/// baseline and the fleet, each on a schema of its own.
#[test]
fn writes_and_fleet_quick_on_postgres_print_their_ratios() {
    for scenario in ["writes", "fleet"] {
        let out = Command::new(env!("CARGO_BIN_EXE_smartship-bench"))
            .args([scenario, "--quick", "--postgres"])
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let prefix = format!("{scenario} (PostgreSQL)");
        let line = stdout
            .lines()
            .find(|l| l.starts_with(&prefix))
            .unwrap_or_else(|| panic!("no {prefix} line in:\n{stdout}"));
        assert!(
            line.contains("ratio") && line.contains("baseline"),
            "{line}"
        );
        if scenario == "writes" {
            assert!(
                line.contains("pgbench") && line.contains("(0 errors)"),
                "{line}"
            );
        } else {
            assert!(line.contains("100 released"), "{line}");
        }
    }
}

/// The scenarios on three nodes of one PostgreSQL database behind the
/// harness's balancer, as small.
#[test]
fn read_writes_and_fleet_quick_on_three_nodes_print_their_lines() {
    for (scenario, expect) in [
        ("read", "read (PostgreSQL, 3 node(s)"),
        ("writes", "writes: through 3 node(s)"),
        ("fleet", "fleet (PostgreSQL, 3 node(s)"),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_smartship-bench"))
            .args([scenario, "--quick", "--nodes", "3"])
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let line = stdout
            .lines()
            .find(|l| l.starts_with(expect))
            .unwrap_or_else(|| panic!("no {expect} line in:\n{stdout}"));
        if scenario == "fleet" {
            assert!(line.contains("100 released"), "{line}");
        }
        if scenario == "read" {
            assert!(line.contains(" 0 errors"), "{line}");
        }
    }
}
