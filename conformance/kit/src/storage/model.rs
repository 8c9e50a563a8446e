//! Model-based tests: random operation sequences run on a backend and on a
//! reference model of the contract; every result must match.
//!
//! Keys and values come from tiny domains (a few users, ids, collections) so
//! sequences overwrite, delete and re-create the same rows. Where the trait
//! leaves behaviour open the comparison is normalised (lists sorted and
//! deduplicated) or the result is not compared. A failure is shrunk by
//! proptest to a minimal sequence and printed as replayable Rust, with the
//! seed: `CONFORMANCE_MODEL_SEED=<seed>` replays it.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::sync::Arc;

use bytes::Bytes;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner};
use wacore::appstate::processor::AppStateMutationMAC;
use wacore::store::traits::{
    AppStateSyncKey, Backend, DeviceInfo, DeviceListRecord, MsgSecretEntry, PendingInboundKey,
    PendingInboundRow, TcTokenEntry,
};

use super::Factory;
use crate::Executor;

/// One call on the store. Small numbers name keys: `3` is user `u3`.
/// With the `arbitrary` feature, fuzzers build sequences from raw bytes.
#[derive(Debug, Clone)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[allow(missing_docs)]
pub enum Op {
    PutSession(u8, u8),
    GetSession(u8),
    DeleteSession(u8),
    PutSessionsBatch(Vec<(u8, u8)>),
    PutIdentity(u8, u8),
    LoadIdentity(u8),
    DeleteIdentity(u8),
    StorePrekey(u32, u8),
    LoadPrekey(u32),
    RemovePrekey(u32),
    MarkPrekeysUploaded(Vec<u32>),
    MaxPrekeyId,
    LoadPrekeysBatch(Vec<u32>),
    PutSenderKey(u8, u8),
    GetSenderKey(u8),
    DeleteSenderKey(u8),
    SetVersion(u8, u64),
    GetVersion(u8),
    PutMutationMacs(u8, Vec<(u8, u8)>),
    GetMutationMacs(u8, Vec<u8>),
    DeleteMutationMacs(u8, Vec<u8>),
    ClearMutationMacs(u8),
    SetSenderKeyStatus(u8, Vec<(u8, bool)>),
    GetSenderKeyDevices(u8),
    DeleteSenderKeyDeviceRows(Vec<u8>),
    ClearSenderKeyDevices(u8),
    UpdateDeviceList(u8, i64),
    GetDevices(u8),
    DeleteDevices(u8),
    PutTcToken(u8, u8, i64, Option<i64>),
    GetTcToken(u8),
    TouchTcToken(u8, i64),
    StoreReceivedTcToken(u8, u8, i64),
    DeleteExpiredTcTokens(i64, i64),
    StoreSentMessage(u8, u8),
    TakeSentMessage(u8),
    PutMsgSecrets(Vec<(u8, u8, i64)>),
    GetMsgSecret(u8),
    DeleteExpiredMsgSecrets(i64),
    HasSession(u8),
    HasSignalStateForUser(u8),
    PutIdentitiesBatch(Vec<(u8, u8)>),
    StorePrekeysBatch(Vec<(u32, u8)>),
    StoreSignedPrekey(u32, u8),
    LoadSignedPrekey(u32),
    LoadAllSignedPrekeys,
    RemoveSignedPrekey(u32),
    PutSenderKeysBatch(Vec<(u8, u8)>),
    SetSyncKey(u8, u8),
    GetSyncKey(u8),
    GetLatestSyncKeyId,
    GetMutationMac(u8, u8),
    ClearAllSenderKeyDevices,
    PutLidMapping(u8, u8, i64),
    PutLidMappings(Vec<(u8, u8, i64)>),
    GetLidMapping(u8),
    GetPnMapping(u8),
    GetAllLidMappings,
    SaveBaseKey(u8, u8, u8),
    HasSameBaseKey(u8, u8, u8),
    DeleteBaseKey(u8, u8),
    UpdateDeviceLists(Vec<(u8, i64)>),
    PutGroupMetadata(u8, u8),
    GetGroupMetadata(u8),
    DeleteGroupMetadata(u8),
    DeleteTcToken(u8),
    GetAllTcTokenJids,
    DeleteExpiredSentMessages(bool),
    StorePendingInbound(u8, u8, u8),
    GetPendingInbound(u8, u8),
    DeletePendingInbound(u8, u8),
    StorePendingInboundBatch(Vec<(u8, u8, u8)>),
    DeletePendingInboundBatch(Vec<(u8, u8)>),
    DeleteExpiredPendingInbound(bool),
    PutMsgSecret(u8, u8),
    GetMsgSecretWithTs(u8),
    SaveDevice(u8),
    LoadDevice,
    DeviceExists,
    CreateDevice,
    SnapshotDb,
    ResourceReport,
}

/// A result that is implementation-defined at this point of the sequence:
/// not compared.
const ANY: &str = "<implementation-defined>";

fn k(n: u8) -> String {
    format!("u{n}@lid")
}

fn v(n: u8) -> Vec<u8> {
    vec![n; 3]
}

fn idx(n: u8) -> [u8; 32] {
    [n; 32]
}

fn coll(n: u8) -> String {
    ["regular", "regular_low", "critical_block"][n as usize % 3].to_owned()
}

/// The contract as plain maps.
#[derive(Debug)]
struct Model {
    sessions: BTreeMap<String, Vec<u8>>,
    identities: BTreeMap<String, [u8; 32]>,
    prekeys: BTreeMap<u32, Vec<u8>>,
    sender_keys: BTreeMap<String, Vec<u8>>,
    versions: BTreeMap<String, u64>,
    macs: BTreeMap<(String, [u8; 32]), Vec<u8>>,
    sk_devices: BTreeMap<(String, String), bool>,
    device_lists: BTreeMap<String, i64>,
    tc: BTreeMap<String, TcTokenEntry>,
    sent: BTreeMap<String, Vec<u8>>,
    secrets: BTreeMap<String, (Vec<u8>, i64)>,
    signed_prekeys: BTreeMap<u32, Vec<u8>>,
    sync_keys: BTreeMap<u8, u8>,
    last_sync_key: Option<u8>,
    lids: BTreeMap<String, (String, i64)>,
    base_keys: BTreeMap<(String, String), Vec<u8>>,
    group_metadata: BTreeMap<String, Vec<u8>>,
    pending: BTreeMap<(String, String), Vec<u8>>,
    /// None: no device row; Some(None): created with keys the model does not
    /// know; Some(Some(r)): saved with registration id r.
    device: Option<Option<u32>>,
    caps: super::Capabilities,
}

