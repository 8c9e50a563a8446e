//! Several accounts in one store, and persistence across reopen.

use bytes::Bytes;
use wacore::store::Device;
use wacore::store::traits::TcTokenEntry;

use super::{CHAT, SENDER, check, index, mac, mapping};
use crate::{Failure, ensure, ensure_eq};

crate::storage::checks::register! {
    accounts:
    accounts_are_isolated,
    reopen_keeps_every_domain,
    sixty_four_concurrent_callers_finish,
}

check!(
    accounts_are_isolated,
    "Backend",
    Contract,
    MultiAccount,
    [
        get_session,
        put_session,
        store_prekey,
        get_max_prekey_id,
        put_mutation_macs,
        get_mutation_mac,
        get_sender_key_devices,
        set_sender_key_status,
        clear_all_sender_key_devices,
        put_lid_mapping,
        get_all_lid_mappings,
        put_tc_token,
        get_all_tc_token_jids,
        store_sent_message,
        take_sent_message,
        delete_expired_sent_messages,
        save,
        exists,
        create,
        put_msg_secret,
        get_msg_secret,
        delete_expired_msg_secrets
    ],
    "accounts (device ids) of one store are fully isolated: no read of one sees another's rows, no sweep touches another's",
    |ctx| {
        let one = ctx.store();
        super::started(&one).await?;
        let two = ctx.instance.account(2).await?;
        one.put_session("a@lid", b"one").await?;
        two.put_session("a@lid", b"two").await?;
        one.store_prekey(9, b"p", false).await?;
        one.put_mutation_macs("regular", 1, &[mac(1, 1)]).await?;
        one.set_sender_key_status("g@g.us", &[("d", true)]).await?;
        one.put_lid_mapping(&mapping("100000000000001", "5511900000001", 1))
            .await?;
        one.put_msg_secret(CHAT, SENDER, "m", &[1; 32]).await?;
        one.store_sent_message("c", "m", b"x").await?;
        one.put_tc_token(
            "j",
            &TcTokenEntry {
                token: b"t".to_vec(),
                token_timestamp: 1,
                sender_timestamp: None,
            },
        )
        .await?;
        one.save(&Device::new()).await?;

        ensure_eq!(
            two.get_session("a@lid").await?,
            Some(Bytes::from_static(b"two")),
            "account 2's own session"
        );
        ensure_eq!(
            one.get_session("a@lid").await?,
            Some(Bytes::from_static(b"one")),
            "account 1's own session"
        );
        ensure_eq!(two.get_max_prekey_id().await?, 0, "account 2 prekeys");
        ensure!(
            two.get_mutation_mac("regular", &index(1)).await?.is_none(),
            "account 2 mutation MACs"
        );
        ensure!(
            two.get_sender_key_devices("g@g.us").await?.is_empty(),
            "account 2 sender-key devices"
        );
        ensure!(
            two.get_all_lid_mappings().await?.is_empty(),
            "account 2 LID mappings"
        );
        ensure!(
            two.get_msg_secret(CHAT, SENDER, "m").await?.is_none(),
            "account 2 msg secrets"
        );
        ensure!(
            two.get_all_tc_token_jids().await?.is_empty(),
            "account 2 tc tokens"
        );
        ensure!(!two.exists().await?, "account 2 device row");
        two.clear_all_sender_key_devices().await?;
        ensure_eq!(
            two.delete_expired_sent_messages(i64::MAX).await?,
            0,
            "account 2 sent-message sweep"
        );
        ensure_eq!(
            two.delete_expired_msg_secrets(i64::MAX).await?,
            0,
            "account 2 msg-secret sweep"
        );
        ensure_eq!(
            one.get_sender_key_devices("g@g.us").await?.len(),
            1,
            "account 1 after account 2's clear_all"
        );
        ensure_eq!(
            one.take_sent_message("c", "m").await?,
            Some(b"x".to_vec()),
            "account 1 after account 2's sweep"
        );
        Ok(None)
    }
);

