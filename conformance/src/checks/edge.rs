//! Edge inputs across traits: empty, unicode, huge, extreme ids and timestamps.

use std::sync::Arc;

use bytes::Bytes;
use wacore::store::traits::{DeviceListRecord, TcTokenEntry};

use super::{CHAT, SENDER, check, index, mac, mapping, secret};
use crate::{Failure, ensure, ensure_eq};

check!(
    empty_strings_and_batches,
    "Backend",
    Contract,
    Nothing,
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

check!(
    unicode_keys,
    "Backend",
    Contract,
    Nothing,
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

check!(
    large_keys_and_values,
    "Backend",
    Contract,
    Nothing,
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

check!(
    large_batches,
    "Backend",
    Contract,
    Nothing,
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

check!(
    ids_zero_and_u32_max,
    "SignalStore",
    Contract,
    Nothing,
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

check!(
    timestamps_at_i64_limits,
    "Backend",
    Contract,
    Nothing,
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

check!(
    device_list_without_raw_id,
    "ProtocolStore",
    Contract,
    Nothing,
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