impl Model {
    fn new(caps: super::Capabilities) -> Self {
        Model {
            sessions: BTreeMap::new(),
            identities: BTreeMap::new(),
            prekeys: BTreeMap::new(),
            sender_keys: BTreeMap::new(),
            versions: BTreeMap::new(),
            macs: BTreeMap::new(),
            sk_devices: BTreeMap::new(),
            device_lists: BTreeMap::new(),
            tc: BTreeMap::new(),
            sent: BTreeMap::new(),
            secrets: BTreeMap::new(),
            signed_prekeys: BTreeMap::new(),
            sync_keys: BTreeMap::new(),
            last_sync_key: None,
            lids: BTreeMap::new(),
            base_keys: BTreeMap::new(),
            group_metadata: BTreeMap::new(),
            pending: BTreeMap::new(),
            device: None,
            caps,
        }
    }

    /// Whether the store claims what `op` needs (the pending-inbound buffer
    /// fails closed when it is not claimed; the single-method checks test that).
    fn supports(&self, op: &Op) -> bool {
        use Op::*;
        self.caps.pending_inbound
            || !matches!(
                op,
                StorePendingInbound(..)
                    | GetPendingInbound(..)
                    | DeletePendingInbound(..)
                    | StorePendingInboundBatch(..)
                    | DeletePendingInboundBatch(..)
            )
    }

