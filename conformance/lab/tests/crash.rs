//! Crash campaigns through the CLI (the long ones are in docs/RELIABILITY.md):
//! the writer child is SIGKILLed at random moments; every acknowledged step
//! must survive and no batch may be torn.

use std::process::{Command, Output};

/// Runs `crash` on `backend`; failing kills keep their stores, under a temp dir.
fn run_crash(backend: &str, kills: &str, seed: Option<&str>) -> (Output, String) {
    let tmp = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_whatsapp-rust-conformance"));
    cmd.env("TMPDIR", tmp.path()).args([
        "crash",
        "--backend",
        backend,
        "--kills",
        kills,
        "--max-delay-ms",
        "200",
    ]);
    if let Some(seed) = seed {
        cmd.args(["--seed", seed]);
    }
    let out = cmd.output().expect("run the CLI");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    (out, stdout)
}

#[test]
fn redb_survives_sigkill_with_no_lost_ack_and_no_torn_batch_in_every_mode() {
    // redb (fsync before ack) and redb-pcs (process-crash-safe) must lose
    // nothing acknowledged; redb-relaxed may lose its last acknowledged
    // steps, whole.
    let kills: u64 = std::env::var("CONFORMANCE_CRASH_KILLS")
        .ok()
        .and_then(|k| k.parse().ok())
        .unwrap_or(10);
    let (out, stdout) = run_crash("redb,redb-pcs,redb-relaxed", &kills.to_string(), None);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(&format!("{} passed, 0 failed", 3 * kills)),
        "{stdout}"
    );
    for mode in ["redb:", "redb-pcs:"] {
        let line = stdout.lines().find(|l| l.starts_with(mode)).unwrap();
        assert!(line.contains(" 0 lost,"), "{line}");
    }
}

#[test]
fn the_crash_check_catches_sqlite_torn_mutation_mac_batches() {
    // SqliteStore 0.7.0 commits put_mutation_macs every 100 rows: a kill in
    // the middle of a 500-row batch leaves part of it. The check must say so.
    let (out, stdout) = run_crash("sqlite", "30", Some("7"));
    assert!(
        !out.status.success(),
        "no torn batch found in 30 kills:\n{stdout}"
    );
    assert!(stdout.contains("torn batch"), "{stdout}");
    assert!(
        !stdout.contains(" lost: "),
        "SqliteStore lost an acknowledged write:\n{stdout}"
    );
}
