//! `ProtocolStore` operations: sender-key devices, LID/PN mappings, base
//! keys, device lists, group metadata, tc tokens, sent messages, the
//! pending-inbound buffer.

use std::collections::BTreeSet;
use std::sync::Arc;

use proptest::prelude::*;
use wacore::store::traits::{
    Backend, DeviceInfo, DeviceListRecord, LidPnMappingEntry, PendingInboundKey, PendingInboundRow,
    TcTokenEntry,
};

use super::domain::{key, list, ts, val};
use super::{Expect, Model, Out, Step, k, v};
use crate::storage::checks::started;

/// A `ProtocolStore` call.
#[derive(Debug, Clone)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[allow(missing_docs)]
pub enum ProtocolOp {
    GetSenderKeyDevices(u8),
    SetSenderKeyStatus(u8, Vec<(u8, bool)>),
    ClearSenderKeyDevices(u8),
    DeleteSenderKeyDeviceRows(Vec<u8>),
    ClearAllSenderKeyDevices,
    GetLidMapping(u8),
    GetPnMapping(u8),
    PutLidMapping(u8, u8, i64),
    PutLidMappings(Vec<(u8, u8, i64)>),
    GetAllLidMappings,
    SaveBaseKey(u8, u8, u8),
    HasSameBaseKey(u8, u8, u8),
    DeleteBaseKey(u8, u8),
    UpdateDeviceList(u8, i64),
    UpdateDeviceLists(Vec<(u8, i64)>),
    GetDevices(u8),
    DeleteDevices(u8),
    GetGroupMetadata(u8),
    PutGroupMetadata(u8, u8),
    DeleteGroupMetadata(u8),
    GetTcToken(u8),
    PutTcToken(u8, u8, i64, Option<i64>),
    DeleteTcToken(u8),
    GetAllTcTokenJids,
    DeleteExpiredTcTokens(i64, i64),
    TouchTcToken(u8, i64),
    StoreReceivedTcToken(u8, u8, i64),
    StoreSentMessage(u8, u8),
    TakeSentMessage(u8),
    /// `true`: a cutoff after every row; `false`: before every row.
    DeleteExpiredSentMessages(bool),
    StorePendingInbound(u8, u8, u8),
    GetPendingInbound(u8, u8),
    DeletePendingInbound(u8, u8),
    /// `true`: a cutoff after every row; `false`: before every row.
    DeleteExpiredPendingInbound(bool),
    StorePendingInboundBatch(Vec<(u8, u8, u8)>),
    DeletePendingInboundBatch(Vec<(u8, u8)>),
}