    /// The expected result of `op`, rendered like [`run_op`] renders the store's.
    fn apply(&mut self, op: &Op) -> String {
        use Op::*;
        match op {
            PutSession(a, b) => unit(self.sessions.insert(k(*a), v(*b))),
            GetSession(a) => format!("{:?}", self.sessions.get(&k(*a))),
            DeleteSession(a) => unit(self.sessions.remove(&k(*a))),
            PutSessionsBatch(rows) => {
                for (a, b) in rows {
                    self.sessions.insert(k(*a), v(*b));
                }
                "()".into()
            }
            PutIdentity(a, b) => unit(self.identities.insert(k(*a), [*b; 32])),
            LoadIdentity(a) => format!("{:?}", self.identities.get(&k(*a))),
            DeleteIdentity(a) => unit(self.identities.remove(&k(*a))),
            StorePrekey(id, b) => unit(self.prekeys.insert(*id, v(*b))),
            LoadPrekey(id) => format!("{:?}", self.prekeys.get(id)),
            RemovePrekey(id) => unit(self.prekeys.remove(id)),
            MarkPrekeysUploaded(_) => "()".into(),
            MaxPrekeyId => format!("{}", self.prekeys.keys().next_back().copied().unwrap_or(0)),
            LoadPrekeysBatch(ids) => {
                let found: BTreeMap<u32, &Vec<u8>> = ids
                    .iter()
                    .filter_map(|id| self.prekeys.get(id).map(|r| (*id, r)))
                    .collect();
                format!("{found:?}")
            }
            PutSenderKey(a, b) => unit(self.sender_keys.insert(k(*a), v(*b))),
            GetSenderKey(a) => format!("{:?}", self.sender_keys.get(&k(*a))),
            DeleteSenderKey(a) => unit(self.sender_keys.remove(&k(*a))),
            SetVersion(c, ver) => unit(self.versions.insert(coll(*c), *ver)),
            GetVersion(c) => format!("{}", self.versions.get(&coll(*c)).copied().unwrap_or(0)),
            PutMutationMacs(c, rows) => {
                for (i, b) in rows {
                    self.macs.insert((coll(*c), idx(*i)), v(*b));
                }
                "()".into()
            }
            GetMutationMacs(c, ids) => {
                let found: BTreeMap<[u8; 32], &Vec<u8>> = ids
                    .iter()
                    .filter_map(|i| self.macs.get(&(coll(*c), idx(*i))).map(|m| (idx(*i), m)))
                    .collect();
                format!("{found:?}")
            }
            DeleteMutationMacs(c, ids) => {
                for i in ids {
                    self.macs.remove(&(coll(*c), idx(*i)));
                }
                "()".into()
            }
            ClearMutationMacs(c) => {
                self.macs.retain(|(n, _), _| *n != coll(*c));
                "()".into()
            }
            SetSenderKeyStatus(g, rows) => {
                for (d, has) in rows {
                    self.sk_devices.insert((k(*g), k(*d)), *has);
                }
                "()".into()
            }
            GetSenderKeyDevices(g) => {
                let devices: BTreeSet<(String, bool)> = self
                    .sk_devices
                    .iter()
                    .filter(|((group, _), _)| *group == k(*g))
                    .map(|((_, d), has)| (d.clone(), *has))
                    .collect();
                format!("{devices:?}")
            }
            DeleteSenderKeyDeviceRows(ds) => {
                let ds: Vec<String> = ds.iter().map(|d| k(*d)).collect();
                self.sk_devices.retain(|(_, d), _| !ds.contains(d));
                "()".into()
            }
            ClearSenderKeyDevices(g) => {
                self.sk_devices.retain(|(group, _), _| *group != k(*g));
                "()".into()
            }
            UpdateDeviceList(u, ts) => unit(self.device_lists.insert(k(*u), *ts)),
            GetDevices(u) => format!("{:?}", self.device_lists.get(&k(*u))),
            DeleteDevices(u) => unit(self.device_lists.remove(&k(*u))),
            PutTcToken(j, t, ts, s) => unit(self.tc.insert(
                k(*j),
                TcTokenEntry {
                    token: token(*t),
                    token_timestamp: *ts,
                    sender_timestamp: *s,
                },
            )),
            GetTcToken(j) => render_tc(self.tc.get(&k(*j))),
            TouchTcToken(j, ts) => {
                let e = self.tc.entry(k(*j)).or_insert(TcTokenEntry {
                    token: Vec::new(),
                    token_timestamp: *ts,
                    sender_timestamp: None,
                });
                e.sender_timestamp = Some(e.sender_timestamp.map_or(*ts, |s| s.max(*ts)));
                "()".into()
            }
            StoreReceivedTcToken(j, t, ts) => {
                match self.tc.get_mut(&k(*j)) {
                    Some(e) if !e.token.is_empty() && *ts < e.token_timestamp => {}
                    Some(e) => {
                        e.token = token(*t);
                        e.token_timestamp = *ts;
                    }
                    None => {
                        self.tc.insert(
                            k(*j),
                            TcTokenEntry {
                                token: token(*t),
                                token_timestamp: *ts,
                                sender_timestamp: None,
                            },
                        );
                    }
                }
                "()".into()
            }
            DeleteExpiredTcTokens(tc, sc) => {
                let before = self.tc.len();
                self.tc.retain(|_, e| {
                    (!e.token.is_empty() && e.token_timestamp >= *tc)
                        || e.sender_timestamp.is_some_and(|s| s >= *sc)
                });
                format!("{}", before - self.tc.len())
            }
            StoreSentMessage(m, b) => unit(self.sent.insert(k(*m), v(*b))),
            TakeSentMessage(m) => format!("{:?}", self.sent.remove(&k(*m))),
            PutMsgSecrets(rows) => {
                for (m, b, exp) in rows {
                    let merged = match self.secrets.get(&k(*m)) {
                        Some((_, old)) => {
                            wacore::store::traits::merge_msg_secret_expiry(*old, *exp)
                        }
                        None => *exp,
                    };
                    self.secrets.insert(k(*m), (vec![*b; 32], merged));
                }
                format!("{}", rows.len())
            }
            GetMsgSecret(m) => format!("{:?}", self.secrets.get(&k(*m)).map(|(s, _)| s)),
            DeleteExpiredMsgSecrets(c) => {
                let before = self.secrets.len();
                self.secrets.retain(|_, (_, exp)| *exp == 0 || *exp > *c);
                format!("{}", before - self.secrets.len())
            }
            HasSession(a) => format!("{}", self.sessions.contains_key(&k(*a))),
            HasSignalStateForUser(u) => {
                let user = format!("u{u}");
                let mine = |addr: &String| addr.split(['@', ':']).next() == Some(user.as_str());
                format!(
                    "{}",
                    self.sessions.keys().any(mine) || self.identities.keys().any(mine)
                )
            }
            PutIdentitiesBatch(rows) => {
                for (a, b) in rows {
                    self.identities.insert(k(*a), [*b; 32]);
                }
                "()".into()
            }
            StorePrekeysBatch(rows) => {
                for (id, b) in rows {
                    self.prekeys.insert(*id, v(*b));
                }
                "()".into()
            }
            StoreSignedPrekey(id, b) => unit(self.signed_prekeys.insert(*id, v(*b))),
            LoadSignedPrekey(id) => format!("{:?}", self.signed_prekeys.get(id)),
            LoadAllSignedPrekeys => format!("{:?}", self.signed_prekeys),
            RemoveSignedPrekey(id) => unit(self.signed_prekeys.remove(id)),
            PutSenderKeysBatch(rows) => {
                for (a, b) in rows {
                    self.sender_keys.insert(k(*a), v(*b));
                }
                "()".into()
            }
            SetSyncKey(id, b) => {
                self.sync_keys.insert(*id, *b);
                self.last_sync_key = Some(*id);
                "()".into()
            }
            GetSyncKey(id) => format!("{:?}", self.sync_keys.get(id).map(|b| vec![*b; 32])),
            GetLatestSyncKeyId => match self.sync_keys.len() {
                0 => "None".into(),
                // Which of several keys is "latest" is implementation-defined.
                1 => format!("{:?}", self.last_sync_key.map(|id| vec![id])),
                _ => ANY.into(),
            },
            GetMutationMac(c, i) => format!("{:?}", self.macs.get(&(coll(*c), idx(*i)))),
            ClearAllSenderKeyDevices => {
                self.sk_devices.clear();
                "()".into()
            }
            PutLidMapping(l, p, t) => self.put_lids(&[(*l, *p, *t)]),
            PutLidMappings(rows) => self.put_lids(rows),
            GetLidMapping(l) => format!("{:?}", self.lids.get(&k(*l))),
            GetPnMapping(p) => {
                let lids: Vec<_> = self
                    .lids
                    .iter()
                    .filter(|(_, (pn, _))| *pn == k(*p))
                    .collect();
                match lids.as_slice() {
                    [] => "None".into(),
                    [(lid, rest)] => format!("{:?}", Some((lid, rest))),
                    // Several LIDs for one phone: the choice is implementation-defined.
                    _ => ANY.into(),
                }
            }
            GetAllLidMappings => format!("{:?}", self.lids),
            SaveBaseKey(a, m, b) => unit(self.base_keys.insert((k(*a), k(*m)), v(*b))),
            HasSameBaseKey(a, m, b) => {
                format!("{}", self.base_keys.get(&(k(*a), k(*m))) == Some(&v(*b)))
            }
            DeleteBaseKey(a, m) => unit(self.base_keys.remove(&(k(*a), k(*m)))),
            UpdateDeviceLists(rows) => {
                for (u, ts) in rows {
                    self.device_lists.insert(k(*u), *ts);
                }
                "()".into()
            }
            PutGroupMetadata(g, b) => {
                if self.caps.group_metadata {
                    self.group_metadata.insert(k(*g), v(*b));
                }
                "()".into()
            }
            GetGroupMetadata(g) => format!("{:?}", self.group_metadata.get(&k(*g))),
            DeleteGroupMetadata(g) => unit(self.group_metadata.remove(&k(*g))),
            DeleteTcToken(j) => unit(self.tc.remove(&k(*j))),
            GetAllTcTokenJids => format!("{:?}", self.tc.keys().collect::<Vec<_>>()),
            DeleteExpiredSentMessages(all) => {
                let n = if *all {
                    std::mem::take(&mut self.sent).len()
                } else {
                    0
                };
                format!("{n}")
            }
            StorePendingInbound(c, snd, b) => unit(self.pending.insert((k(*c), k(*snd)), v(*b))),
            GetPendingInbound(c, snd) => format!("{:?}", self.pending.get(&(k(*c), k(*snd)))),
            DeletePendingInbound(c, snd) => unit(self.pending.remove(&(k(*c), k(*snd)))),
            StorePendingInboundBatch(rows) => {
                for (c, snd, b) in rows {
                    self.pending.insert((k(*c), k(*snd)), v(*b));
                }
                "()".into()
            }
            DeletePendingInboundBatch(rows) => {
                for (c, snd) in rows {
                    self.pending.remove(&(k(*c), k(*snd)));
                }
                "()".into()
            }
            DeleteExpiredPendingInbound(all) => {
                let n = if *all {
                    std::mem::take(&mut self.pending).len()
                } else {
                    0
                };
                format!("{n}")
            }
            // No expiry (0 = never), and 0 wins every expiry merge.
            PutMsgSecret(m, b) => unit(self.secrets.insert(k(*m), (vec![*b; 32], 0))),
            GetMsgSecretWithTs(m) => format!("{:?}", self.secrets.get(&k(*m)).map(|(s, _)| s)),
            SaveDevice(r) => {
                self.device = Some(Some(u32::from(*r)));
                "()".into()
            }
            LoadDevice => match self.device {
                None => "None".into(),
                Some(None) => ANY.into(),
                Some(Some(r)) => format!("Some({r})"),
            },
            DeviceExists => format!("{}", self.device.is_some()),
            CreateDevice => {
                self.device.get_or_insert(None);
                "()".into()
            }
            SnapshotDb | ResourceReport => "()".into(),
        }
    }

    fn put_lids(&mut self, rows: &[(u8, u8, i64)]) -> String {
        // LID mappings are written after start-up: the device row exists.
        self.device.get_or_insert(None);
        for (l, p, t) in rows {
            self.lids.insert(k(*l), (k(*p), *t));
        }
        "()".into()
    }
}

