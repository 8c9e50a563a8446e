//! Reopening files, and every way opening can fail (an error, never a panic).

mod common;

use std::sync::Arc;

use bytes::Bytes;
use wacore::store::Device;
use wacore::store::traits::{DeviceStore, MsgSecretStore, ProtocolStore, SignalStore};
use whatsapp_rust_redb_storage::{Durability, Error, RedbStore, StoreConfig};

fn engine_error(e: &wacore::store::error::StoreError) -> &Error {
    Error::from_store_error(e).unwrap_or_else(|| panic!("not an engine error: {e:?}"))
}

#[tokio::test]
async fn data_of_every_account_survives_close_and_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.redb");
    {
        let s = RedbStore::open(&path).unwrap();
        s.save(&Device::new()).await.unwrap();
        let batch: Vec<(Arc<str>, Bytes)> = (0..100)
            .map(|i| (Arc::from(format!("a{i}")), Bytes::from(vec![i as u8; 64])))
            .collect();
        s.put_sessions_batch(&batch).await.unwrap();
        s.for_device(9).put_session("nine", b"9").await.unwrap();
        s.store_prekey(0x8000_0001, b"p", false).await.unwrap();
        s.put_msg_secret("c", "s", "m", &[3; 32]).await.unwrap();
        s.touch_tc_token_sender_timestamp("j", 5).await.unwrap();
        s.close().await.unwrap();
    }
    let s = RedbStore::open(&path).unwrap();
    assert!(s.exists().await.unwrap());
    assert_eq!(
        s.get_session("a99").await.unwrap().unwrap(),
        &[99u8; 64][..]
    );
    assert_eq!(
        s.for_device(9).get_session("nine").await.unwrap().unwrap(),
        &b"9"[..]
    );
    assert_eq!(s.get_max_prekey_id().await.unwrap(), 0x8000_0001);
    assert_eq!(
        s.get_msg_secret("c", "s", "m").await.unwrap().unwrap(),
        vec![3; 32]
    );
    assert_eq!(
        s.get_tc_token("j").await.unwrap().unwrap().sender_timestamp,
        Some(5)
    );
    assert!(s.check_integrity().unwrap());
}

#[tokio::test]
async fn relaxed_writes_survive_close() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.redb");
    let config = StoreConfig::default().with_durability(Durability::Relaxed {
        flush_interval: std::time::Duration::from_secs(3600),
    });
    let s = RedbStore::open_with(&path, config.clone()).unwrap();
    for i in 0..50 {
        s.put_session(&format!("a{i}"), b"v").await.unwrap();
    }
    s.flush().await.unwrap();
    s.put_session("after-flush", b"v").await.unwrap();
    drop(s); // the last handle's drop flushes on the writer thread and joins it
    let s = RedbStore::open_with(&path, config).unwrap();
    assert!(s.get_session("a49").await.unwrap().is_some());
    assert!(s.get_session("after-flush").await.unwrap().is_some());
}

#[test]
fn a_second_open_of_the_same_file_is_a_clear_error() {
    let t = common::fresh();
    let err = RedbStore::open(t.path()).unwrap_err();
    assert!(
        matches!(engine_error(&err), Error::AlreadyOpen { .. }),
        "{err:?}"
    );
    drop(t.store);
}

#[test]
fn garbage_and_truncated_files_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let garbage = dir.path().join("garbage.redb");
    std::fs::write(&garbage, vec![0x5A; 10_000]).unwrap();
    let err = RedbStore::open(&garbage).unwrap_err();
    assert!(
        matches!(engine_error(&err), Error::Corrupt { .. }),
        "{err:?}"
    );
    assert!(
        engine_error(&err).to_string().contains("garbage.redb"),
        "message names the file"
    );

    // A real store cut in half.
    let path = dir.path().join("cut.redb");
    let s = RedbStore::open(&path).unwrap();
    drop(s);
    let bytes = std::fs::read(&path).unwrap();
    for keep in [1, 100, 512, bytes.len() / 2] {
        std::fs::write(&path, &bytes[..keep]).unwrap();
        let result = RedbStore::open(&path);
        assert!(result.is_err(), "truncated to {keep} bytes opened");
    }
}

#[test]
fn unwritable_paths_are_io_errors() {
    let dir = tempfile::tempdir().unwrap();
    let err = RedbStore::open(dir.path().join("missing-dir/s.redb")).unwrap_err();
    assert!(matches!(engine_error(&err), Error::Io { .. }), "{err:?}");
    let err = RedbStore::open(dir.path()).unwrap_err(); // a directory
    assert!(matches!(engine_error(&err), Error::Io { .. }), "{err:?}");
}

