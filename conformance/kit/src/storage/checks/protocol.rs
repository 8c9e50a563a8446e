//! ProtocolStore checks.

use std::sync::Arc;

use wacore::store::traits::{
    Backend, DeviceInfo, DeviceListRecord, LidPnMappingEntry, PendingInboundKey, PendingInboundRow,
    TcTokenEntry,
};

use super::{check, mapping};
use crate::storage::flaws::flaw;
use crate::{Failure, ensure, ensure_eq};

/// Reads a tc token that must exist.
async fn tc_token(s: &Arc<dyn Backend>, jid: &str) -> Result<TcTokenEntry, Failure> {
    s.get_tc_token(jid)
        .await?
        .ok_or_else(|| Failure(format!("tc token {jid:?} is missing")))
}

fn sorted<T: Ord>(mut v: Vec<T>) -> Vec<T> {
    v.sort();
    v
}

fn device_list(user: &str, timestamp: i64, raw_id: Option<u32>) -> DeviceListRecord {
    DeviceListRecord {
        user: user.into(),
        devices: vec![
            DeviceInfo::new(0, None),
            DeviceInfo::new(u32::MAX, Some(7)).with_hosting(true),
        ],
        timestamp,
        phash: Some("2:abcdef".into()),
        raw_id,
    }
}

crate::storage::checks::register! {
    protocol:
    sender_key_devices_per_group,
    delete_sender_key_device_rows_across_groups,
    clear_all_sender_key_devices,
    lid_mapping_round_trip,
    lid_mapping_keeps_the_first_created_at,
    lid_mapping_before_device_row,
    pn_mapping_finds_the_lid,
    pn_mapping_after_a_remap,
    pn_mapping_choice,
    base_keys,
    device_list_round_trip,
    device_list_timestamps_are_i64,
    group_metadata,
    tc_token_round_trip,
    tc_token_expiry_needs_both_windows_dead,
    touch_tc_token_only_moves_forward,
    store_received_tc_token_is_newer_wins,
    tc_token_writers_are_atomic,
    sent_message_is_taken_once,
    take_sent_message_race_has_one_winner,
    sent_message_expiry_is_strict,
    sent_message_capacity,
    pending_inbound_round_trip,
    pending_inbound_batches_and_expiry,
}

check!(
    sender_key_devices_per_group,
    "ProtocolStore",
    Contract,
    Nothing,
    [
        get_sender_key_devices,
        set_sender_key_status,
        clear_sender_key_devices
    ],
    "set_sender_key_status upserts (device, has_key) per group; get_sender_key_devices lists them; clear_sender_key_devices clears one group",
    |ctx| {
        let s = ctx.store();
        ensure!(
            s.get_sender_key_devices("g1@g.us").await?.is_empty(),
            "unknown group"
        );
        s.set_sender_key_status("g1@g.us", &[("d1", true), ("d2", false)])
            .await?;
        s.set_sender_key_status("g1@g.us", &[("d1", false)]).await?;
        s.set_sender_key_status("g10@g.us", &[("d1", true)]).await?;
        ensure_eq!(
            sorted(s.get_sender_key_devices("g1@g.us").await?),
            vec![("d1".to_string(), false), ("d2".to_string(), false)],
            "group g1"
        );
        s.clear_sender_key_devices("g1@g.us").await?;
        ensure!(
            s.get_sender_key_devices("g1@g.us").await?.is_empty(),
            "after clearing g1"
        );
        ensure_eq!(
            s.get_sender_key_devices("g10@g.us").await?.len(),
            1,
            "g10 after clearing g1"
        );
        s.set_sender_key_status("g1@g.us", &[]).await?;
        Ok(None)
    }
);

check!(
    delete_sender_key_device_rows_across_groups,
    "ProtocolStore",
    Contract,
    Nothing,
    [
        get_sender_key_devices,
        set_sender_key_status,
        delete_sender_key_device_rows
    ],
    "delete_sender_key_device_rows: delete specific rows by device JID across all groups",
    |ctx| {
        let s = ctx.store();
        s.set_sender_key_status("g1@g.us", &[("d1", true), ("d2", true)])
            .await?;
        s.set_sender_key_status("g2@g.us", &[("d1", true), ("d3", true)])
            .await?;
        s.delete_sender_key_device_rows(&["d1", "nobody"]).await?;
        ensure_eq!(
            s.get_sender_key_devices("g1@g.us").await?,
            vec![("d2".to_string(), true)],
            "g1"
        );
        ensure_eq!(
            s.get_sender_key_devices("g2@g.us").await?,
            vec![("d3".to_string(), true)],
            "g2"
        );
        s.delete_sender_key_device_rows(&[]).await?;
        Ok(None)
    }
);

flaw! {
    /// Deleting sender-key device rows does nothing.
    delete_device_rows_is_noop, caught_by: delete_sender_key_device_rows_across_groups;
    async fn delete_sender_key_device_rows(&self, _device_jids: &[&str]) -> Result<()> {
        Ok(())
    }
}

check!(
    clear_all_sender_key_devices,
    "ProtocolStore",
    Contract,
    Nothing,
    [
        get_sender_key_devices,
        set_sender_key_status,
        clear_all_sender_key_devices
    ],
    "clear_all_sender_key_devices: clear all sender key device tracking across ALL groups",
    |ctx| {
        let s = ctx.store();
        s.set_sender_key_status("g1@g.us", &[("d1", true)]).await?;
        s.set_sender_key_status("g2@g.us", &[("d2", false)]).await?;
        s.clear_all_sender_key_devices().await?;
        ensure!(
            s.get_sender_key_devices("g1@g.us").await?.is_empty(),
            "g1 after clear_all"
        );
        ensure!(
            s.get_sender_key_devices("g2@g.us").await?.is_empty(),
            "g2 after clear_all"
        );
        Ok(None)
    }
);

