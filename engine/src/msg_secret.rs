//! `MsgSecretStore`: per-message secrets with merge-on-conflict retention.

use async_trait::async_trait;
use wacore::store::error::Result;
use wacore::store::traits::{
    MessageSecret, MsgSecretEntry, MsgSecretStore, merge_msg_secret_expiry,
    merge_msg_secret_message_ts,
};

use crate::RedbStore;
use crate::keys::Key;
use crate::records::{MsgSecretRecord, Record};
use crate::rows::delete_where;
use crate::tables::MSG_SECRETS;

fn secret_key(account: &Key, chat: &str, sender: &str, msg_id: &str) -> Key {
    account.message(chat, sender, msg_id)
}

// Every method is overridden: a trait default would silently change
// behaviour (a read-modify-write race, a row-by-row batch). CI runs clippy.
#[async_trait]
#[deny(clippy::missing_trait_methods)]
impl MsgSecretStore for RedbStore {
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

    /// One transaction. On a key conflict the secret is replaced, the expiry
    /// merges with `merge_msg_secret_expiry` (0 = never wins, else the later)
    /// and the parent time with `merge_msg_secret_message_ts` (the later).
    /// Returns the number of entries written.
    async fn put_msg_secrets(&self, entries: Vec<MsgSecretEntry>) -> Result<usize> {
        if entries.is_empty() {
            return Ok(0);
        }
        let account = self.key();
        self.write(move |txn| {
            let mut table = txn.open_table(MSG_SECRETS)?;
            for entry in &entries {
                let key = secret_key(&account, &entry.chat, &entry.sender, &entry.msg_id);
                let fresh = MsgSecretRecord {
                    secret: entry.secret,
                    expires_at: entry.expires_at,
                    message_ts: entry.message_ts,
                };
                // Insert first and merge only if a row was there: one lookup
                // per new row instead of a get and an insert.
                let old = table
                    .replace(key.as_slice(), fresh.encode().as_slice())?
                    .map(|v| MsgSecretRecord::decode(&v))
                    .transpose()?;
                if let Some(old) = old {
                    let merged = MsgSecretRecord {
                        secret: entry.secret,
                        expires_at: merge_msg_secret_expiry(old.expires_at, entry.expires_at),
                        message_ts: merge_msg_secret_message_ts(old.message_ts, entry.message_ts),
                    };
                    if merged != fresh {
                        table.insert(key.as_slice(), merged.encode().as_slice())?;
                    }
                }
            }
            Ok(entries.len())
        })
        .await
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
        let key = secret_key(&self.key(), chat, sender, msg_id);
        Ok(self
            .get_record::<MsgSecretRecord>(MSG_SECRETS, key)?
            .map(|r| (r.secret.to_vec(), r.message_ts)))
    }

    /// Deletes rows with `expires_at != 0 && expires_at <= cutoff_timestamp`.
    async fn delete_expired_msg_secrets(&self, cutoff_timestamp: i64) -> Result<u32> {
        let prefix = self.key();
        self.write(move |txn| {
            delete_where(txn, MSG_SECRETS, &prefix, |_, v| {
                let r = MsgSecretRecord::decode(v)?;
                Ok(r.expires_at != 0 && r.expires_at <= cutoff_timestamp)
            })
        })
        .await
    }
}
