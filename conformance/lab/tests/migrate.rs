//! `migrate` moves a real client's state: a SqliteStore account set up by
//! whatsapp-rust's own code (PersistenceManager creates the device; a
//! Signal session is established with a peer through libsignal's
//! process_prekey_bundle / message_encrypt / message_decrypt over the
//! client's store adapter and signal cache, flushed to the backend as the
//! client flushes it) is copied into a redb file; the copy keeps the
//! identity and decrypts the peer's next message. Every other table holds a
//! row too, two of them hitting SqliteStore defects that must be reported.

use std::sync::Arc;

use wacore::appstate::hash::HashState;
use wacore::appstate::processor::AppStateMutationMAC;
use wacore::libsignal::protocol::{
    CiphertextMessage, IdentityKey, PreKeyBundle, ProtocolAddress, UsePQRatchet, message_decrypt,
    message_encrypt, process_prekey_bundle,
};
use wacore::store::traits::{
    AppStateSyncKey, Backend, DeviceInfo, DeviceListRecord, LidPnMappingEntry, MsgSecretEntry,
    TcTokenEntry,
};
use whatsapp_rust::store::persistence_manager::PersistenceManager;
use whatsapp_rust::store::signal_adapter::SignalProtocolStoreAdapter;
use whatsapp_rust::store::signal_cache::SignalStoreCache;
use whatsapp_rust_conformance_lab::sqlite_source;
use whatsapp_rust_conformance_lab::transfer::{Destination, copy};
use whatsapp_rust_postgres_storage::{PostgresConfig, PostgresStore};
use whatsapp_rust_redb_storage::RedbStore;
use whatsapp_rust_redb_storage::portable;
use whatsapp_rust_sqlite_storage::SqliteStore;

/// One side of the conversation: the client's device stores.
struct Party {
    pm: PersistenceManager,
    cache: Arc<SignalStoreCache>,
    address: ProtocolAddress,
}

impl Party {
    async fn new(backend: Arc<dyn Backend>, name: &str) -> Party {
        Party {
            pm: PersistenceManager::new(backend)
                .await
                .expect("persistence manager"),
            cache: Arc::new(SignalStoreCache::new()),
            address: ProtocolAddress::new(name, 1u32.into()),
        }
    }

    async fn stores(&self) -> SignalProtocolStoreAdapter {
        SignalProtocolStoreAdapter::new(self.pm.get_device_arc().await, self.cache.clone())
    }

    /// Writes the signal cache to the backend, as the client does after
    /// each message.
    async fn flush(&self) {
        let backend = self.pm.backend();
        self.cache
            .flush(&*backend)
            .await
            .expect("flush the signal cache");
        self.pm.flush().await.expect("flush the device");
    }

    /// A prekey bundle of this device (signed prekey only, as after the
    /// one-time prekeys ran out).
    async fn bundle(&self) -> PreKeyBundle {
        let device = self.pm.get_device_snapshot();
        PreKeyBundle::new(
            device.registration_id,
            1u32.into(),
            None,
            device.signed_pre_key_id.into(),
            device.signed_pre_key.public_key,
            device.signed_pre_key_signature.to_vec(),
            IdentityKey::new(device.identity_key.public_key),
        )
        .expect("bundle")
    }

    /// Starts a session with `peer` from its prekey bundle.
    async fn start_session_with(&self, peer: &Party) {
        let bundle = peer.bundle().await;
        let mut s = self.stores().await;
        let mut rng = rand::make_rng::<rand::rngs::StdRng>();
        process_prekey_bundle(
            &peer.address,
            &mut s.session_store,
            &mut s.identity_store,
            &bundle,
            &mut rng,
            UsePQRatchet::No,
        )
        .await
        .expect("process the peer's bundle");
    }

    async fn encrypt(&self, to: &ProtocolAddress, text: &str) -> CiphertextMessage {
        let mut s = self.stores().await;
        let message = message_encrypt(
            text.as_bytes(),
            to,
            &mut s.session_store,
            &mut s.identity_store,
        )
        .await
        .expect("encrypt");
        self.flush().await;
        message
    }

    async fn decrypt(
        &self,
        from: &ProtocolAddress,
        message: &CiphertextMessage,
    ) -> Result<String, String> {
        let mut s = self.stores().await;
        let mut rng = rand::make_rng::<rand::rngs::StdRng>();
        let result = message_decrypt(
            message,
            from,
            &mut s.session_store,
            &mut s.identity_store,
            &mut s.pre_key_store,
            &s.signed_pre_key_store,
            &mut rng,
            UsePQRatchet::No,
        )
        .await
        .map_err(|e| e.to_string())?;
        self.flush().await;
        Ok(String::from_utf8(result.plaintext).expect("utf-8"))
    }
}

