//! `MsgSecretStore` operations.

use std::sync::Arc;

use proptest::prelude::*;
use wacore::store::traits::{Backend, MsgSecretEntry, merge_msg_secret_expiry};

use super::domain::{key, list, val};
use super::{Expect, Model, Out, Step, k};

/// A `MsgSecretStore` call. Chat and sender are fixed; the key is the id.
#[derive(Debug, Clone)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[allow(missing_docs)]
pub enum MsgSecretOp {
    PutMsgSecret(u8, u8),
    /// `(id, secret byte, expires_at)`.
    PutMsgSecrets(Vec<(u8, u8, i64)>),
    GetMsgSecret(u8),
    GetMsgSecretWithTs(u8),
    DeleteExpiredMsgSecrets(i64),
}

/// Every operation with its generator.
pub(super) fn strategy() -> impl Strategy<Value = MsgSecretOp> {
    use MsgSecretOp::*;
    prop_oneof![
        (key(), val()).prop_map(|(m, b)| PutMsgSecret(m, b)),
        list((key(), val(), prop_oneof![Just(0i64), 1i64..6])).prop_map(PutMsgSecrets),
        key().prop_map(GetMsgSecret),
        key().prop_map(GetMsgSecretWithTs),
        (0i64..7).prop_map(DeleteExpiredMsgSecrets),
    ]
}

impl MsgSecretOp {
    /// The model's transition and the store's call, side by side.
    pub(super) async fn step(&self, m: &mut Model, s: &Arc<dyn Backend>) -> Step {
        use MsgSecretOp::*;
        Ok(match self {
            PutMsgSecret(id, b) => {
                // No expiry (0 = never), and 0 wins every expiry merge.
                m.secrets.insert(k(*id), (vec![*b; 32], 0));
                s.put_msg_secret("chat", "sender", &k(*id), &[*b; 32])
                    .await?;
                (Out::Unit.into(), Out::Unit)
            }
            PutMsgSecrets(rows) => {
                for (id, b, expires_at) in rows {
                    let merged = match m.secrets.get(&k(*id)) {
                        Some((_, old)) => merge_msg_secret_expiry(*old, *expires_at),
                        None => *expires_at,
                    };
                    m.secrets.insert(k(*id), (vec![*b; 32], merged));
                }
                let entries: Vec<MsgSecretEntry> = rows
                    .iter()
                    .map(|(id, b, expires_at)| MsgSecretEntry {
                        chat: Arc::from("chat"),
                        sender: Arc::from("sender"),
                        msg_id: Arc::from(k(*id)),
                        secret: [*b; 32],
                        expires_at: *expires_at,
                        message_ts: 0,
                    })
                    .collect();
                let written = s.put_msg_secrets(entries).await?;
                (
                    Out::Count(rows.len() as u64).into(),
                    Out::Count(written as u64),
                )
            }
            GetMsgSecret(id) => (
                Out::Bytes(m.secrets.get(&k(*id)).map(|(secret, _)| secret.clone())).into(),
                Out::Bytes(s.get_msg_secret("chat", "sender", &k(*id)).await?),
            ),
            GetMsgSecretWithTs(id) => {
                // message_ts is implementation-defined (the default returns 0): compare the secret.
                let got = s.get_msg_secret_with_ts("chat", "sender", &k(*id)).await?;
                (
                    Out::Bytes(m.secrets.get(&k(*id)).map(|(secret, _)| secret.clone())).into(),
                    Out::Bytes(got.map(|(secret, _)| secret)),
                )
            }
            DeleteExpiredMsgSecrets(cutoff) => {
                let before = m.secrets.len();
                m.secrets
                    .retain(|_, (_, expires_at)| *expires_at == 0 || *expires_at > *cutoff);
                let deleted = (before - m.secrets.len()) as u64;
                let got = s.delete_expired_msg_secrets(*cutoff).await?;
                (Expect::from(Out::Count(deleted)), Out::Count(got.into()))
            }
        })
    }
}
