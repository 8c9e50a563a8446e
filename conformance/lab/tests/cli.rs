//! The CLI as a user meets it: `--help` and `--version` do nothing else,
//! unknown flags are usage errors (exit 2), `--json` output parses and names
//! its schema, and `bench --json` on a tiny budget.

use std::process::{Command, Output};

fn cli(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_whatsapp-rust-conformance"))
        .args(args)
        .output()
        .expect("run the CLI")
}

#[test]
fn help_and_version_do_nothing_else() {
    for command in ["check", "checks", "crash", "faults", "bench"] {
        let out = cli(&[command, "--help"]);
        assert!(out.status.success(), "{command} --help");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("Usage:"), "{command}: {text}");
        assert!(
            !text.contains("passed"),
            "{command} --help ran something: {text}"
        );
    }
    let out = cli(&["--version"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("whatsapp-rust-conformance "));
}

#[test]
fn unknown_flags_and_values_are_usage_errors() {
    for args in [
        &["crash", "--kill", "5"][..],
        &["check", "--backend", "postgres"][..],
        &["check", "--method", "put_mutation_mac"][..],
        &["faults", "--steps", "0"][..],
        &["nonsense"][..],
    ] {
        assert_eq!(cli(args).status.code(), Some(2), "{args:?}");
    }
}

#[test]
fn check_json_is_one_document_on_stdout() {
    let out = cli(&[
        "check",
        "--json",
        "--backend",
        "redb,memory",
        "--filter",
        "base_keys",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("stdout is JSON");
    assert_eq!(doc["schema"], "whatsapp-rust-conformance/check/v1");
    assert_eq!(doc["reports"].as_array().unwrap().len(), 2);
    assert_eq!(
        doc["reports"][0]["checks"][0]["check"],
        "protocol::base_keys"
    );
}

#[test]
fn checks_names_the_checks_covering_a_method() {
    let out = cli(&["checks", "--json", "--method", "put_mutation_macs"]);
    assert!(out.status.success());
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("stdout is JSON");
    let names: Vec<&str> = doc["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["check"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"app_sync::mutation_macs_round_trip"),
        "{names:?}"
    );
    assert!(!names.contains(&"protocol::base_keys"), "{names:?}");
}

#[test]
fn bench_json_is_a_document_of_labelled_figures() {
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
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("stdout is JSON");
    assert_eq!(doc["schema"], "whatsapp-rust-conformance/bench/v1");
    let rows = doc["results"].as_array().unwrap();
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
