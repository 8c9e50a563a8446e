//! Every method that takes a list, held to every row: several distinct keys,
//! some already stored and changed, some stored and unchanged, some new, a
//! duplicate (the last one wins), and a key the call must not touch. Every
//! row is read back one by one after the call, never only a count or the
//! first row.

use std::collections::BTreeMap;
use std::sync::Arc;

use bytes::Bytes;
use wacore::appstate::processor::AppStateMutationMAC;
use wacore::store::traits::{DeviceInfo, DeviceListRecord, PendingInboundKey, PendingInboundRow};

use super::{check, mac, mapping, secret};
use crate::ensure_eq;
use crate::storage::flaws::flaw;

crate::storage::checks::register! {
    batches:
    put_identities_batch_applies_every_row,
    put_sessions_batch_applies_every_row,
    store_prekeys_batch_applies_every_row,
    load_prekeys_batch_returns_every_stored_id,
    mark_prekeys_uploaded_keeps_every_row,
    put_sender_keys_batch_applies_every_row,
    put_mutation_macs_applies_every_row,
    get_mutation_macs_returns_every_stored_index,
    delete_mutation_macs_deletes_every_listed_index,
    set_sender_key_status_applies_every_row,
    delete_sender_key_device_rows_deletes_every_listed_device,
    put_lid_mappings_applies_every_row,
    update_device_lists_applies_every_row,
    put_msg_secrets_applies_every_row,
    store_pending_inbound_batch_applies_every_row,
    delete_pending_inbound_batch_deletes_every_listed_row,
}

/// Keys `a` (stored, changed), `b` (stored, unchanged), `c` (new), `d`
/// (new, twice: the last wins), `e` (stored, not in the batch).
const KEYS: [&str; 5] = ["a@lid", "b@lid", "c@lid", "d@lid", "e@lid"];

/// The value each key must hold after the batch: stored values are `1`, the
/// batch writes `2` (`a`, `c`), `1` again (`b`), `3` then `4` (`d`).
const AFTER: [u8; 5] = [2, 1, 2, 4, 1];

/// The batch of `(key index, value)`: a, b, c, d, d.
const BATCH: [(usize, u8); 5] = [(0, 2), (1, 1), (2, 2), (3, 3), (3, 4)];

/// Keys stored before the batch: a, b, e.
const STORED: [usize; 3] = [0, 1, 4];

fn rows<T>(make: impl Fn(&str, u8) -> T) -> Vec<T> {
    BATCH.iter().map(|&(i, v)| make(KEYS[i], v)).collect()
}

check!(
    put_identities_batch_applies_every_row,
    "SignalStore",
    Contract,
    Nothing,
    [put_identity, put_identities_batch, load_identity],
    "put_identities_batch upserts every row of the batch (last duplicate wins) and touches no other",
    |ctx| {
        let s = ctx.store();
        for i in STORED {
            s.put_identity(KEYS[i], [1; 32]).await?;
        }
        s.put_identities_batch(&rows(|k, v| (Arc::from(k), [v; 32])))
            .await?;
        for (key, value) in KEYS.iter().zip(AFTER) {
            ensure_eq!(
                s.load_identity(key).await?,
                Some([value; 32]),
                "identity {key}"
            );
        }
        Ok(None)
    }
);

flaw! {
    /// A batch loses its first row.
    identities_batch_drops_first_row, caught_by: put_identities_batch_applies_every_row;
    async fn put_identities_batch(&self, identities: &[(Arc<str>, [u8; 32])]) -> Result<()> {
        self.inner.put_identities_batch(identities.get(1..).unwrap_or_default()).await
    }
}

check!(
    put_sessions_batch_applies_every_row,
    "SignalStore",
    Contract,
    Nothing,
    [put_session, put_sessions_batch, get_session],
    "put_sessions_batch upserts every row of the batch (last duplicate wins) and touches no other",
    |ctx| {
        let s = ctx.store();
        for i in STORED {
            s.put_session(KEYS[i], &[1]).await?;
        }
        s.put_sessions_batch(&rows(|k, v| (Arc::from(k), Bytes::from(vec![v]))))
            .await?;
        for (key, value) in KEYS.iter().zip(AFTER) {
            let got = s.get_session(key).await?.map(|b| b.to_vec());
            ensure_eq!(got, Some(vec![value]), "session {key}");
        }
        Ok(None)
    }
);

