//! `MsgSecretStore`: the secrets of sent messages, for decrypting replies to them.

use async_trait::async_trait;
use wacore::store::error::Result;
use wacore::store::traits::{
    MessageSecret, MsgSecretEntry, MsgSecretStore, merge_msg_secret_expiry,
    merge_msg_secret_message_ts,
};

use crate::store::{PostgresStore, last_wins};

/// Folds duplicate keys of one batch the way a conflict with a stored row
/// merges, so the one statement sees each key once.
fn merge_duplicates(entries: Vec<MsgSecretEntry>) -> Vec<MsgSecretEntry> {
    let mut merged: std::collections::HashMap<(String, String, String), MsgSecretEntry> =
        std::collections::HashMap::new();
    for e in &entries {
        let key = (
            e.chat.to_string(),
            e.sender.to_string(),
            e.msg_id.to_string(),
        );
        merged
            .entry(key)
            .and_modify(|m| {
                m.secret = e.secret;
                m.expires_at = merge_msg_secret_expiry(m.expires_at, e.expires_at);
                m.message_ts = merge_msg_secret_message_ts(m.message_ts, e.message_ts);
            })
            .or_insert_with(|| e.clone());
    }
    last_wins(entries, |e| {
        (e.chat.clone(), e.sender.clone(), e.msg_id.clone())
    })
    .into_iter()
    .map(|e| {
        let key = (
            e.chat.to_string(),
            e.sender.to_string(),
            e.msg_id.to_string(),
        );
        merged.remove(&key).unwrap_or(e)
    })
    .collect()
}

// Every method is overridden: a trait default would silently change
// behaviour (a read-modify-write race, a row-by-row batch). CI runs clippy.
#[async_trait]
#[deny(clippy::missing_trait_methods)]
impl MsgSecretStore for PostgresStore {
    /// `put_msg_secrets` of one entry with no expiry and unknown parent time.
    async fn put_msg_secret(
        &self,
        chat: &str,
        sender: &str,
        msg_id: &str,
        secret: &MessageSecret,
    ) -> Result<()> {
        self.put_msg_secrets(vec![MsgSecretEntry {
            chat: chat.into(),
            sender: sender.into(),
            msg_id: msg_id.into(),
            secret: *secret,
            expires_at: 0,
            message_ts: 0,
        }])
        .await
        .map(drop)
    }

    /// One statement. On a key conflict the secret is replaced, the expiry
    /// merges like `merge_msg_secret_expiry` (0 = never wins, else the later)
    /// and the parent time like `merge_msg_secret_message_ts` (the later),
    /// in SQL, so racing writers in any processes merge too. Returns the
    /// number of entries written.
    async fn put_msg_secrets(&self, entries: Vec<MsgSecretEntry>) -> Result<usize> {
        if entries.is_empty() {
            return Ok(0);
        }
        let written = entries.len();
        let rows = merge_duplicates(entries);
        let chats: Vec<&[u8]> = rows.iter().map(|e| e.chat.as_bytes()).collect();
        let senders: Vec<&[u8]> = rows.iter().map(|e| e.sender.as_bytes()).collect();
        let ids: Vec<&[u8]> = rows.iter().map(|e| e.msg_id.as_bytes()).collect();
        let secrets: Vec<&[u8]> = rows.iter().map(|e| e.secret.as_slice()).collect();
        let expiries: Vec<i64> = rows.iter().map(|e| e.expires_at).collect();
        let times: Vec<i64> = rows.iter().map(|e| e.message_ts).collect();
        self.execute(
            "INSERT INTO msg_secrets (device_id, chat, sender, msg_id, secret, expires_at, message_ts)
             SELECT $1, * FROM UNNEST($2::bytea[], $3::bytea[], $4::bytea[], $5::bytea[],
                                      $6::bigint[], $7::bigint[])
             ON CONFLICT (device_id, chat, sender, msg_id) DO UPDATE SET
                 secret = EXCLUDED.secret,
                 expires_at = CASE WHEN msg_secrets.expires_at = 0 OR EXCLUDED.expires_at = 0
                                   THEN 0 ELSE GREATEST(msg_secrets.expires_at, EXCLUDED.expires_at) END,
                 message_ts = GREATEST(msg_secrets.message_ts, EXCLUDED.message_ts)",
            &[
                &self.device_id(),
                &chats,
                &senders,
                &ids,
                &secrets,
                &expiries,
                &times,
            ],
        )
        .await?;
        Ok(written)
    }

    async fn get_msg_secret(
        &self,
        chat: &str,
        sender: &str,
        msg_id: &str,
    ) -> Result<Option<Vec<u8>>> {
        Ok(self
            .get_msg_secret_with_ts(chat, sender, msg_id)
            .await?
            .map(|(secret, _)| secret))
    }

    /// The stored secret and the parent message time (`message_ts`, 0 when unknown).
    async fn get_msg_secret_with_ts(
        &self,
        chat: &str,
        sender: &str,
        msg_id: &str,
    ) -> Result<Option<(Vec<u8>, i64)>> {
        let row = self
            .query_opt(
                "SELECT secret, message_ts FROM msg_secrets
                 WHERE device_id = $1 AND chat = $2 AND sender = $3 AND msg_id = $4",
                &[
                    &self.device_id(),
                    &chat.as_bytes(),
                    &sender.as_bytes(),
                    &msg_id.as_bytes(),
                ],
            )
            .await?;
        Ok(row.map(|r| (r.get(0), r.get(1))))
    }

    /// Deletes rows with `expires_at != 0 && expires_at <= cutoff_timestamp`.
    async fn delete_expired_msg_secrets(&self, cutoff_timestamp: i64) -> Result<u32> {
        let deleted = self
            .execute(
                "DELETE FROM msg_secrets
                 WHERE device_id = $1 AND expires_at <> 0 AND expires_at <= $2",
                &[&self.device_id(), &cutoff_timestamp],
            )
            .await?;
        Ok(u32::try_from(deleted).unwrap_or(u32::MAX))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: &str, secret: u8, expires_at: i64, message_ts: i64) -> MsgSecretEntry {
        MsgSecretEntry {
            chat: "c".into(),
            sender: "s".into(),
            msg_id: id.into(),
            secret: [secret; 32],
            expires_at,
            message_ts,
        }
    }

    #[test]
    fn duplicates_in_a_batch_merge_like_a_stored_conflict() {
        let merged = merge_duplicates(vec![
            entry("a", 1, 100, 5),
            entry("b", 2, 0, 0),
            entry("a", 3, 50, 9),
        ]);
        assert_eq!(merged.len(), 2);
        let a = merged.iter().find(|e| &*e.msg_id == "a").unwrap();
        assert_eq!((a.secret[0], a.expires_at, a.message_ts), (3, 100, 9));
        let merged = merge_duplicates(vec![entry("a", 1, 100, 5), entry("a", 1, 0, 0)]);
        assert_eq!((merged[0].expires_at, merged[0].message_ts), (0, 5));
    }
}
