//! A short crash campaign on the redb engine (the long one is documented in
//! docs/RELIABILITY.md): the CLI's writer child is SIGKILLed at random
//! moments; every acknowledged step must survive, no batch may be torn.

use std::process::Command;

#[test]
fn redb_survives_sigkill_with_no_lost_ack_and_no_torn_batch() {
    let kills = std::env::var("CONFORMANCE_CRASH_KILLS").unwrap_or_else(|_| "10".into());
    let out = Command::new(env!("CARGO_BIN_EXE_whatsapp-rust-conformance"))
        .args([
            "crash",
            "--backend",
            "redb",
            "--kills",
            &kills,
            "--max-delay-ms",
            "200",
        ])
        .output()
        .expect("run the CLI");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(&format!("{kills} passed, 0 failed")),
        "{stdout}"
    );
}

#[test]
fn the_crash_check_catches_sqlite_torn_mutation_mac_batches() {
    // SqliteStore 0.7.0 commits put_mutation_macs every 100 rows: a kill in
    // the middle of a 500-row batch leaves part of it. The check must say so.
    let tmp = tempfile::tempdir().unwrap(); // failing kills keep their stores: keep them here
    let out = Command::new(env!("CARGO_BIN_EXE_whatsapp-rust-conformance"))
        .env("TMPDIR", tmp.path())
        .args([
            "crash",
            "--backend",
            "sqlite",
            "--kills",
            "30",
            "--seed",
            "7",
            "--max-delay-ms",
            "200",
        ])
        .output()
        .expect("run the CLI");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        !out.status.success(),
        "no torn batch found in 30 kills:\n{stdout}"
    );
    assert!(stdout.contains("torn batch"), "{stdout}");
    assert!(
        !stdout.contains("lost"),
        "SqliteStore lost an acknowledged write:\n{stdout}"
    );
}