/// A row in every table the trait writes that the session exchange did not.
async fn fill_other_tables(s: &dyn Backend) {
    s.store_prekey(0x8000_0001, b"prekey past 2^31", true)
        .await
        .unwrap();
    s.store_prekey(7, b"prekey seven", false).await.unwrap();
    s.store_signed_prekey(3, b"old signed prekey")
        .await
        .unwrap();
    s.put_sender_key("group@g.us::bob::1", b"sender key")
        .await
        .unwrap();
    let key = |b: u8| AppStateSyncKey {
        key_data: vec![b; 32],
        fingerprint: vec![b, 1],
        timestamp: 1_700_000_000 + i64::from(b),
    };
    s.set_sync_key(b"key-b", key(2)).await.unwrap();
    s.set_sync_key(b"key-a", key(1)).await.unwrap();
    let mut state = HashState {
        version: 9,
        ..HashState::default()
    };
    state.hash[0] = 7;
    state.index_value_map.insert("idx".into(), vec![1, 2, 3]);
    s.set_version("regular", state).await.unwrap();
    let mac = AppStateMutationMAC {
        index_mac: vec![5; 32],
        value_mac: vec![6; 32],
    };
    s.put_mutation_macs("regular", 9, &[mac]).await.unwrap();
    s.set_sender_key_status("group@g.us", &[("bob:1@s.whatsapp.net", true)])
        .await
        .unwrap();
    let lid = LidPnMappingEntry {
        lid: "100".into(),
        phone_number: "5511".into(),
        created_at: 1_700_000_000,
        updated_at: 1_700_000_001,
        learning_source: "usync".into(),
    };
    s.put_lid_mapping(&lid).await.unwrap();
    s.save_base_key("bob.1", "msg-1", b"base key")
        .await
        .unwrap();
    let list = DeviceListRecord {
        user: "5511".into(),
        devices: vec![DeviceInfo::new(0, None), DeviceInfo::new(3, Some(2))],
        // Milliseconds: SqliteStore keeps only the low 32 bits (a defect).
        timestamp: 1_700_000_000_000,
        phash: Some("2:abc".into()),
        raw_id: Some(4),
    };
    s.update_device_list(list).await.unwrap();
    s.put_group_metadata("group@g.us", b"metadata")
        .await
        .unwrap();
    let token = TcTokenEntry {
        token: b"token".to_vec(),
        token_timestamp: 1_700_000_000,
        sender_timestamp: Some(1_700_000_100),
    };
    s.put_tc_token("bob@s.whatsapp.net", &token).await.unwrap();
    s.store_sent_message("bob@s.whatsapp.net", "sent-1", b"payload")
        .await
        .unwrap();
    s.store_pending_inbound(
        "bob@s.whatsapp.net",
        "bob@s.whatsapp.net",
        "in-1",
        b"pending",
    )
    .await
    .unwrap();
    let secret = MsgSecretEntry {
        chat: "bob@s.whatsapp.net".into(),
        sender: "bob@s.whatsapp.net".into(),
        msg_id: "m-1".into(),
        secret: [9; 32],
        expires_at: 0,
        message_ts: 1_700_000_000,
    };
    s.put_msg_secrets(vec![secret]).await.unwrap();
}

