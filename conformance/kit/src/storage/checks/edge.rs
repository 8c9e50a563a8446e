//! Edge inputs across traits: empty, unicode, huge, extreme ids and timestamps.

use std::sync::Arc;

use bytes::Bytes;
use wacore::store::traits::{DeviceListRecord, TcTokenEntry};

use super::{CHAT, SENDER, check, index, mac, mapping, secret};
use crate::storage::flaws::flaw;
use crate::{Failure, ensure, ensure_eq};

crate::storage::checks::register! {
    edge:
    empty_strings_and_batches,
    unicode_keys,
    large_keys_and_values,
    large_batches,
    ids_zero_and_u32_max,
    timestamps_at_i64_limits,
    device_list_without_raw_id,
}

check!(
    empty_strings_and_batches,
    "Backend",
    Contract,
    Nothing,
    [
        put_identities_batch,
        get_session,
        put_session,
        put_sessions_batch,
        store_prekeys_batch,
        put_sender_key,
        put_sender_keys_batch,
        get_sender_key,
        put_mutation_macs,
        update_device_lists,
        get_tc_token,
        put_tc_token,
        store_sent_message,
        take_sent_message
    ],
    "empty keys, empty values and empty batches are ordinary input: stored and returned, or a no-op for empty batches",
    |ctx| {
        let s = ctx.store();
        s.put_session("", b"").await?;
        ensure_eq!(
            s.get_session("").await?,
            Some(Bytes::new()),
            "empty address and session"
        );
        s.put_sender_key("", b"").await?;
        ensure_eq!(
            s.get_sender_key("").await?,
            Some(vec![]),
            "empty sender key"
        );
        s.put_sessions_batch(&[]).await?;
        s.put_identities_batch(&[]).await?;
        s.put_sender_keys_batch(&[]).await?;
        s.store_prekeys_batch(&[], false).await?;
        s.put_mutation_macs("regular", 1, &[]).await?;
        s.update_device_lists(vec![]).await?;
        s.put_tc_token(
            "",
            &TcTokenEntry {
                token: vec![],
                token_timestamp: 0,
                sender_timestamp: None,
            },
        )
        .await?;
        ensure!(s.get_tc_token("").await?.is_some(), "empty jid tc token");
        s.store_sent_message("", "", b"").await?;
        ensure_eq!(
            s.take_sent_message("", "").await?,
            Some(vec![]),
            "empty sent message"
        );
        Ok(None)
    }
);

flaw! {
    /// An empty session batch is an error.
    empty_batch_is_an_error, caught_by: empty_strings_and_batches;
    async fn put_sessions_batch(&self, sessions: &[(Arc<str>, Bytes)]) -> Result<()> {
        if sessions.is_empty() {
            return Err(StoreError::Validation("empty batch".into()));
        }
        self.inner.put_sessions_batch(sessions).await
    }
}

check!(
    unicode_keys,
    "Backend",
    Contract,
    Nothing,
    [get_session, put_session, put_msg_secret, get_msg_secret],
    "keys are arbitrary strings: non-ASCII keys are distinct and round-trip",
    |ctx| {
        let s = ctx.store();
        let names = [
            "ünïcødé@lid",
            "Ünïcødé@lid",
            "日本語:3@lid",
            "emoji🦀@s.whatsapp.net",
            "a\u{0}b@lid",
        ];
        for (i, n) in names.iter().enumerate() {
            s.put_session(n, &[i as u8]).await?;
        }
        for (i, n) in names.iter().enumerate() {
            ensure_eq!(
                s.get_session(n).await?,
                Some(Bytes::from(vec![i as u8])),
                "session {n:?}"
            );
        }
        s.put_msg_secret("чат", "отправитель", "ид", &[7; 32])
            .await?;
        ensure_eq!(
            s.get_msg_secret("чат", "отправитель", "ид").await?,
            Some(vec![7; 32]),
            "unicode msg secret key"
        );
        Ok(None)
    }
);

flaw! {
    /// Session keys are case-folded.
    session_keys_case_folded, caught_by: unicode_keys;
    async fn put_session(&self, address: &str, session: &[u8]) -> Result<()> {
        self.inner.put_session(&address.to_lowercase(), session).await
    }
    async fn get_session(&self, address: &str) -> Result<Option<Bytes>> {
        self.inner.get_session(&address.to_lowercase()).await
    }
}