fn unit<T>(_: T) -> String {
    "()".into()
}

fn token(t: u8) -> Vec<u8> {
    if t == 0 { Vec::new() } else { vec![t; 2] }
}

fn render_tc(e: Option<&TcTokenEntry>) -> String {
    format!(
        "{:?}",
        e.map(|e| (&e.token, e.token_timestamp, e.sender_timestamp))
    )
}

/// Runs `op` on `store` and renders the result like the model does.
async fn run_op(store: &Arc<dyn Backend>, op: &Op) -> Result<String, String> {
    use Op::*;
    let r = |e: wacore::store::error::StoreError| crate::Failure::from(e).0;
    Ok(match op {
        PutSession(a, b) => unit(store.put_session(&k(*a), &v(*b)).await.map_err(r)?),
        GetSession(a) => format!(
            "{:?}",
            store
                .get_session(&k(*a))
                .await
                .map_err(r)?
                .map(|b| b.to_vec())
        ),
        DeleteSession(a) => unit(store.delete_session(&k(*a)).await.map_err(r)?),
        PutSessionsBatch(rows) => {
            let rows: Vec<(Arc<str>, Bytes)> = rows
                .iter()
                .map(|(a, b)| (Arc::from(k(*a)), Bytes::from(v(*b))))
                .collect();
            unit(store.put_sessions_batch(&rows).await.map_err(r)?)
        }
        PutIdentity(a, b) => unit(store.put_identity(&k(*a), [*b; 32]).await.map_err(r)?),
        LoadIdentity(a) => format!("{:?}", store.load_identity(&k(*a)).await.map_err(r)?),
        DeleteIdentity(a) => unit(store.delete_identity(&k(*a)).await.map_err(r)?),
        StorePrekey(id, b) => unit(store.store_prekey(*id, &v(*b), false).await.map_err(r)?),
        LoadPrekey(id) => format!(
            "{:?}",
            store.load_prekey(*id).await.map_err(r)?.map(|b| b.to_vec())
        ),
        RemovePrekey(id) => unit(store.remove_prekey(*id).await.map_err(r)?),
        MarkPrekeysUploaded(ids) => unit(store.mark_prekeys_uploaded(ids).await.map_err(r)?),
        MaxPrekeyId => format!("{}", store.get_max_prekey_id().await.map_err(r)?),
        LoadPrekeysBatch(ids) => {
            // Order and repeated ids are implementation-defined: compare as a map.
            let found: BTreeMap<u32, Vec<u8>> = store
                .load_prekeys_batch(ids)
                .await
                .map_err(r)?
                .into_iter()
                .map(|(id, rec)| (id, rec.to_vec()))
                .collect();
            format!(
                "{:?}",
                found
                    .iter()
                    .map(|(id, rec)| (*id, rec))
                    .collect::<BTreeMap<_, _>>()
            )
        }
        PutSenderKey(a, b) => unit(store.put_sender_key(&k(*a), &v(*b)).await.map_err(r)?),
        GetSenderKey(a) => format!("{:?}", store.get_sender_key(&k(*a)).await.map_err(r)?),
        DeleteSenderKey(a) => unit(store.delete_sender_key(&k(*a)).await.map_err(r)?),
        SetVersion(c, ver) => {
            let state = wacore::appstate::hash::HashState {
                version: *ver,
                ..Default::default()
            };
            unit(store.set_version(&coll(*c), state).await.map_err(r)?)
        }
        GetVersion(c) => format!("{}", store.get_version(&coll(*c)).await.map_err(r)?.version),
        PutMutationMacs(c, rows) => {
            let macs: Vec<_> = rows
                .iter()
                .map(|(i, b)| AppStateMutationMAC {
                    index_mac: idx(*i).to_vec(),
                    value_mac: v(*b),
                })
                .collect();
            unit(
                store
                    .put_mutation_macs(&coll(*c), 1, &macs)
                    .await
                    .map_err(r)?,
            )
        }
        GetMutationMacs(c, ids) => {
            let keys: Vec<[u8; 32]> = ids.iter().map(|i| idx(*i)).collect();
            let got = store.get_mutation_macs(&coll(*c), &keys).await.map_err(r)?;
            let sorted: BTreeMap<[u8; 32], Vec<u8>> = got.into_iter().collect();
            format!(
                "{:?}",
                sorted
                    .iter()
                    .map(|(k, v)| (*k, v))
                    .collect::<BTreeMap<_, _>>()
            )
        }
        DeleteMutationMacs(c, ids) => {
            let keys: Vec<Vec<u8>> = ids.iter().map(|i| idx(*i).to_vec()).collect();
            unit(
                store
                    .delete_mutation_macs(&coll(*c), &keys)
                    .await
                    .map_err(r)?,
            )
        }
        ClearMutationMacs(c) => unit(store.clear_mutation_macs(&coll(*c)).await.map_err(r)?),
        SetSenderKeyStatus(g, rows) => {
            let names: Vec<(String, bool)> = rows.iter().map(|(d, h)| (k(*d), *h)).collect();
            let entries: Vec<(&str, bool)> = names.iter().map(|(d, h)| (d.as_str(), *h)).collect();
            unit(
                store
                    .set_sender_key_status(&k(*g), &entries)
                    .await
                    .map_err(r)?,
            )
        }
        GetSenderKeyDevices(g) => {
            let devices: BTreeSet<(String, bool)> = store
                .get_sender_key_devices(&k(*g))
                .await
                .map_err(r)?
                .into_iter()
                .collect();
            format!("{devices:?}")
        }
        DeleteSenderKeyDeviceRows(ds) => {
            let names: Vec<String> = ds.iter().map(|d| k(*d)).collect();
            let refs: Vec<&str> = names.iter().map(String::as_str).collect();
            unit(
                store
                    .delete_sender_key_device_rows(&refs)
                    .await
                    .map_err(r)?,
            )
        }
        ClearSenderKeyDevices(g) => unit(store.clear_sender_key_devices(&k(*g)).await.map_err(r)?),
        UpdateDeviceList(u, ts) => unit(
            store
                .update_device_list(DeviceListRecord {
                    user: k(*u),
                    devices: vec![DeviceInfo::new(0, None)],
                    timestamp: *ts,
                    phash: None,
                    raw_id: None,
                })
                .await
                .map_err(r)?,
        ),
        GetDevices(u) => format!(
            "{:?}",
            store
                .get_devices(&k(*u))
                .await
                .map_err(r)?
                .map(|d| d.timestamp)
        ),
        DeleteDevices(u) => unit(store.delete_devices(&k(*u)).await.map_err(r)?),
        PutTcToken(j, t, ts, s) => unit(
            store
                .put_tc_token(
                    &k(*j),
                    &TcTokenEntry {
                        token: token(*t),
                        token_timestamp: *ts,
                        sender_timestamp: *s,
                    },
                )
                .await
                .map_err(r)?,
        ),
        GetTcToken(j) => render_tc(store.get_tc_token(&k(*j)).await.map_err(r)?.as_ref()),
        TouchTcToken(j, ts) => unit(
            store
                .touch_tc_token_sender_timestamp(&k(*j), *ts)
                .await
                .map_err(r)?,
        ),
        StoreReceivedTcToken(j, t, ts) => unit(
            store
                .store_received_tc_token(&k(*j), &token(*t), *ts)
                .await
                .map_err(r)?,
        ),
        DeleteExpiredTcTokens(tc, sc) => format!(
            "{}",
            store.delete_expired_tc_tokens(*tc, *sc).await.map_err(r)?
        ),
        StoreSentMessage(m, b) => unit(
            store
                .store_sent_message("chat", &k(*m), &v(*b))
                .await
                .map_err(r)?,
        ),
        TakeSentMessage(m) => format!(
            "{:?}",
            store.take_sent_message("chat", &k(*m)).await.map_err(r)?
        ),
        PutMsgSecrets(rows) => {
            let entries: Vec<MsgSecretEntry> = rows
                .iter()
                .map(|(m, b, exp)| MsgSecretEntry {
                    chat: Arc::from("chat"),
                    sender: Arc::from("sender"),
                    msg_id: Arc::from(k(*m)),
                    secret: [*b; 32],
                    expires_at: *exp,
                    message_ts: 0,
                })
                .collect();
            format!("{}", store.put_msg_secrets(entries).await.map_err(r)?)
        }
        GetMsgSecret(m) => format!(
            "{:?}",
            store
                .get_msg_secret("chat", "sender", &k(*m))
                .await
                .map_err(r)?
        ),
        DeleteExpiredMsgSecrets(c) => {
            format!("{}", store.delete_expired_msg_secrets(*c).await.map_err(r)?)
        }
        HasSession(a) => format!("{}", store.has_session(&k(*a)).await.map_err(r)?),
        HasSignalStateForUser(u) => format!(
            "{}",
            store
                .has_signal_state_for_user(&format!("u{u}"))
                .await
                .map_err(r)?
        ),
        PutIdentitiesBatch(rows) => {
            let rows: Vec<(Arc<str>, [u8; 32])> = rows
                .iter()
                .map(|(a, b)| (Arc::from(k(*a)), [*b; 32]))
                .collect();
            unit(store.put_identities_batch(&rows).await.map_err(r)?)
        }
        StorePrekeysBatch(rows) => {
            let rows: Vec<(u32, Bytes)> = rows
                .iter()
                .map(|(id, b)| (*id, Bytes::from(v(*b))))
                .collect();
            unit(store.store_prekeys_batch(&rows, false).await.map_err(r)?)
        }
        StoreSignedPrekey(id, b) => unit(store.store_signed_prekey(*id, &v(*b)).await.map_err(r)?),
        LoadSignedPrekey(id) => format!("{:?}", store.load_signed_prekey(*id).await.map_err(r)?),
        LoadAllSignedPrekeys => {
            let all: BTreeMap<u32, Vec<u8>> = store
                .load_all_signed_prekeys()
                .await
                .map_err(r)?
                .into_iter()
                .collect();
            format!("{all:?}")
        }
        RemoveSignedPrekey(id) => unit(store.remove_signed_prekey(*id).await.map_err(r)?),
        PutSenderKeysBatch(rows) => {
            let rows: Vec<(Arc<str>, Bytes)> = rows
                .iter()
                .map(|(a, b)| (Arc::from(k(*a)), Bytes::from(v(*b))))
                .collect();
            unit(store.put_sender_keys_batch(&rows).await.map_err(r)?)
        }
        SetSyncKey(id, b) => unit(
            store
                .set_sync_key(
                    &[*id],
                    AppStateSyncKey {
                        key_data: vec![*b; 32],
                        fingerprint: vec![*b],
                        timestamp: 1,
                    },
                )
                .await
                .map_err(r)?,
        ),
        GetSyncKey(id) => format!(
            "{:?}",
            store
                .get_sync_key(&[*id])
                .await
                .map_err(r)?
                .map(|key| key.key_data)
        ),
        GetLatestSyncKeyId => format!("{:?}", store.get_latest_sync_key_id().await.map_err(r)?),
        GetMutationMac(c, i) => format!(
            "{:?}",
            store
                .get_mutation_mac(&coll(*c), &idx(*i))
                .await
                .map_err(r)?
        ),
        ClearAllSenderKeyDevices => unit(store.clear_all_sender_key_devices().await.map_err(r)?),
        PutLidMapping(l, p, t) => {
            super::checks::started(store).await.map_err(|f| f.0)?;
            unit(
                store
                    .put_lid_mapping(&lid_entry(*l, *p, *t))
                    .await
                    .map_err(r)?,
            )
        }
        PutLidMappings(rows) => {
            super::checks::started(store).await.map_err(|f| f.0)?;
            let rows: Vec<_> = rows.iter().map(|(l, p, t)| lid_entry(*l, *p, *t)).collect();
            unit(store.put_lid_mappings(&rows).await.map_err(r)?)
        }
        GetLidMapping(l) => format!(
            "{:?}",
            store
                .get_lid_mapping(&k(*l))
                .await
                .map_err(r)?
                .map(|m| (m.phone_number, m.updated_at))
        ),
        GetPnMapping(p) => format!(
            "{:?}",
            store
                .get_pn_mapping(&k(*p))
                .await
                .map_err(r)?
                .map(|m| (m.lid, (m.phone_number, m.updated_at)))
        ),
        GetAllLidMappings => {
            let all: BTreeMap<String, (String, i64)> = store
                .get_all_lid_mappings()
                .await
                .map_err(r)?
                .into_iter()
                .map(|m| (m.lid, (m.phone_number, m.updated_at)))
                .collect();
            format!("{all:?}")
        }
        SaveBaseKey(a, m, b) => unit(
            store
                .save_base_key(&k(*a), &k(*m), &v(*b))
                .await
                .map_err(r)?,
        ),
        HasSameBaseKey(a, m, b) => format!(
            "{}",
            store
                .has_same_base_key(&k(*a), &k(*m), &v(*b))
                .await
                .map_err(r)?
        ),
        DeleteBaseKey(a, m) => unit(store.delete_base_key(&k(*a), &k(*m)).await.map_err(r)?),
        UpdateDeviceLists(rows) => {
            let records = rows
                .iter()
                .map(|(u, ts)| DeviceListRecord {
                    user: k(*u),
                    devices: vec![],
                    timestamp: *ts,
                    phash: None,
                    raw_id: None,
                })
                .collect();
            unit(store.update_device_lists(records).await.map_err(r)?)
        }
        PutGroupMetadata(g, b) => unit(store.put_group_metadata(&k(*g), &v(*b)).await.map_err(r)?),
        GetGroupMetadata(g) => format!("{:?}", store.get_group_metadata(&k(*g)).await.map_err(r)?),
        DeleteGroupMetadata(g) => unit(store.delete_group_metadata(&k(*g)).await.map_err(r)?),
        DeleteTcToken(j) => unit(store.delete_tc_token(&k(*j)).await.map_err(r)?),
        GetAllTcTokenJids => {
            let mut jids = store.get_all_tc_token_jids().await.map_err(r)?;
            jids.sort();
            format!("{jids:?}")
        }
        DeleteExpiredSentMessages(all) => {
            let cutoff = if *all { i64::MAX } else { i64::MIN };
            format!(
                "{}",
                store
                    .delete_expired_sent_messages(cutoff)
                    .await
                    .map_err(r)?
            )
        }
        StorePendingInbound(c, snd, b) => unit(
            store
                .store_pending_inbound(&k(*c), &k(*snd), "id", &v(*b))
                .await
                .map_err(r)?,
        ),
        GetPendingInbound(c, snd) => format!(
            "{:?}",
            store
                .get_pending_inbound(&k(*c), &k(*snd), "id")
                .await
                .map_err(r)?
        ),
        DeletePendingInbound(c, snd) => unit(
            store
                .delete_pending_inbound(&k(*c), &k(*snd), "id")
                .await
                .map_err(r)?,
        ),
        StorePendingInboundBatch(rows) => {
            let owned: Vec<(String, String, Vec<u8>)> = rows
                .iter()
                .map(|(c, snd, b)| (k(*c), k(*snd), v(*b)))
                .collect();
            let batch: Vec<PendingInboundRow<'_>> = owned
                .iter()
                .map(|(c, snd, b)| PendingInboundRow {
                    chat: c,
                    sender: snd,
                    id: "id",
                    message: b,
                })
                .collect();
            unit(store.store_pending_inbound_batch(&batch).await.map_err(r)?)
        }
        DeletePendingInboundBatch(rows) => {
            let owned: Vec<(String, String)> =
                rows.iter().map(|(c, snd)| (k(*c), k(*snd))).collect();
            let keys: Vec<PendingInboundKey<'_>> = owned
                .iter()
                .map(|(c, snd)| PendingInboundKey {
                    chat: c,
                    sender: snd,
                    id: "id",
                })
                .collect();
            unit(store.delete_pending_inbound_batch(&keys).await.map_err(r)?)
        }
        DeleteExpiredPendingInbound(all) => {
            let cutoff = if *all { i64::MAX } else { i64::MIN };
            format!(
                "{}",
                store
                    .delete_expired_pending_inbound(cutoff)
                    .await
                    .map_err(r)?
            )
        }
        PutMsgSecret(m, b) => unit(
            store
                .put_msg_secret("chat", "sender", &k(*m), &[*b; 32])
                .await
                .map_err(r)?,
        ),
        // message_ts is implementation-defined (the default returns 0): compare the secret.
        GetMsgSecretWithTs(m) => format!(
            "{:?}",
            store
                .get_msg_secret_with_ts("chat", "sender", &k(*m))
                .await
                .map_err(r)?
                .map(|(secret, _)| secret)
        ),
        SaveDevice(reg) => {
            let mut device = wacore::store::Device::new();
            device.registration_id = u32::from(*reg);
            unit(store.save(&device).await.map_err(r)?)
        }
        LoadDevice => match store.load().await.map_err(r)? {
            None => "None".into(),
            Some(d) => format!("Some({})", d.registration_id),
        },
        DeviceExists => format!("{}", store.exists().await.map_err(r)?),
        CreateDevice => {
            // create() on an existing row is implementation-defined (an error or a no-op).
            let existed = store.exists().await.map_err(r)?;
            match store.create().await {
                Ok(_) => "()".into(),
                Err(_) if existed => "()".into(),
                Err(e) => return Err(r(e)),
            }
        }
        SnapshotDb => {
            // Whatever it writes, later steps check that the data did not change.
            let _ = store.snapshot_db("model", None).await;
            "()".into()
        }
        ResourceReport => unit(store.resource_report().await),
    })
}