#[test]
fn newer_format_and_foreign_files_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let newer = dir.path().join("newer.redb");
    {
        let db = redb::Database::create(&newer).unwrap();
        let txn = db.begin_write().unwrap();
        let def: redb::TableDefinition<&str, u64> = redb::TableDefinition::new("meta");
        txn.open_table(def)
            .unwrap()
            .insert("format_version", 99)
            .unwrap();
        txn.commit().unwrap();
    }
    let err = RedbStore::open(&newer).unwrap_err();
    match engine_error(&err) {
        Error::NewerFormat {
            found, supported, ..
        } => assert_eq!((*found, *supported), (99, 1)),
        other => panic!("{other:?}"),
    }
    let foreign = dir.path().join("foreign.redb");
    {
        let db = redb::Database::create(&foreign).unwrap();
        let txn = db.begin_write().unwrap();
        let def: redb::TableDefinition<u64, u64> = redb::TableDefinition::new("someone_elses");
        txn.open_table(def).unwrap().insert(1, 2).unwrap();
        txn.commit().unwrap();
    }
    let err = RedbStore::open(&foreign).unwrap_err();
    assert!(
        matches!(engine_error(&err), Error::ForeignDatabase { .. }),
        "{err:?}"
    );
}

#[test]
fn bad_config_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let zero = StoreConfig::default().with_durability(Durability::Relaxed {
        flush_interval: std::time::Duration::ZERO,
    });
    assert!(RedbStore::open_with(dir.path().join("a.redb"), zero).is_err());
    let no_group = StoreConfig::default().with_max_group_size(0);
    assert!(RedbStore::open_with(dir.path().join("b.redb"), no_group).is_err());
}

#[test]
fn corrupt_records_are_decode_errors_not_panics() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.redb");
    drop(RedbStore::open(&path).unwrap());
    {
        let db = redb::Database::open(&path).unwrap();
        let txn = db.begin_write().unwrap();
        let def: redb::TableDefinition<&[u8], &[u8]> = redb::TableDefinition::new("session");
        // account 1 prefix, then the address
        let mut key = (1u32 ^ 0x8000_0000).to_be_bytes().to_vec();
        key.extend_from_slice(b"bad");
        txn.open_table(def)
            .unwrap()
            .insert(key.as_slice(), [9u8, 1, 2].as_slice())
            .unwrap();
        txn.commit().unwrap();
    }
    let s = RedbStore::open(&path).unwrap();
    let err = futures::executor::block_on(s.get_session("bad")).unwrap_err();
    assert!(
        matches!(engine_error(&err), Error::Decode { .. }),
        "{err:?}"
    );
    let types: Vec<_> = whatsapp_rust_redb_storage::record_types().collect();
    assert_eq!(types.len(), 16);
    for record in types {
        // No record is empty, none has version 0: both are errors.
        for bytes in [&[][..], &[0, 1, 2][..]] {
            assert!(
                whatsapp_rust_redb_storage::decode_record(record, bytes).is_err(),
                "{record}: {bytes:?} decoded"
            );
        }
        for bytes in [&[1][..], &[2, 0, 0][..], &[1, 0xFF, 0xFF, 0xFF][..]] {
            let _ = whatsapp_rust_redb_storage::decode_record(record, bytes);
        }
    }
    assert!(whatsapp_rust_redb_storage::decode_record("no such record", &[1]).is_err());
    // The named decoder, not another: valid bytes of one type decode as it.
    let identity = [&[1u8][..], &[7; 32]].concat();
    assert!(whatsapp_rust_redb_storage::decode_record("identity", &identity).is_ok());
    assert!(whatsapp_rust_redb_storage::decode_record("blob", &[1]).is_ok());
}

#[test]
fn a_handle_reports_its_file_account_and_configuration() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.redb");
    let config = StoreConfig::default()
        .with_durability(Durability::relaxed())
        .with_device_id(7)
        .with_cache_size(8 << 20);
    let store = RedbStore::open_with(&path, config.clone()).unwrap();
    let seen = store.config();
    assert_eq!((seen.device_id, seen.cache_size_bytes), (7, 8 << 20));
    assert_eq!(seen.durability, config.durability);
    assert_eq!(store.device_id(), 7);
    assert_eq!(store.path(), Some(path.as_path()));
    let debug = format!("{store:?}");
    assert!(
        debug.contains("device_id: 7") && debug.contains("s.redb"),
        "{debug}"
    );
}
