//! `inspect`: the accounts of a redb store file and, per table and account,
//! its rows and bytes.

use std::path::PathBuf;
use std::process::ExitCode;

use whatsapp_rust_redb_storage::{Error, RedbStore, TableUsage};

/// The `inspect` JSON document's schema.
pub const SCHEMA: &str = "whatsapp-rust-conformance/inspect/v1";

/// Arguments of `inspect`.
#[derive(clap::Args)]
pub struct Args {
    /// The store file (a running bot must not have it open).
    path: PathBuf,
    /// Only this account (device id).
    #[arg(long)]
    account: Option<i32>,
    /// Print one JSON document on stdout.
    #[arg(long)]
    json: bool,
}

/// Runs `inspect`.
pub fn run(args: Args) -> ExitCode {
    // Opening creates a missing file: refuse first, so a typo creates nothing.
    if !args.path.is_file() {
        eprintln!("error: {}: no such store file", args.path.display());
        return ExitCode::from(2);
    }
    let usage = match RedbStore::open(&args.path).and_then(|store| store.inventory()) {
        Ok(usage) => usage,
        Err(e) => {
            if matches!(Error::from_store_error(&e), Some(Error::AlreadyOpen { .. })) {
                eprintln!(
                    "error: {} is open in another process (a running bot?). Stop it, or have \
                     the bot write a copy with snapshot_db and inspect that.",
                    args.path.display()
                );
            } else {
                eprintln!("error: {}", whatsapp_rust_conformance::error_chain(&e));
            }
            return ExitCode::FAILURE;
        }
    };
    let usage: Vec<TableUsage> = usage
        .into_iter()
        .filter(|u| args.account.is_none_or(|a| a == u.device_id))
        .collect();
    let mut accounts: Vec<i32> = usage
        .iter()
        .filter(|u| u.table == "device")
        .map(|u| u.device_id)
        .collect();
    accounts.dedup();
    if args.json {
        let tables: Vec<_> = usage
            .iter()
            .map(|u| {
                serde_json::json!({
                    "table": u.table, "account": u.device_id, "rows": u.rows,
                    "key_bytes": u.key_bytes, "value_bytes": u.value_bytes,
                })
            })
            .collect();
        whatsapp_rust_conformance::cli::print_json(&serde_json::json!({
            "schema": SCHEMA,
            "path": args.path,
            "file_bytes": std::fs::metadata(&args.path).map_or(0, |m| m.len()),
            "accounts": accounts,
            "tables": tables,
        }));
        return ExitCode::SUCCESS;
    }
    let file_mb = std::fs::metadata(&args.path).map_or(0.0, |m| m.len() as f64 / 1e6);
    println!(
        "{}: {file_mb:.1} MB, accounts (device ids) with a device row: {accounts:?}",
        args.path.display()
    );
    println!(
        "{:<20} {:>8} {:>10} {:>12} {:>12}",
        "table", "account", "rows", "key KB", "value KB"
    );
    for u in &usage {
        println!(
            "{:<20} {:>8} {:>10} {:>12.1} {:>12.1}",
            u.table,
            u.device_id,
            u.rows,
            u.key_bytes as f64 / 1e3,
            u.value_bytes as f64 / 1e3
        );
    }
    let rows: u64 = usage.iter().map(|u| u.rows).sum();
    let bytes: u64 = usage.iter().map(|u| u.key_bytes + u.value_bytes).sum();
    println!(
        "{rows} rows, {:.1} MB of keys and values",
        bytes as f64 / 1e6
    );
    ExitCode::SUCCESS
}