/// Sets up a client on SqliteStore, migrates it to `destination` (a
/// `Destination::open` spec), reopens it with `reopen` and goes on.
async fn migrate_a_client<F, R>(destination: &str, schema: &str, reopen: F)
where
    F: FnOnce() -> R,
    R: std::future::Future<Output = Arc<dyn Backend>>,
{
    let dir = tempfile::tempdir().unwrap();
    let sqlite_path = dir.path().join("whatsapp.db");
    let sqlite: Arc<dyn Backend> = Arc::new(
        SqliteStore::new(sqlite_path.to_str().unwrap())
            .await
            .unwrap(),
    );

    let alice = Party::new(sqlite.clone(), "alice").await;
    let bob = Party::new(Arc::new(wacore::store::InMemoryBackend::new()), "bob").await;
    let identity_before = alice.pm.get_device_snapshot().identity_key.public_key;

    // Bob starts a session from Alice's bundle; they exchange a message each.
    bob.start_session_with(&alice).await;
    let first = bob.encrypt(&alice.address, "hello alice").await;
    assert_eq!(
        alice.decrypt(&bob.address, &first).await.unwrap(),
        "hello alice"
    );
    let reply = alice.encrypt(&bob.address, "hello bob").await;
    assert_eq!(
        bob.decrypt(&alice.address, &reply).await.unwrap(),
        "hello bob"
    );
    // Bob's next message is decrypted only after the migration.
    let next = bob.encrypt(&alice.address, "after the move").await;
    fill_other_tables(&*sqlite).await;
    drop((alice, sqlite));

    let (accounts, findings) = sqlite_source::read(&sqlite_path, |_, _, _| {})
        .await
        .unwrap();
    let destination = Destination::open(destination, schema).await.unwrap();
    let report = copy(&accounts, &destination, false, |_, _, _| {})
        .await
        .unwrap();
    assert!(report.differences.is_empty(), "{:#?}", report.differences);
    for table in portable::tables() {
        assert!(
            report.written.get(table).copied().unwrap_or(0) > 0,
            "no {table} row copied: {report:#?}"
        );
        let readable = report.verified.get(table).copied().unwrap_or(0)
            + report.not_readable.get(table).map_or(0, |n| n.0);
        assert_eq!(
            readable, report.written[table],
            "{table} not all read back: {report:#?}"
        );
    }
    assert!(report.verified["session"] >= 1 && report.verified_at_source["session"] >= 1);
    let found = |table: &str| findings.iter().any(|f| f.table == table && f.rows == 1);
    assert!(
        found("prekey"),
        "the prekey id past 2^31 is not reported: {findings:#?}"
    );
    assert!(
        found("device_list"),
        "the truncated device-list timestamp is not reported: {findings:#?}"
    );
    // Running it again without --force is refused; with it, it is a no-op.
    assert!(
        copy(&accounts, &destination, false, |_, _, _| {})
            .await
            .is_err()
    );
    let again = copy(&accounts, &destination, true, |_, _, _| {})
        .await
        .unwrap();
    assert!(again.differences.is_empty());
    destination.close(true).await.unwrap();
    drop(accounts);

    let alice = Party::new(reopen().await, "alice").await;
    assert_eq!(
        alice.pm.get_device_snapshot().identity_key.public_key,
        identity_before
    );
    assert_eq!(
        alice.decrypt(&bob.address, &next).await.unwrap(),
        "after the move"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_migrated_to_redb_keeps_its_identity_and_decrypts_the_next_message() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("whatsapp.redb");
    migrate_a_client(path.to_str().unwrap(), "unused", || async {
        Arc::new(RedbStore::open(&path).unwrap()) as Arc<dyn Backend>
    })
    .await;

    // `inspect --rows all` decodes a row of every table of the migrated file.
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_whatsapp-rust-conformance"))
        .args(["inspect", path.to_str().unwrap(), "--rows", "all"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut tables: Vec<String> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["table"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    tables.dedup();
    assert_eq!(
        tables,
        portable::tables().collect::<Vec<_>>(),
        "inspect --rows all"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_migrated_to_postgres_keeps_its_identity_and_decrypts_the_next_message() {
    let Some(url) = whatsapp_rust_conformance_lab::servers::postgres_url_or_skip() else {
        return;
    };
    let schema = format!("migrate_{}", std::process::id());
    migrate_a_client(&url, &schema, || async {
        let config = PostgresConfig::new(url.clone()).schema(&schema);
        Arc::new(PostgresStore::connect(config).await.unwrap()) as Arc<dyn Backend>
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_session_the_next_message_does_not_decrypt() {
    // The control of the test above: a fresh device cannot decrypt.
    let alice = Party::new(Arc::new(wacore::store::InMemoryBackend::new()), "alice").await;
    let bob = Party::new(Arc::new(wacore::store::InMemoryBackend::new()), "bob").await;
    let other = Party::new(Arc::new(wacore::store::InMemoryBackend::new()), "alice").await;
    bob.start_session_with(&alice).await;
    let first = bob.encrypt(&alice.address, "hi").await;
    assert_eq!(alice.decrypt(&bob.address, &first).await.unwrap(), "hi");
    let next = bob.encrypt(&alice.address, "again").await;
    assert!(other.decrypt(&bob.address, &next).await.is_err());
}