flaw! {
    /// Clearing every group's sender-key devices does nothing.
    clear_all_sender_key_devices_is_noop, caught_by: clear_all_sender_key_devices;
    async fn clear_all_sender_key_devices(&self) -> Result<()> {
        Ok(())
    }
}

check!(
    lid_mapping_round_trip,
    "ProtocolStore",
    Contract,
    Nothing,
    [
        get_lid_mapping,
        put_lid_mapping,
        put_lid_mappings,
        get_all_lid_mappings,
        exists,
        create
    ],
    "put_lid_mapping / put_lid_mappings store or update mappings (last duplicate wins); get_lid_mapping and get_all_lid_mappings return them",
    |ctx| {
        let s = ctx.store();
        super::started(&s).await?;
        ensure!(
            s.get_lid_mapping("100000000000001").await?.is_none(),
            "missing mapping"
        );
        ensure!(s.get_all_lid_mappings().await?.is_empty(), "empty store");
        s.put_lid_mapping(&mapping("100000000000001", "5511900000001", 10))
            .await?;
        s.put_lid_mappings(&[
            mapping("100000000000002", "5511900000002", 10),
            mapping("100000000000002", "5511900000003", 11),
        ])
        .await?;
        let m = s
            .get_lid_mapping("100000000000002")
            .await?
            .ok_or_else(|| Failure("mapping missing".into()))?;
        ensure_eq!(
            (
                m.phone_number.as_str(),
                m.updated_at,
                m.created_at,
                m.learning_source.as_str()
            ),
            ("5511900000003", 11, 1, "usync"),
            "last duplicate of the batch"
        );
        ensure_eq!(
            s.get_all_lid_mappings().await?.len(),
            2,
            "get_all_lid_mappings count"
        );
        s.put_lid_mappings(&[]).await?;
        Ok(None)
    }
);

check!(
    lid_mapping_keeps_the_first_created_at,
    "ProtocolStore",
    Contract,
    Nothing,
    [
        get_lid_mapping,
        put_lid_mapping,
        put_lid_mappings,
        exists,
        create
    ],
    "LidPnMappingEntry.created_at is when the mapping was first learned: a re-put (single or batch, or a later duplicate in one batch) keeps the first created_at and takes everything else from the new entry",
    |ctx| {
        let s = ctx.store();
        super::started(&s).await?;
        let entry = |lid: &str, pn: &str, created_at: i64, updated_at: i64| LidPnMappingEntry {
            created_at,
            ..mapping(lid, pn, updated_at)
        };
        let read = |lid: &'static str| {
            let s = s.clone();
            async move {
                s.get_lid_mapping(lid)
                    .await?
                    .map(|m| (m.phone_number, m.created_at, m.updated_at))
                    .ok_or_else(|| Failure(format!("mapping {lid} missing")))
            }
        };
        s.put_lid_mapping(&entry("100000000000001", "5511900000001", 100, 100))
            .await?;
        s.put_lid_mapping(&entry("100000000000001", "5511900000009", 200, 200))
            .await?;
        ensure_eq!(
            read("100000000000001").await?,
            ("5511900000009".to_string(), 100, 200),
            "a re-put with put_lid_mapping"
        );
        s.put_lid_mappings(&[
            entry("100000000000001", "5511900000008", 300, 300),
            entry("100000000000002", "5511900000002", 10, 10),
            entry("100000000000002", "5511900000003", 20, 20),
        ])
        .await?;
        ensure_eq!(
            read("100000000000001").await?,
            ("5511900000008".to_string(), 100, 300),
            "a re-put with put_lid_mappings"
        );
        ensure_eq!(
            read("100000000000002").await?,
            ("5511900000003".to_string(), 10, 20),
            "two entries of one LID in one new batch"
        );
        Ok(None)
    }
);

#[cfg(test)]
mod created_at_flaws {
    //! `InMemoryBackend` overwrites `created_at` (a declared deviation), so
    //! these flaws sit on it patched to keep the first one: the patched
    //! store passes the check, each flaw on top of it fails it.

    use crate::Executor;
    use crate::storage::flaws::prelude::*;
    use crate::storage::flaws::{assert_caught, flawed_factory};
    use crate::storage::{find_check, run_check};

    /// `InMemoryBackend` keeping the first `created_at`, as the trait says.
    struct KeepsFirst(Arc<dyn Backend>);

    #[async_trait]
    impl Layer for KeepsFirst {
        fn inner(&self) -> &dyn Backend {
            &*self.0
        }
        async fn put_lid_mapping(&self, entry: &LidPnMappingEntry) -> Result<()> {
            self.put_lid_mappings(std::slice::from_ref(entry)).await
        }
        async fn put_lid_mappings(&self, entries: &[LidPnMappingEntry]) -> Result<()> {
            for entry in entries {
                let first = self.0.get_lid_mapping(&entry.lid).await?;
                let created_at = first.map_or(entry.created_at, |f| f.created_at);
                let entry = LidPnMappingEntry {
                    created_at,
                    ..entry.clone()
                };
                self.0.put_lid_mapping(&entry).await?;
            }
            Ok(())
        }
    }