flaw! {
    /// A batch writes only the rows whose key is not stored yet.
    sessions_batch_is_insert_only, caught_by: put_sessions_batch_applies_every_row;
    async fn put_sessions_batch(&self, sessions: &[(Arc<str>, Bytes)]) -> Result<()> {
        let mut new = Vec::new();
        for row in sessions {
            if !self.inner.has_session(&row.0).await? {
                new.push(row.clone());
            }
        }
        self.inner.put_sessions_batch(&new).await
    }
}

/// Prekey id of key index `i`: spread over the u32 range, one above i32::MAX.
fn prekey_id(i: usize) -> u32 {
    [7, 0x8000_0001, 9, 11, 13][i]
}

check!(
    store_prekeys_batch_applies_every_row,
    "SignalStore",
    Contract,
    Nothing,
    [store_prekey, store_prekeys_batch, load_prekey],
    "store_prekeys_batch upserts every row of the batch (last duplicate wins) and touches no other",
    |ctx| {
        let s = ctx.store();
        for i in STORED {
            s.store_prekey(prekey_id(i), &[1], false).await?;
        }
        let batch: Vec<(u32, Bytes)> = BATCH
            .iter()
            .map(|&(i, v)| (prekey_id(i), Bytes::from(vec![v])))
            .collect();
        s.store_prekeys_batch(&batch, true).await?;
        for (i, value) in AFTER.iter().enumerate() {
            let got = s.load_prekey(prekey_id(i)).await?.map(|b| b.to_vec());
            ensure_eq!(got, Some(vec![*value]), "prekey {}", prekey_id(i));
        }
        Ok(None)
    }
);

check!(
    load_prekeys_batch_returns_every_stored_id,
    "SignalStore",
    Contract,
    Nothing,
    [store_prekey, load_prekeys_batch],
    "load_prekeys_batch returns every requested id that is stored, with its record, and no id that is not",
    |ctx| {
        let s = ctx.store();
        for i in STORED {
            s.store_prekey(prekey_id(i), &[i as u8], false).await?;
        }
        // a, b (stored), c (missing), a again, e (stored).
        let ids = [
            prekey_id(0),
            prekey_id(1),
            prekey_id(2),
            prekey_id(0),
            prekey_id(4),
        ];
        let got: BTreeMap<u32, Vec<u8>> = s
            .load_prekeys_batch(&ids)
            .await?
            .into_iter()
            .map(|(id, r)| (id, r.to_vec()))
            .collect();
        let expected: BTreeMap<u32, Vec<u8>> = STORED
            .iter()
            .map(|&i| (prekey_id(i), vec![i as u8]))
            .collect();
        ensure_eq!(got, expected, "ids and records");
        Ok(None)
    }
);

flaw! {
    /// A batch load stops at the first missing id.
    load_prekeys_batch_stops_at_a_missing_id, caught_by: load_prekeys_batch_returns_every_stored_id;
    async fn load_prekeys_batch(&self, ids: &[u32]) -> Result<Vec<(u32, Bytes)>> {
        let mut out = Vec::new();
        for &id in ids {
            match self.inner.load_prekey(id).await? {
                Some(record) => out.push((id, record)),
                None => break,
            }
        }
        Ok(out)
    }
}

