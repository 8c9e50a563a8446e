//! `SignalStore` operations: identities, sessions, prekeys, signed prekeys,
//! sender keys.

use std::collections::BTreeMap;
use std::sync::Arc;

use bytes::Bytes;
use proptest::prelude::*;
use wacore::store::traits::Backend;

use super::domain::{id, key, list, val};
use super::{Expect, Model, Out, Step, k, v};

/// A `SignalStore` call.
#[derive(Debug, Clone)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[allow(missing_docs)]
pub enum SignalOp {
    PutIdentity(u8, u8),
    PutIdentitiesBatch(Vec<(u8, u8)>),
    LoadIdentity(u8),
    DeleteIdentity(u8),
    GetSession(u8),
    PutSession(u8, u8),
    PutSessionsBatch(Vec<(u8, u8)>),
    DeleteSession(u8),
    HasSession(u8),
    HasSignalStateForUser(u8),
    StorePrekey(u32, u8),
    StorePrekeysBatch(Vec<(u32, u8)>),
    LoadPrekey(u32),
    LoadPrekeysBatch(Vec<u32>),
    MarkPrekeysUploaded(Vec<u32>),
    RemovePrekey(u32),
    MaxPrekeyId,
    StoreSignedPrekey(u32, u8),
    LoadSignedPrekey(u32),
    LoadAllSignedPrekeys,
    RemoveSignedPrekey(u32),
    PutSenderKey(u8, u8),
    PutSenderKeysBatch(Vec<(u8, u8)>),
    GetSenderKey(u8),
    DeleteSenderKey(u8),
}

/// Every operation with its generator.
pub(super) fn strategy() -> impl Strategy<Value = SignalOp> {
    use SignalOp::*;
    prop_oneof![
        (key(), val()).prop_map(|(a, b)| PutIdentity(a, b)),
        list((key(), val())).prop_map(PutIdentitiesBatch),
        key().prop_map(LoadIdentity),
        key().prop_map(DeleteIdentity),
        key().prop_map(GetSession),
        (key(), val()).prop_map(|(a, b)| PutSession(a, b)),
        list((key(), val())).prop_map(PutSessionsBatch),
        key().prop_map(DeleteSession),
        key().prop_map(HasSession),
        key().prop_map(HasSignalStateForUser),
        (id(), val()).prop_map(|(i, b)| StorePrekey(i, b)),
        list((id(), val())).prop_map(StorePrekeysBatch),
        id().prop_map(LoadPrekey),
        list(id()).prop_map(LoadPrekeysBatch),
        list(id()).prop_map(MarkPrekeysUploaded),
        id().prop_map(RemovePrekey),
        Just(MaxPrekeyId),
        (id(), val()).prop_map(|(i, b)| StoreSignedPrekey(i, b)),
        id().prop_map(LoadSignedPrekey),
        Just(LoadAllSignedPrekeys),
        id().prop_map(RemoveSignedPrekey),
        (key(), val()).prop_map(|(a, b)| PutSenderKey(a, b)),
        list((key(), val())).prop_map(PutSenderKeysBatch),
        key().prop_map(GetSenderKey),
        key().prop_map(DeleteSenderKey),
    ]
}