    fn keeps_first(inner: Arc<dyn Backend>) -> Arc<dyn Backend> {
        Arc::new(Layered(KeepsFirst(inner)))
    }

    /// Keeps the first `created_at` for single puts only.
    struct BatchOverwrites(Arc<dyn Backend>, Arc<dyn Backend>);

    #[async_trait]
    impl Layer for BatchOverwrites {
        fn inner(&self) -> &dyn Backend {
            &*self.1
        }
        async fn put_lid_mappings(&self, entries: &[LidPnMappingEntry]) -> Result<()> {
            self.0.put_lid_mappings(entries).await
        }
    }

    /// Keeps the first `created_at` against stored rows, not within a batch.
    struct BatchDuplicateOverwrites(Arc<dyn Backend>, Arc<dyn Backend>);

    #[async_trait]
    impl Layer for BatchDuplicateOverwrites {
        fn inner(&self) -> &dyn Backend {
            &*self.1
        }
        async fn put_lid_mappings(&self, entries: &[LidPnMappingEntry]) -> Result<()> {
            let mut fixed = Vec::new();
            for entry in entries {
                let stored = self.0.get_lid_mapping(&entry.lid).await?;
                let created_at = stored.map_or(entry.created_at, |f| f.created_at);
                fixed.push(LidPnMappingEntry {
                    created_at,
                    ..entry.clone()
                });
            }
            self.0.put_lid_mappings(&fixed).await
        }
    }

    #[test]
    fn the_patched_reference_passes() {
        let check = find_check("protocol::lid_mapping_keeps_the_first_created_at").unwrap();
        let report = Executor::DEFAULT.block_on(run_check(
            &check,
            &flawed_factory(keeps_first),
            &crate::Expectations::none(),
        ));
        assert!(!report.outcome.fails_run(), "{:?}", report.outcome);
    }

    #[test]
    fn every_re_put_path_is_held_to_the_rule() {
        assert_caught("lid_mapping_keeps_the_first_created_at", |inner| inner);
        assert_caught("lid_mapping_keeps_the_first_created_at", |inner| {
            let fixed = keeps_first(inner.clone());
            Arc::new(Layered(BatchOverwrites(inner, fixed)))
        });
        assert_caught("lid_mapping_keeps_the_first_created_at", |inner| {
            let fixed = keeps_first(inner.clone());
            Arc::new(Layered(BatchDuplicateOverwrites(inner, fixed)))
        });
    }
}

check!(
    lid_mapping_before_device_row,
    "ProtocolStore",
    ImplementationDefined,
    Nothing,
    [get_lid_mapping, put_lid_mapping],
    "put_lid_mapping on a store whose device row does not exist yet",
    |ctx| {
        let s = ctx.store();
        let result = s
            .put_lid_mapping(&mapping("100000000000001", "5511900000001", 1))
            .await;
        Ok(Some(match result {
            Ok(()) => match s.get_lid_mapping("100000000000001").await? {
                Some(_) => "stored".to_string(),
                None => "Ok but not stored".to_string(),
            },
            Err(e) => format!("error: {}", crate::Failure::from(e)),
        }))
    }
);

check!(
    pn_mapping_finds_the_lid,
    "ProtocolStore",
    Contract,
    Nothing,
    [get_pn_mapping, put_lid_mapping, exists, create],
    "get_pn_mapping: get a mapping by phone number (returns the most recent LID for that phone)",
    |ctx| {
        let s = ctx.store();
        super::started(&s).await?;
        ensure!(
            s.get_pn_mapping("5511900000001").await?.is_none(),
            "unknown phone"
        );
        s.put_lid_mapping(&mapping("100000000000001", "5511900000001", 10))
            .await?;
        s.put_lid_mapping(&mapping("100000000000002", "5511900000001", 20))
            .await?;
        let m = s
            .get_pn_mapping("5511900000001")
            .await?
            .ok_or_else(|| Failure("no mapping for the phone".into()))?;
        ensure_eq!(
            m.lid.as_str(),
            "100000000000002",
            "written last and newest updated_at"
        );
        Ok(None)
    }
);

flaw! {
    /// The phone-to-LID lookup never finds anything.
    pn_mapping_always_none, caught_by: pn_mapping_finds_the_lid;
    async fn get_pn_mapping(&self, _phone: &str) -> Result<Option<LidPnMappingEntry>> {
        Ok(None)
    }
}

check!(
    pn_mapping_after_a_remap,
    "ProtocolStore",
    Contract,
    Nothing,
    [get_pn_mapping, put_lid_mapping, exists, create],
    "get_pn_mapping returns the most recent LID for that phone: after one of a phone's LIDs moves to another phone, the phone's remaining LID is still found",
    |ctx| {
        let s = ctx.store();
        super::started(&s).await?;
        s.put_lid_mapping(&mapping("100000000000001", "5511900000001", 10))
            .await?;
        s.put_lid_mapping(&mapping("100000000000002", "5511900000001", 20))
            .await?;
        // Remapping that LID to another phone must neither leave it behind for
        // the old phone nor hide the old phone's other LID.
        s.put_lid_mapping(&mapping("100000000000002", "5511900000009", 30))
            .await?;
        let m = s
            .get_pn_mapping("5511900000001")
            .await?
            .map(|m| (m.lid, m.phone_number));
        ensure_eq!(
            m,
            Some(("100000000000001".to_string(), "5511900000001".to_string())),
            "the old phone after its newest LID moved to another phone (its other LID still maps to it)"
        );
        Ok(None)
    }
);

