//! The CLI as a user meets it: `--help` and `--version` do nothing else,
//! unknown flags are usage errors (exit 2), `--json` output parses and names
//! its schema, and `bench --json` on a tiny budget.

use std::process::{Command, Output};

fn cli(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_whatsapp-rust-conformance"))
        .args(args)
        // CI sets it for the server-backed tests; these expect the CLI
        // without a `postgres` target.
        .env_remove("POSTGRES_URL")
        .output()
        .expect("run the CLI")
}

#[test]
fn help_and_version_do_nothing_else() {
    for command in [
        "check",
        "checks",
        "model",
        "crash",
        "faults",
        "bench",
        "bench-families",
    ] {
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
fn unknown_flags_and_values_are_usage_errors_that_name_them() {
    for (args, named) in [
        (&["crash", "--kill", "5"][..], "--kill"),
        (&["check", "--backend", "postgres"][..], "postgres"),
        (
            &["check", "--method", "put_mutation_mac"][..],
            "put_mutation_mac",
        ),
        (
            &["check", "--runtime", "smol", "--backend", "sqlite"][..],
            "sqlite",
        ),
        (&["crash", "--backend", "memory"][..], "reopened"),
        (&["faults", "--steps", "0"][..], "0"),
        (&["model", "--cases", "x"][..], "x"),
        (&["nonsense"][..], "nonsense"),
        (&["check", "--family", "voip"][..], "voip"),
        (
            &[
                "check",
                "--family",
                "runtime",
                "--runtime",
                "smol",
                "--backend",
                "tokio",
            ][..],
            "tokio",
        ),
    ] {
        let out = cli(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(named), "{args:?}: {stderr}");
    }
}

/// Runs a command with `--json` and returns its document, which must name
/// its schema.
fn json(args: &[&str], schema: &str) -> serde_json::Value {
    let out = cli(args);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{args:?}: stdout is not JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    });
    assert_eq!(doc["schema"], schema, "{args:?}");
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    doc
}

#[test]
fn model_crash_and_faults_json_are_documents_with_their_schema() {
    let doc = json(
        &[
            "model", "--json", "--cases", "2", "--len", "10", "--seed", "1",
        ],
        "whatsapp-rust-conformance/model/v1",
    );
    assert_eq!(doc["results"][0]["backend"], "redb");
    let doc = json(
        &["crash", "--json", "--kills", "1", "--max-delay-ms", "50"],
        "whatsapp-rust-conformance/crash/v1",
    );
    assert_eq!(doc["stores"][0]["kills"], 1);
    let doc = json(
        &["faults", "--json", "--steps", "2", "--stride", "25"],
        "whatsapp-rust-conformance/faults/v1",
    );
    assert!(doc["points"].as_u64().unwrap() > 0, "{doc}");
    json(
        &["checks", "--json", "--by-method"],
        "whatsapp-rust-conformance/checks/v1",
    );
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
        &["bench", "--backend", "mysql"][..],
    ] {
        let out = Command::new(exe).args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
    // Known, but it needs a server: the error says how to name one.
    let out = Command::new(exe)
        .args(["bench", "--quick", "--no-extras", "--backend", "postgres"])
        .env_remove("POSTGRES_URL")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("POSTGRES_URL"), "{stderr}");
}

