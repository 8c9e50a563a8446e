//! Stores in separate processes on one server: a two-process race on the
//! read-modify-writes, and a crash campaign that SIGKILLs a writer process
//! mid-batch. The children are this test binary run again with
//! `PG_CHILD_ROLE` set (the `child` test does their work).

mod common;

use std::collections::HashSet;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::PgServer;
use wacore::store::traits::{Backend, ProtocolStore};
use whatsapp_rust_conformance::Executor;
use whatsapp_rust_conformance::storage::crash::{Campaign, Guarantee, child_workload};
use whatsapp_rust_postgres_storage::conformance::PostgresFactory;
use whatsapp_rust_postgres_storage::{PostgresConfig, PostgresStore};

const MESSAGES: usize = 2000;
const TOUCHES: i64 = 1000;

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set"))
}

async fn connect(url: &str, schema: &str) -> PostgresStore {
    PostgresStore::connect(PostgresConfig::new(url).schema(schema).pool_size(2))
        .await
        .unwrap_or_else(|e| panic!("connect: {e}"))
}

/// A child's side: not a test on its own (returns at once without the role).
#[test]
fn child() {
    let Ok(role) = std::env::var("PG_CHILD_ROLE") else {
        return;
    };
    let (url, schema) = (env("PG_URL"), env("PG_SCHEMA"));
    // libtest printed "test child ... " without a newline: the parent reads
    // whole lines.
    println!();
    Executor::DEFAULT.block_on(async {
        let store = connect(&url, &schema).await;
        match role.as_str() {
            "crash" => {
                let result = child_workload(Arc::new(store), std::io::stdout()).await;
                panic!("the crash workload stopped: {result:?}");
            }
            "race" => race_child(&store, env("PG_PARITY").parse().unwrap()).await,
            other => panic!("unknown role {other}"),
        }
    });
}

/// Takes every sent message and touches the token with every timestamp of
/// its parity, starting at the same moment as the other child.
async fn race_child(store: &PostgresStore, parity: i64) {
    let start: u64 = env("PG_START_MS").parse().unwrap();
    std::thread::sleep(Duration::from_millis(start.saturating_sub(now_ms())));
    let mut took = Vec::new();
    for i in 0..MESSAGES {
        let touch = (i as i64) * 2 + parity;
        if touch < TOUCHES * 2 {
            store
                .touch_tc_token_sender_timestamp("race@s.whatsapp.net", touch)
                .await
                .unwrap();
        }
        if store
            .take_sent_message("chat@g.us", &format!("m{i}"))
            .await
            .unwrap()
            .is_some()
        {
            took.push(i.to_string());
        }
    }
    println!("took {}", took.join(","));
}

fn spawn_child(role: &str, url: &str, schema: &str) -> Command {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args(["child", "--exact", "--nocapture", "--test-threads", "1"])
        .env("PG_CHILD_ROLE", role)
        .env("PG_URL", url)
        .env("PG_SCHEMA", schema);
    command
}

#[test]
fn two_processes_race_on_take_and_on_the_token_merge() {
    let Some(server) = PgServer::start() else {
        return;
    };
    let url = server.url();
    let store = Executor::DEFAULT.block_on(async {
        let store = connect(&url, "race").await;
        for i in 0..MESSAGES {
            store
                .store_sent_message("chat@g.us", &format!("m{i}"), b"payload")
                .await
                .unwrap();
        }
        store
            .store_received_tc_token("race@s.whatsapp.net", b"token", 5)
            .await
            .unwrap();
        store
    });
    let start = (now_ms() + 1500).to_string();
    // Both run at once (spawned before either is waited for).
    let running: Vec<_> = [0, 1]
        .map(|parity| {
            spawn_child("race", &url, "race")
                .env("PG_PARITY", parity.to_string())
                .env("PG_START_MS", &start)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("start a child")
        })
        .into_iter()
        .collect();
    let children: Vec<_> = running
        .into_iter()
        .map(|c| c.wait_with_output().expect("wait for a child"))
        .collect();
    let mut taken: Vec<usize> = Vec::new();
    let mut per_child = Vec::new();
    for out in &children {
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let line = stdout
            .lines()
            .find_map(|l| l.strip_prefix("took "))
            .expect("a took line");
        let mine: Vec<usize> = line
            .split(',')
            .filter(|s| !s.is_empty())
            .map(|s| s.parse().unwrap())
            .collect();
        per_child.push(mine.len());
        taken.extend(mine);
    }
    let distinct: HashSet<_> = taken.iter().collect();
    assert_eq!(distinct.len(), taken.len(), "a message was taken twice");
    assert_eq!(taken.len(), MESSAGES, "every message is taken once");
    Executor::DEFAULT.block_on(async {
        let token = store
            .get_tc_token("race@s.whatsapp.net")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            token.sender_timestamp,
            Some(TOUCHES * 2 - 1),
            "the newest touch wins"
        );
        assert_eq!(token.token, b"token", "touches keep the token bytes");
        assert_eq!(
            store.take_sent_message("chat@g.us", "m0").await.unwrap(),
            None
        );
    });
    eprintln!(
        "two processes took {} and {} of {MESSAGES} messages (none twice) and touched one token {} times",
        per_child[0],
        per_child[1],
        TOUCHES * 2
    );
}

#[test]
fn a_writer_process_sigkilled_mid_batch_loses_no_acknowledged_write() {
    let Some(server) = PgServer::start() else {
        return;
    };
    let url = server.url();
    let kills = std::env::var("CONFORMANCE_CRASH_KILLS")
        .ok()
        .and_then(|k| k.parse().ok())
        .unwrap_or(50);
    let work = tempfile::tempdir().unwrap();
    let campaign = Campaign {
        kills,
        seed: now_ms(),
        max_delay: Duration::from_millis(300),
        work_dir: work.path().to_owned(),
        guarantee: Guarantee::ProcessCrashSafe,
    };
    let factory = PostgresFactory::new(url.clone());
    let report = Executor::DEFAULT.block_on(campaign.run(
        |path| spawn_child("crash", &url, &PostgresFactory::schema_for_path(path)),
        |path| {
            let factory = &factory;
            async move { Ok(Arc::new(factory.open_at(&path).await?) as Arc<dyn Backend>) }
        },
        |kill, result| eprintln!("kill {kill}: {result:?}"),
    ));
    assert!(
        report.failures.is_empty(),
        "seed {}: {:#?}",
        campaign.seed,
        report.failures
    );
    assert_eq!(report.kills, kills);
    eprintln!(
        "{} kills (seed {}): {} acknowledged steps verified, {} in-flight batches landed whole, 0 lost, 0 torn, {:.1} s",
        report.kills,
        campaign.seed,
        report.acknowledged_steps,
        report.in_flight_landed,
        report.elapsed.as_secs_f64()
    );
}