check!(
    large_keys_and_values,
    "Backend",
    Contract,
    Nothing,
    [
        get_session,
        put_session,
        put_mutation_macs,
        get_mutation_mac,
        put_group_metadata
    ],
    "64 KiB keys and values over 1 MiB round-trip",
    |ctx| {
        let s = ctx.store();
        let key = format!("{}@lid", "k".repeat(64 * 1024));
        let value = vec![0xAB; (1 << 20) + 17];
        s.put_session(&key, &value).await?;
        ensure_eq!(
            s.get_session(&key).await?.map(|b| b.len()),
            Some(value.len()),
            "1 MiB session under a 64 KiB key"
        );
        s.put_group_metadata(&key, &value).await?;
        let mac_name = "m".repeat(64 * 1024);
        s.put_mutation_macs(&mac_name, 1, &[mac(1, 1)]).await?;
        ensure_eq!(
            s.get_mutation_mac(&mac_name, &index(1)).await?,
            Some(vec![1; 32]),
            "64 KiB collection name"
        );
        Ok(None)
    }
);

flaw! {
    /// Session values are cut at 1 MiB.
    values_truncated_at_1_mib, caught_by: large_keys_and_values;
    async fn put_session(&self, address: &str, session: &[u8]) -> Result<()> {
        self.inner.put_session(address, &session[..session.len().min(1 << 20)]).await
    }
}

check!(
    large_batches,
    "Backend",
    Contract,
    Nothing,
    [
        put_sessions_batch,
        has_session,
        put_mutation_macs,
        get_mutation_macs,
        put_msg_secrets,
        get_msg_secret
    ],
    "batches of 100,000 rows are stored whole",
    |ctx| {
        let s = ctx.store();
        let sessions: Vec<(Arc<str>, Bytes)> = (0..100_000)
            .map(|i| (Arc::from(format!("u{i}@lid")), Bytes::from_static(b"s")))
            .collect();
        s.put_sessions_batch(&sessions).await?;
        ensure!(
            s.has_session("u99999@lid").await?,
            "last session of the batch"
        );
        let macs: Vec<_> = (0..100_000).map(|i| mac(i, 5)).collect();
        s.put_mutation_macs("regular", 1, &macs).await?;
        let keys: Vec<[u8; 32]> = (0..100_000).map(index).collect();
        ensure_eq!(
            s.get_mutation_macs("regular", &keys).await?.len(),
            100_000,
            "MACs read back"
        );
        let secrets: Vec<_> = (0..100_000)
            .map(|i| secret(&format!("m{i}"), 1, 0, 0))
            .collect();
        ensure_eq!(
            s.put_msg_secrets(secrets).await?,
            100_000,
            "put_msg_secrets count"
        );
        ensure!(
            s.get_msg_secret(CHAT, SENDER, "m99999").await?.is_some(),
            "last secret"
        );
        Ok(None)
    }
);

flaw! {
    /// Session batches keep their first 10,000 rows.
    batch_capped_at_10k, caught_by: large_batches;
    async fn put_sessions_batch(&self, sessions: &[(Arc<str>, Bytes)]) -> Result<()> {
        self.inner.put_sessions_batch(&sessions[..sessions.len().min(10_000)]).await
    }
}

check!(
    ids_zero_and_u32_max,
    "SignalStore",
    Contract,
    Nothing,
    [
        store_prekey,
        load_prekey,
        store_signed_prekey,
        load_signed_prekey,
        load_all_signed_prekeys
    ],
    "pre-key and signed pre-key ids span u32: 0 and u32::MAX round-trip",
    |ctx| {
        let s = ctx.store();
        for id in [0, u32::MAX] {
            s.store_prekey(id, &id.to_be_bytes(), false).await?;
            s.store_signed_prekey(id, &id.to_be_bytes()).await?;
        }
        for id in [0, u32::MAX] {
            ensure_eq!(
                s.load_prekey(id).await?,
                Some(Bytes::copy_from_slice(&id.to_be_bytes())),
                "prekey {id}"
            );
            ensure_eq!(
                s.load_signed_prekey(id).await?,
                Some(id.to_be_bytes().to_vec()),
                "signed prekey {id}"
            );
        }
        ensure_eq!(
            s.load_all_signed_prekeys().await?.len(),
            2,
            "both signed prekeys listed"
        );
        Ok(None)
    }
);