check!(
    pn_mapping_choice,
    "ProtocolStore",
    ImplementationDefined,
    Nothing,
    [get_pn_mapping, put_lid_mapping, exists, create],
    "get_pn_mapping: which LID is 'most recent' when a newer updated_at was written first",
    |ctx| {
        let s = ctx.store();
        super::started(&s).await?;
        s.put_lid_mapping(&mapping("100000000000001", "5511900000001", 20))
            .await?;
        s.put_lid_mapping(&mapping("100000000000002", "5511900000001", 10))
            .await?;
        let got = s.get_pn_mapping("5511900000001").await?.map(|m| m.lid);
        let what = match got.as_deref() {
            Some("100000000000001") => "greatest updated_at",
            Some("100000000000002") => "last written",
            _ => "other",
        };
        Ok(Some(format!(
            "wrote updated_at 20 then 10: got {got:?} ({what})"
        )))
    }
);

check!(
    base_keys,
    "ProtocolStore",
    Contract,
    Nothing,
    [save_base_key, has_same_base_key, delete_base_key],
    "save_base_key stores; has_same_base_key compares with the saved key (false when none); delete_base_key removes",
    |ctx| {
        let s = ctx.store();
        ensure!(
            !s.has_same_base_key("a@lid", "m1", b"k").await?,
            "no key saved yet"
        );
        s.save_base_key("a@lid", "m1", b"k").await?;
        ensure!(s.has_same_base_key("a@lid", "m1", b"k").await?, "same key");
        ensure!(
            !s.has_same_base_key("a@lid", "m1", b"other").await?,
            "different key"
        );
        ensure!(
            !s.has_same_base_key("a@lid", "m2", b"k").await?,
            "other message id"
        );
        ensure!(
            !s.has_same_base_key("b@lid", "m1", b"k").await?,
            "other address"
        );
        s.delete_base_key("a@lid", "m1").await?;
        ensure!(
            !s.has_same_base_key("a@lid", "m1", b"k").await?,
            "after delete"
        );
        Ok(None)
    }
);

flaw! {
    /// Every base key is "the same".
    base_key_always_same, caught_by: base_keys;
    async fn has_same_base_key(&self, _address: &str, _message_id: &str, _current: &[u8]) -> Result<bool> {
        Ok(true)
    }
}

check!(
    device_list_round_trip,
    "ProtocolStore",
    Contract,
    Nothing,
    [
        update_device_list,
        update_device_lists,
        get_devices,
        delete_devices
    ],
    "update_device_list / update_device_lists store a user's devices; get_devices returns them; delete_devices removes",
    |ctx| {
        let s = ctx.store();
        ensure!(s.get_devices("u1").await?.is_none(), "missing user");
        s.update_device_list(device_list("u1", 1_000, Some(5)))
            .await?;
        s.update_device_lists(
            (2..50)
                .map(|i| device_list(&format!("u{i}"), i, Some(i as u32)))
                .collect(),
        )
        .await?;
        let r = s
            .get_devices("u1")
            .await?
            .ok_or_else(|| Failure("device list missing".into()))?;
        ensure_eq!(
            (r.user.as_str(), r.timestamp, r.phash.as_deref(), r.raw_id),
            ("u1", 1_000, Some("2:abcdef"), Some(5)),
            "fields"
        );
        let devices: Vec<_> = r
            .devices
            .iter()
            .map(|d| (d.device_id, d.key_index, d.is_hosted))
            .collect();
        ensure_eq!(
            devices,
            vec![(0, None, false), (u32::MAX, Some(7), true)],
            "devices"
        );
        ensure_eq!(
            s.get_devices("u49").await?.map(|r| r.raw_id),
            Some(Some(49)),
            "batch row"
        );
        s.delete_devices("u1").await?;
        ensure!(s.get_devices("u1").await?.is_none(), "after delete");
        s.update_device_lists(vec![]).await?;
        Ok(None)
    }
);

check!(
    device_list_timestamps_are_i64,
    "ProtocolStore",
    Defect,
    Nothing,
    [update_device_list, get_devices],
    "DeviceListRecord.timestamp is an i64 and must round-trip (a millisecond time is beyond i32)",
    |ctx| {
        let s = ctx.store();
        s.update_device_list(device_list("u", 1_700_000_000_000, None))
            .await?;
        let got = s.get_devices("u").await?.map(|r| r.timestamp);
        ensure_eq!(got, Some(1_700_000_000_000), "timestamp 1_700_000_000_000");
        Ok(None)
    }
);

flaw! {
    /// Device-list timestamps are stored as i32.
    device_list_timestamp_i32, caught_by: device_list_timestamps_are_i64;
    async fn update_device_list(&self, mut record: DeviceListRecord) -> Result<()> {
        record.timestamp = record.timestamp as i32 as i64;
        self.inner.update_device_list(record).await
    }
}

