//! AppSyncStore checks.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};

use wacore::appstate::hash::HashState;
use wacore::store::traits::AppStateSyncKey;

use super::{check, index, mac};
use crate::storage::flaws::flaw;
use crate::{Failure, ensure, ensure_eq};

fn sync_key(byte: u8) -> AppStateSyncKey {
    AppStateSyncKey {
        key_data: vec![byte; 32],
        fingerprint: vec![byte, 1, 2],
        timestamp: 1_700_000_000_000,
    }
}

crate::storage::checks::register! {
    app_sync:
    sync_key_round_trip,
    latest_sync_key_is_set,
    latest_sync_key_choice,
    version_default_and_round_trip,
    mutation_macs_round_trip,
    mutation_mac_batch_last_duplicate_wins,
    clear_mutation_macs_touches_one_collection,
    mutation_mac_batches_are_never_seen_half_written,
}

check!(
    sync_key_round_trip,
    "AppSyncStore",
    Contract,
    Nothing,
    [get_sync_key, set_sync_key],
    "set_sync_key stores (upserts) a key; get_sync_key returns it; a missing key is None",
    |ctx| {
        let s = ctx.store();
        ensure!(s.get_sync_key(b"missing").await?.is_none(), "missing key");
        s.set_sync_key(b"\x00\x01", sync_key(1)).await?;
        s.set_sync_key(b"\x00\x01", sync_key(2)).await?;
        let got = s
            .get_sync_key(b"\x00\x01")
            .await?
            .ok_or_else(|| Failure("key missing after set".into()))?;
        ensure_eq!(
            (got.key_data, got.fingerprint, got.timestamp),
            (vec![2; 32], vec![2, 1, 2], 1_700_000_000_000),
            "after upsert"
        );
        Ok(None)
    }
);

check!(
    latest_sync_key_is_set,
    "AppSyncStore",
    Contract,
    Nothing,
    [set_sync_key, get_latest_sync_key_id],
    "get_latest_sync_key_id: the most recently stored app state sync key ID (None when there is none)",
    |ctx| {
        let s = ctx.store();
        ensure_eq!(s.get_latest_sync_key_id().await?, None, "empty store");
        s.set_sync_key(b"\x00\x07", sync_key(1)).await?;
        ensure_eq!(
            s.get_latest_sync_key_id().await?,
            Some(b"\x00\x07".to_vec()),
            "the only key"
        );
        Ok(None)
    }
);

flaw! {
    /// The latest sync key id is never known.
    latest_sync_key_always_none, caught_by: latest_sync_key_is_set;
    async fn get_latest_sync_key_id(&self) -> Result<Option<Vec<u8>>> {
        Ok(None)
    }
}

check!(
    latest_sync_key_choice,
    "AppSyncStore",
    ImplementationDefined,
    Nothing,
    [set_sync_key, get_latest_sync_key_id],
    "get_latest_sync_key_id: which key is 'latest' when several exist",
    |ctx| {
        let s = ctx.store();
        s.set_sync_key(b"\xff\xff", sync_key(1)).await?;
        s.set_sync_key(b"\x00\x01", sync_key(2)).await?;
        let got = s.get_latest_sync_key_id().await?;
        let what = match got.as_deref() {
            Some(b"\x00\x01") => "the key set last",
            Some(b"\xff\xff") => "the byte-wise greatest key id",
            _ => "other",
        };
        Ok(Some(format!(
            "set ffff then 0001: latest = {got:02x?} ({what})"
        )))
    }
);

check!(
    version_default_and_round_trip,
    "AppSyncStore",
    Contract,
    Nothing,
    [get_version, set_version],
    "get_version of an unknown collection is HashState::default(); set_version stores every field",
    |ctx| {
        let s = ctx.store();
        let d = s.get_version("regular").await?;
        ensure!(
            d.version == 0
                && d.hash == [0; 128]
                && d.index_value_map.is_empty()
                && !d.mac_mismatch_fatal,
            "unknown collection is not HashState::default(): version {}",
            d.version
        );
        let state = HashState {
            version: u64::MAX,
            hash: [7; 128],
            index_value_map: HashMap::from([("a".to_owned(), vec![1, 2]), (String::new(), vec![])]),
            mac_mismatch_fatal: true,
        };
        s.set_version("regular", state.clone()).await?;
        let got = s.get_version("regular").await?;
        ensure_eq!(got.version, u64::MAX, "version");
        ensure!(got.hash == [7; 128], "hash changed");
        ensure_eq!(
            got.index_value_map,
            state.index_value_map,
            "index_value_map"
        );
        ensure!(got.mac_mismatch_fatal, "mac_mismatch_fatal lost");
        ensure_eq!(
            s.get_version("regular_high").await?.version,
            0,
            "another collection"
        );
        Ok(None)
    }
);

flaw! {
    /// An unknown collection's version is 1, not the default 0.
    unknown_version_is_one, caught_by: version_default_and_round_trip;
    async fn get_version(&self, name: &str) -> Result<HashState> {
        let mut state = self.inner.get_version(name).await?;
        if state.version == 0 {
            state.version = 1;
        }
        Ok(state)
    }
}

