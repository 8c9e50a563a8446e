//! MsgSecretStore checks.

use super::{CHAT, SENDER, check, secret};
use crate::storage::MessageTs;
use crate::storage::flaws::flaw;
use crate::{ensure, ensure_eq};

crate::storage::checks::register! {
    msg_secret:
    msg_secret_round_trip,
    msg_secret_merge_rules,
    msg_secret_expiry_is_inclusive,
    msg_secret_keyed_by_chat_sender_and_id,
    msg_secret_with_ts_returns_stored_time,
    msg_secret_merges_are_atomic,
}

check!(
    msg_secret_round_trip,
    "MsgSecretStore",
    Contract,
    Nothing,
    [
        put_msg_secret,
        put_msg_secrets,
        get_msg_secret,
        get_msg_secret_with_ts,
        delete_expired_msg_secrets
    ],
    "put_msg_secret persists a secret with no expiry; get_msg_secret returns it, None when absent",
    |ctx| {
        let s = ctx.store();
        ensure!(
            s.get_msg_secret(CHAT, SENDER, "m").await?.is_none(),
            "missing secret"
        );
        ensure!(
            s.get_msg_secret_with_ts(CHAT, SENDER, "m").await?.is_none(),
            "missing secret (with ts)"
        );
        s.put_msg_secret(CHAT, SENDER, "m", &[4; 32]).await?;
        ensure_eq!(
            s.get_msg_secret(CHAT, SENDER, "m").await?,
            Some(vec![4; 32]),
            "after put"
        );
        ensure_eq!(
            s.delete_expired_msg_secrets(i64::MAX).await?,
            0,
            "no expiry (0 = never)"
        );
        ensure_eq!(s.put_msg_secrets(vec![]).await?, 0, "empty batch");
        Ok(None)
    }
);

check!(
    msg_secret_merge_rules,
    "MsgSecretStore",
    Contract,
    Nothing,
    [put_msg_secrets, get_msg_secret, delete_expired_msg_secrets],
    "put_msg_secrets: on key conflict merge via merge_msg_secret_expiry (later deadline wins, 0 = never) and merge_msg_secret_message_ts (later non-zero wins)",
    |ctx| {
        let s = ctx.store();
        ensure_eq!(
            s.put_msg_secrets(vec![secret("m", 1, 100, 50)]).await?,
            1,
            "returned count"
        );
        s.put_msg_secrets(vec![secret("m", 2, 90, 0)]).await?;
        ensure_eq!(
            s.get_msg_secret(CHAT, SENDER, "m").await?,
            Some(vec![2; 32]),
            "secret replaced"
        );
        ensure_eq!(
            s.delete_expired_msg_secrets(99).await?,
            0,
            "a shorter deadline must not shrink the window (100 kept)"
        );
        s.put_msg_secrets(vec![secret("m", 2, 0, 40)]).await?;
        ensure_eq!(
            s.delete_expired_msg_secrets(i64::MAX - 1).await?,
            0,
            "0 (never) must win the expiry merge"
        );
        s.put_msg_secrets(vec![secret("n", 1, 10, 0), secret("n", 1, 20, 0)])
            .await?;
        ensure_eq!(
            s.delete_expired_msg_secrets(10).await?,
            0,
            "duplicate in a batch merges too (20 kept)"
        );
        Ok(None)
    }
);

check!(
    msg_secret_expiry_is_inclusive,
    "MsgSecretStore",
    Contract,
    Nothing,
    [put_msg_secrets, get_msg_secret, delete_expired_msg_secrets],
    "delete_expired_msg_secrets(cutoff): delete rows whose non-zero expires_at is at or before cutoff; keep expires_at = 0; return the count",
    |ctx| {
        let s = ctx.store();
        s.put_msg_secrets(vec![
            secret("a", 1, 999, 0),
            secret("b", 1, 1000, 0),
            secret("c", 1, 1001, 0),
            secret("never", 1, 0, 0),
        ])
        .await?;
        ensure_eq!(
            s.delete_expired_msg_secrets(1000).await?,
            2,
            "rows at 999 and 1000 with cutoff 1000"
        );
        ensure!(
            s.get_msg_secret(CHAT, SENDER, "b").await?.is_none(),
            "expires_at == cutoff must go"
        );
        ensure!(
            s.get_msg_secret(CHAT, SENDER, "c").await?.is_some(),
            "expires_at > cutoff must stay"
        );
        ensure!(
            s.get_msg_secret(CHAT, SENDER, "never").await?.is_some(),
            "expires_at 0 must stay"
        );
        Ok(None)
    }
);

flaw! {
    /// Message-secret expiry spares rows at the cutoff (<, not <=).
    msg_secret_expiry_exclusive, caught_by: msg_secret_expiry_is_inclusive;
    async fn delete_expired_msg_secrets(&self, cutoff_timestamp: i64) -> Result<u32> {
        self.inner.delete_expired_msg_secrets(cutoff_timestamp - 1).await
    }
}