check!(
    mark_prekeys_uploaded_keeps_every_row,
    "SignalStore",
    Contract,
    Nothing,
    [store_prekey, mark_prekeys_uploaded, load_prekey],
    "mark_prekeys_uploaded updates the listed stored prekeys in place: every record stays, no listed missing id appears",
    |ctx| {
        let s = ctx.store();
        for i in STORED {
            s.store_prekey(prekey_id(i), &[i as u8 + 1], false).await?;
        }
        let ids = [
            prekey_id(0),
            prekey_id(1),
            prekey_id(2),
            prekey_id(3),
            prekey_id(0),
        ];
        s.mark_prekeys_uploaded(&ids).await?;
        for i in 0..KEYS.len() {
            let expected = STORED.contains(&i).then(|| vec![i as u8 + 1]);
            let got = s.load_prekey(prekey_id(i)).await?.map(|b| b.to_vec());
            ensure_eq!(got, expected, "prekey {}", prekey_id(i));
        }
        Ok(None)
    }
);

flaw! {
    /// Marking deletes every listed prekey after the first.
    mark_uploaded_drops_rows, caught_by: mark_prekeys_uploaded_keeps_every_row;
    async fn mark_prekeys_uploaded(&self, ids: &[u32]) -> Result<()> {
        for id in ids.iter().skip(1) {
            self.inner.remove_prekey(*id).await?;
        }
        self.inner.mark_prekeys_uploaded(ids.get(..1).unwrap_or_default()).await
    }
}

check!(
    put_sender_keys_batch_applies_every_row,
    "SignalStore",
    Contract,
    Nothing,
    [put_sender_key, put_sender_keys_batch, get_sender_key],
    "put_sender_keys_batch upserts every row of the batch (last duplicate wins) and touches no other",
    |ctx| {
        let s = ctx.store();
        for i in STORED {
            s.put_sender_key(KEYS[i], &[1]).await?;
        }
        s.put_sender_keys_batch(&rows(|k, v| (Arc::from(k), Bytes::from(vec![v]))))
            .await?;
        for (key, value) in KEYS.iter().zip(AFTER) {
            ensure_eq!(
                s.get_sender_key(key).await?,
                Some(vec![value]),
                "sender key {key}"
            );
        }
        Ok(None)
    }
);

const COLLECTION: &str = "regular_high";

check!(
    put_mutation_macs_applies_every_row,
    "AppSyncStore",
    Contract,
    Nothing,
    [put_mutation_macs, get_mutation_mac],
    "put_mutation_macs upserts every MAC of the batch (last duplicate wins) and touches no other",
    |ctx| {
        let s = ctx.store();
        let stored: Vec<AppStateMutationMAC> = STORED.iter().map(|&i| mac(i as u64, 1)).collect();
        s.put_mutation_macs(COLLECTION, 1, &stored).await?;
        let batch: Vec<_> = BATCH.iter().map(|&(i, v)| mac(i as u64, v)).collect();
        s.put_mutation_macs(COLLECTION, 2, &batch).await?;
        for (i, value) in AFTER.iter().enumerate() {
            let got = s
                .get_mutation_mac(COLLECTION, &mac(i as u64, 0).index_mac)
                .await?;
            ensure_eq!(got, Some(vec![*value; 32]), "MAC {i}");
        }
        Ok(None)
    }
);

check!(
    get_mutation_macs_returns_every_stored_index,
    "AppSyncStore",
    Contract,
    Nothing,
    [put_mutation_macs, get_mutation_macs],
    "get_mutation_macs returns every requested index that is stored in that collection, with its value MAC, and no other",
    |ctx| {
        let s = ctx.store();
        let stored: Vec<_> = STORED.iter().map(|&i| mac(i as u64, i as u8)).collect();
        s.put_mutation_macs(COLLECTION, 1, &stored).await?;
        let index = |i: usize| super::index(i as u64);
        let asked = [index(0), index(1), index(2), index(0), index(4)];
        let got: BTreeMap<[u8; 32], Vec<u8>> = s
            .get_mutation_macs(COLLECTION, &asked)
            .await?
            .into_iter()
            .collect();
        let expected: BTreeMap<[u8; 32], Vec<u8>> = STORED
            .iter()
            .map(|&i| (index(i), vec![i as u8; 32]))
            .collect();
        ensure_eq!(got, expected, "indexes and value MACs");
        Ok(None)
    }
);

