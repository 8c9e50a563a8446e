//! SignalStore checks.

use crate::storage::PrekeyBatchOrder;
use std::sync::Arc;

use bytes::Bytes;

use super::check;
use crate::storage::flaws::flaw;
use crate::{ensure, ensure_eq};

crate::storage::checks::register! {
    signal:
    missing_signal_rows_read_as_none,
    identity_round_trip,
    identity_batch_last_duplicate_wins,
    session_round_trip,
    session_batch_last_duplicate_wins,
    has_signal_state_matches_user_and_device_forms,
    has_signal_state_matches_exactly,
    prekey_round_trip,
    prekey_batches,
    load_prekeys_batch_order,
    mark_prekeys_uploaded_never_resurrects,
    max_prekey_id_is_zero_when_empty,
    prekey_ids_above_i32_max,
    signed_prekeys_round_trip,
    sender_keys_round_trip,
}

check!(
    missing_signal_rows_read_as_none,
    "SignalStore",
    Contract,
    Nothing,
    [
        load_identity,
        delete_identity,
        get_session,
        delete_session,
        has_session,
        load_prekey,
        load_prekeys_batch,
        remove_prekey,
        load_signed_prekey,
        load_all_signed_prekeys,
        remove_signed_prekey,
        get_sender_key,
        delete_sender_key
    ],
    "every get of a missing row is Ok(None); every delete of a missing row is Ok(())",
    |ctx| {
        let s = ctx.store();
        ensure!(
            s.load_identity("nobody@lid").await?.is_none(),
            "load_identity of a missing row"
        );
        ensure!(
            s.get_session("nobody@lid").await?.is_none(),
            "get_session of a missing row"
        );
        ensure!(
            !s.has_session("nobody@lid").await?,
            "has_session of a missing row"
        );
        ensure!(
            s.load_prekey(42).await?.is_none(),
            "load_prekey of a missing row"
        );
        ensure!(
            s.load_prekeys_batch(&[1, 2]).await?.is_empty(),
            "load_prekeys_batch of missing ids"
        );
        ensure!(
            s.load_signed_prekey(42).await?.is_none(),
            "load_signed_prekey of a missing row"
        );
        ensure!(
            s.load_all_signed_prekeys().await?.is_empty(),
            "load_all_signed_prekeys when empty"
        );
        ensure!(
            s.get_sender_key("nobody").await?.is_none(),
            "get_sender_key of a missing row"
        );
        s.delete_identity("nobody@lid").await?;
        s.delete_session("nobody@lid").await?;
        s.remove_prekey(42).await?;
        s.remove_signed_prekey(42).await?;
        s.delete_sender_key("nobody").await?;
        Ok(None)
    }
);

flaw! {
    /// Reading a missing session is an error instead of `Ok(None)`.
    missing_session_is_an_error, caught_by: missing_signal_rows_read_as_none;
    async fn get_session(&self, address: &str) -> Result<Option<Bytes>> {
        if !self.inner.has_session(address).await? {
            return Err(StoreError::Validation("no such session".into()));
        }
        self.inner.get_session(address).await
    }
}

check!(
    identity_round_trip,
    "SignalStore",
    Contract,
    Nothing,
    [put_identity, load_identity, delete_identity],
    "put_identity stores (upserts) an identity key; load_identity returns it; delete_identity removes it",
    |ctx| {
        let s = ctx.store();
        s.put_identity("a@s.whatsapp.net", [1; 32]).await?;
        ensure_eq!(
            s.load_identity("a@s.whatsapp.net").await?,
            Some([1; 32]),
            "after put"
        );
        s.put_identity("a@s.whatsapp.net", [2; 32]).await?;
        ensure_eq!(
            s.load_identity("a@s.whatsapp.net").await?,
            Some([2; 32]),
            "after a second put (upsert)"
        );
        s.delete_identity("a@s.whatsapp.net").await?;
        ensure_eq!(
            s.load_identity("a@s.whatsapp.net").await?,
            None,
            "after delete"
        );
        Ok(None)
    }
);

flaw! {
    /// `put_identity` never replaces an existing key.
    identity_put_is_insert_only, caught_by: identity_round_trip;
    async fn put_identity(&self, address: &str, key: [u8; 32]) -> Result<()> {
        if self.inner.load_identity(address).await?.is_some() {
            return Ok(());
        }
        self.inner.put_identity(address, key).await
    }
}