#[test]
fn check_runs_the_families_it_is_given_on_the_targets_named() {
    let doc = json(
        &[
            "check",
            "--family",
            "cache,runtime",
            "--backend",
            "memory-cache,smol",
            "--json",
        ],
        "whatsapp-rust-conformance/check/v1",
    );
    assert_eq!(doc["families"], serde_json::json!(["runtime", "cache"]));
    assert_eq!(doc["failed"], 0);
    let reports = doc["reports"].as_array().unwrap();
    let names: Vec<_> = reports
        .iter()
        .map(|r| {
            (
                r["family"].as_str().unwrap(),
                r["backend"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(names, [("runtime", "smol"), ("cache", "memory-cache")]);
    assert_eq!(
        doc["passed"],
        reports
            .iter()
            .map(|r| r["checks"].as_array().unwrap().len())
            .sum::<usize>()
    );
    let listed = json(
        &["checks", "--family", "runtime", "--json"],
        "whatsapp-rust-conformance/checks/v1",
    );
    assert!(
        listed["checks"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["family"] == "runtime")
    );
}

#[test]
fn compact_reports_the_sizes_and_refuses_a_file_in_use() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.redb");
    let store = whatsapp_rust_redb_storage::RedbStore::open(&path).unwrap();
    let out = cli(&["compact", path.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "a file open elsewhere is refused"
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("already open"),
        "{out:?}"
    );
    drop(store);
    let doc = json(
        &["compact", path.to_str().unwrap(), "--json"],
        "whatsapp-rust-conformance/compact/v1",
    );
    assert!(doc["bytes_after"].as_u64().unwrap() <= doc["bytes_before"].as_u64().unwrap());
}

#[test]
fn memory_measures_each_cache_size_in_its_own_process() {
    let doc = json(
        &[
            "memory",
            "--json",
            "--cache-mib",
            "1,8",
            "--store-mb",
            "2",
            "--history",
            "1",
            "--seconds",
            "1",
        ],
        "whatsapp-rust-conformance/memory/v1",
    );
    let samples = doc["samples"].as_array().expect("samples");
    let sizes: Vec<u64> = samples
        .iter()
        .map(|s| s["cache_mib"].as_u64().unwrap())
        .collect();
    assert_eq!(sizes, [1, 8]);
    for s in samples {
        assert!(s["rss_end"].as_u64().unwrap() > 0, "{s}");
        assert!(s["peak_rss"].as_u64() >= s["rss_end"].as_u64(), "{s}");
        assert!(s["steady_ops_per_sec"].as_f64().unwrap() > 0.0, "{s}");
        assert!(s["random_reads_per_sec"].as_f64().unwrap() > 0.0, "{s}");
    }
    assert!(doc["store_file_mb"].as_f64().unwrap() > 2.0, "{doc}");
}

#[test]
fn inspect_lists_accounts_and_rows_per_table_and_refuses_a_file_in_use() {
    use wacore::store::traits::{DeviceStore, SignalStore};
    use whatsapp_rust_redb_storage::RedbStore;

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bot.redb");
    let store = RedbStore::open(&path).unwrap();
    whatsapp_rust_conformance::Executor::DEFAULT.block_on(async {
        for (account, sessions) in [(1, 3), (2, 5)] {
            let handle = store.for_device(account);
            handle.create().await.unwrap();
            for i in 0..sessions {
                handle
                    .put_session(&format!("{i}@lid"), &[7; 100])
                    .await
                    .unwrap();
            }
        }
    });
    let path_text = path.to_string_lossy().into_owned();

    // Open here: the CLI (another process) must refuse, saying why.
    let busy = cli(&["inspect", &path_text]);
    assert_eq!(busy.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&busy.stderr);
    assert!(stderr.contains("open in another process"), "{stderr}");

    whatsapp_rust_conformance::Executor::DEFAULT
        .block_on(store.close())
        .unwrap();
    let doc = json(
        &["inspect", &path_text, "--json"],
        "whatsapp-rust-conformance/inspect/v1",
    );
    assert_eq!(doc["accounts"], serde_json::json!([1, 2]), "{doc}");
    let rows = |table: &str, account: i64| {
        doc["tables"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["table"] == table && t["account"] == account)
            .map_or(0, |t| t["rows"].as_u64().unwrap())
    };
    assert_eq!((rows("session", 1), rows("session", 2)), (3, 5), "{doc}");
    assert_eq!(rows("device", 2), 1, "{doc}");

    let only = json(
        &["inspect", &path_text, "--json", "--account", "2"],
        "whatsapp-rust-conformance/inspect/v1",
    );
    assert!(
        only["tables"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["account"] == 2),
        "{only}"
    );

    let missing = cli(&["inspect", &dir.path().join("nope.redb").to_string_lossy()]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        !dir.path().join("nope.redb").exists(),
        "inspect must not create a file"
    );
}

#[test]
fn backup_and_restore_copy_a_store_verified_and_refuse_to_overwrite() {
    use wacore::store::traits::{DeviceStore, SignalStore};
    use whatsapp_rust_redb_storage::RedbStore;

    let dir = tempfile::tempdir().unwrap();
    let (bot, copy) = (dir.path().join("bot.redb"), dir.path().join("copy.redb"));
    let store = RedbStore::open(&bot).unwrap();
    whatsapp_rust_conformance::Executor::DEFAULT.block_on(async {
        store.create().await.unwrap();
        store
            .put_session("a@lid", b"before the backup")
            .await
            .unwrap();
        store.close().await.unwrap();
    });
    let text = |p: &std::path::Path| p.to_string_lossy().into_owned();

    let doc = json(
        &["backup", &text(&bot), &text(&copy), "--json"],
        "whatsapp-rust-conformance/backup/v1",
    );
    assert_eq!(doc["verified"], true, "{doc}");
    assert!(doc["rows"].as_u64().unwrap() >= 2, "{doc}");
    assert_eq!(
        cli(&["backup", &text(&bot), &text(&copy)]).status.code(),
        Some(2)
    );

    // The bot's file changes; restoring the backup brings the old row back.
    let store = RedbStore::open(&bot).unwrap();
    whatsapp_rust_conformance::Executor::DEFAULT.block_on(async {
        store.put_session("a@lid", b"after").await.unwrap();
        store.close().await.unwrap();
    });
    assert_eq!(
        cli(&["restore", &text(&copy), &text(&bot)]).status.code(),
        Some(2)
    );
    let restored = cli(&["restore", &text(&copy), &text(&bot), "--force"]);
    assert!(
        restored.status.success(),
        "{}",
        String::from_utf8_lossy(&restored.stderr)
    );
    let store = RedbStore::open(&bot).unwrap();
    let session = whatsapp_rust_conformance::Executor::DEFAULT
        .block_on(store.get_session("a@lid"))
        .unwrap();
    assert_eq!(session.as_deref(), Some(&b"before the backup"[..]));
}

#[test]
fn export_import_migrate_and_inspect_rows_move_accounts_verified() {
    use wacore::store::traits::{DeviceStore, SignalStore};
    use whatsapp_rust_redb_storage::RedbStore;

    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).to_string_lossy().into_owned();
    let store = RedbStore::open(path("bot.redb")).unwrap();
    whatsapp_rust_conformance::Executor::DEFAULT.block_on(async {
        for account in [1, 2] {
            let handle = store.for_device(account);
            handle.create().await.unwrap();
            for i in 0..4 {
                handle
                    .put_session(&format!("{i}@lid"), &[i; 8])
                    .await
                    .unwrap();
            }
        }
        store.close().await.unwrap();
    });

    // inspect --rows: decoded JSON lines, filtered by table, account, prefix.
    let rows = cli(&[
        "inspect",
        &path("bot.redb"),
        "--rows",
        "session",
        "--account",
        "2",
        "--prefix",
        "1@",
    ]);
    assert!(
        rows.status.success(),
        "{}",
        String::from_utf8_lossy(&rows.stderr)
    );
    let lines: Vec<serde_json::Value> = String::from_utf8(rows.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["table"], "session");
    assert_eq!(lines[0]["account"], 2);
    assert_eq!(lines[0]["address"], "1@lid");
    assert_eq!(lines[0]["record"], "0101010101010101");
    let devices = cli(&["inspect", &path("bot.redb"), "--rows", "device"]);
    let text = String::from_utf8(devices.stdout).unwrap();
    assert_eq!(text.lines().count(), 2, "{text}");
    assert!(
        text.contains("\"summary\":{") && text.contains("registration_id"),
        "{text}"
    );
    assert_eq!(
        cli(&["inspect", &path("bot.redb"), "--rows", "sessions"])
            .status
            .code(),
        Some(2)
    );

    // export -> import, verified; again without --force is refused.
    let export = cli(&["export", &path("bot.redb"), "-o", &path("bot.jsonl")]);
    assert!(
        export.status.success(),
        "{}",
        String::from_utf8_lossy(&export.stderr)
    );
    let doc = json(
        &[
            "import",
            &path("bot.jsonl"),
            "--to",
            &path("copy.redb"),
            "--json",
        ],
        "whatsapp-rust-conformance/transfer/v1",
    );
    assert_eq!(doc["written"]["session"], 8, "{doc}");
    assert_eq!(doc["verified"]["session"], 8, "{doc}");
    assert_eq!(doc["differences"], serde_json::json!([]), "{doc}");
    let again = cli(&["import", &path("bot.jsonl"), "--to", &path("copy.redb")]);
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("--force"));
    assert!(
        cli(&[
            "import",
            &path("bot.jsonl"),
            "--to",
            &path("copy.redb"),
            "--force"
        ])
        .status
        .success()
    );

    // A stream cut short writes nothing.
    let full = std::fs::read_to_string(path("bot.jsonl")).unwrap();
    let cut: String = full
        .lines()
        .take(full.lines().count() - 1)
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(path("cut.jsonl"), cut).unwrap();
    let refused = cli(&["import", &path("cut.jsonl"), "--to", &path("cut.redb")]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("cut short"));
    assert!(!dir.path().join("cut.redb").exists());

    // migrate from a SqliteStore file.
    let sqlite = path("bot.db");
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let store = whatsapp_rust_sqlite_storage::SqliteStore::new(&sqlite)
            .await
            .unwrap();
        store.create().await.unwrap();
        store.put_session("9@lid", b"from sqlite").await.unwrap();
    });
    let doc = json(
        &["migrate", &sqlite, "--to", &path("migrated.redb"), "--json"],
        "whatsapp-rust-conformance/transfer/v1",
    );
    assert_eq!(doc["written"]["session"], 1, "{doc}");
    assert_eq!(doc["verified_at_source"]["session"], 1, "{doc}");
    assert_eq!(doc["differences"], serde_json::json!([]), "{doc}");
}