fn lid_entry(l: u8, p: u8, t: i64) -> wacore::store::traits::LidPnMappingEntry {
    wacore::store::traits::LidPnMappingEntry {
        lid: k(l),
        phone_number: k(p),
        created_at: 1,
        updated_at: t,
        learning_source: "model".into(),
    }
}

/// A strategy for one operation over small key domains, across all 82 methods.
pub fn op() -> impl Strategy<Value = Op> {
    prop_oneof![first_ops().boxed(), more_ops().boxed()]
}

fn more_ops() -> impl Strategy<Value = Op> {
    use Op::*;
    let key = || 0u8..4;
    let val = || 1u8..4;
    let id = || prop_oneof![0u32..4, Just(u32::MAX), Just(0x8000_0001)];
    let ts = || prop_oneof![0i64..6, Just(i64::MIN), Just(i64::MAX)];
    prop_oneof![
        key().prop_map(HasSession),
        key().prop_map(HasSignalStateForUser),
        prop::collection::vec((key(), val()), 0..4).prop_map(PutIdentitiesBatch),
        prop::collection::vec((id(), val()), 0..4).prop_map(StorePrekeysBatch),
        (id(), val()).prop_map(|(i, b)| StoreSignedPrekey(i, b)),
        id().prop_map(LoadSignedPrekey),
        Just(LoadAllSignedPrekeys),
        id().prop_map(RemoveSignedPrekey),
        prop::collection::vec((key(), val()), 0..4).prop_map(PutSenderKeysBatch),
        (key(), val()).prop_map(|(i, b)| SetSyncKey(i, b)),
        key().prop_map(GetSyncKey),
        Just(GetLatestSyncKeyId),
        (key(), key()).prop_map(|(c, i)| GetMutationMac(c, i)),
        Just(ClearAllSenderKeyDevices),
        (key(), key(), ts()).prop_map(|(l, p, t)| PutLidMapping(l, p, t)),
        prop::collection::vec((key(), key(), ts()), 0..4).prop_map(PutLidMappings),
        key().prop_map(GetLidMapping),
        key().prop_map(GetPnMapping),
        Just(GetAllLidMappings),
        (key(), key(), val()).prop_map(|(a, m, b)| SaveBaseKey(a, m, b)),
        (key(), key(), val()).prop_map(|(a, m, b)| HasSameBaseKey(a, m, b)),
        (key(), key()).prop_map(|(a, m)| DeleteBaseKey(a, m)),
        prop::collection::vec((key(), ts()), 0..4).prop_map(UpdateDeviceLists),
        (key(), val()).prop_map(|(g, b)| PutGroupMetadata(g, b)),
        key().prop_map(GetGroupMetadata),
        key().prop_map(DeleteGroupMetadata),
        key().prop_map(DeleteTcToken),
        Just(GetAllTcTokenJids),
        any::<bool>().prop_map(DeleteExpiredSentMessages),
        (key(), key(), val()).prop_map(|(c, s, b)| StorePendingInbound(c, s, b)),
        (key(), key()).prop_map(|(c, s)| GetPendingInbound(c, s)),
        (key(), key()).prop_map(|(c, s)| DeletePendingInbound(c, s)),
        prop::collection::vec((key(), key(), val()), 0..4).prop_map(StorePendingInboundBatch),
        prop::collection::vec((key(), key()), 0..4).prop_map(DeletePendingInboundBatch),
        any::<bool>().prop_map(DeleteExpiredPendingInbound),
        (key(), val()).prop_map(|(m, b)| PutMsgSecret(m, b)),
        key().prop_map(GetMsgSecretWithTs),
        val().prop_map(SaveDevice),
        Just(LoadDevice),
        Just(DeviceExists),
        Just(CreateDevice),
        Just(SnapshotDb),
        Just(ResourceReport),
    ]
}