check!(
    identity_batch_last_duplicate_wins,
    "SignalStore",
    Contract,
    Nothing,
    [put_identities_batch, load_identity],
    "put_identities_batch stores every identity; in one batch the last duplicate wins",
    |ctx| {
        let s = ctx.store();
        let batch: Vec<(Arc<str>, [u8; 32])> = vec![
            ("x@lid".into(), [1; 32]),
            ("y@lid".into(), [2; 32]),
            ("x@lid".into(), [3; 32]),
        ];
        s.put_identities_batch(&batch).await?;
        ensure_eq!(
            s.load_identity("x@lid").await?,
            Some([3; 32]),
            "duplicate key in a batch"
        );
        ensure_eq!(
            s.load_identity("y@lid").await?,
            Some([2; 32]),
            "second key of the batch"
        );
        Ok(None)
    }
);

flaw! {
    /// In a batch the first duplicate wins.
    identity_batch_first_duplicate_wins, caught_by: identity_batch_last_duplicate_wins;
    async fn put_identities_batch(&self, identities: &[(Arc<str>, [u8; 32])]) -> Result<()> {
        let reversed: Vec<_> = identities.iter().rev().cloned().collect();
        self.inner.put_identities_batch(&reversed).await
    }
}

check!(
    session_round_trip,
    "SignalStore",
    Contract,
    Nothing,
    [get_session, put_session, delete_session, has_session],
    "put_session upserts; get_session returns the bytes; has_session tells; delete_session removes",
    |ctx| {
        let s = ctx.store();
        s.put_session("a:1@lid", b"one").await?;
        s.put_session("a:1@lid", b"two").await?;
        ensure_eq!(
            s.get_session("a:1@lid").await?,
            Some(Bytes::from_static(b"two")),
            "after upsert"
        );
        ensure!(s.has_session("a:1@lid").await?, "has_session after put");
        s.delete_session("a:1@lid").await?;
        ensure!(!s.has_session("a:1@lid").await?, "has_session after delete");
        ensure_eq!(
            s.get_session("a:1@lid").await?,
            None,
            "get_session after delete"
        );
        Ok(None)
    }
);

check!(
    session_batch_last_duplicate_wins,
    "SignalStore",
    Contract,
    Nothing,
    [get_session, put_sessions_batch],
    "put_sessions_batch stores every session; in one batch the last duplicate wins",
    |ctx| {
        let s = ctx.store();
        let mut batch: Vec<(Arc<str>, Bytes)> = (0..50)
            .map(|i| {
                (
                    Arc::from(format!("u{i}@lid")),
                    Bytes::from(vec![i as u8; 10]),
                )
            })
            .collect();
        batch.push(("u0@lid".into(), Bytes::from_static(b"last")));
        s.put_sessions_batch(&batch).await?;
        ensure_eq!(
            s.get_session("u0@lid").await?,
            Some(Bytes::from_static(b"last")),
            "duplicate key"
        );
        ensure_eq!(
            s.get_session("u49@lid").await?,
            Some(Bytes::from(vec![49u8; 10])),
            "last row"
        );
        Ok(None)
    }
);

flaw! {
    /// A session batch loses its last row.
    session_batch_drops_last_row, caught_by: session_batch_last_duplicate_wins;
    async fn put_sessions_batch(&self, sessions: &[(Arc<str>, Bytes)]) -> Result<()> {
        let kept = sessions.len().saturating_sub(1);
        self.inner.put_sessions_batch(&sessions[..kept]).await
    }
}

check!(
    has_signal_state_matches_user_and_device_forms,
    "SignalStore",
    Contract,
    Nothing,
    [put_identity, put_session, has_signal_state_for_user],
    "has_signal_state_for_user: whether any session or identity exists for `user` across all device ids; addresses are `user@server` or `user:dev@server`",
    |ctx| {
        let s = ctx.store();
        ensure!(
            !s.has_signal_state_for_user("15551234567").await?,
            "empty store"
        );
        s.put_session("15551234567:3@s.whatsapp.net", b"x").await?;
        ensure!(
            s.has_signal_state_for_user("15551234567").await?,
            "a device-form session"
        );
        s.put_identity("100000000000001@lid", [0; 32]).await?;
        ensure!(
            s.has_signal_state_for_user("100000000000001").await?,
            "an identity alone"
        );
        Ok(None)
    }
);