/// Every operation with its generator.
pub(super) fn strategy() -> impl Strategy<Value = ProtocolOp> {
    use ProtocolOp::*;
    let token = || 0u8..3;
    prop_oneof![
        key().prop_map(GetSenderKeyDevices),
        (key(), list((key(), any::<bool>()))).prop_map(|(g, r)| SetSenderKeyStatus(g, r)),
        key().prop_map(ClearSenderKeyDevices),
        list(key()).prop_map(DeleteSenderKeyDeviceRows),
        Just(ClearAllSenderKeyDevices),
        key().prop_map(GetLidMapping),
        key().prop_map(GetPnMapping),
        (key(), key(), ts()).prop_map(|(l, p, t)| PutLidMapping(l, p, t)),
        list((key(), key(), ts())).prop_map(PutLidMappings),
        Just(GetAllLidMappings),
        (key(), key(), val()).prop_map(|(a, m, b)| SaveBaseKey(a, m, b)),
        (key(), key(), val()).prop_map(|(a, m, b)| HasSameBaseKey(a, m, b)),
        (key(), key()).prop_map(|(a, m)| DeleteBaseKey(a, m)),
        (key(), ts()).prop_map(|(u, t)| UpdateDeviceList(u, t)),
        list((key(), ts())).prop_map(UpdateDeviceLists),
        key().prop_map(GetDevices),
        key().prop_map(DeleteDevices),
        key().prop_map(GetGroupMetadata),
        (key(), val()).prop_map(|(g, b)| PutGroupMetadata(g, b)),
        key().prop_map(DeleteGroupMetadata),
        key().prop_map(GetTcToken),
        (key(), token(), ts(), prop::option::of(ts()))
            .prop_map(|(j, t, a, s)| PutTcToken(j, t, a, s)),
        key().prop_map(DeleteTcToken),
        Just(GetAllTcTokenJids),
        (ts(), ts()).prop_map(|(a, b)| DeleteExpiredTcTokens(a, b)),
        (key(), ts()).prop_map(|(j, t)| TouchTcToken(j, t)),
        (key(), token(), ts()).prop_map(|(j, t, a)| StoreReceivedTcToken(j, t, a)),
        (key(), val()).prop_map(|(m, b)| StoreSentMessage(m, b)),
        key().prop_map(TakeSentMessage),
        any::<bool>().prop_map(DeleteExpiredSentMessages),
        (key(), key(), val()).prop_map(|(c, s, b)| StorePendingInbound(c, s, b)),
        (key(), key()).prop_map(|(c, s)| GetPendingInbound(c, s)),
        (key(), key()).prop_map(|(c, s)| DeletePendingInbound(c, s)),
        any::<bool>().prop_map(DeleteExpiredPendingInbound),
        list((key(), key(), val())).prop_map(StorePendingInboundBatch),
        list((key(), key())).prop_map(DeletePendingInboundBatch),
    ]
}

/// Token `t`: empty for 0, else two bytes of `t`.
fn token(t: u8) -> Vec<u8> {
    if t == 0 { Vec::new() } else { vec![t; 2] }
}

fn tc(e: Option<&TcTokenEntry>) -> Out {
    Out::Tc(e.map(|e| (e.token.clone(), e.token_timestamp, e.sender_timestamp)))
}

fn lid_entry(l: u8, p: u8, t: i64) -> LidPnMappingEntry {
    LidPnMappingEntry {
        lid: k(l),
        phone_number: k(p),
        created_at: 1,
        updated_at: t,
        learning_source: "model".into(),
    }
}

fn lid_out(e: Option<LidPnMappingEntry>) -> Out {
    Out::Lid(e.map(|e| (e.lid, e.phone_number, e.updated_at)))
}

fn device_list(u: u8, timestamp: i64, devices: Vec<DeviceInfo>) -> DeviceListRecord {
    DeviceListRecord {
        user: k(u),
        devices,
        timestamp,
        phash: None,
        raw_id: None,
    }
}

/// The cutoff of a `DeleteExpired*(all)`: after or before every row.
fn cutoff(all: bool) -> i64 {
    if all { i64::MAX } else { i64::MIN }
}

impl ProtocolOp {
    /// Whether it is a call of the pending-inbound buffer (a capability).
    pub(super) fn needs_pending_inbound(&self) -> bool {
        use ProtocolOp::*;
        matches!(
            self,
            StorePendingInbound(..)
                | GetPendingInbound(..)
                | DeletePendingInbound(..)
                | DeleteExpiredPendingInbound(..)
                | StorePendingInboundBatch(..)
                | DeletePendingInboundBatch(..)
        )
    }