check!(
    delete_mutation_macs_deletes_every_listed_index,
    "AppSyncStore",
    Contract,
    Nothing,
    [put_mutation_macs, delete_mutation_macs, get_mutation_mac],
    "delete_mutation_macs deletes every listed index of that collection (missing ones are no-ops) and no other",
    |ctx| {
        let s = ctx.store();
        let stored: Vec<_> = (0..KEYS.len()).map(|i| mac(i as u64, 1)).collect();
        s.put_mutation_macs(COLLECTION, 1, &stored).await?;
        // a, c, a again, 9 (never stored); b, d, e stay.
        let doomed: Vec<Vec<u8>> = [0u64, 2, 0, 9]
            .iter()
            .map(|&i| super::index(i).to_vec())
            .collect();
        s.delete_mutation_macs(COLLECTION, &doomed).await?;
        for i in 0..KEYS.len() {
            let expected = (![0, 2].contains(&i)).then(|| vec![1; 32]);
            let got = s
                .get_mutation_mac(COLLECTION, &super::index(i as u64))
                .await?;
            ensure_eq!(got, expected, "MAC {i}");
        }
        Ok(None)
    }
);

flaw! {
    /// A delete batch deletes only its first index.
    delete_mutation_macs_deletes_only_the_first, caught_by: delete_mutation_macs_deletes_every_listed_index;
    async fn delete_mutation_macs(&self, name: &str, index_macs: &[Vec<u8>]) -> Result<()> {
        self.inner.delete_mutation_macs(name, index_macs.get(..1).unwrap_or_default()).await
    }
}

const GROUP: &str = "120363000000000001@g.us";

check!(
    set_sender_key_status_applies_every_row,
    "ProtocolStore",
    Contract,
    Nothing,
    [set_sender_key_status, get_sender_key_devices],
    "set_sender_key_status upserts every (device, has_key) of the batch (last duplicate wins) and touches no other",
    |ctx| {
        let s = ctx.store();
        let stored: Vec<(&str, bool)> = STORED.iter().map(|&i| (KEYS[i], true)).collect();
        s.set_sender_key_status(GROUP, &stored).await?;
        // a -> false, b stays true, c new true, d new false then true.
        let batch = [
            (KEYS[0], false),
            (KEYS[1], true),
            (KEYS[2], true),
            (KEYS[3], false),
            (KEYS[3], true),
        ];
        s.set_sender_key_status(GROUP, &batch).await?;
        let got: BTreeMap<String, bool> =
            s.get_sender_key_devices(GROUP).await?.into_iter().collect();
        let expected: BTreeMap<String, bool> =
            [(0, false), (1, true), (2, true), (3, true), (4, true)]
                .iter()
                .map(|&(i, has)| (KEYS[i].to_owned(), has))
                .collect();
        ensure_eq!(got, expected, "devices of the group");
        Ok(None)
    }
);

flaw! {
    /// A status batch applies only its first row.
    sender_key_status_applies_only_the_first, caught_by: set_sender_key_status_applies_every_row;
    async fn set_sender_key_status(&self, group_jid: &str, entries: &[(&str, bool)]) -> Result<()> {
        self.inner.set_sender_key_status(group_jid, entries.get(..1).unwrap_or_default()).await
    }
}

check!(
    delete_sender_key_device_rows_deletes_every_listed_device,
    "ProtocolStore",
    Contract,
    Nothing,
    [
        set_sender_key_status,
        delete_sender_key_device_rows,
        get_sender_key_devices
    ],
    "delete_sender_key_device_rows deletes every listed device in every group (missing ones are no-ops) and no other",
    |ctx| {
        let s = ctx.store();
        let all: Vec<(&str, bool)> = KEYS.iter().map(|k| (*k, true)).collect();
        s.set_sender_key_status(GROUP, &all).await?;
        s.set_sender_key_status("120363000000000002@g.us", &all)
            .await?;
        s.delete_sender_key_device_rows(&[KEYS[0], KEYS[2], KEYS[0], "nobody@lid"])
            .await?;
        for group in [GROUP, "120363000000000002@g.us"] {
            let mut got: Vec<String> = s
                .get_sender_key_devices(group)
                .await?
                .into_iter()
                .map(|(d, _)| d)
                .collect();
            got.sort();
            ensure_eq!(
                got,
                vec![KEYS[1], KEYS[3], KEYS[4]],
                "devices left in {group}"
            );
        }
        Ok(None)
    }
);