flaw! {
    /// Every user has Signal state.
    has_signal_state_always_true, caught_by: has_signal_state_matches_user_and_device_forms;
    async fn has_signal_state_for_user(&self, _user: &str) -> Result<bool> {
        Ok(true)
    }
}

check!(
    has_signal_state_matches_exactly,
    "SignalStore",
    Defect,
    Nothing,
    [put_session, has_signal_state_for_user],
    "has_signal_state_for_user: whether any session or identity exists for `user` (that user, not users whose ids match a pattern or differ in case)",
    |ctx| {
        let s = ctx.store();
        s.put_session("1234@s.whatsapp.net", b"x").await?;
        ensure!(
            !s.has_signal_state_for_user("123").await?,
            "'123' matched user '1234' (prefix match)"
        );
        s.put_session("a_c:2@lid", b"x").await?;
        ensure!(
            !s.has_signal_state_for_user("abc").await?,
            "'abc' matched user 'a_c' ('_' treated as a wildcard)"
        );
        ensure!(
            !s.has_signal_state_for_user("a%").await?,
            "'a%' matched user 'a_c' ('%' treated as a wildcard)"
        );
        ensure!(
            !s.has_signal_state_for_user("A_C").await?,
            "'A_C' matched user 'a_c' (case folded)"
        );
        Ok(None)
    }
);

flaw! {
    /// User matching ignores case.
    has_signal_state_folds_case, caught_by: has_signal_state_matches_exactly;
    async fn has_signal_state_for_user(&self, user: &str) -> Result<bool> {
        Ok(self.inner.has_signal_state_for_user(user).await?
            || self.inner.has_signal_state_for_user(&user.to_lowercase()).await?)
    }
}

check!(
    prekey_round_trip,
    "SignalStore",
    Contract,
    Nothing,
    [store_prekey, load_prekey, remove_prekey],
    "store_prekey upserts a pre-key; load_prekey returns it; remove_prekey removes it",
    |ctx| {
        let s = ctx.store();
        s.store_prekey(7, b"a", false).await?;
        s.store_prekey(7, b"b", true).await?;
        ensure_eq!(
            s.load_prekey(7).await?,
            Some(Bytes::from_static(b"b")),
            "after upsert"
        );
        s.remove_prekey(7).await?;
        ensure_eq!(s.load_prekey(7).await?, None, "after remove");
        Ok(None)
    }
);

check!(
    prekey_batches,
    "SignalStore",
    Contract,
    Nothing,
    [store_prekeys_batch, load_prekey, load_prekeys_batch],
    "store_prekeys_batch stores every key; load_prekeys_batch returns only the keys that exist",
    |ctx| {
        let s = ctx.store();
        let keys: Vec<(u32, Bytes)> = (1..=812)
            .map(|i| (i, Bytes::from(vec![(i % 251) as u8; 32])))
            .collect();
        s.store_prekeys_batch(&keys, false).await?;
        ensure_eq!(
            s.load_prekey(812).await?,
            Some(Bytes::from(vec![(812 % 251) as u8; 32])),
            "last key"
        );
        let got = s.load_prekeys_batch(&[5, 9999, 6]).await?;
        let mut ids: Vec<u32> = got.iter().map(|(id, _)| *id).collect();
        ids.sort_unstable();
        ensure_eq!(ids, vec![5, 6], "existing ids only");
        ensure!(
            got.iter()
                .all(|(id, rec)| rec.as_ref() == [(*id % 251) as u8; 32]),
            "records match their ids"
        );
        Ok(None)
    }
);

flaw! {
    /// A batch load returns empty records for missing ids.
    load_prekeys_batch_invents_missing, caught_by: prekey_batches;
    async fn load_prekeys_batch(&self, ids: &[u32]) -> Result<Vec<(u32, Bytes)>> {
        let mut out = Vec::new();
        for &id in ids {
            out.push((id, self.inner.load_prekey(id).await?.unwrap_or_default()));
        }
        Ok(out)
    }
}