check!(
    msg_secret_keyed_by_chat_sender_and_id,
    "MsgSecretStore",
    Contract,
    Nothing,
    [put_msg_secret, get_msg_secret],
    "secrets are keyed by (chat, sender, msg_id): rows differing in any part are distinct",
    |ctx| {
        let s = ctx.store();
        s.put_msg_secret("c1", "s1", "m", &[1; 32]).await?;
        s.put_msg_secret("c2", "s1", "m", &[2; 32]).await?;
        s.put_msg_secret("c1", "s2", "m", &[3; 32]).await?;
        ensure_eq!(
            s.get_msg_secret("c1", "s1", "m").await?,
            Some(vec![1; 32]),
            "(c1, s1, m)"
        );
        ensure_eq!(
            s.get_msg_secret("c2", "s1", "m").await?,
            Some(vec![2; 32]),
            "(c2, s1, m)"
        );
        ensure_eq!(
            s.get_msg_secret("c1", "s2", "m").await?,
            Some(vec![3; 32]),
            "(c1, s2, m)"
        );
        ensure!(
            s.get_msg_secret("c1", "s1", "other").await?.is_none(),
            "(c1, s1, other)"
        );
        Ok(None)
    }
);

flaw! {
    /// Message secrets are keyed without their sender.
    msg_secret_ignores_sender, caught_by: msg_secret_keyed_by_chat_sender_and_id;
    async fn put_msg_secret(
        &self,
        chat: &str,
        _sender: &str,
        msg_id: &str,
        secret: &[u8; wacore::reporting_token::MESSAGE_SECRET_SIZE],
    ) -> Result<()> {
        self.inner.put_msg_secret(chat, "", msg_id, secret).await
    }
    async fn get_msg_secret(&self, chat: &str, _sender: &str, msg_id: &str) -> Result<Option<Vec<u8>>> {
        self.inner.get_msg_secret(chat, "", msg_id).await
    }
}

check!(
    msg_secret_with_ts_returns_stored_time,
    "MsgSecretStore",
    ImplementationDefined,
    Nothing,
    [put_msg_secrets, get_msg_secret_with_ts],
    "get_msg_secret_with_ts: the secret with the parent message time; the default pairs the secret with 0, backends that store message_ts return it (a declared Choices::message_ts is held)",
    |ctx| {
        let s = ctx.store();
        s.put_msg_secrets(vec![secret("m", 9, 0, 1_700_000_123)])
            .await?;
        let got = s.get_msg_secret_with_ts(CHAT, SENDER, "m").await?;
        ensure_eq!(
            got.as_ref().map(|(secret, _)| secret.clone()),
            Some(vec![9; 32]),
            "secret"
        );
        let ts = got.map(|(_, ts)| ts);
        let seen = match ts {
            Some(1_700_000_123) => Some(MessageTs::Stored),
            Some(0) => Some(MessageTs::Zero),
            _ => None,
        };
        if let Some(declared) = ctx.caps.choices.message_ts {
            ensure_eq!(
                seen,
                Some(declared),
                "declared message_ts choice (message_ts 1700000123 returned as {ts:?})"
            );
        }
        Ok(Some(match ts {
            Some(1_700_000_123) => "stores message_ts".to_string(),
            Some(0) => "returns 0 (message_ts not stored)".to_string(),
            other => format!("returned {other:?} for message_ts 1700000123"),
        }))
    }
);

flaw! {
    /// Declares that it stores message_ts, returns 0.
    message_ts_declared_but_zero, caught_by: msg_secret_with_ts_returns_stored_time;
    async fn get_msg_secret_with_ts(&self, chat: &str, sender: &str, msg_id: &str) -> Result<Option<(Vec<u8>, i64)>> {
        Ok(self.inner.get_msg_secret(chat, sender, msg_id).await?.map(|secret| (secret, 0)))
    }
}

check!(
    msg_secret_merges_are_atomic,
    "MsgSecretStore",
    Contract,
    Nothing,
    [
        put_msg_secrets,
        get_msg_secret_with_ts,
        delete_expired_msg_secrets
    ],
    "put_msg_secrets merges on key conflict (later deadline wins, later message_ts wins): concurrent writers of one key converge, no merge is lost",
    |ctx| {
        let s = ctx.store();
        for round in 0..4 {
            let id = format!("race{round}");
            let writers =
                (1..=64i64).map(|i| s.put_msg_secrets(vec![secret(&id, i as u8, 10_000 + i, i)]));
            for result in futures::future::join_all(writers).await {
                result?;
            }
            let with_ts = s.get_msg_secret_with_ts(CHAT, SENDER, &id).await?;
            ensure!(
                with_ts.is_some(),
                "round {round}: the secret is missing after the race"
            );
            ensure_eq!(
                s.delete_expired_msg_secrets(10_063).await?,
                0,
                "round {round}: the greatest deadline (10064) was lost to a concurrent merge"
            );
            ensure_eq!(
                s.delete_expired_msg_secrets(10_064).await?,
                1,
                "round {round}: rows expiring at 10064"
            );
        }
        Ok(None)
    }
);