flaw! {
    /// Prekey id u32::MAX is refused.
    max_id_rejected, caught_by: ids_zero_and_u32_max;
    async fn store_prekey(&self, id: u32, record: &[u8], uploaded: bool) -> Result<()> {
        if id == u32::MAX {
            return Err(StoreError::Validation("id out of range".into()));
        }
        self.inner.store_prekey(id, record, uploaded).await
    }
}

check!(
    timestamps_at_i64_limits,
    "Backend",
    Contract,
    Nothing,
    [
        get_lid_mapping,
        put_lid_mapping,
        get_tc_token,
        put_tc_token,
        exists,
        create,
        put_msg_secrets,
        get_msg_secret,
        delete_expired_msg_secrets
    ],
    "i64 timestamps round-trip exactly, including values beyond i32 and the i64 limits",
    |ctx| {
        let s = ctx.store();
        super::started(&s).await?;
        for (jid, ts) in [
            ("min", i64::MIN),
            ("max", i64::MAX),
            ("ms", 1_700_000_000_000),
        ] {
            s.put_tc_token(
                jid,
                &TcTokenEntry {
                    token: b"t".to_vec(),
                    token_timestamp: ts,
                    sender_timestamp: Some(ts),
                },
            )
            .await?;
            let e = s
                .get_tc_token(jid)
                .await?
                .ok_or_else(|| Failure(format!("tc token {jid} missing")))?;
            ensure_eq!(
                (e.token_timestamp, e.sender_timestamp),
                (ts, Some(ts)),
                "tc token timestamps {jid}"
            );
        }
        let mut m = mapping("100000000000001", "5511900000001", i64::MAX);
        m.created_at = i64::MIN;
        s.put_lid_mapping(&m).await?;
        let got = s
            .get_lid_mapping("100000000000001")
            .await?
            .ok_or_else(|| Failure("mapping missing".into()))?;
        ensure_eq!(
            (got.created_at, got.updated_at),
            (i64::MIN, i64::MAX),
            "lid mapping timestamps"
        );
        s.put_msg_secrets(vec![secret("far", 1, i64::MAX, i64::MAX)])
            .await?;
        ensure_eq!(
            s.get_msg_secret(CHAT, SENDER, "far").await?,
            Some(vec![1; 32]),
            "secret with i64::MAX expiry"
        );
        ensure_eq!(
            s.delete_expired_msg_secrets(i64::MAX - 1).await?,
            0,
            "expiry i64::MAX outlives cutoff i64::MAX - 1"
        );
        Ok(None)
    }
);

flaw! {
    /// tc-token timestamps are clamped to the i32 range.
    timestamps_clamped_to_i32, caught_by: timestamps_at_i64_limits;
    async fn put_tc_token(&self, jid: &str, entry: &TcTokenEntry) -> Result<()> {
        let clamp = |t: i64| t.clamp(i32::MIN as i64, i32::MAX as i64);
        let entry = TcTokenEntry {
            token: entry.token.clone(),
            token_timestamp: clamp(entry.token_timestamp),
            sender_timestamp: entry.sender_timestamp.map(clamp),
        };
        self.inner.put_tc_token(jid, &entry).await
    }
}

check!(
    device_list_without_raw_id,
    "ProtocolStore",
    Contract,
    Nothing,
    [update_device_list, get_devices],
    "DeviceListRecord with raw_id None, no phash and no devices round-trips",
    |ctx| {
        let s = ctx.store();
        s.update_device_list(DeviceListRecord {
            user: "u".into(),
            devices: vec![],
            timestamp: 0,
            phash: None,
            raw_id: None,
        })
        .await?;
        let r = s
            .get_devices("u")
            .await?
            .ok_or_else(|| Failure("record missing".into()))?;
        ensure_eq!(
            (r.devices.len(), r.phash, r.raw_id),
            (0, None, None),
            "empty record"
        );
        Ok(None)
    }
);

flaw! {
    /// A missing raw id reads back as 0.
    raw_id_none_becomes_zero, caught_by: device_list_without_raw_id;
    async fn update_device_list(&self, mut record: DeviceListRecord) -> Result<()> {
        record.raw_id = Some(record.raw_id.unwrap_or(0));
        self.inner.update_device_list(record).await
    }
}
