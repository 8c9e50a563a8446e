//! SignalStore checks.

use std::sync::Arc;

use bytes::Bytes;

use super::check;
use crate::{ensure, ensure_eq};

check!(
    missing_signal_rows_read_as_none,
    "SignalStore",
    Contract,
    Nothing,
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

check!(
    identity_round_trip,
    "SignalStore",
    Contract,
    Nothing,
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

check!(
    identity_batch_last_duplicate_wins,
    "SignalStore",
    Contract,
    Nothing,
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

check!(
    session_round_trip,
    "SignalStore",
    Contract,
    Nothing,
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

check!(
    has_signal_state_matches_user_and_device_forms,
    "SignalStore",
    Contract,
    Nothing,
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

check!(
    has_signal_state_matches_exactly,
    "SignalStore",
    Defect,
    Nothing,
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

check!(
    prekey_round_trip,
    "SignalStore",
    Contract,
    Nothing,
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

check!(
    load_prekeys_batch_order,
    "SignalStore",
    ImplementationDefined,
    Nothing,
    "load_prekeys_batch: order of the result and treatment of repeated ids are not specified",
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
        Ok(Some(format!(
            "requested [3, 1, 3, 2], got {ids:?}: {order}"
        )))
    }
);

check!(
    mark_prekeys_uploaded_never_resurrects,
    "SignalStore",
    Contract,
    Nothing,
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

check!(
    max_prekey_id_is_zero_when_empty,
    "SignalStore",
    Contract,
    Nothing,
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

check!(
    prekey_ids_above_i32_max,
    "SignalStore",
    Defect,
    Nothing,
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

check!(
    signed_prekeys_round_trip,
    "SignalStore",
    Contract,
    Nothing,
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

check!(
    sender_keys_round_trip,
    "SignalStore",
    Contract,
    Nothing,
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