check!(
    group_metadata,
    "ProtocolStore",
    Contract,
    Nothing,
    [
        get_group_metadata,
        put_group_metadata,
        delete_group_metadata
    ],
    "group metadata: a backend with persistence round-trips the blob (upsert, delete); one without returns None (the no-op default), never an error",
    |ctx| {
        let s = ctx.store();
        ensure!(
            s.get_group_metadata("g@g.us").await?.is_none(),
            "unknown group"
        );
        s.put_group_metadata("g@g.us", b"v1").await?;
        s.put_group_metadata("g@g.us", b"v2").await?;
        let got = s.get_group_metadata("g@g.us").await?;
        if ctx.caps.group_metadata {
            ensure_eq!(got, Some(b"v2".to_vec()), "after two puts");
            s.delete_group_metadata("g@g.us").await?;
            ensure!(
                s.get_group_metadata("g@g.us").await?.is_none(),
                "after delete"
            );
            Ok(None)
        } else {
            ensure!(
                got.is_none(),
                "the store claims no group metadata but returned {got:?}"
            );
            s.delete_group_metadata("g@g.us").await?;
            Ok(Some(
                "not supported (declared); behaves as the documented no-op".into(),
            ))
        }
    }
);

flaw! {
    /// Group metadata is silently dropped although the store claims it.
    group_metadata_dropped, caught_by: group_metadata;
    async fn put_group_metadata(&self, _group_jid: &str, _blob: &[u8]) -> Result<()> {
        Ok(())
    }
}

check!(
    tc_token_round_trip,
    "ProtocolStore",
    Contract,
    Nothing,
    [
        get_tc_token,
        put_tc_token,
        delete_tc_token,
        get_all_tc_token_jids
    ],
    "put_tc_token stores or updates; get_tc_token returns it; get_all_tc_token_jids lists; delete_tc_token removes",
    |ctx| {
        let s = ctx.store();
        ensure!(s.get_tc_token("j@lid").await?.is_none(), "missing token");
        let e = TcTokenEntry {
            token: b"tok".to_vec(),
            token_timestamp: 5,
            sender_timestamp: Some(6),
        };
        s.put_tc_token("j@lid", &e).await?;
        s.put_tc_token(
            "k@lid",
            &TcTokenEntry {
                sender_timestamp: None,
                ..e.clone()
            },
        )
        .await?;
        let got = s
            .get_tc_token("j@lid")
            .await?
            .ok_or_else(|| Failure("token missing".into()))?;
        ensure_eq!(
            (got.token, got.token_timestamp, got.sender_timestamp),
            (b"tok".to_vec(), 5, Some(6)),
            "fields"
        );
        ensure_eq!(
            s.get_tc_token("k@lid").await?.map(|e| e.sender_timestamp),
            Some(None),
            "no sender timestamp"
        );
        ensure_eq!(
            sorted(s.get_all_tc_token_jids().await?),
            vec!["j@lid".to_string(), "k@lid".to_string()],
            "jids"
        );
        s.delete_tc_token("j@lid").await?;
        ensure!(s.get_tc_token("j@lid").await?.is_none(), "after delete");
        Ok(None)
    }
);

check!(
    tc_token_expiry_needs_both_windows_dead,
    "ProtocolStore",
    Contract,
    Nothing,
    [
        put_tc_token,
        get_all_tc_token_jids,
        delete_expired_tc_tokens
    ],
    "delete_expired_tc_tokens: a row is removed only when its token is expired or absent (token_timestamp < token_cutoff or empty) AND its sender bucket is expired or absent (sender_timestamp < sender_cutoff or null); returns the count",
    |ctx| {
        let s = ctx.store();
        let rows: [(&str, &[u8], i64, Option<i64>); 7] = [
            ("dead", b"t", 9, None),
            ("dead-sender", b"t", 9, Some(19)),
            ("token-at-cutoff", b"t", 10, None),
            ("sender-at-cutoff", b"t", 9, Some(20)),
            ("empty-token", b"", 1000, None),
            ("empty-token-live-sender", b"", 1000, Some(20)),
            ("both-live", b"t", 11, Some(21)),
        ];
        for (jid, token, ts, sender) in rows {
            s.put_tc_token(
                jid,
                &TcTokenEntry {
                    token: token.to_vec(),
                    token_timestamp: ts,
                    sender_timestamp: sender,
                },
            )
            .await?;
        }
        let deleted = s.delete_expired_tc_tokens(10, 20).await?;
        ensure_eq!(
            sorted(s.get_all_tc_token_jids().await?),
            vec![
                "both-live",
                "empty-token-live-sender",
                "sender-at-cutoff",
                "token-at-cutoff"
            ]
            .into_iter()
            .map(String::from)
            .collect::<Vec<_>>(),
            "rows left after delete_expired_tc_tokens(10, 20)"
        );
        ensure_eq!(deleted, 3, "returned count");
        Ok(None)
    }
);

flaw! {
    /// A tc token is deleted when either window is dead, not both.
    tc_expiry_needs_one_window_dead, caught_by: tc_token_expiry_needs_both_windows_dead;
    async fn delete_expired_tc_tokens(&self, token_cutoff: i64, sender_cutoff: i64) -> Result<u32> {
        let mut deleted = 0;
        for jid in self.inner.get_all_tc_token_jids().await? {
            if let Some(e) = self.inner.get_tc_token(&jid).await? {
                let token_dead = e.token.is_empty() || e.token_timestamp < token_cutoff;
                let sender_dead = e.sender_timestamp.is_none_or(|ts| ts < sender_cutoff);
                if token_dead || sender_dead {
                    self.inner.delete_tc_token(&jid).await?;
                    deleted += 1;
                }
            }
        }
        Ok(deleted)
    }
}