fn first_ops() -> impl Strategy<Value = Op> {
    use Op::*;
    let key = || 0u8..4;
    let val = || 1u8..4;
    let id = || prop_oneof![0u32..4, Just(u32::MAX), Just(0x8000_0001)];
    let ts = || {
        prop_oneof![
            0i64..6,
            Just(i64::MIN),
            Just(i64::MAX),
            Just(1_700_000_000_000)
        ]
    };
    prop_oneof![
        (key(), val()).prop_map(|(a, b)| PutSession(a, b)),
        key().prop_map(GetSession),
        key().prop_map(DeleteSession),
        prop::collection::vec((key(), val()), 0..5).prop_map(PutSessionsBatch),
        (key(), val()).prop_map(|(a, b)| PutIdentity(a, b)),
        key().prop_map(LoadIdentity),
        key().prop_map(DeleteIdentity),
        (id(), val()).prop_map(|(i, b)| StorePrekey(i, b)),
        id().prop_map(LoadPrekey),
        id().prop_map(RemovePrekey),
        prop::collection::vec(id(), 0..4).prop_map(MarkPrekeysUploaded),
        Just(MaxPrekeyId),
        prop::collection::vec(id(), 0..5).prop_map(LoadPrekeysBatch),
        (key(), val()).prop_map(|(a, b)| PutSenderKey(a, b)),
        key().prop_map(GetSenderKey),
        key().prop_map(DeleteSenderKey),
        (key(), 0u64..5).prop_map(|(c, v)| SetVersion(c, v)),
        key().prop_map(GetVersion),
        (key(), prop::collection::vec((key(), val()), 0..5))
            .prop_map(|(c, r)| PutMutationMacs(c, r)),
        (key(), prop::collection::vec(key(), 0..5)).prop_map(|(c, r)| GetMutationMacs(c, r)),
        (key(), prop::collection::vec(key(), 0..3)).prop_map(|(c, r)| DeleteMutationMacs(c, r)),
        key().prop_map(ClearMutationMacs),
        (key(), prop::collection::vec((key(), any::<bool>()), 0..4))
            .prop_map(|(g, r)| SetSenderKeyStatus(g, r)),
        key().prop_map(GetSenderKeyDevices),
        prop::collection::vec(key(), 0..3).prop_map(DeleteSenderKeyDeviceRows),
        key().prop_map(ClearSenderKeyDevices),
        (key(), ts()).prop_map(|(u, t)| UpdateDeviceList(u, t)),
        key().prop_map(GetDevices),
        key().prop_map(DeleteDevices),
        (key(), 0u8..3, ts(), prop::option::of(ts()))
            .prop_map(|(j, t, a, s)| PutTcToken(j, t, a, s)),
        key().prop_map(GetTcToken),
        (key(), ts()).prop_map(|(j, t)| TouchTcToken(j, t)),
        (key(), 0u8..3, ts()).prop_map(|(j, t, a)| StoreReceivedTcToken(j, t, a)),
        (ts(), ts()).prop_map(|(a, b)| DeleteExpiredTcTokens(a, b)),
        (key(), val()).prop_map(|(m, b)| StoreSentMessage(m, b)),
        key().prop_map(TakeSentMessage),
        prop::collection::vec((key(), val(), prop_oneof![Just(0i64), 1i64..6]), 0..4)
            .prop_map(PutMsgSecrets),
        key().prop_map(GetMsgSecret),
        (0i64..7).prop_map(DeleteExpiredMsgSecrets),
    ]
}

