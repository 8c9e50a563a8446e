//! AppSyncStore: sync keys, versions, mutation MACs.

mod common;

use std::collections::HashMap;

use wacore::appstate::hash::HashState;
use wacore::appstate::processor::AppStateMutationMAC;
use wacore::store::traits::{AppStateSyncKey, AppSyncStore};

fn mac(i: u32, value: u8) -> AppStateMutationMAC {
    let mut index = [0u8; 32];
    index[..4].copy_from_slice(&i.to_be_bytes());
    AppStateMutationMAC {
        index_mac: index.to_vec(),
        value_mac: vec![value; 32],
    }
}

#[tokio::test]
async fn sync_keys_and_latest_is_last_set() {
    let t = common::fresh();
    let s = &t.store;
    assert!(s.get_sync_key(b"none").await.unwrap().is_none());
    assert!(s.get_latest_sync_key_id().await.unwrap().is_none());
    let key = |b: u8| AppStateSyncKey {
        key_data: vec![b; 32],
        fingerprint: vec![b; 3],
        timestamp: 1_700_000_000_000,
    };
    s.set_sync_key(b"\xff\xff", key(1)).await.unwrap();
    s.set_sync_key(b"\x00\x01", key(2)).await.unwrap();
    assert_eq!(
        s.get_latest_sync_key_id().await.unwrap().unwrap(),
        b"\x00\x01"
    );
    let got = s.get_sync_key(b"\xff\xff").await.unwrap().unwrap();
    assert_eq!(
        (got.key_data, got.fingerprint, got.timestamp),
        (vec![1; 32], vec![1; 3], 1_700_000_000_000)
    );
    // Keys of any length round-trip (SQLite hides non-32-byte key_data).
    s.set_sync_key(
        b"odd",
        AppStateSyncKey {
            key_data: vec![9; 7],
            ..key(3)
        },
    )
    .await
    .unwrap();
    assert_eq!(
        s.get_sync_key(b"odd").await.unwrap().unwrap().key_data,
        vec![9; 7]
    );
}

#[tokio::test]
async fn versions_round_trip_and_default() {
    let t = common::fresh();
    let s = &t.store;
    let default = s.get_version("regular").await.unwrap();
    assert_eq!(default.version, 0);
    assert!(default.index_value_map.is_empty());
    let state = HashState {
        version: u64::MAX,
        hash: [7; 128],
        mac_mismatch_fatal: true,
        index_value_map: HashMap::from([("a".to_owned(), vec![1, 2]), ("".to_owned(), vec![])]),
    };
    s.set_version("regular", state.clone()).await.unwrap();
    let got = s.get_version("regular").await.unwrap();
    assert_eq!(got.version, u64::MAX);
    assert_eq!(got.hash, [7; 128]);
    assert!(got.mac_mismatch_fatal);
    assert_eq!(got.index_value_map, state.index_value_map);
    assert_eq!(s.get_version("critical_block").await.unwrap().version, 0);
}

#[tokio::test]
async fn mutation_macs_batches_and_collection_isolation() {
    let t = common::fresh();
    let s = &t.store;
    let batch: Vec<_> = (0..5000).map(|i| mac(i, 1)).collect();
    s.put_mutation_macs("regular", 3, &batch).await.unwrap();
    s.put_mutation_macs("regular_low", 3, &[mac(1, 9)])
        .await
        .unwrap();
    assert_eq!(
        s.get_mutation_mac("regular", &mac(1, 0).index_mac)
            .await
            .unwrap(),
        Some(vec![1; 32])
    );
    assert_eq!(
        s.get_mutation_mac("regular_low", &mac(1, 0).index_mac)
            .await
            .unwrap(),
        Some(vec![9; 32])
    );
    assert!(
        s.get_mutation_mac("regular", b"missing")
            .await
            .unwrap()
            .is_none()
    );

    let wanted: Vec<[u8; 32]> = [0u32, 4999, 6000]
        .iter()
        .map(|&i| mac(i, 0).index_mac.try_into().unwrap())
        .collect();
    let got = s.get_mutation_macs("regular", &wanted).await.unwrap();
    assert_eq!(got.len(), 2);
    assert_eq!(got[&wanted[1]], vec![1; 32]);

    let doomed: Vec<Vec<u8>> = (0..2500).map(|i| mac(i, 0).index_mac).collect();
    s.delete_mutation_macs("regular", &doomed).await.unwrap();
    assert!(
        s.get_mutation_mac("regular", &mac(0, 0).index_mac)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        s.get_mutation_mac("regular", &mac(2500, 0).index_mac)
            .await
            .unwrap()
            .is_some()
    );

    s.clear_mutation_macs("regular").await.unwrap();
    assert!(
        s.get_mutation_mac("regular", &mac(4000, 0).index_mac)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        s.get_mutation_mac("regular_low", &mac(1, 0).index_mac)
            .await
            .unwrap()
            .is_some(),
        "clear touches only the named collection, even one whose name extends it"
    );
}
