//! `backup` and `restore`: a verified copy of a redb store file. From inside
//! a running bot use `RedbStore::backup` (online, consistent) instead: a file
//! a bot holds cannot be opened here.
//!
//! Both copy every table as of one read snapshot into a new file, reopen the
//! copy, and compare rows, bytes and a digest per table and account with the
//! source (`RedbStore::inventory`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use whatsapp_rust_conformance::Executor;
use whatsapp_rust_redb_storage::{Error, RedbStore};

/// The `backup` and `restore` JSON documents' schema.
pub const SCHEMA: &str = "whatsapp-rust-conformance/backup/v1";

/// Arguments of `backup`.
#[derive(clap::Args)]
pub struct BackupArgs {
    /// The store file to copy (no bot may have it open).
    source: PathBuf,
    /// The new file (must not exist).
    target: PathBuf,
    /// Print one JSON document on stdout.
    #[arg(long)]
    json: bool,
}

/// Arguments of `restore`.
#[derive(clap::Args)]
pub struct RestoreArgs {
    /// The backup file.
    backup: PathBuf,
    /// Where the store goes (a bot's file; no bot may have it open).
    target: PathBuf,
    /// Replace an existing target (after checking no one has it open).
    #[arg(long)]
    force: bool,
    /// Print one JSON document on stdout.
    #[arg(long)]
    json: bool,
}

/// Runs `backup`.
pub fn backup(args: BackupArgs) -> ExitCode {
    if args.target.exists() {
        eprintln!(
            "error: {} exists; not overwriting it",
            args.target.display()
        );
        return ExitCode::from(2);
    }
    finish(
        copy_verified(&args.source, &args.target),
        args.json,
        "backup",
    )
}

/// Runs `restore`.
pub fn restore(args: RestoreArgs) -> ExitCode {
    if args.target.exists() {
        if !args.force {
            eprintln!(
                "error: {} exists; pass --force to replace it",
                args.target.display()
            );
            return ExitCode::from(2);
        }
        // Opening it proves no bot holds it; then it goes.
        if let Err(e) = RedbStore::open(&args.target) {
            eprintln!("error: {}: {}", args.target.display(), explain(&e));
            return ExitCode::FAILURE;
        }
        if let Err(e) = std::fs::remove_file(&args.target) {
            eprintln!("error: removing {}: {e}", args.target.display());
            return ExitCode::FAILURE;
        }
    }
    finish(
        copy_verified(&args.backup, &args.target),
        args.json,
        "restore",
    )
}

/// What went wrong, with what to do about a file in use.
pub(crate) fn explain(e: &wacore::store::error::StoreError) -> String {
    if matches!(Error::from_store_error(e), Some(Error::AlreadyOpen { .. })) {
        "open in another process (a running bot?): stop it, or back up from inside the bot \
         with RedbStore::backup"
            .into()
    } else {
        whatsapp_rust_conformance::error_chain(e)
    }
}

/// Copied rows and tables (table-account pairs), both files compared equal.
struct Copied {
    rows: u64,
    parts: usize,
    bytes: u64,
}

fn copy_verified(source: &Path, target: &Path) -> Result<Copied, String> {
    if !source.is_file() {
        return Err(format!("{}: no such store file", source.display()));
    }
    let open =
        |p: &Path| RedbStore::open(p).map_err(|e| format!("{}: {}", p.display(), explain(&e)));
    let store = open(source)?;
    Executor::DEFAULT
        .block_on(store.backup(target))
        .map_err(|e| format!("copying to {}: {}", target.display(), explain(&e)))?;
    let before = store.inventory().map_err(|e| explain(&e))?;
    let copy = open(target)?;
    let after = copy.inventory().map_err(|e| explain(&e))?;
    if before != after {
        return Err(format!(
            "{} differs from {} after the copy; it is kept for inspection",
            target.display(),
            source.display()
        ));
    }
    Ok(Copied {
        rows: after.iter().map(|u| u.rows).sum(),
        parts: after.len(),
        bytes: std::fs::metadata(target).map_or(0, |m| m.len()),
    })
}

fn finish(result: Result<Copied, String>, json: bool, command: &str) -> ExitCode {
    match result {
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
        Ok(c) if json => {
            whatsapp_rust_conformance::cli::print_json(&serde_json::json!({
                "schema": SCHEMA, "command": command, "rows": c.rows,
                "tables": c.parts, "file_bytes": c.bytes, "verified": true,
            }));
            ExitCode::SUCCESS
        }
        Ok(c) => {
            println!(
                "{command}: {} rows in {} table-account parts copied and verified equal ({:.1} MB file)",
                c.rows,
                c.parts,
                c.bytes as f64 / 1e6
            );
            ExitCode::SUCCESS
        }
    }
}