check!(
    load_prekeys_batch_order,
    "SignalStore",
    ImplementationDefined,
    Nothing,
    [store_prekey, load_prekeys_batch],
    "load_prekeys_batch: order of the result and treatment of repeated ids are not specified (a declared Choices::prekey_batch_order is held)",
    |ctx| {
        let s = ctx.store();
        for id in [3u32, 1, 2] {
            s.store_prekey(id, b"k", false).await?;
        }
        let ids: Vec<u32> = s
            .load_prekeys_batch(&[3, 1, 3, 2])
            .await?
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        let order = match ids.as_slice() {
            [3, 1, 3, 2] => "request order, repeated ids repeated",
            [3, 1, 2] => "request order, repeated ids once",
            [1, 2, 3] => "sorted by id, repeated ids once",
            [1, 2, 3, 3] | [1, 2, 3, 3, ..] => "sorted by id, repeated ids repeated",
            _ => "other",
        };
        if let Some(declared) = ctx.caps.choices.prekey_batch_order {
            let expected: &[u32] = match declared {
                PrekeyBatchOrder::RequestOrderOnce => &[3, 1, 2],
                PrekeyBatchOrder::RequestOrderRepeated => &[3, 1, 3, 2],
                PrekeyBatchOrder::SortedOnce => &[1, 2, 3],
            };
            ensure_eq!(
                ids.as_slice(),
                expected,
                "declared prekey_batch_order {declared:?} for [3, 1, 3, 2]"
            );
        }
        Ok(Some(format!(
            "requested [3, 1, 3, 2], got {ids:?}: {order}"
        )))
    }
);

flaw! {
    /// Declares request order with repeats, sorts and deduplicates.
    prekey_batch_order_not_as_declared, caught_by: load_prekeys_batch_order;
    async fn load_prekeys_batch(&self, ids: &[u32]) -> Result<Vec<(u32, Bytes)>> {
        let mut got = self.inner.load_prekeys_batch(ids).await?;
        got.sort_by_key(|(id, _)| *id);
        got.dedup_by_key(|(id, _)| *id);
        Ok(got)
    }
}

check!(
    mark_prekeys_uploaded_never_resurrects,
    "SignalStore",
    Contract,
    Nothing,
    [
        store_prekey,
        load_prekey,
        mark_prekeys_uploaded,
        remove_prekey
    ],
    "mark_prekeys_uploaded: UPDATE semantics; a key consumed (deleted) before this call must stay deleted, never be resurrected by an upsert",
    |ctx| {
        let s = ctx.store();
        s.store_prekey(1, b"one", false).await?;
        s.store_prekey(2, b"two", false).await?;
        s.remove_prekey(2).await?;
        s.mark_prekeys_uploaded(&[1, 2, 3]).await?;
        ensure_eq!(
            s.load_prekey(2).await?,
            None,
            "deleted prekey 2 after marking"
        );
        ensure_eq!(
            s.load_prekey(3).await?,
            None,
            "never-stored prekey 3 after marking"
        );
        ensure_eq!(
            s.load_prekey(1).await?,
            Some(Bytes::from_static(b"one")),
            "prekey 1 keeps its record"
        );
        s.mark_prekeys_uploaded(&[]).await?;
        Ok(None)
    }
);

flaw! {
    /// Marking uploaded upserts: a removed prekey comes back, empty.
    mark_uploaded_upserts, caught_by: mark_prekeys_uploaded_never_resurrects;
    async fn mark_prekeys_uploaded(&self, ids: &[u32]) -> Result<()> {
        for &id in ids {
            let record = self.inner.load_prekey(id).await?.unwrap_or_default();
            self.inner.store_prekey(id, &record, true).await?;
        }
        Ok(())
    }
}

check!(
    max_prekey_id_is_zero_when_empty,
    "SignalStore",
    Contract,
    Nothing,
    [store_prekey, remove_prekey, get_max_prekey_id],
    "get_max_prekey_id: the maximum pre-key ID currently stored, or 0 if none exist",
    |ctx| {
        let s = ctx.store();
        ensure_eq!(s.get_max_prekey_id().await?, 0, "empty store");
        s.store_prekey(10, b"a", false).await?;
        s.store_prekey(3, b"b", false).await?;
        ensure_eq!(s.get_max_prekey_id().await?, 10, "with ids 3 and 10");
        s.remove_prekey(10).await?;
        ensure_eq!(
            s.get_max_prekey_id().await?,
            3,
            "after removing the maximum"
        );
        Ok(None)
    }
);

flaw! {
    /// An empty store's max prekey id is 1.
    max_prekey_one_when_empty, caught_by: max_prekey_id_is_zero_when_empty;
    async fn get_max_prekey_id(&self) -> Result<u32> {
        Ok(self.inner.get_max_prekey_id().await?.max(1))
    }
}