check!(
    touch_tc_token_only_moves_forward,
    "ProtocolStore",
    Contract,
    Nothing,
    [get_tc_token, put_tc_token, touch_tc_token_sender_timestamp],
    "touch_tc_token_sender_timestamp: inserts a byte-less placeholder when absent, preserves existing token bytes, and only moves sender_timestamp forward",
    |ctx| {
        let s = ctx.store();
        s.touch_tc_token_sender_timestamp("j", 100).await?;
        let e = tc_token(&s, "j").await?;
        ensure_eq!(
            (e.token.is_empty(), e.token_timestamp, e.sender_timestamp),
            (true, 100, Some(100)),
            "placeholder"
        );
        s.put_tc_token(
            "j",
            &TcTokenEntry {
                token: b"real".to_vec(),
                token_timestamp: 50,
                sender_timestamp: Some(100),
            },
        )
        .await?;
        s.touch_tc_token_sender_timestamp("j", 90).await?;
        let e = tc_token(&s, "j").await?;
        ensure_eq!(
            (e.token.as_slice(), e.sender_timestamp),
            (&b"real"[..], Some(100)),
            "an older touch"
        );
        s.touch_tc_token_sender_timestamp("j", 200).await?;
        let e = tc_token(&s, "j").await?;
        ensure_eq!(
            (e.token.as_slice(), e.token_timestamp, e.sender_timestamp),
            (&b"real"[..], 50, Some(200)),
            "a newer touch"
        );
        Ok(None)
    }
);

flaw! {
    /// Touching overwrites the sender timestamp, even with an older one.
    touch_overwrites_sender_timestamp, caught_by: touch_tc_token_only_moves_forward;
    async fn touch_tc_token_sender_timestamp(&self, jid: &str, sender_timestamp: i64) -> Result<()> {
        let mut e = self.inner.get_tc_token(jid).await?.unwrap_or(TcTokenEntry {
            token: vec![],
            token_timestamp: sender_timestamp,
            sender_timestamp: None,
        });
        e.sender_timestamp = Some(sender_timestamp);
        self.inner.put_tc_token(jid, &e).await
    }
}

check!(
    store_received_tc_token_is_newer_wins,
    "ProtocolStore",
    Contract,
    Nothing,
    [
        get_tc_token,
        touch_tc_token_sender_timestamp,
        store_received_tc_token
    ],
    "store_received_tc_token: newer-wins (overwritten only when the stored token is a placeholder or the incoming token_timestamp is at least as new), preserving sender_timestamp",
    |ctx| {
        let s = ctx.store();
        s.store_received_tc_token("j", b"first", 50).await?;
        ensure_eq!(
            s.get_tc_token("j")
                .await?
                .map(|e| (e.token, e.sender_timestamp)),
            Some((b"first".to_vec(), None)),
            "first token"
        );
        s.touch_tc_token_sender_timestamp("j", 70).await?;
        s.store_received_tc_token("j", b"stale", 40).await?;
        ensure_eq!(
            s.get_tc_token("j").await?.map(|e| e.token),
            Some(b"first".to_vec()),
            "a stale token must lose"
        );
        s.store_received_tc_token("j", b"same-age", 50).await?;
        let e = tc_token(&s, "j").await?;
        ensure_eq!(
            (e.token.as_slice(), e.sender_timestamp),
            (&b"same-age"[..], Some(70)),
            "an equally new token wins, sender kept"
        );
        s.touch_tc_token_sender_timestamp("p", 500).await?;
        s.store_received_tc_token("p", b"real", 1).await?;
        ensure_eq!(
            s.get_tc_token("p")
                .await?
                .map(|e| (e.token, e.token_timestamp, e.sender_timestamp)),
            Some((b"real".to_vec(), 1, Some(500))),
            "a placeholder never blocks a real token"
        );
        Ok(None)
    }
);

flaw! {
    /// A received token replaces the stored one even when older.
    received_token_last_write_wins, caught_by: store_received_tc_token_is_newer_wins;
    async fn store_received_tc_token(&self, jid: &str, token: &[u8], token_timestamp: i64) -> Result<()> {
        let sender_timestamp = self.inner.get_tc_token(jid).await?.and_then(|e| e.sender_timestamp);
        let entry = TcTokenEntry { token: token.to_vec(), token_timestamp, sender_timestamp };
        self.inner.put_tc_token(jid, &entry).await
    }
}

check!(
    tc_token_writers_are_atomic,
    "ProtocolStore",
    Contract,
    Nothing,
    [
        get_tc_token,
        touch_tc_token_sender_timestamp,
        store_received_tc_token
    ],
    "touch_tc_token_sender_timestamp and store_received_tc_token must be atomic with respect to each other: concurrent writers converge, none is lost",
    |ctx| {
        let s = ctx.store();
        for round in 0..4 {
            let jid = format!("race{round}@lid");
            // Concurrent callers as concurrent futures: the race is real for any
            // backend whose calls suspend, on any executor.
            let writers = (0..32i64).map(|i| {
                let (s, jid) = (&s, &jid);
                async move {
                    if i % 2 == 0 {
                        s.touch_tc_token_sender_timestamp(jid, 1000 + i).await
                    } else {
                        s.store_received_tc_token(jid, format!("tok{i}").as_bytes(), 500 + i)
                            .await
                    }
                }
            });
            for result in futures::future::join_all(writers).await {
                result?;
            }
            let e = tc_token(&s, &jid).await?;
            ensure_eq!(
                e.sender_timestamp,
                Some(1030),
                "round {round}: greatest sender timestamp"
            );
            ensure_eq!(
                (e.token.as_slice(), e.token_timestamp),
                (&b"tok31"[..], 531),
                "round {round}: newest token"
            );
        }
        Ok(None)
    }
);

