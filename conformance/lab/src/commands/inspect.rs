//! `inspect`: the accounts of a redb store file and, per table and account,
//! its rows and bytes; with `--rows`, the rows themselves, decoded, as JSON
//! lines (the lines `export` writes, plus a readable summary of the device).

use std::path::PathBuf;
use std::process::ExitCode;

use std::io::Write;
use std::path::Path;

use wacore::store::error::StoreError;
use whatsapp_rust_redb_storage::portable::{self, Row};
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
    /// Print the rows of this table (or `all`) decoded, one JSON object per
    /// line, instead of the usage table. Tables: device, identity, session,
    /// prekey, signed_prekey, sender_key, sync_key, latest_sync_key,
    /// app_state_version, mutation_mac, sender_key_device, lid_mapping,
    /// base_key, device_list, group_metadata, tc_token, sent_message,
    /// pending_inbound, msg_secret.
    #[arg(long, value_name = "TABLE")]
    rows: Option<String>,
    /// With --rows: only rows whose key starts with this text (an address,
    /// a JID, a collection; ids in decimal; byte keys in hex; parts of a
    /// composite key joined with `/`, as in `chat/message_id`).
    #[arg(long, requires = "rows")]
    prefix: Option<String>,
}

/// Runs `inspect`.
pub fn run(args: Args) -> ExitCode {
    // Opening creates a missing file: refuse first, so a typo creates nothing.
    if !args.path.is_file() {
        eprintln!("error: {}: no such store file", args.path.display());
        return ExitCode::from(2);
    }
    if let Some(table) = &args.rows
        && table != "all"
        && !portable::tables().any(|t| t == table)
    {
        let names: Vec<&str> = portable::tables().collect();
        eprintln!(
            "error: no table {table:?}; tables: all, {}",
            names.join(", ")
        );
        return ExitCode::from(2);
    }
    let store = match RedbStore::open(&args.path) {
        Ok(store) => store,
        Err(e) => return open_failed(&args.path, &e),
    };
    if let Some(table) = &args.rows {
        return dump(&store, table, args.prefix.as_deref(), args.account);
    }
    let usage = match store.inventory() {
        Ok(usage) => usage,
        Err(e) => return open_failed(&args.path, &e),
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

fn open_failed(path: &Path, e: &StoreError) -> ExitCode {
    if matches!(Error::from_store_error(e), Some(Error::AlreadyOpen { .. })) {
        eprintln!(
            "error: {} is open in another process (a running bot?). Stop it, or have \
             the bot write a copy with snapshot_db (or RedbStore::backup) and inspect that.",
            path.display()
        );
    } else {
        eprintln!("error: {}", whatsapp_rust_conformance::error_chain(e));
    }
    ExitCode::FAILURE
}

/// Prints the rows of `table` (or every table) as JSON lines.
fn dump(store: &RedbStore, table: &str, prefix: Option<&str>, account: Option<i32>) -> ExitCode {
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut printed = 0u64;
    // A reader that stops early (`| head`) ends the dump quietly.
    let mut closed = false;
    let result = store.export_rows(account, |row| {
        if (table != "all" && row.row.table() != table)
            || prefix.is_some_and(|p| !row.row.key_text().starts_with(p))
        {
            return Ok(());
        }
        // Rows print as the stream writes them (`table` second); device
        // rows gain a readable summary.
        let written = match &row.row {
            Row::Device { record } => {
                let mut line = serde_json::to_value(&row)?;
                if let Ok(summary) = portable::device_summary(record) {
                    line["summary"] = serde_json::to_value(summary)?;
                }
                serde_json::to_writer(&mut out, &line)
            }
            _ => serde_json::to_writer(&mut out, &row),
        }
        .map_err(std::io::Error::from)
        .and_then(|()| out.write_all(b"\n"));
        if let Err(e) = written {
            closed = e.kind() == std::io::ErrorKind::BrokenPipe;
            return Err(e);
        }
        printed += 1;
        Ok(())
    });
    if closed {
        return ExitCode::SUCCESS;
    }
    if let Err(e) = result
        .map_err(|e| whatsapp_rust_conformance::error_chain(&e))
        .and_then(|()| out.flush().map_err(|e| e.to_string()))
    {
        eprintln!("error: {e}");
        return ExitCode::FAILURE;
    }
    eprintln!("inspect: {printed} rows");
    ExitCode::SUCCESS
}