check!(
    prekey_ids_above_i32_max,
    "SignalStore",
    Defect,
    Nothing,
    [store_prekey, load_prekey, get_max_prekey_id],
    "pre-key ids are u32: get_max_prekey_id returns the maximum pre-key ID currently stored",
    |ctx| {
        let s = ctx.store();
        s.store_prekey(5, b"small", false).await?;
        s.store_prekey(0x8000_0001, b"big", false).await?;
        ensure_eq!(
            s.load_prekey(0x8000_0001).await?,
            Some(Bytes::from_static(b"big")),
            "id 0x80000001"
        );
        ensure_eq!(
            s.get_max_prekey_id().await?,
            0x8000_0001,
            "max with ids 5 and 0x80000001 (ids >= 2^31 must not turn negative)"
        );
        Ok(None)
    }
);

flaw! {
    /// Ids of 2^31 and above are missed by the max (stored as i32).
    max_prekey_ignores_high_ids, caught_by: prekey_ids_above_i32_max;
    async fn get_max_prekey_id(&self) -> Result<u32> {
        let max = self.inner.get_max_prekey_id().await?;
        Ok(if max > i32::MAX as u32 { 5 } else { max })
    }
}

check!(
    signed_prekeys_round_trip,
    "SignalStore",
    Contract,
    Nothing,
    [
        store_signed_prekey,
        load_signed_prekey,
        load_all_signed_prekeys,
        remove_signed_prekey
    ],
    "store_signed_prekey upserts; load_signed_prekey and load_all_signed_prekeys return them; remove_signed_prekey removes",
    |ctx| {
        let s = ctx.store();
        s.store_signed_prekey(1, b"a").await?;
        s.store_signed_prekey(1, b"b").await?;
        s.store_signed_prekey(2, b"c").await?;
        ensure_eq!(
            s.load_signed_prekey(1).await?,
            Some(b"b".to_vec()),
            "after upsert"
        );
        let mut all = s.load_all_signed_prekeys().await?;
        all.sort();
        ensure_eq!(
            all,
            vec![(1, b"b".to_vec()), (2, b"c".to_vec())],
            "load_all_signed_prekeys"
        );
        s.remove_signed_prekey(1).await?;
        ensure_eq!(s.load_signed_prekey(1).await?, None, "after remove");
        ensure_eq!(
            s.load_all_signed_prekeys().await?.len(),
            1,
            "count after remove"
        );
        Ok(None)
    }
);

flaw! {
    /// Listing signed prekeys drops one.
    signed_prekey_list_drops_one, caught_by: signed_prekeys_round_trip;
    async fn load_all_signed_prekeys(&self) -> Result<Vec<(u32, Vec<u8>)>> {
        let mut all = self.inner.load_all_signed_prekeys().await?;
        all.pop();
        Ok(all)
    }
}

check!(
    sender_keys_round_trip,
    "SignalStore",
    Contract,
    Nothing,
    [
        put_sender_key,
        put_sender_keys_batch,
        get_sender_key,
        delete_sender_key
    ],
    "put_sender_key / put_sender_keys_batch upsert (last duplicate wins); get_sender_key returns; delete_sender_key removes",
    |ctx| {
        let s = ctx.store();
        s.put_sender_key("g@g.us::u:1", b"one").await?;
        let batch: Vec<(Arc<str>, Bytes)> = vec![
            ("g@g.us::u:1".into(), Bytes::from_static(b"two")),
            ("g@g.us::v:0".into(), Bytes::from_static(b"v")),
            ("g@g.us::u:1".into(), Bytes::from_static(b"three")),
        ];
        s.put_sender_keys_batch(&batch).await?;
        ensure_eq!(
            s.get_sender_key("g@g.us::u:1").await?,
            Some(b"three".to_vec()),
            "last duplicate"
        );
        ensure_eq!(
            s.get_sender_key("g@g.us::v:0").await?,
            Some(b"v".to_vec()),
            "other key"
        );
        s.delete_sender_key("g@g.us::u:1").await?;
        ensure_eq!(s.get_sender_key("g@g.us::u:1").await?, None, "after delete");
        Ok(None)
    }
);

flaw! {
    /// Deleting a sender key does nothing.
    delete_sender_key_is_noop, caught_by: sender_keys_round_trip;
    async fn delete_sender_key(&self, _address: &str) -> Result<()> {
        Ok(())
    }
}