flaw! {
    /// Both tc-token merges read, yield, then write: a racing writer's update is lost.
    tc_writes_not_atomic, caught_by: tc_token_writers_are_atomic;
    async fn touch_tc_token_sender_timestamp(&self, jid: &str, sender_timestamp: i64) -> Result<()> {
        touch_non_atomically(&*self.inner, jid, sender_timestamp, 1).await
    }
    async fn store_received_tc_token(&self, jid: &str, token: &[u8], token_timestamp: i64) -> Result<()> {
        receive_non_atomically(&*self.inner, jid, token, token_timestamp, 1).await
    }
}

check!(
    sent_message_is_taken_once,
    "ProtocolStore",
    Contract,
    Nothing,
    [store_sent_message, take_sent_message],
    "store_sent_message stores a payload; take_sent_message retrieves and deletes it (atomic take)",
    |ctx| {
        let s = ctx.store();
        ensure!(
            s.take_sent_message("c@s.whatsapp.net", "m")
                .await?
                .is_none(),
            "missing message"
        );
        s.store_sent_message("c@s.whatsapp.net", "m", b"payload")
            .await?;
        s.store_sent_message("c@s.whatsapp.net", "m", b"payload2")
            .await?;
        s.store_sent_message("d@s.whatsapp.net", "m", b"other chat")
            .await?;
        ensure_eq!(
            s.take_sent_message("c@s.whatsapp.net", "m").await?,
            Some(b"payload2".to_vec()),
            "upserted payload"
        );
        ensure_eq!(
            s.take_sent_message("c@s.whatsapp.net", "m").await?,
            None,
            "second take"
        );
        ensure_eq!(
            s.take_sent_message("d@s.whatsapp.net", "m").await?,
            Some(b"other chat".to_vec()),
            "other chat"
        );
        Ok(None)
    }
);

flaw! {
    /// Taking a sent message leaves it in place.
    take_does_not_delete, caught_by: sent_message_is_taken_once;
    async fn take_sent_message(&self, chat_jid: &str, message_id: &str) -> Result<Option<Vec<u8>>> {
        let taken = self.inner.take_sent_message(chat_jid, message_id).await?;
        if let Some(payload) = &taken {
            self.inner.store_sent_message(chat_jid, message_id, payload).await?;
        }
        Ok(taken)
    }
}

check!(
    take_sent_message_race_has_one_winner,
    "ProtocolStore",
    Contract,
    Nothing,
    [store_sent_message, take_sent_message],
    "take_sent_message: retrieve and delete (atomic take); consuming prevents double-retry, so of racing takers exactly one wins",
    |ctx| {
        let s = ctx.store();
        for round in 0..10 {
            let id = format!("m{round}");
            s.store_sent_message("c@s.whatsapp.net", &id, b"p").await?;
            let takers = (0..8).map(|_| s.take_sent_message("c@s.whatsapp.net", &id));
            let mut winners = 0;
            for taken in futures::future::join_all(takers).await {
                winners += taken?.is_some() as u32;
            }
            ensure_eq!(winners, 1, "round {round}: takers that got the payload");
        }
        Ok(None)
    }
);

check!(
    sent_message_expiry_is_strict,
    "ProtocolStore",
    Contract,
    Nothing,
    [
        store_sent_message,
        take_sent_message,
        delete_expired_sent_messages
    ],
    "delete_expired_sent_messages(cutoff): delete sent messages older than cutoff (stored_at < cutoff, strict); returns the count",
    |ctx| {
        let s = ctx.store();
        let before = wacore::time::now_secs();
        s.store_sent_message("c", "m1", b"1").await?;
        s.store_sent_message("c", "m2", b"2").await?;
        ensure_eq!(
            s.delete_expired_sent_messages(before).await?,
            0,
            "cutoff = the second the rows were stored in (or before)"
        );
        ensure_eq!(
            s.delete_expired_sent_messages(before - 3600).await?,
            0,
            "an hour-old cutoff"
        );
        ensure_eq!(
            s.delete_expired_sent_messages(wacore::time::now_secs() + 2)
                .await?,
            2,
            "a future cutoff"
        );
        ensure!(
            s.take_sent_message("c", "m1").await?.is_none(),
            "expired message still there"
        );
        Ok(None)
    }
);

flaw! {
    /// Sent-message expiry deletes rows at the cutoff too (<=, not <).
    sent_expiry_inclusive, caught_by: sent_message_expiry_is_strict;
    async fn delete_expired_sent_messages(&self, cutoff_timestamp: i64) -> Result<u32> {
        self.inner.delete_expired_sent_messages(cutoff_timestamp + 1).await
    }
}

