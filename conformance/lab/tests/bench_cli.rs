//! `bench --json`: the output format the issue fixes, on a tiny budget.

use std::process::Command;

#[test]
fn bench_json_is_an_array_of_labelled_figures() {
    let dir = tempfile::tempdir().unwrap();
    let chart = dir.path().join("chart.svg");
    let out = Command::new(env!("CARGO_BIN_EXE_whatsapp-rust-conformance"))
        .args([
            "bench",
            "--quick",
            "--json",
            "--no-extras",
            "--filter",
            "put_session",
        ])
        .args(["--backend", "redb,redb-relaxed,memory,redb-raw", "--chart"])
        .arg(&chart)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).expect("stdout is JSON");
    let rows = rows.as_array().unwrap();
    let backends: Vec<&str> = rows
        .iter()
        .map(|r| r["backend"].as_str().unwrap())
        .collect();
    for expected in ["redb", "redb-relaxed", "memory", "redb-raw"] {
        assert!(backends.contains(&expected), "{backends:?}");
    }
    for row in rows {
        // The filter matches put_session and put_sessions_batch.
        assert!(
            row["workload"].as_str().unwrap().starts_with("put_session"),
            "{row}"
        );
        assert!(row["durability"].as_str().is_some_and(|d| !d.is_empty()));
        assert!(
            row["ops_per_sec"].as_f64().is_some_and(|v| v > 0.0),
            "{row}"
        );
    }
    // redb-raw runs at both durabilities, for both workloads.
    assert_eq!(backends.iter().filter(|b| **b == "redb-raw").count(), 4);
    let svg = std::fs::read_to_string(&chart).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("put_session"));
}

#[test]
fn bench_rejects_unknown_options_and_backends() {
    let exe = env!("CARGO_BIN_EXE_whatsapp-rust-conformance");
    for args in [
        &["bench", "--fast"][..],
        &["bench", "--backend", "postgres"][..],
    ] {
        let out = Command::new(exe).args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
}