check!(
    put_lid_mappings_applies_every_row,
    "ProtocolStore",
    Contract,
    Nothing,
    [
        put_lid_mapping,
        put_lid_mappings,
        get_lid_mapping,
        get_pn_mapping,
        exists,
        create
    ],
    "put_lid_mappings upserts every mapping of the batch (last duplicate wins), each findable by LID and by phone, and touches no other",
    |ctx| {
        let s = ctx.store();
        super::started(&s).await?;
        let phone = |i: usize, v: u8| format!("55119{i}{v}");
        for i in STORED {
            s.put_lid_mapping(&mapping(KEYS[i], &phone(i, 1), 1))
                .await?;
        }
        let batch: Vec<_> = BATCH
            .iter()
            .map(|&(i, v)| mapping(KEYS[i], &phone(i, v), v as i64))
            .collect();
        s.put_lid_mappings(&batch).await?;
        for (i, value) in AFTER.iter().enumerate() {
            let got = s
                .get_lid_mapping(KEYS[i])
                .await?
                .map(|m| (m.phone_number, m.updated_at));
            ensure_eq!(
                got,
                Some((phone(i, *value), *value as i64)),
                "mapping of {}",
                KEYS[i]
            );
            let back = s.get_pn_mapping(&phone(i, *value)).await?.map(|m| m.lid);
            ensure_eq!(back, Some(KEYS[i].to_owned()), "phone of {}", KEYS[i]);
        }
        Ok(None)
    }
);

flaw! {
    /// A mapping batch keeps only its last row.
    lid_mappings_keep_only_the_last, caught_by: put_lid_mappings_applies_every_row;
    async fn put_lid_mappings(&self, entries: &[LidPnMappingEntry]) -> Result<()> {
        self.inner.put_lid_mappings(entries.last().map(std::slice::from_ref).unwrap_or_default()).await
    }
}

fn device_list(user: &str, timestamp: i64) -> DeviceListRecord {
    DeviceListRecord {
        user: user.to_owned(),
        devices: vec![DeviceInfo::new(timestamp as u32, None)],
        timestamp,
        phash: None,
        raw_id: None,
    }
}

check!(
    update_device_lists_applies_every_row,
    "ProtocolStore",
    Contract,
    Nothing,
    [update_device_list, update_device_lists, get_devices],
    "update_device_lists upserts every record of the batch (last duplicate wins) and touches no other",
    |ctx| {
        let s = ctx.store();
        for i in STORED {
            s.update_device_list(device_list(KEYS[i], 1)).await?;
        }
        let batch: Vec<_> = BATCH
            .iter()
            .map(|&(i, v)| device_list(KEYS[i], v as i64))
            .collect();
        s.update_device_lists(batch).await?;
        for (key, value) in KEYS.iter().zip(AFTER) {
            let got = s.get_devices(key).await?.map(|r| {
                (
                    r.timestamp,
                    r.devices.iter().map(|d| d.device_id).collect::<Vec<_>>(),
                )
            });
            ensure_eq!(
                got,
                Some((value as i64, vec![value as u32])),
                "device list of {key}"
            );
        }
        Ok(None)
    }
);

flaw! {
    /// A device-list batch applies only its first record.
    device_lists_apply_only_the_first, caught_by: update_device_lists_applies_every_row;
    async fn update_device_lists(&self, records: Vec<DeviceListRecord>) -> Result<()> {
        self.inner.update_device_lists(records.into_iter().take(1).collect()).await
    }
}

