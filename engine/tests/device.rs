//! DeviceStore: device round trip, create, snapshot, resource report.

mod common;

use wacore::store::Device;
use wacore::store::device::{CachedNoiseCert, CachedServerCertChain};
use wacore::store::traits::{DeviceStore, SignalStore};
use whatsapp_rust_redb_storage::RedbStore;

fn populated_device() -> Device {
    let mut d = Device::new();
    d.pn = Some("5511999990000:3@s.whatsapp.net".parse().unwrap());
    d.lid = Some("100000012345678:3@lid".parse().unwrap());
    d.registration_id = u32::MAX;
    d.signed_pre_key_id = 0x8000_0000;
    d.push_name = "Bót ✓".into();
    d.app_version_tertiary = u32::MAX;
    d.app_version_last_fetched_ms = i64::MIN;
    d.edge_routing_info = Some(vec![1, 2, 3]);
    d.props_hash = Some("hash".into());
    d.next_pre_key_id = 812;
    d.first_unupload_pre_key_id = 700;
    d.server_has_prekeys = true;
    d.nct_salt = Some(vec![]);
    d.server_cert_chain = Some(CachedServerCertChain {
        intermediate: CachedNoiseCert {
            key: [1; 32],
            not_before: -1,
            not_after: i64::MAX,
        },
        leaf: CachedNoiseCert {
            key: [2; 32],
            not_before: 0,
            not_after: 1,
        },
    });
    d.login_counter = -5;
    d.lid_migrated = true;
    d.last_signed_pre_key_rotation_ms = 1_700_000_000_000;
    d.read_receipts_disabled = true;
    d
}

fn assert_same(a: &Device, b: &Device) {
    assert_eq!(a.pn, b.pn);
    assert_eq!(a.lid, b.lid);
    assert_eq!(a.registration_id, b.registration_id);
    for (x, y) in [
        (&a.noise_key, &b.noise_key),
        (&a.identity_key, &b.identity_key),
        (&a.signed_pre_key, &b.signed_pre_key),
    ] {
        assert_eq!(x.private_key.serialize(), y.private_key.serialize());
        assert_eq!(
            x.public_key.public_key_bytes(),
            y.public_key.public_key_bytes()
        );
    }
    assert_eq!(a.signed_pre_key_id, b.signed_pre_key_id);
    assert_eq!(a.signed_pre_key_signature, b.signed_pre_key_signature);
    assert_eq!(a.adv_secret_key, b.adv_secret_key);
    assert_eq!(a.account.is_some(), b.account.is_some());
    assert_eq!(a.push_name, b.push_name);
    assert_eq!(
        (
            a.app_version_primary,
            a.app_version_secondary,
            a.app_version_tertiary,
            a.app_version_last_fetched_ms
        ),
        (
            b.app_version_primary,
            b.app_version_secondary,
            b.app_version_tertiary,
            b.app_version_last_fetched_ms
        )
    );
    assert_eq!(a.edge_routing_info, b.edge_routing_info);
    assert_eq!(a.props_hash, b.props_hash);
    assert_eq!(
        (a.next_pre_key_id, a.first_unupload_pre_key_id),
        (b.next_pre_key_id, b.first_unupload_pre_key_id)
    );
    assert_eq!(a.server_has_prekeys, b.server_has_prekeys);
    assert_eq!(a.nct_salt, b.nct_salt);
    assert_eq!(a.server_cert_chain, b.server_cert_chain);
    assert_eq!(a.login_counter, b.login_counter);
    assert_eq!(a.lid_migrated, b.lid_migrated);
    assert_eq!(
        a.last_signed_pre_key_rotation_ms,
        b.last_signed_pre_key_rotation_ms
    );
    assert_eq!(a.read_receipts_disabled, b.read_receipts_disabled);
}

#[tokio::test]
async fn every_device_field_round_trips_and_runtime_fields_are_restored() {
    let t = common::fresh();
    let s = &t.store;
    assert!(s.load().await.unwrap().is_none());
    assert!(!s.exists().await.unwrap());
    let device = populated_device();
    s.save(&device).await.unwrap();
    assert!(s.exists().await.unwrap());
    let loaded = s.load().await.unwrap().unwrap();
    assert_same(&device, &loaded);
    assert_eq!(
        loaded.device_props.os.as_deref(),
        Some("rust"),
        "device_props restored"
    );
    assert!(!loaded.nct_salt_sync_seen);
}

#[tokio::test]
async fn create_is_idempotent_and_never_replaces_keys() {
    let t = common::fresh();
    let s = &t.store;
    assert_eq!(s.create().await.unwrap(), 1);
    let first = s.load().await.unwrap().unwrap();
    assert_eq!(s.create().await.unwrap(), 1);
    let again = s.load().await.unwrap().unwrap();
    assert_same(&first, &again);
    assert_eq!(s.for_device(7).create().await.unwrap(), 7);
}

#[tokio::test]
async fn snapshot_writes_a_consistent_openable_copy() {
    let t = common::fresh();
    let s = &t.store;
    s.save(&populated_device()).await.unwrap();
    s.put_session("a", b"session").await.unwrap();
    s.snapshot_db("crash report/../x", Some(b"{\"why\":1}"))
        .await
        .unwrap();
    assert!(
        s.snapshot_db("...", None).await.is_err(),
        "empty name after sanitizing"
    );
    assert!(s.snapshot_db("", None).await.is_err());
    let snapshots: Vec<_> = std::fs::read_dir(t.dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().contains(".snapshot-"))
        .collect();
    assert_eq!(
        snapshots.len(),
        2,
        "snapshot and its extra file: {snapshots:?}"
    );
    let copy = snapshots
        .iter()
        .find(|p| !p.to_string_lossy().ends_with(".json"))
        .unwrap();
    let extra = snapshots
        .iter()
        .find(|p| p.to_string_lossy().ends_with(".json"))
        .unwrap();
    assert_eq!(std::fs::read(extra).unwrap(), b"{\"why\":1}");
    let opened = RedbStore::open(copy).unwrap();
    assert_eq!(
        opened.get_session("a").await.unwrap().unwrap(),
        &b"session"[..]
    );
    assert!(opened.load().await.unwrap().is_some());
}

#[tokio::test]
async fn resource_report_reports_memory_and_pages() {
    let t = common::fresh();
    t.store.put_session("a", &[0; 4096]).await.unwrap();
    let report = t.store.resource_report().await;
    let file_len = std::fs::metadata(t.path()).unwrap().len();
    assert_eq!(report.pages, Some(file_len / 4096));
    let memory = report.memory_bytes.unwrap();
    assert!(
        memory > 0 && memory <= file_len,
        "{memory} of a {file_len}-byte file"
    );
}
