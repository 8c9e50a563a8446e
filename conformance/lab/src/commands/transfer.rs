//! `export`, `import` and `migrate`: moving accounts between stores as
//! portable rows (`whatsapp_rust_redb_storage::portable`), every row read
//! back through the trait afterwards.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use whatsapp_rust_conformance::Executor;
use whatsapp_rust_conformance_lab::sqlite_source::{self, Finding};
use whatsapp_rust_conformance_lab::transfer::{AccountRows, CopyReport, Destination, copy};
use whatsapp_rust_redb_storage::RedbStore;
use whatsapp_rust_redb_storage::portable::{AccountRow, Row, StreamReader, StreamWriter};

use super::backup::explain;

/// The JSON documents' schema of `import` and `migrate`.
pub const SCHEMA: &str = "whatsapp-rust-conformance/transfer/v1";

/// Where `import` and `migrate` write.
#[derive(clap::Args)]
pub struct DestinationArgs {
    /// The destination: a redb store file (created if missing), or a
    /// PostgreSQL connection string (`postgres://...` or `host=... dbname=...`).
    #[arg(long)]
    to: String,
    /// The PostgreSQL schema of the destination's tables.
    #[arg(long, default_value = "whatsapp")]
    schema: String,
    /// Write into a destination that already holds one of the accounts:
    /// rows with the same key are replaced, others stay (re-running the same
    /// copy is safe).
    #[arg(long)]
    force: bool,
    /// Print one JSON document on stdout.
    #[arg(long)]
    json: bool,
}

/// Arguments of `export`.
#[derive(clap::Args)]
pub struct ExportArgs {
    /// The redb store file (no bot may have it open).
    source: PathBuf,
    /// Where the stream goes (`-`: standard output).
    #[arg(short, long, default_value = "-")]
    output: PathBuf,
    /// Only this account (device id).
    #[arg(long)]
    account: Option<i32>,
}

/// Arguments of `import`.
#[derive(clap::Args)]
pub struct ImportArgs {
    /// An export stream written by `export`.
    stream: PathBuf,
    #[command(flatten)]
    destination: DestinationArgs,
}

/// Arguments of `migrate`.
#[derive(clap::Args)]
pub struct MigrateArgs {
    /// The SqliteStore database file (whatsapp-rust-sqlite-storage 0.7.0;
    /// stop the bot first).
    sqlite: PathBuf,
    #[command(flatten)]
    destination: DestinationArgs,
}