/// Renders a sequence as Rust a developer can paste into a test.
pub fn replay_snippet(ops: &[Op]) -> String {
    let mut s = String::from("use whatsapp_rust_conformance::model::Op::*;\nlet ops = vec![\n");
    for op in ops {
        let _ = writeln!(s, "    {op:?},");
    }
    s + "];\n// whatsapp_rust_conformance::model::check_sequence(&store, capabilities, &ops).await"
}

/// Runs `ops` on `store` and on a fresh model of a store with `caps`; the
/// first mismatch is an error naming the step. Operations the store does not
/// claim (pending inbound without the capability) are skipped; results the
/// contract leaves open at that point are not compared.
pub async fn check_sequence(
    store: &Arc<dyn Backend>,
    caps: super::Capabilities,
    ops: &[Op],
) -> Result<(), String> {
    let mut model = Model::new(caps);
    for (step, op) in ops.iter().enumerate() {
        if !model.supports(op) {
            continue;
        }
        let expected = model.apply(op);
        let got = run_op(store, op)
            .await
            .map_err(|e| format!("step {step} {op:?}: error {e}"))?;
        if expected != ANY && got != expected {
            return Err(format!(
                "step {step} {op:?}: store returned {got}, the model expects {expected}"
            ));
        }
    }
    Ok(())
}

/// Runs `ops` on two stores with the same capabilities and compares their
/// results step by step (differential mode). The model only decides which
/// results the contract determines; the stores' outputs are compared with
/// each other, not with the model.
pub async fn compare_sequence(
    a: &Arc<dyn Backend>,
    b: &Arc<dyn Backend>,
    caps: super::Capabilities,
    ops: &[Op],
) -> Result<(), String> {
    let mut model = Model::new(caps);
    for (step, op) in ops.iter().enumerate() {
        if !model.supports(op) {
            continue;
        }
        let determined = model.apply(op) != ANY;
        let (x, y) = (run_op(a, op).await, run_op(b, op).await);
        if determined && x != y {
            return Err(format!(
                "step {step} {op:?}: first store {x:?}, second store {y:?}"
            ));
        }
    }
    Ok(())
}

