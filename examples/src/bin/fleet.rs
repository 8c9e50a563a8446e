//! A fleet of bots: several processes, one account each, sharing one
//! PostgreSQL database (their sessions, keys and devices) and one Redis (the
//! group-metadata, device-registry and LID/PN caches they can share).
//!
//! ```text
//! bash ci/servers.sh start      # or your own servers
//! cargo run -p whatsapp-rust-storage-examples --bin fleet -- start --bots 2 \
//!     --postgres "$POSTGRES_URL" --redis "$REDIS_URL"
//! ```
//! Each bot prints its own QR code (Linked devices); restarted, each
//! reconnects from its rows in Postgres. `--dry-run` builds every bot (the
//! client's start-up: account created or loaded from Postgres, caches on
//! Redis) and exits without connecting to WhatsApp: CI runs that twice and
//! checks the accounts are distinct and keep their identities.

use std::io::{BufRead, BufReader};
use std::process::{Command, ExitCode, Stdio};
use std::sync::Arc;

use clap::{Args, Parser, Subcommand};
use wacore::store::traits::DeviceStore;
use whatsapp_rust::prelude::*;
use whatsapp_rust::{CacheConfig, CacheStores};
use whatsapp_rust_postgres_storage::{PostgresConfig, PostgresStore};
use whatsapp_rust_redis_cache::RedisCacheStore;

#[derive(Parser)]
#[command(about = "Several whatsapp-rust bots on one PostgreSQL and one Redis")]
struct Fleet {
    #[command(subcommand)]
    command: Role,
}

#[derive(Subcommand)]
enum Role {
    /// Start `--bots` bot processes (accounts 1..=N) and wait for them.
    Start {
        /// How many bots (accounts 1 to N).
        #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(i32).range(1..=64))]
        bots: i32,
        #[command(flatten)]
        shared: Shared,
    },
    /// Run one bot on `--account` (what `start` runs in each process).
    Bot {
        /// The account (device id) this process serves.
        #[arg(long)]
        account: i32,
        #[command(flatten)]
        shared: Shared,
    },
}

#[derive(Args, Clone)]
struct Shared {
    /// The PostgreSQL database (libpq URL or key=value string).
    #[arg(long, env = "POSTGRES_URL")]
    postgres: String,
    /// The Redis server.
    #[arg(long, env = "REDIS_URL")]
    redis: String,
    /// The schema every bot's tables live in.
    #[arg(long, default_value = "whatsapp")]
    schema: String,
    /// Build each bot and exit without connecting to WhatsApp.
    #[arg(long)]
    dry_run: bool,
}

fn main() -> ExitCode {
    match Fleet::parse().command {
        Role::Start { bots, shared } => start(bots, &shared),
        Role::Bot { account, shared } => {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .expect("tokio runtime");
            match rt.block_on(bot(account, shared)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("bot {account}: {e}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}

/// Runs one child process per account, prefixing their output lines.
fn start(bots: i32, shared: &Shared) -> ExitCode {
    let exe = std::env::current_exe().expect("own path");
    let children: Vec<_> = (1..=bots)
        .map(|account| {
            let mut command = Command::new(&exe);
            command
                .args(["bot", "--account", &account.to_string()])
                .args(["--postgres", &shared.postgres, "--redis", &shared.redis])
                .args(["--schema", &shared.schema])
                .stdout(Stdio::piped());
            if shared.dry_run {
                command.arg("--dry-run");
            }
            let mut child = command.spawn().expect("start a bot process");
            let out = child.stdout.take().expect("piped");
            let relay = std::thread::spawn(move || {
                for line in BufReader::new(out).lines().map_while(Result::ok) {
                    println!("[bot {account}] {line}");
                }
            });
            (child, relay)
        })
        .collect();
    let mut failed = 0;
    for (mut child, relay) in children {
        let ok = child.wait().is_ok_and(|s| s.success());
        let _ = relay.join();
        failed += usize::from(!ok);
    }
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        eprintln!("{failed} bot(s) failed");
        ExitCode::FAILURE
    }
}

async fn bot(account: i32, shared: Shared) -> Result<(), Box<dyn std::error::Error>> {
    // Every process: its own pool on the shared schema, its own account.
    let store = PostgresStore::connect(
        PostgresConfig::new(&shared.postgres)
            .schema(&shared.schema)
            .pool_size(8)
            .device_id(account),
    )
    .await?;
    // One prefix for the whole fleet: what one bot learns about a group or a
    // user's devices, the others read.
    let cache = Arc::new(RedisCacheStore::open(&shared.redis, "fleet:")?);
    let bot = Bot::builder()
        .with_backend(store.clone())
        .with_cache_config(CacheConfig {
            cache_stores: CacheStores::all(cache),
            ..Default::default()
        })
        .on_qr_code(move |code, timeout| async move {
            println!(
                "account {account}: scan within {} s:\n{code}",
                timeout.as_secs()
            );
        })
        .build()
        .await?;
    let device = store
        .load()
        .await?
        .ok_or("the client did not create the account")?;
    let identity = device.identity_key.public_key.public_key_bytes();
    println!(
        "account {account}: registration id {}, identity {}",
        device.registration_id,
        identity[..8]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
    if !shared.dry_run {
        bot.run().await;
    }
    Ok(())
}
