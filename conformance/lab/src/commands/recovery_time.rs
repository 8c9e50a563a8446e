//! `bench`'s open time after a crash with a large commit log: a store
//! written with checkpoints held off, its files copied while it is open
//! (what a crash leaves: the redb file at its last checkpoint, the log
//! holding everything since), then the copy opened and read.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use wacore::store::traits::{Backend, SignalStore};
use whatsapp_rust_redb_storage::{RedbStore, StoreConfig, commit_log_path};

use super::bench::fill_sessions;

/// Writes about `mb` MB of 1 KiB sessions with no checkpoint, copies the
/// store and its log as a crash leaves them, and times opening the copy
/// (replaying the log) plus one read.
pub(crate) async fn open_after_crash(dir: &Path, mb: u64) -> Result<Vec<String>, String> {
    let err = |e: wacore::store::error::StoreError| e.to_string();
    eprintln!("writing {mb} MB through the commit log with no checkpoint ...");
    let hour = Duration::from_secs(3600);
    let config = StoreConfig::default().with_checkpoints(u64::MAX, hour);
    let live = dir.join("crash-live.redb");
    let store = RedbStore::open_with(&live, config).map_err(err)?;
    let rows = mb * 1000 * 1000 / 1100;
    fill_sessions(&(Arc::new(store.clone()) as Arc<dyn Backend>), rows).await?;
    let copy = dir.join("crash-copy.redb");
    std::fs::copy(&live, &copy).map_err(|e| e.to_string())?;
    std::fs::copy(commit_log_path(&live), commit_log_path(&copy)).map_err(|e| e.to_string())?;
    let log_bytes = std::fs::metadata(commit_log_path(&copy)).map_or(0, |m| m.len());
    drop(store);

    let start = Instant::now();
    let recovered = RedbStore::open(&copy).map_err(err)?;
    let found = recovered
        .get_session(&format!("fill{}@lid", rows - 1))
        .await
        .map_err(err)?;
    let took = start.elapsed();
    if found.is_none() {
        return Err("the last session written before the copy is missing after recovery".into());
    }
    recovered.close().await.map_err(err)?;
    let start = Instant::now();
    let clean = RedbStore::open(&copy).map_err(err)?;
    clean.get_session("fill1@lid").await.map_err(err)?;
    let clean_took = start.elapsed();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    Ok(vec![format!(
        "open after a crash with a {:.0} MB commit log ({rows} sessions since the last checkpoint) + first read: {:.0} ms; the same store reopened cleanly: {:.1} ms",
        log_bytes as f64 / 1e6,
        ms(took),
        ms(clean_took)
    )])
}