/// Budget and seed of a model run.
#[derive(Debug, Clone)]
pub struct ModelRun {
    /// Random sequences to try (`CONFORMANCE_MODEL_CASES`, default 64).
    pub cases: u32,
    /// Longest sequence (`CONFORMANCE_MODEL_LEN`, default 60).
    pub max_len: usize,
    /// Seed of the generator (`CONFORMANCE_MODEL_SEED`, default the clock).
    pub seed: u64,
}

impl ModelRun {
    /// Reads the budget from the environment, with the defaults above.
    pub fn from_env() -> Self {
        let num = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<u64>().ok());
        let clock = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1);
        ModelRun {
            cases: num("CONFORMANCE_MODEL_CASES").unwrap_or(64) as u32,
            max_len: num("CONFORMANCE_MODEL_LEN").unwrap_or(60) as usize,
            seed: num("CONFORMANCE_MODEL_SEED").unwrap_or(clock),
        }
    }

    /// Runs the random sequences against fresh stores from `factory`. On a
    /// mismatch, returns the shrunk sequence as a replayable snippet with the seed.
    pub fn run(&self, factory: &dyn Factory, executor: Executor) -> Result<(), String> {
        let mut seed_bytes = [0u8; 32];
        seed_bytes[..8].copy_from_slice(&self.seed.to_le_bytes());
        let config = Config {
            cases: self.cases,
            failure_persistence: None,
            ..Config::default()
        };
        let mut runner = TestRunner::new_with_rng(
            config,
            TestRng::from_seed(RngAlgorithm::ChaCha, &seed_bytes),
        );
        let strategy = prop::collection::vec(op(), 1..=self.max_len.max(1));
        let result = runner.run(&strategy, |ops| {
            executor
                .block_on(async {
                    let instance = factory.open().await.map_err(|e| e.to_string())?;
                    let result =
                        check_sequence(&instance.store(), factory.capabilities(), &ops).await;
                    let teardown = instance.teardown().await.map_err(|e| e.to_string());
                    result.and(teardown)
                })
                .map_err(TestCaseError::fail)
        });
        match result {
            Ok(()) => Ok(()),
            Err(TestError::Fail(reason, ops)) => Err(format!(
                "{} on {}: {reason}\nminimal failing sequence ({} ops), seed {} (CONFORMANCE_MODEL_SEED={} replays it):\n{}",
                factory.name(),
                executor.name(),
                ops.len(),
                self.seed,
                self.seed,
                replay_snippet(&ops)
            )),
            Err(TestError::Abort(why)) => Err(format!("model run aborted: {why}")),
        }
    }
}

/// Flaws that only a sequence reveals: every single-method check passes on
/// them; the model finds them and shrinks to a minimal replayable sequence.
#[cfg(test)]
mod sequence_only_flaws {
    use std::collections::{HashMap, HashSet};
    use std::sync::{Arc, Mutex};

    use async_trait::async_trait;
    use wacore::appstate::hash::HashState;
    use wacore::store::error::Result;
    use wacore::store::traits::Backend;

    use super::ModelRun;
    use crate::Executor;
    use crate::storage::flaws::flawed_factory;
    use crate::storage::{Layer, Layered, SimpleFactory, in_memory, run_suite};

    /// A session put after that address was deleted is lost (a stale tombstone).
    struct PutAfterDeleteDropped {
        inner: Arc<dyn Backend>,
        tombstones: Mutex<HashSet<String>>,
    }

    #[async_trait]
    impl Layer for PutAfterDeleteDropped {
        fn inner(&self) -> &dyn Backend {
            &*self.inner
        }
        async fn put_session(&self, address: &str, session: &[u8]) -> Result<()> {
            if self.tombstones.lock().unwrap().contains(address) {
                return Ok(());
            }
            self.inner.put_session(address, session).await
        }
        async fn delete_session(&self, address: &str) -> Result<()> {
            self.tombstones.lock().unwrap().insert(address.to_owned());
            self.inner.delete_session(address).await
        }
    }

    /// `get_version` keeps returning the first version ever set (a cache
    /// never invalidated).
    struct VersionCacheNeverInvalidated {
        inner: Arc<dyn Backend>,
        cache: Mutex<HashMap<String, HashState>>,
    }

    #[async_trait]
    impl Layer for VersionCacheNeverInvalidated {
        fn inner(&self) -> &dyn Backend {
            &*self.inner
        }
        async fn get_version(&self, name: &str) -> Result<HashState> {
            let cached = self.cache.lock().unwrap().get(name).cloned();
            match cached {
                Some(state) => Ok(state),
                None => self.inner.get_version(name).await,
            }
        }
        async fn set_version(&self, name: &str, state: HashState) -> Result<()> {
            let first = state.clone();
            self.cache
                .lock()
                .unwrap()
                .entry(name.to_owned())
                .or_insert(first);
            self.inner.set_version(name, state).await
        }
    }

    fn flawed() -> Vec<(&'static str, SimpleFactory)> {
        vec![
            (
                "put after delete dropped",
                flawed_factory(|inner| {
                    Arc::new(Layered(PutAfterDeleteDropped {
                        inner,
                        tombstones: Mutex::default(),
                    }))
                }),
            ),
            (
                "version cache never invalidated",
                flawed_factory(|inner| {
                    Arc::new(Layered(VersionCacheNeverInvalidated {
                        inner,
                        cache: Mutex::default(),
                    }))
                }),
            ),
        ]
    }

    #[test]
    fn single_method_checks_miss_them() {
        for (flaw, factory) in flawed() {
            let report = Executor::DEFAULT
                .block_on(run_suite(
                    &factory,
                    &in_memory::expectations(),
                    |_, _, _| {},
                ))
                .unwrap();
            assert!(
                report.is_ok(),
                "{flaw} was caught by a single-method check: {:#?}",
                report.to_json()
            );
        }
    }

    #[test]
    fn the_model_catches_them_with_a_minimal_replayable_sequence() {
        for (flaw, factory) in flawed() {
            let run = ModelRun {
                cases: 512,
                max_len: 60,
                seed: 42,
            };
            let err = run
                .run(&factory, Executor::DEFAULT)
                .expect_err(&format!("the model missed {flaw}"));
            eprintln!("{flaw}: {err}");
            assert!(err.contains("CONFORMANCE_MODEL_SEED=42"), "{err}");
            assert!(err.contains("let ops = vec!["), "{err}");
            let ops = err
                .lines()
                .filter(|l| l.starts_with("    ") && l.ends_with("),"))
                .count();
            assert!(
                ops <= 4,
                "{flaw}: not shrunk to a minimal sequence ({ops} ops):\n{err}"
            );
        }
    }
}