check!(
    put_msg_secrets_applies_every_row,
    "MsgSecretStore",
    Contract,
    Nothing,
    [put_msg_secrets, get_msg_secret],
    "put_msg_secrets upserts every entry of the batch (last duplicate wins for the secret) and touches no other",
    |ctx| {
        let s = ctx.store();
        let stored: Vec<_> = STORED.iter().map(|&i| secret(KEYS[i], 1, 0, 0)).collect();
        s.put_msg_secrets(stored).await?;
        s.put_msg_secrets(rows(|k, v| secret(k, v, 0, 0))).await?;
        for (key, value) in KEYS.iter().zip(AFTER) {
            let got = s.get_msg_secret(super::CHAT, super::SENDER, key).await?;
            ensure_eq!(got, Some(vec![value; 32]), "secret {key}");
        }
        Ok(None)
    }
);

flaw! {
    /// A secrets batch skips entries already stored.
    msg_secrets_batch_is_insert_only, caught_by: put_msg_secrets_applies_every_row;
    async fn put_msg_secrets(&self, entries: Vec<MsgSecretEntry>) -> Result<usize> {
        let mut new = Vec::new();
        for e in entries {
            if self.inner.get_msg_secret(&e.chat, &e.sender, &e.msg_id).await?.is_none() {
                new.push(e);
            }
        }
        self.inner.put_msg_secrets(new).await
    }
}

check!(
    store_pending_inbound_batch_applies_every_row,
    "ProtocolStore",
    Contract,
    PendingInbound,
    [
        store_pending_inbound,
        store_pending_inbound_batch,
        get_pending_inbound
    ],
    "store_pending_inbound_batch upserts every row of the batch (last duplicate wins) and touches no other",
    |ctx| {
        let s = ctx.store();
        for i in STORED {
            s.store_pending_inbound(super::CHAT, KEYS[i], "m1", &[1])
                .await?;
        }
        let messages: Vec<(usize, [u8; 1])> = BATCH.iter().map(|&(i, v)| (i, [v])).collect();
        let batch: Vec<PendingInboundRow<'_>> = messages
            .iter()
            .map(|(i, message)| PendingInboundRow {
                chat: super::CHAT,
                sender: KEYS[*i],
                id: "m1",
                message,
            })
            .collect();
        s.store_pending_inbound_batch(&batch).await?;
        for (key, value) in KEYS.iter().zip(AFTER) {
            let got = s.get_pending_inbound(super::CHAT, key, "m1").await?;
            ensure_eq!(got, Some(vec![value]), "pending message from {key}");
        }
        Ok(None)
    }
);

check!(
    delete_pending_inbound_batch_deletes_every_listed_row,
    "ProtocolStore",
    Contract,
    PendingInbound,
    [
        store_pending_inbound,
        delete_pending_inbound_batch,
        get_pending_inbound
    ],
    "delete_pending_inbound_batch deletes every listed row (missing ones are no-ops) and no other",
    |ctx| {
        let s = ctx.store();
        for key in KEYS {
            s.store_pending_inbound(super::CHAT, key, "m1", &[1])
                .await?;
        }
        let doomed: Vec<PendingInboundKey<'_>> = [KEYS[0], KEYS[2], KEYS[0], "nobody@lid"]
            .iter()
            .map(|sender| PendingInboundKey {
                chat: super::CHAT,
                sender,
                id: "m1",
            })
            .collect();
        s.delete_pending_inbound_batch(&doomed).await?;
        for (i, key) in KEYS.iter().enumerate() {
            let expected = (![0, 2].contains(&i)).then(|| vec![1]);
            ensure_eq!(
                s.get_pending_inbound(super::CHAT, key, "m1").await?,
                expected,
                "pending message from {key}"
            );
        }
        Ok(None)
    }
);

flaw! {
    /// A pending delete batch deletes only its first row.
    pending_delete_batch_deletes_only_the_first, caught_by: delete_pending_inbound_batch_deletes_every_listed_row;
    async fn delete_pending_inbound_batch(&self, keys: &[wacore::store::traits::PendingInboundKey<'_>]) -> Result<()> {
        self.inner.delete_pending_inbound_batch(keys.get(..1).unwrap_or_default()).await
    }
}