check!(
    reopen_keeps_every_domain,
    "Backend",
    Contract,
    Persistent,
    [
        put_identity,
        load_identity,
        get_session,
        put_session,
        store_prekey,
        get_max_prekey_id,
        store_signed_prekey,
        load_signed_prekey,
        put_sender_key,
        get_sender_key,
        put_mutation_macs,
        get_mutation_mac,
        get_sender_key_devices,
        set_sender_key_status,
        get_pn_mapping,
        put_lid_mapping,
        get_tc_token,
        touch_tc_token_sender_timestamp,
        store_sent_message,
        take_sent_message,
        save,
        load,
        exists,
        create,
        put_msg_secrets,
        get_msg_secret
    ],
    "a persistent store keeps every acknowledged write across close and reopen",
    |ctx| {
        {
            let s = ctx.store();
            super::started(&s).await?;
            s.save(&Device::new()).await?;
            s.put_identity("a@lid", [1; 32]).await?;
            s.put_session("a@lid", b"session").await?;
            s.store_prekey(0x8000_0001, b"p", false).await?;
            s.store_signed_prekey(1, b"sp").await?;
            s.put_sender_key("g::a", b"sk").await?;
            s.put_mutation_macs("regular", 1, &[mac(1, 1)]).await?;
            s.set_sender_key_status("g@g.us", &[("d", true)]).await?;
            s.put_lid_mapping(&mapping("100000000000001", "5511900000001", 1))
                .await?;
            s.put_msg_secrets(vec![super::secret("m", 3, 0, 77)])
                .await?;
            s.store_sent_message("c", "m", b"x").await?;
            s.touch_tc_token_sender_timestamp("j", 5).await?;
        }
        ctx.instance.reopen().await?;
        let s = ctx.store();
        ensure!(s.load().await?.is_some(), "device after reopen");
        ensure_eq!(
            s.load_identity("a@lid").await?,
            Some([1; 32]),
            "identity after reopen"
        );
        ensure_eq!(
            s.get_session("a@lid").await?,
            Some(Bytes::from_static(b"session")),
            "session after reopen"
        );
        ensure_eq!(
            s.get_max_prekey_id().await?,
            0x8000_0001,
            "prekey after reopen"
        );
        ensure_eq!(
            s.load_signed_prekey(1).await?,
            Some(b"sp".to_vec()),
            "signed prekey after reopen"
        );
        ensure_eq!(
            s.get_sender_key("g::a").await?,
            Some(b"sk".to_vec()),
            "sender key after reopen"
        );
        ensure_eq!(
            s.get_mutation_mac("regular", &index(1)).await?,
            Some(vec![1; 32]),
            "mutation MAC after reopen"
        );
        ensure_eq!(
            s.get_sender_key_devices("g@g.us").await?.len(),
            1,
            "sender-key devices after reopen"
        );
        ensure!(
            s.get_pn_mapping("5511900000001").await?.is_some(),
            "pn mapping after reopen"
        );
        ensure_eq!(
            s.get_msg_secret(CHAT, SENDER, "m").await?,
            Some(vec![3; 32]),
            "msg secret after reopen"
        );
        ensure_eq!(
            s.take_sent_message("c", "m").await?,
            Some(b"x".to_vec()),
            "sent message after reopen"
        );
        ensure_eq!(
            s.get_tc_token("j").await?.and_then(|e| e.sender_timestamp),
            Some(5),
            "tc token after reopen"
        );
        Ok(None)
    }
);

check!(
    sixty_four_concurrent_callers_finish,
    "Backend",
    Contract,
    Nothing,
    [
        get_session,
        put_session,
        store_prekey,
        get_max_prekey_id,
        put_mutation_macs,
        get_tc_token,
        touch_tc_token_sender_timestamp,
        store_sent_message,
        take_sent_message,
        put_msg_secret
    ],
    "a backend serves concurrent callers: 64 tasks mixing reads and writes of every domain finish (no deadlock) within 120 s, and every write is visible after",
    |ctx| {
        let s = ctx.store();
        let work = futures::future::join_all((0..64u32).map(|t| {
            let s = s.clone();
            async move {
                for i in 0..10u32 {
                    let key = format!("t{t}-{i}@lid");
                    s.put_session(&key, &[t as u8]).await?;
                    s.get_session(&format!("t{}-{i}@lid", (t + 1) % 64)).await?;
                    s.store_prekey(t * 100 + i, b"p", false).await?;
                    s.put_mutation_macs("regular", 1, &[mac(u64::from(t) * 100 + u64::from(i), 1)])
                        .await?;
                    s.touch_tc_token_sender_timestamp("shared@lid", i64::from(t))
                        .await?;
                    s.put_msg_secret(CHAT, SENDER, &key, &[1; 32]).await?;
                    s.store_sent_message("c", &key, b"x").await?;
                    s.take_sent_message("c", &key).await?;
                }
                Ok::<(), Failure>(())
            }
        }));
        // A timer thread, not a runtime timer: the watchdog works on any executor.
        let (fire, fired) = futures::channel::oneshot::channel::<()>();
        std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_secs(120));
            let _ = fire.send(());
        });
        futures::pin_mut!(work);
        match futures::future::select(work, fired).await {
            futures::future::Either::Left((results, _)) => {
                for r in results {
                    r?;
                }
            }
            futures::future::Either::Right(_) => {
                return Err(Failure(
                    "64 concurrent callers did not finish in 120 s (deadlock?)".into(),
                ));
            }
        }
        for t in [0u32, 63] {
            ensure!(
                s.get_session(&format!("t{t}-9@lid")).await?.is_some(),
                "task {t}'s last session"
            );
        }
        ensure_eq!(
            s.get_max_prekey_id().await?,
            6309,
            "greatest prekey written"
        );
        ensure_eq!(
            s.get_tc_token("shared@lid")
                .await?
                .and_then(|e| e.sender_timestamp),
            Some(63),
            "shared tc token after 640 touches"
        );
        Ok(None)
    }
);
