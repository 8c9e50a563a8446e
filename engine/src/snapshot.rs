//! Consistent copies of an open file (`DeviceStore::snapshot_db`).

use std::path::{Path, PathBuf};

use futures_channel::oneshot;
use redb::{Database, ReadableTable};

use crate::error::{Error, Result};
use crate::overlay::Pinned;
use crate::tables::{DATA_TABLES, META, META_LOG_EPOCH};

/// `<file>.snapshot-<unix secs>-<sanitized name>`; the name keeps only
/// `[A-Za-z0-9_.-]` (others become `_`), never `..`, at most 100 characters.
pub(crate) fn target_path(db_path: &Path, name: &str) -> Result<PathBuf> {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let cleaned = cleaned
        .split('.')
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(".");
    if cleaned.is_empty() {
        return Err(Error::InvalidInput(format!(
            "snapshot name {name:?} is empty after removing unsafe characters"
        )));
    }
    if cleaned.len() > 100 {
        return Err(Error::InvalidInput(
            "snapshot name is longer than 100 characters".into(),
        ));
    }
    let mut file = db_path.as_os_str().to_owned();
    file.push(format!(".snapshot-{}-{cleaned}", wacore::time::now_secs()));
    Ok(PathBuf::from(file))
}

/// Copies `source` into `target` on a new thread; resolves when done.
pub(crate) async fn spawn(source: Pinned, target: PathBuf, extra: Option<Vec<u8>>) -> Result<()> {
    let (reply, rx) = oneshot::channel();
    std::thread::Builder::new()
        .name("redb-storage-snapshot".into())
        .spawn(move || {
            let _ = reply.send(write_snapshot(&source, &target, extra.as_deref()));
        })
        .map_err(|e| Error::io("starting the snapshot thread", e))?;
    rx.await
        .unwrap_or_else(|_| Err(Error::Database("snapshot thread panicked".into())))
}

/// Copies every table of the read snapshot `source` (with the overlay's
/// layers over it, in `ProcessCrashSafe` mode) into a new file at `target`.
pub(crate) fn write_snapshot(source: &Pinned, target: &Path, extra: Option<&[u8]>) -> Result<()> {
    if target.exists() {
        return Err(Error::InvalidInput(format!(
            "{} already exists; not overwriting it",
            target.display()
        )));
    }
    let copy = Database::create(target).map_err(|e| match e {
        redb::DatabaseError::Storage(redb::StorageError::Io(io)) => {
            Error::io(format!("creating {}", target.display()), io)
        }
        other => Error::from(other),
    })?;
    let txn = copy.begin_write()?;
    {
        let from = source.base.open_table(META)?;
        let mut to = txn.open_table(META)?;
        for row in from.iter()? {
            let (k, v) = row?;
            to.insert(k.value(), v.value())?;
        }
    }
    for table in DATA_TABLES {
        let from = source.base.open_table(*table)?;
        let mut to = txn.open_table(*table)?;
        for row in from.iter()? {
            let (k, v) = row?;
            to.insert(k.value(), v.value())?;
        }
    }
    for layer in &source.layers {
        layer.write_to(&txn)?;
    }
    // A new incarnation: the source's commit log is not the copy's.
    txn.open_table(META)?
        .insert(META_LOG_EPOCH, crate::store::new_log_epoch())?;
    txn.commit()?;
    if let Some(extra) = extra {
        let mut extra_path = target.as_os_str().to_owned();
        extra_path.push(".json");
        std::fs::write(&extra_path, extra)
            .map_err(|e| Error::io(format!("writing {}", Path::new(&extra_path).display()), e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_names_up_to_100_characters_are_kept() {
        let db = Path::new("/data/bot.redb");
        let name = "n".repeat(100);
        let path = target_path(db, &name).unwrap();
        assert!(
            path.to_string_lossy().ends_with(&format!("-{name}")),
            "{path:?}"
        );
        assert!(target_path(db, &"n".repeat(101)).is_err());
        assert!(target_path(db, &"n".repeat(150)).is_err());
        let escaped = target_path(db, "../../etc/x").unwrap();
        assert_eq!(
            escaped.parent(),
            db.parent(),
            "{escaped:?} left the store's directory"
        );
    }
}
