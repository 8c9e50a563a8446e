//! The server crashes and restarts in the middle of a workload: calls made
//! while it is down fail with a clear connection error, no acknowledged
//! write is lost, no batch is torn, and the same store works again after.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::PgServer;
use wacore::store::error::StoreError;
use wacore::store::traits::Backend;
use whatsapp_rust_conformance::Executor;
use whatsapp_rust_conformance::storage::crash::{Guarantee, child_workload, verify};
use whatsapp_rust_postgres_storage::{Error, PostgresConfig, PostgresStore};

/// Steps of the kit's crash workload run in place (500-row batch, then one
/// session per step), retried until acknowledged; returns the last step.
#[test]
fn a_server_restart_mid_workload_gives_errors_then_works_and_keeps_every_ack() {
    let began = Instant::now();
    let Some(server) = PgServer::start() else {
        return;
    };
    eprintln!("[{:?}] server started", began.elapsed());
    let store = Executor::DEFAULT.block_on(async {
        PostgresStore::connect(PostgresConfig::new(server.url()).schema("restart"))
            .await
            .unwrap()
    });
    let backend: Arc<dyn Backend> = Arc::new(store.clone());

    // A writer on its own thread; the main thread crashes the server under it.
    let writer_backend = backend.clone();
    let writer = std::thread::spawn(move || {
        Executor::DEFAULT.block_on(async move {
            let (lines_tx, lines_rx) = std::sync::mpsc::channel::<String>();
            let sink = LineSink(lines_tx, Vec::new());
            let run = child_workload(writer_backend, sink);
            // The workload returns on its first error: that is the outage.
            let result = run.await;
            let acked = lines_rx
                .try_iter()
                .filter_map(|l| l.strip_prefix("ack ").and_then(|n| n.parse::<u64>().ok()))
                .max()
                .unwrap_or(0);
            (result, acked)
        })
    });
    std::thread::sleep(Duration::from_millis(800));
    server.crash();
    eprintln!("[{:?}] server crashed", began.elapsed());
    let (result, acked_before) = writer.join().unwrap();
    eprintln!("[{:?}] writer stopped", began.elapsed());
    let failure = result.expect_err("the workload must see the outage");
    assert!(
        acked_before > 0,
        "no step was acknowledged before the crash"
    );

    // While the server is down: a clear connection error, not a hang.
    let (down, took) = Executor::DEFAULT.block_on(async {
        let start = Instant::now();
        (backend.get_session("anyone@lid").await, start.elapsed())
    });
    let down = down.expect_err("a call with the server down must fail");
    assert!(
        matches!(down, StoreError::Connection(_) | StoreError::Database(_)),
        "{down:?}"
    );
    let ours = Error::from_store_error(&down).expect("the store's own error inside");
    assert!(ours.is_connection_lost(), "{ours}");
    assert!(
        took < Duration::from_secs(15),
        "the failed call took {took:?}"
    );

    server.start_again();
    eprintln!("[{:?}] server restarted", began.elapsed());
    Executor::DEFAULT.block_on(async {
        // The same store, no reconnect by the caller: works again.
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            match backend.put_session("after@lid", b"x").await {
                Ok(()) => break,
                Err(e) if Instant::now() < deadline => {
                    eprintln!("still recovering: {e}");
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(e) => panic!("the store did not recover: {e}"),
            }
        }
        eprintln!("[{:?}] store works again", began.elapsed());
        // Every acknowledged step whole; the one in flight whole or absent.
        let recovery = verify(&backend, acked_before, Guarantee::ProcessCrashSafe)
            .await
            .unwrap_or_else(|f| panic!("after the restart: {f}"));
        eprintln!(
            "server crashed after {acked_before} acknowledged steps ({} rows each); the workload \
             stopped with: {failure}; a call while down failed in {took:?} with: {ours}; \
             in-flight batch landed: {}; the store worked again after the restart",
            whatsapp_rust_conformance::storage::crash::STEP_ROWS,
            recovery.in_flight_batch_landed
        );
    });
}

/// Collects the workload's output lines.
struct LineSink(std::sync::mpsc::Sender<String>, Vec<u8>);

impl std::io::Write for LineSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.1.extend_from_slice(buf);
        while let Some(end) = self.1.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = self.1.drain(..=end).collect();
            let _ = self
                .0
                .send(String::from_utf8_lossy(&line).trim_end().to_owned());
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
