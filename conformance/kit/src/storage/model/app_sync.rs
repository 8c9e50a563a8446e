//! `AppSyncStore` operations: sync keys, collection versions, mutation MACs.

use std::collections::BTreeMap;
use std::sync::Arc;

use proptest::prelude::*;
use wacore::appstate::hash::HashState;
use wacore::appstate::processor::AppStateMutationMAC;
use wacore::store::traits::{AppStateSyncKey, Backend};

use super::domain::{key, list, val};
use super::{Expect, Model, Out, Step, coll, idx, v};

/// An `AppSyncStore` call.
#[derive(Debug, Clone)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[allow(missing_docs)]
pub enum AppSyncOp {
    GetSyncKey(u8),
    SetSyncKey(u8, u8),
    GetVersion(u8),
    SetVersion(u8, u64),
    PutMutationMacs(u8, Vec<(u8, u8)>),
    GetMutationMac(u8, u8),
    GetMutationMacs(u8, Vec<u8>),
    DeleteMutationMacs(u8, Vec<u8>),
    ClearMutationMacs(u8),
    GetLatestSyncKeyId,
}

/// Every operation with its generator. Versions are read and written more
/// often: a stale version (a cache never invalidated) needs two writes and a
/// read of one collection in a sequence.
pub(super) fn strategy() -> impl Strategy<Value = AppSyncOp> {
    use AppSyncOp::*;
    prop_oneof![
        1 => key().prop_map(GetSyncKey),
        1 => (key(), val()).prop_map(|(i, b)| SetSyncKey(i, b)),
        3 => key().prop_map(GetVersion),
        3 => (key(), 0u64..5).prop_map(|(c, v)| SetVersion(c, v)),
        1 => (key(), list((key(), val()))).prop_map(|(c, r)| PutMutationMacs(c, r)),
        1 => (key(), key()).prop_map(|(c, i)| GetMutationMac(c, i)),
        1 => (key(), list(key())).prop_map(|(c, r)| GetMutationMacs(c, r)),
        1 => (key(), list(key())).prop_map(|(c, r)| DeleteMutationMacs(c, r)),
        1 => key().prop_map(ClearMutationMacs),
        1 => Just(GetLatestSyncKeyId),
    ]
}

impl AppSyncOp {
    /// The model's transition and the store's call, side by side.
    pub(super) async fn step(&self, m: &mut Model, s: &Arc<dyn Backend>) -> Step {
        use AppSyncOp::*;
        let unit = || Expect::from(Out::Unit);
        Ok(match self {
            GetSyncKey(id) => (
                Out::Bytes(m.sync_keys.get(id).map(|b| vec![*b; 32])).into(),
                Out::Bytes(s.get_sync_key(&[*id]).await?.map(|key| key.key_data)),
            ),
            SetSyncKey(id, b) => {
                m.sync_keys.insert(*id, *b);
                m.last_sync_key = Some(*id);
                let key = AppStateSyncKey {
                    key_data: vec![*b; 32],
                    fingerprint: vec![*b],
                    timestamp: 1,
                };
                s.set_sync_key(&[*id], key).await?;
                (unit(), Out::Unit)
            }
            GetVersion(c) => {
                let expected = m.versions.get(&coll(*c)).copied().unwrap_or(0);
                (
                    Out::Count(expected).into(),
                    Out::Count(s.get_version(&coll(*c)).await?.version),
                )
            }
            SetVersion(c, version) => {
                m.versions.insert(coll(*c), *version);
                let state = HashState {
                    version: *version,
                    ..Default::default()
                };
                s.set_version(&coll(*c), state).await?;
                (unit(), Out::Unit)
            }
            PutMutationMacs(c, rows) => {
                for (i, b) in rows {
                    m.macs.insert((coll(*c), idx(*i)), v(*b));
                }
                let macs: Vec<_> = rows
                    .iter()
                    .map(|(i, b)| AppStateMutationMAC {
                        index_mac: idx(*i).to_vec(),
                        value_mac: v(*b),
                    })
                    .collect();
                s.put_mutation_macs(&coll(*c), 1, &macs).await?;
                (unit(), Out::Unit)
            }
            GetMutationMac(c, i) => (
                Out::Bytes(m.macs.get(&(coll(*c), idx(*i))).cloned()).into(),
                Out::Bytes(s.get_mutation_mac(&coll(*c), &idx(*i)).await?),
            ),
            GetMutationMacs(c, ids) => {
                let expected: BTreeMap<[u8; 32], Vec<u8>> = ids
                    .iter()
                    .filter_map(|i| {
                        m.macs
                            .get(&(coll(*c), idx(*i)))
                            .map(|v| (idx(*i), v.clone()))
                    })
                    .collect();
                let keys: Vec<[u8; 32]> = ids.iter().map(|i| idx(*i)).collect();
                let got = s.get_mutation_macs(&coll(*c), &keys).await?;
                (
                    Out::ByIndex(expected).into(),
                    Out::ByIndex(got.into_iter().collect()),
                )
            }
            DeleteMutationMacs(c, ids) => {
                for i in ids {
                    m.macs.remove(&(coll(*c), idx(*i)));
                }
                let keys: Vec<Vec<u8>> = ids.iter().map(|i| idx(*i).to_vec()).collect();
                s.delete_mutation_macs(&coll(*c), &keys).await?;
                (unit(), Out::Unit)
            }
            ClearMutationMacs(c) => {
                m.macs.retain(|(name, _), _| *name != coll(*c));
                s.clear_mutation_macs(&coll(*c)).await?;
                (unit(), Out::Unit)
            }
            GetLatestSyncKeyId => {
                let expected = match m.sync_keys.len() {
                    0 => Out::Bytes(None).into(),
                    1 => Out::Bytes(m.last_sync_key.map(|id| vec![id])).into(),
                    // Which of several keys is "latest" is implementation-defined.
                    _ => Expect::Any,
                };
                (expected, Out::Bytes(s.get_latest_sync_key_id().await?))
            }
        })
    }
}