impl SignalOp {
    /// The model's transition and the store's call, side by side.
    pub(super) async fn step(&self, m: &mut Model, s: &Arc<dyn Backend>) -> Step {
        use SignalOp::*;
        let unit = || Expect::from(Out::Unit);
        Ok(match self {
            PutIdentity(a, b) => {
                m.identities.insert(k(*a), [*b; 32]);
                s.put_identity(&k(*a), [*b; 32]).await?;
                (unit(), Out::Unit)
            }
            PutIdentitiesBatch(rows) => {
                for (a, b) in rows {
                    m.identities.insert(k(*a), [*b; 32]);
                }
                let rows: Vec<(Arc<str>, [u8; 32])> = rows
                    .iter()
                    .map(|(a, b)| (Arc::from(k(*a)), [*b; 32]))
                    .collect();
                s.put_identities_batch(&rows).await?;
                (unit(), Out::Unit)
            }
            LoadIdentity(a) => (
                Out::Bytes(m.identities.get(&k(*a)).map(|key| key.to_vec())).into(),
                Out::Bytes(s.load_identity(&k(*a)).await?.map(|key| key.to_vec())),
            ),
            DeleteIdentity(a) => {
                m.identities.remove(&k(*a));
                s.delete_identity(&k(*a)).await?;
                (unit(), Out::Unit)
            }
            GetSession(a) => (
                Out::Bytes(m.sessions.get(&k(*a)).cloned()).into(),
                Out::Bytes(s.get_session(&k(*a)).await?.map(|b| b.to_vec())),
            ),
            PutSession(a, b) => {
                m.sessions.insert(k(*a), v(*b));
                s.put_session(&k(*a), &v(*b)).await?;
                (unit(), Out::Unit)
            }
            PutSessionsBatch(rows) => {
                for (a, b) in rows {
                    m.sessions.insert(k(*a), v(*b));
                }
                let rows: Vec<(Arc<str>, Bytes)> = rows
                    .iter()
                    .map(|(a, b)| (Arc::from(k(*a)), Bytes::from(v(*b))))
                    .collect();
                s.put_sessions_batch(&rows).await?;
                (unit(), Out::Unit)
            }
            DeleteSession(a) => {
                m.sessions.remove(&k(*a));
                s.delete_session(&k(*a)).await?;
                (unit(), Out::Unit)
            }
            HasSession(a) => (
                Out::Bool(m.sessions.contains_key(&k(*a))).into(),
                Out::Bool(s.has_session(&k(*a)).await?),
            ),
            HasSignalStateForUser(u) => {
                let user = format!("u{u}");
                let mine = |addr: &String| addr.split(['@', ':']).next() == Some(user.as_str());
                let has = m.sessions.keys().any(mine) || m.identities.keys().any(mine);
                (
                    Out::Bool(has).into(),
                    Out::Bool(s.has_signal_state_for_user(&user).await?),
                )
            }
            StorePrekey(id, b) => {
                m.prekeys.insert(*id, v(*b));
                s.store_prekey(*id, &v(*b), false).await?;
                (unit(), Out::Unit)
            }
            StorePrekeysBatch(rows) => {
                for (id, b) in rows {
                    m.prekeys.insert(*id, v(*b));
                }
                let rows: Vec<(u32, Bytes)> = rows
                    .iter()
                    .map(|(id, b)| (*id, Bytes::from(v(*b))))
                    .collect();
                s.store_prekeys_batch(&rows, false).await?;
                (unit(), Out::Unit)
            }
            LoadPrekey(id) => (
                Out::Bytes(m.prekeys.get(id).cloned()).into(),
                Out::Bytes(s.load_prekey(*id).await?.map(|b| b.to_vec())),
            ),
            LoadPrekeysBatch(ids) => {
                // Order and repeated ids are implementation-defined: a map.
                let expected: BTreeMap<u32, Vec<u8>> = ids
                    .iter()
                    .filter_map(|id| m.prekeys.get(id).map(|r| (*id, r.clone())))
                    .collect();
                let got = s.load_prekeys_batch(ids).await?;
                let got = got.into_iter().map(|(id, r)| (id, r.to_vec())).collect();
                (Out::ById(expected).into(), Out::ById(got))
            }
            MarkPrekeysUploaded(ids) => {
                s.mark_prekeys_uploaded(ids).await?;
                (unit(), Out::Unit)
            }
            RemovePrekey(id) => {
                m.prekeys.remove(id);
                s.remove_prekey(*id).await?;
                (unit(), Out::Unit)
            }
            MaxPrekeyId => {
                let max = m.prekeys.keys().next_back().copied().unwrap_or(0);
                (
                    Out::Count(max.into()).into(),
                    Out::Count(s.get_max_prekey_id().await?.into()),
                )
            }
            StoreSignedPrekey(id, b) => {
                m.signed_prekeys.insert(*id, v(*b));
                s.store_signed_prekey(*id, &v(*b)).await?;
                (unit(), Out::Unit)
            }
            LoadSignedPrekey(id) => (
                Out::Bytes(m.signed_prekeys.get(id).cloned()).into(),
                Out::Bytes(s.load_signed_prekey(*id).await?),
            ),
            LoadAllSignedPrekeys => (
                Out::ById(m.signed_prekeys.clone()).into(),
                Out::ById(s.load_all_signed_prekeys().await?.into_iter().collect()),
            ),
            RemoveSignedPrekey(id) => {
                m.signed_prekeys.remove(id);
                s.remove_signed_prekey(*id).await?;
                (unit(), Out::Unit)
            }
            PutSenderKey(a, b) => {
                m.sender_keys.insert(k(*a), v(*b));
                s.put_sender_key(&k(*a), &v(*b)).await?;
                (unit(), Out::Unit)
            }
            PutSenderKeysBatch(rows) => {
                for (a, b) in rows {
                    m.sender_keys.insert(k(*a), v(*b));
                }
                let rows: Vec<(Arc<str>, Bytes)> = rows
                    .iter()
                    .map(|(a, b)| (Arc::from(k(*a)), Bytes::from(v(*b))))
                    .collect();
                s.put_sender_keys_batch(&rows).await?;
                (unit(), Out::Unit)
            }
            GetSenderKey(a) => (
                Out::Bytes(m.sender_keys.get(&k(*a)).cloned()).into(),
                Out::Bytes(s.get_sender_key(&k(*a)).await?),
            ),
            DeleteSenderKey(a) => {
                m.sender_keys.remove(&k(*a));
                s.delete_sender_key(&k(*a)).await?;
                (unit(), Out::Unit)
            }
        })
    }
}