    /// The model's transition and the store's call, side by side.
    pub(super) async fn step(&self, m: &mut Model, s: &Arc<dyn Backend>) -> Step {
        use ProtocolOp::*;
        let unit = || Expect::from(Out::Unit);
        Ok(match self {
            GetSenderKeyDevices(g) => {
                let expected: BTreeSet<(String, bool)> = m
                    .sk_devices
                    .iter()
                    .filter(|((group, _), _)| *group == k(*g))
                    .map(|((_, d), has)| (d.clone(), *has))
                    .collect();
                let got = s.get_sender_key_devices(&k(*g)).await?;
                (
                    Out::Devices(expected).into(),
                    Out::Devices(got.into_iter().collect()),
                )
            }
            SetSenderKeyStatus(g, rows) => {
                for (d, has) in rows {
                    m.sk_devices.insert((k(*g), k(*d)), *has);
                }
                let names: Vec<(String, bool)> = rows.iter().map(|(d, h)| (k(*d), *h)).collect();
                let entries: Vec<(&str, bool)> =
                    names.iter().map(|(d, h)| (d.as_str(), *h)).collect();
                s.set_sender_key_status(&k(*g), &entries).await?;
                (unit(), Out::Unit)
            }
            ClearSenderKeyDevices(g) => {
                m.sk_devices.retain(|(group, _), _| *group != k(*g));
                s.clear_sender_key_devices(&k(*g)).await?;
                (unit(), Out::Unit)
            }
            DeleteSenderKeyDeviceRows(ds) => {
                let names: Vec<String> = ds.iter().map(|d| k(*d)).collect();
                m.sk_devices.retain(|(_, d), _| !names.contains(d));
                let refs: Vec<&str> = names.iter().map(String::as_str).collect();
                s.delete_sender_key_device_rows(&refs).await?;
                (unit(), Out::Unit)
            }
            ClearAllSenderKeyDevices => {
                m.sk_devices.clear();
                s.clear_all_sender_key_devices().await?;
                (unit(), Out::Unit)
            }
            GetLidMapping(l) => {
                let expected = m.lids.get(&k(*l)).map(|(pn, t)| (k(*l), pn.clone(), *t));
                (
                    Out::Lid(expected).into(),
                    lid_out(s.get_lid_mapping(&k(*l)).await?),
                )
            }
            GetPnMapping(p) => {
                let lids: Vec<_> = m.lids.iter().filter(|(_, (pn, _))| *pn == k(*p)).collect();
                let expected = match lids.as_slice() {
                    [] => Out::Lid(None).into(),
                    [(lid, (pn, t))] => Out::Lid(Some(((*lid).clone(), pn.clone(), *t))).into(),
                    // Several LIDs for one phone: the choice is implementation-defined.
                    _ => Expect::Any,
                };
                (expected, lid_out(s.get_pn_mapping(&k(*p)).await?))
            }
            PutLidMapping(l, p, t) => {
                // Written after start-up: the client creates the device row first.
                m.device.get_or_insert(None);
                m.lids.insert(k(*l), (k(*p), *t));
                started(s).await?;
                s.put_lid_mapping(&lid_entry(*l, *p, *t)).await?;
                (unit(), Out::Unit)
            }
            PutLidMappings(rows) => {
                m.device.get_or_insert(None);
                for (l, p, t) in rows {
                    m.lids.insert(k(*l), (k(*p), *t));
                }
                started(s).await?;
                let rows: Vec<_> = rows.iter().map(|(l, p, t)| lid_entry(*l, *p, *t)).collect();
                s.put_lid_mappings(&rows).await?;
                (unit(), Out::Unit)
            }
            GetAllLidMappings => {
                let got = s.get_all_lid_mappings().await?;
                let got = got
                    .into_iter()
                    .map(|e| (e.lid, (e.phone_number, e.updated_at)))
                    .collect();
                (Out::Lids(m.lids.clone()).into(), Out::Lids(got))
            }
            SaveBaseKey(a, msg, b) => {
                m.base_keys.insert((k(*a), k(*msg)), v(*b));
                s.save_base_key(&k(*a), &k(*msg), &v(*b)).await?;
                (unit(), Out::Unit)
            }
            HasSameBaseKey(a, msg, b) => {
                let same = m.base_keys.get(&(k(*a), k(*msg))) == Some(&v(*b));
                let got = s.has_same_base_key(&k(*a), &k(*msg), &v(*b)).await?;
                (Out::Bool(same).into(), Out::Bool(got))
            }
            DeleteBaseKey(a, msg) => {
                m.base_keys.remove(&(k(*a), k(*msg)));
                s.delete_base_key(&k(*a), &k(*msg)).await?;
                (unit(), Out::Unit)
            }
            UpdateDeviceList(u, t) => {
                m.device_lists.insert(k(*u), *t);
                let record = device_list(*u, *t, vec![DeviceInfo::new(0, None)]);
                s.update_device_list(record).await?;
                (unit(), Out::Unit)
            }
            UpdateDeviceLists(rows) => {
                for (u, t) in rows {
                    m.device_lists.insert(k(*u), *t);
                }
                let records = rows
                    .iter()
                    .map(|(u, t)| device_list(*u, *t, vec![]))
                    .collect();
                s.update_device_lists(records).await?;
                (unit(), Out::Unit)
            }
            GetDevices(u) => (
                Out::Timestamp(m.device_lists.get(&k(*u)).copied()).into(),
                Out::Timestamp(s.get_devices(&k(*u)).await?.map(|d| d.timestamp)),
            ),
            DeleteDevices(u) => {
                m.device_lists.remove(&k(*u));
                s.delete_devices(&k(*u)).await?;
                (unit(), Out::Unit)
            }
            GetGroupMetadata(g) => (
                Out::Bytes(m.group_metadata.get(&k(*g)).cloned()).into(),
                Out::Bytes(s.get_group_metadata(&k(*g)).await?),
            ),
            PutGroupMetadata(g, b) => {
                // Without the capability the default is a no-op.
                if m.caps().group_metadata {
                    m.group_metadata.insert(k(*g), v(*b));
                }
                s.put_group_metadata(&k(*g), &v(*b)).await?;
                (unit(), Out::Unit)
            }
            DeleteGroupMetadata(g) => {
                m.group_metadata.remove(&k(*g));
                s.delete_group_metadata(&k(*g)).await?;
                (unit(), Out::Unit)
            }
            GetTcToken(j) => (
                tc(m.tc.get(&k(*j))).into(),
                tc(s.get_tc_token(&k(*j)).await?.as_ref()),
            ),
            PutTcToken(j, t, at, sender) => {
                let entry = TcTokenEntry {
                    token: token(*t),
                    token_timestamp: *at,
                    sender_timestamp: *sender,
                };
                m.tc.insert(k(*j), entry.clone());
                s.put_tc_token(&k(*j), &entry).await?;
                (unit(), Out::Unit)
            }
            DeleteTcToken(j) => {
                m.tc.remove(&k(*j));
                s.delete_tc_token(&k(*j)).await?;
                (unit(), Out::Unit)
            }
            GetAllTcTokenJids => (
                Out::Jids(m.tc.keys().cloned().collect()).into(),
                Out::Jids(s.get_all_tc_token_jids().await?.into_iter().collect()),
            ),
            DeleteExpiredTcTokens(token_cutoff, sender_cutoff) => {
                let before = m.tc.len();
                m.tc.retain(|_, e| {
                    (!e.token.is_empty() && e.token_timestamp >= *token_cutoff)
                        || e.sender_timestamp.is_some_and(|ts| ts >= *sender_cutoff)
                });
                let deleted = (before - m.tc.len()) as u64;
                let got = s
                    .delete_expired_tc_tokens(*token_cutoff, *sender_cutoff)
                    .await?;
                (Out::Count(deleted).into(), Out::Count(got.into()))
            }
            TouchTcToken(j, at) => {
                let e = m.tc.entry(k(*j)).or_insert(TcTokenEntry {
                    token: Vec::new(),
                    token_timestamp: *at,
                    sender_timestamp: None,
                });
                e.sender_timestamp = Some(e.sender_timestamp.map_or(*at, |ts| ts.max(*at)));
                s.touch_tc_token_sender_timestamp(&k(*j), *at).await?;
                (unit(), Out::Unit)
            }
            StoreReceivedTcToken(j, t, at) => {
                match m.tc.get_mut(&k(*j)) {
                    Some(e) if !e.token.is_empty() && *at < e.token_timestamp => {}
                    Some(e) => {
                        e.token = token(*t);
                        e.token_timestamp = *at;
                    }
                    None => {
                        let entry = TcTokenEntry {
                            token: token(*t),
                            token_timestamp: *at,
                            sender_timestamp: None,
                        };
                        m.tc.insert(k(*j), entry);
                    }
                }
                s.store_received_tc_token(&k(*j), &token(*t), *at).await?;
                (unit(), Out::Unit)
            }
            StoreSentMessage(msg, b) => {
                m.sent.insert(k(*msg), v(*b));
                s.store_sent_message("chat", &k(*msg), &v(*b)).await?;
                (unit(), Out::Unit)
            }
            TakeSentMessage(msg) => (
                Out::Bytes(m.sent.remove(&k(*msg))).into(),
                Out::Bytes(s.take_sent_message("chat", &k(*msg)).await?),
            ),
            DeleteExpiredSentMessages(all) => {
                let deleted = if *all {
                    std::mem::take(&mut m.sent).len()
                } else {
                    0
                };
                let got = s.delete_expired_sent_messages(cutoff(*all)).await?;
                (Out::Count(deleted as u64).into(), Out::Count(got.into()))
            }
            StorePendingInbound(c, snd, b) => {
                m.pending.insert((k(*c), k(*snd)), v(*b));
                s.store_pending_inbound(&k(*c), &k(*snd), "id", &v(*b))
                    .await?;
                (unit(), Out::Unit)
            }
            GetPendingInbound(c, snd) => (
                Out::Bytes(m.pending.get(&(k(*c), k(*snd))).cloned()).into(),
                Out::Bytes(s.get_pending_inbound(&k(*c), &k(*snd), "id").await?),
            ),
            DeletePendingInbound(c, snd) => {
                m.pending.remove(&(k(*c), k(*snd)));
                s.delete_pending_inbound(&k(*c), &k(*snd), "id").await?;
                (unit(), Out::Unit)
            }
            DeleteExpiredPendingInbound(all) => {
                let deleted = if *all {
                    std::mem::take(&mut m.pending).len()
                } else {
                    0
                };
                let got = s.delete_expired_pending_inbound(cutoff(*all)).await?;
                (Out::Count(deleted as u64).into(), Out::Count(got.into()))
            }
            StorePendingInboundBatch(rows) => {
                let owned: Vec<(String, String, Vec<u8>)> = rows
                    .iter()
                    .map(|(c, snd, b)| (k(*c), k(*snd), v(*b)))
                    .collect();
                for (c, snd, b) in &owned {
                    m.pending.insert((c.clone(), snd.clone()), b.clone());
                }
                let batch: Vec<PendingInboundRow<'_>> = owned
                    .iter()
                    .map(|(chat, sender, message)| PendingInboundRow {
                        chat,
                        sender,
                        id: "id",
                        message,
                    })
                    .collect();
                s.store_pending_inbound_batch(&batch).await?;
                (unit(), Out::Unit)
            }
            DeletePendingInboundBatch(rows) => {
                let owned: Vec<(String, String)> =
                    rows.iter().map(|(c, snd)| (k(*c), k(*snd))).collect();
                for key in &owned {
                    m.pending.remove(key);
                }
                let keys: Vec<PendingInboundKey<'_>> = owned
                    .iter()
                    .map(|(chat, sender)| PendingInboundKey {
                        chat,
                        sender,
                        id: "id",
                    })
                    .collect();
                s.delete_pending_inbound_batch(&keys).await?;
                (unit(), Out::Unit)
            }
        })
    }
}