check!(
    sent_message_capacity,
    "ProtocolStore",
    ImplementationDefined,
    Nothing,
    [store_sent_message, take_sent_message],
    "the sent-message store's capacity: bounded (oldest evicted) or unbounded (pruned only by delete_expired_sent_messages)",
    |ctx| {
        let s = ctx.store();
        const N: usize = 4200;
        let ids: Vec<String> = (0..N).map(|i| format!("m{i}")).collect();
        for chunk in ids.chunks(256) {
            let writes = chunk.iter().map(|id| s.store_sent_message("c", id, b"p"));
            for r in futures::future::join_all(writes).await {
                r?;
            }
        }
        let first_kept = s.take_sent_message("c", "m0").await?.is_some();
        let last_kept = s.take_sent_message("c", &ids[N - 1]).await?.is_some();
        ensure!(last_kept, "the newest sent message is gone");
        Ok(Some(if first_kept {
            format!("kept all of {N} messages (unbounded)")
        } else {
            format!("evicted the oldest of {N} messages (bounded)")
        }))
    }
);

check!(
    pending_inbound_round_trip,
    "ProtocolStore",
    Contract,
    Nothing,
    [
        store_pending_inbound,
        get_pending_inbound,
        delete_pending_inbound
    ],
    "pending inbound: a backend with the buffer stores, reads and deletes by (chat, sender, id); one without fails CLOSED (an error, never a silent no-op)",
    |ctx| {
        let s = ctx.store();
        if !ctx.caps.pending_inbound {
            ensure!(
                s.store_pending_inbound("c", "s", "i", b"m").await.is_err(),
                "store_pending_inbound must fail closed"
            );
            ensure!(
                s.get_pending_inbound("c", "s", "i").await.is_err(),
                "get_pending_inbound must fail closed"
            );
            ensure!(
                s.delete_pending_inbound("c", "s", "i").await.is_err(),
                "delete_pending_inbound must fail closed"
            );
            ensure_eq!(
                s.delete_expired_pending_inbound(i64::MAX).await?,
                0,
                "delete_expired_pending_inbound is a benign Ok(0)"
            );
            return Ok(Some(
                "not supported (declared); fails closed as documented".into(),
            ));
        }
        ensure!(
            s.get_pending_inbound("c", "s", "i").await?.is_none(),
            "missing row"
        );
        s.store_pending_inbound("c", "s", "i", b"m1").await?;
        s.store_pending_inbound("c", "s", "i", b"m2").await?;
        ensure_eq!(
            s.get_pending_inbound("c", "s", "i").await?,
            Some(b"m2".to_vec()),
            "after upsert"
        );
        ensure!(
            s.get_pending_inbound("c", "s2", "i").await?.is_none(),
            "scoped by sender"
        );
        ensure!(
            s.get_pending_inbound("c2", "s", "i").await?.is_none(),
            "scoped by chat"
        );
        s.delete_pending_inbound("c", "s", "i").await?;
        ensure!(
            s.get_pending_inbound("c", "s", "i").await?.is_none(),
            "after delete"
        );
        s.delete_pending_inbound("c", "s", "i").await?;
        Ok(None)
    }
);

flaw! {
    /// Pending inbound rows are keyed without their sender.
    pending_inbound_ignores_sender, caught_by: pending_inbound_round_trip;
    async fn store_pending_inbound(&self, chat: &str, _sender: &str, id: &str, message: &[u8]) -> Result<()> {
        self.inner.store_pending_inbound(chat, "", id, message).await
    }
    async fn get_pending_inbound(&self, chat: &str, _sender: &str, id: &str) -> Result<Option<Vec<u8>>> {
        self.inner.get_pending_inbound(chat, "", id).await
    }
    async fn delete_pending_inbound(&self, chat: &str, _sender: &str, id: &str) -> Result<()> {
        self.inner.delete_pending_inbound(chat, "", id).await
    }
}

check!(
    pending_inbound_batches_and_expiry,
    "ProtocolStore",
    Contract,
    Nothing,
    [
        get_pending_inbound,
        delete_expired_pending_inbound,
        store_pending_inbound_batch,
        delete_pending_inbound_batch
    ],
    "store_pending_inbound_batch / delete_pending_inbound_batch act on every row; delete_expired_pending_inbound(cutoff) deletes rows older than cutoff and returns the count",
    |ctx| {
        let s = ctx.store();
        let ids: Vec<String> = (0..20).map(|i| format!("id{i}")).collect();
        let rows: Vec<_> = ids
            .iter()
            .map(|id| PendingInboundRow {
                chat: "c",
                sender: "s",
                id,
                message: b"x",
            })
            .collect();
        if !ctx.caps.pending_inbound {
            ensure!(
                s.store_pending_inbound_batch(&rows).await.is_err(),
                "store_pending_inbound_batch must fail closed"
            );
            return Ok(Some(
                "not supported (declared); fails closed as documented".into(),
            ));
        }
        let before = wacore::time::now_secs();
        s.store_pending_inbound_batch(&rows).await?;
        let keys: Vec<_> = ids[..10]
            .iter()
            .map(|id| PendingInboundKey {
                chat: "c",
                sender: "s",
                id,
            })
            .collect();
        s.delete_pending_inbound_batch(&keys).await?;
        ensure!(
            s.get_pending_inbound("c", "s", "id0").await?.is_none(),
            "deleted by batch"
        );
        ensure!(
            s.get_pending_inbound("c", "s", "id19").await?.is_some(),
            "kept"
        );
        ensure_eq!(
            s.delete_expired_pending_inbound(before).await?,
            0,
            "cutoff at the storing second"
        );
        ensure_eq!(
            s.delete_expired_pending_inbound(wacore::time::now_secs() + 2)
                .await?,
            10,
            "future cutoff"
        );
        s.store_pending_inbound_batch(&[]).await?;
        s.delete_pending_inbound_batch(&[]).await?;
        Ok(None)
    }
);