/// Runs `export`.
pub fn export(args: ExportArgs) -> ExitCode {
    if !args.source.is_file() {
        eprintln!("error: {}: no such store file", args.source.display());
        return ExitCode::from(2);
    }
    let store = match RedbStore::open(&args.source) {
        Ok(store) => store,
        Err(e) => {
            eprintln!("error: {}: {}", args.source.display(), explain(&e));
            return ExitCode::FAILURE;
        }
    };
    let out: Box<dyn Write> = if args.output == Path::new("-") {
        Box::new(std::io::stdout().lock())
    } else if args.output.exists() {
        eprintln!(
            "error: {} exists; not overwriting it",
            args.output.display()
        );
        return ExitCode::from(2);
    } else {
        match File::create(&args.output) {
            Ok(file) => Box::new(file),
            Err(e) => {
                eprintln!("error: creating {}: {e}", args.output.display());
                return ExitCode::FAILURE;
            }
        }
    };
    let result = (|| -> Result<u64, String> {
        let mut writer = StreamWriter::new(BufWriter::new(out)).map_err(|e| e.to_string())?;
        store
            .export_rows(args.account, |row| {
                writer.write(&row)?;
                if writer.rows() % 100_000 == 0 {
                    eprintln!("export: {} rows", writer.rows());
                }
                Ok(())
            })
            .map_err(|e| explain(&e))?;
        let rows = writer.rows();
        writer.finish().map_err(|e| e.to_string())?;
        Ok(rows)
    })();
    match result {
        Ok(rows) => {
            eprintln!("export: {rows} rows written");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Runs `import`.
pub fn import(args: ImportArgs) -> ExitCode {
    let file = match File::open(&args.stream) {
        Ok(file) => file,
        Err(e) => {
            eprintln!("error: {}: {e}", args.stream.display());
            return ExitCode::from(2);
        }
    };
    // The whole stream is read (and its trailer checked) before anything is
    // written: a cut stream writes nothing.
    let rows: Vec<AccountRow> = match StreamReader::new(BufReader::new(file))
        .and_then(|reader| reader.collect::<Result<_, _>>())
    {
        Ok(rows) => rows,
        Err(e) => {
            eprintln!("error: {}: {e}", args.stream.display());
            return ExitCode::FAILURE;
        }
    };
    let mut by_account: BTreeMap<i32, Vec<Row>> = BTreeMap::new();
    for r in rows {
        by_account.entry(r.account).or_default().push(r.row);
    }
    let accounts = by_account
        .into_iter()
        .map(|(account, rows)| AccountRows {
            account,
            rows,
            source: None,
        })
        .collect();
    run_copy("import", accounts, Vec::new(), &args.destination)
}

/// Runs `migrate`.
pub fn migrate(args: MigrateArgs) -> ExitCode {
    if !args.sqlite.is_file() {
        eprintln!("error: {}: no such SQLite file", args.sqlite.display());
        return ExitCode::from(2);
    }
    let read = Executor::TokioMultiThread.block_on(sqlite_source::read(
        &args.sqlite,
        |account, table, rows| {
            eprintln!("migrate: account {account}: read {rows} rows (through {table})")
        },
    ));
    let (accounts, findings) = match read {
        Ok(read) => read,
        Err(e) => {
            eprintln!("error: reading {}: {e}", args.sqlite.display());
            return ExitCode::FAILURE;
        }
    };
    run_copy("migrate", accounts, findings, &args.destination)
}

fn run_copy(
    command: &str,
    accounts: Vec<AccountRows>,
    findings: Vec<Finding>,
    args: &DestinationArgs,
) -> ExitCode {
    // A redb file this run creates is compacted at the end.
    let fresh_file = !Path::new(&args.to).exists();
    let result = Executor::TokioMultiThread.block_on(async {
        let destination = Destination::open(&args.to, &args.schema).await?;
        let report = copy(
            &accounts,
            &destination,
            args.force,
            |stage, account, rows| eprintln!("{command}: account {account}: {stage} {rows} rows"),
        )
        .await;
        destination.close(fresh_file).await?;
        report
    });
    let report = match result {
        Ok(report) => report,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    print_report(command, &accounts, &findings, &report, args.json);
    if report.differences.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn print_report(
    command: &str,
    accounts: &[AccountRows],
    findings: &[Finding],
    report: &CopyReport,
    json: bool,
) {
    let ids: Vec<i32> = accounts.iter().map(|a| a.account).collect();
    if json {
        let findings: Vec<_> = findings
            .iter()
            .map(|f| serde_json::json!({"table": f.table, "rows": f.rows, "what": f.what}))
            .collect();
        let not_readable: BTreeMap<_, _> = report
            .not_readable
            .iter()
            .map(|(t, (n, why))| (*t, serde_json::json!({"rows": n, "why": why})))
            .collect();
        whatsapp_rust_conformance::cli::print_json(&serde_json::json!({
            "schema": SCHEMA, "command": command, "accounts": ids,
            "written": report.written, "verified": report.verified,
            "verified_at_source": report.verified_at_source,
            "not_readable": not_readable, "differences": report.differences,
            "findings": findings,
        }));
        return;
    }
    println!("{command}: accounts {ids:?}");
    println!(
        "{:<20} {:>10} {:>10} {:>10}",
        "table", "written", "verified", "at source"
    );
    for (table, written) in &report.written {
        println!(
            "{table:<20} {written:>10} {:>10} {:>10}",
            report.verified.get(table).copied().unwrap_or(0),
            report.verified_at_source.get(table).copied().unwrap_or(0),
        );
    }
    for (table, (rows, why)) in &report.not_readable {
        println!("not read back: {table}: {rows} rows ({why})");
    }
    for f in findings {
        println!("source: {}: {} rows: {}", f.table, f.rows, f.what);
    }
    for d in &report.differences {
        println!("DIFFERENT: {d}");
    }
    if report.differences.is_empty() {
        println!("{command}: every row read back equal");
    }
}