check!(
    mutation_macs_round_trip,
    "AppSyncStore",
    Contract,
    Nothing,
    [
        put_mutation_macs,
        get_mutation_mac,
        get_mutation_macs,
        delete_mutation_macs
    ],
    "put_mutation_macs stores; get_mutation_mac and get_mutation_macs return them; delete_mutation_macs removes",
    |ctx| {
        let s = ctx.store();
        let batch: Vec<_> = (0..500).map(|i| mac(i, 1)).collect();
        s.put_mutation_macs("regular", 3, &batch).await?;
        ensure_eq!(
            s.get_mutation_mac("regular", &index(7)).await?,
            Some(vec![1; 32]),
            "get_mutation_mac"
        );
        ensure_eq!(
            s.get_mutation_mac("regular", b"missing").await?,
            None,
            "missing MAC"
        );
        let wanted = [index(0), index(499), index(9999)];
        let got = s.get_mutation_macs("regular", &wanted).await?;
        ensure_eq!(got.len(), 2, "get_mutation_macs returns only existing MACs");
        ensure_eq!(
            got.get(&index(499)),
            Some(&vec![1u8; 32]),
            "get_mutation_macs value"
        );
        ensure!(
            s.get_mutation_macs("regular", &[]).await?.is_empty(),
            "empty lookup"
        );
        let doomed: Vec<Vec<u8>> = (0..250).map(|i| index(i).to_vec()).collect();
        s.delete_mutation_macs("regular", &doomed).await?;
        ensure_eq!(
            s.get_mutation_mac("regular", &index(0)).await?,
            None,
            "deleted MAC"
        );
        ensure_eq!(
            s.get_mutation_mac("regular", &index(250)).await?,
            Some(vec![1; 32]),
            "kept MAC"
        );
        s.delete_mutation_macs("regular", &[]).await?;
        Ok(None)
    }
);

flaw! {
    /// A batch read of MACs loses the first one asked for.
    get_mutation_macs_drops_one, caught_by: mutation_macs_round_trip;
    async fn get_mutation_macs(
        &self,
        name: &str,
        index_macs: &[[u8; 32]],
    ) -> Result<std::collections::HashMap<[u8; 32], Vec<u8>>> {
        let mut got = self.inner.get_mutation_macs(name, index_macs).await?;
        if let Some(first) = index_macs.first() {
            got.remove(first);
        }
        Ok(got)
    }
}

check!(
    mutation_mac_batch_last_duplicate_wins,
    "AppSyncStore",
    Contract,
    Nothing,
    [put_mutation_macs, get_mutation_mac],
    "every put is an upsert; in one batch the last duplicate wins",
    |ctx| {
        let s = ctx.store();
        s.put_mutation_macs("regular", 1, &[mac(1, 1)]).await?;
        s.put_mutation_macs("regular", 2, &[mac(1, 2), mac(1, 3)])
            .await?;
        ensure_eq!(
            s.get_mutation_mac("regular", &index(1)).await?,
            Some(vec![3; 32]),
            "duplicate in batch"
        );
        Ok(None)
    }
);

check!(
    clear_mutation_macs_touches_one_collection,
    "AppSyncStore",
    Contract,
    Nothing,
    [put_mutation_macs, get_mutation_mac, clear_mutation_macs],
    "clear_mutation_macs(name): delete every mutation MAC for a collection (only that collection)",
    |ctx| {
        let s = ctx.store();
        s.put_mutation_macs("regular", 1, &[mac(1, 1), mac(2, 1)])
            .await?;
        s.put_mutation_macs("regular_low", 1, &[mac(1, 2)]).await?;
        s.put_mutation_macs("critical_block", 1, &[mac(1, 3)])
            .await?;
        s.clear_mutation_macs("regular").await?;
        ensure_eq!(
            s.get_mutation_mac("regular", &index(2)).await?,
            None,
            "cleared collection"
        );
        ensure_eq!(
            s.get_mutation_mac("regular_low", &index(1)).await?,
            Some(vec![2; 32]),
            "collection whose name extends it"
        );
        ensure_eq!(
            s.get_mutation_mac("critical_block", &index(1)).await?,
            Some(vec![3; 32]),
            "other collection"
        );
        s.clear_mutation_macs("never_used").await?;
        Ok(None)
    }
);

flaw! {
    /// Clearing a collection also clears the one named with a `_low` suffix.
    clear_mutation_macs_matches_prefix, caught_by: clear_mutation_macs_touches_one_collection;
    async fn clear_mutation_macs(&self, name: &str) -> Result<()> {
        self.inner.clear_mutation_macs(&format!("{name}_low")).await?;
        self.inner.clear_mutation_macs(name).await
    }
}

check!(
    mutation_mac_batches_are_never_seen_half_written,
    "AppSyncStore",
    Defect,
    SecondHandle,
    [put_mutation_macs, get_mutation_macs],
    "put_mutation_macs stores the MACs of one patch version: a batch is one transaction, so no reader sees part of it (a torn batch corrupts the next patch's ltHash)",
    |ctx| {
        let writer = ctx.store();
        let reader = ctx.instance.second_handle().await?;
        // The reader polls the first and the last row of each batch: cheap
        // reads, many polls per batch; in a whole batch they always agree.
        const ROWS: u64 = 20_000;
        let probe = [index(0), index(ROWS - 1)];
        for round in 1..=16u8 {
            let batch: Vec<_> = (0..ROWS).map(|i| mac(i, round)).collect();
            let done = AtomicBool::new(false);
            let put = async {
                let result = writer
                    .put_mutation_macs("regular", round as u64, &batch)
                    .await;
                done.store(true, Ordering::Release);
                result
            };
            let watch = async {
                while !done.load(Ordering::Acquire) {
                    let got = reader.get_mutation_macs("regular", &probe).await?;
                    let first = got.get(&probe[0]).map(|v| v[0]);
                    let last = got.get(&probe[1]).map(|v| v[0]);
                    ensure!(
                        first == last,
                        "round {round}: a reader saw the batch's first row from patch {first:?} and its last row from patch {last:?}: the batch is not one transaction"
                    );
                    // Let the writer's future be polled (any executor, one thread or many).
                    super::yield_now().await;
                }
                Ok::<_, Failure>(())
            };
            let (put, watch) = futures::join!(put, watch);
            watch?;
            put?;
        }
        Ok(None)
    }
);
