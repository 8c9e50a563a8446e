//! A workload for fault injection that writes through every store trait, and
//! the check a store must pass after a fault.
//!
//! The workload is numbered steps, each ONE trait call whose rows are all
//! new (keys carry the step number), cycling through [`STEP_KINDS`] so every
//! kind of row a backend stores is written: the device, identities, sessions,
//! prekeys, signed prekeys, sender keys, sync keys, app-state versions,
//! mutation MACs, sender-key devices, LID/PN mappings, base keys, device
//! lists, group metadata, tc tokens, sent messages, pending inbound messages
//! and message secrets. Batches are large enough to span many pages.
//!
//! A store that survived a fault (I/O error, process crash, power cut) and
//! was reopened must show a prefix of the workload: steps `1..=m` complete,
//! every later step absent, no step partly there ([`verify_prefix`]). `m`
//! must be at least the last step made durable before the fault (acknowledged
//! in a fsync-before-ack store, flushed in a relaxed one) and at most the
//! step in flight.
//!
//! A backend author with their own fault injection (a failing proxy, a
//! killed server) drives [`run_step`] and calls [`verify_prefix`] after
//! recovery; `fault_campaign` does it for our redb engine on a simulated disk.

use std::sync::Arc;

use bytes::Bytes;
use wacore::appstate::hash::HashState;
use wacore::appstate::processor::AppStateMutationMAC;
use wacore::store::traits::{
    AppStateSyncKey, Backend, DeviceListRecord, LidPnMappingEntry, MsgSecretEntry,
    PendingInboundRow, TcTokenEntry,
};

use crate::Failure;

/// What one step writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepKind {
    /// `save` of the device (registration id = the step number).
    SaveDevice,
    /// `put_identities_batch`, 20 rows.
    Identities,
    /// `put_sessions_batch`, 50 sessions of 1 KiB.
    Sessions,
    /// `store_prekeys_batch`, 200 prekeys.
    Prekeys,
    /// `store_signed_prekey`.
    SignedPrekey,
    /// `put_sender_keys_batch`, 20 rows of 512 bytes.
    SenderKeys,
    /// `set_sync_key`.
    SyncKey,
    /// `set_version` of a new collection.
    Version,
    /// `put_mutation_macs`, 500 rows.
    MutationMacs,
    /// `set_sender_key_status`, 100 devices of a new group.
    SenderKeyDevices,
    /// `put_lid_mappings`, 200 mappings.
    LidMappings,
    /// `save_base_key`.
    BaseKey,
    /// `update_device_lists`, 100 users.
    DeviceLists,
    /// `put_group_metadata`, 2 KiB.
    GroupMetadata,
    /// `put_tc_token`.
    TcToken,
    /// `store_sent_message`.
    SentMessage,
    /// `store_pending_inbound_batch`, 20 messages.
    PendingInbound,
    /// `put_msg_secrets`, 300 secrets.
    MsgSecrets,
}

/// The cycle of step kinds: step `n` (from 1) is `STEP_KINDS[(n - 1) % len]`.
pub const STEP_KINDS: [StepKind; 18] = [
    StepKind::SaveDevice,
    StepKind::Identities,
    StepKind::Sessions,
    StepKind::Prekeys,
    StepKind::SignedPrekey,
    StepKind::SenderKeys,
    StepKind::SyncKey,
    StepKind::Version,
    StepKind::MutationMacs,
    StepKind::SenderKeyDevices,
    StepKind::LidMappings,
    StepKind::BaseKey,
    StepKind::DeviceLists,
    StepKind::GroupMetadata,
    StepKind::TcToken,
    StepKind::SentMessage,
    StepKind::PendingInbound,
    StepKind::MsgSecrets,
];

/// The kind of step `step` (from 1).
pub fn step_kind(step: u64) -> StepKind {
    STEP_KINDS[((step.max(1) - 1) % STEP_KINDS.len() as u64) as usize]
}

/// How much of one step a store holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    /// None of its rows.
    Absent,
    /// All of its rows, with the values written.
    Complete,
    /// Some rows only, or wrong values: `found` of `expected`.
    Partial {
        /// Rows found with the right value.
        found: usize,
        /// Rows the step writes.
        expected: usize,
    },
}

fn presence(found: usize, expected: usize) -> Presence {
    match found {
        0 => Presence::Absent,
        f if f == expected => Presence::Complete,
        _ => Presence::Partial { found, expected },
    }
}

fn name(step: u64, what: &str, row: usize) -> String {
    format!("fault-{step}-{what}-{row}@lid")
}

fn value(step: u64, row: usize, len: usize) -> Vec<u8> {
    let mut v = vec![(step as u8) ^ (row as u8); len];
    v[..8.min(len)].copy_from_slice(&step.to_be_bytes()[..8.min(len)]);
    v
}

fn mac_index(step: u64, row: usize) -> [u8; 32] {
    let mut index = [0xA5; 32];
    index[..8].copy_from_slice(&step.to_be_bytes());
    index[8..16].copy_from_slice(&(row as u64).to_be_bytes());
    index
}

/// Prekey ids of a step: disjoint per step, below 2^24 (the Signal range).
fn prekey_id(step: u64, row: usize) -> u32 {
    (step as u32 % 40_000) * 256 + row as u32 + 1
}

fn collection(step: u64) -> String {
    format!("fault-collection-{step}")
}

/// Runs step `step` (from 1): one trait call.
pub async fn run_step(store: &Arc<dyn Backend>, step: u64) -> Result<(), Failure> {
    match step_kind(step) {
        StepKind::SaveDevice => {
            let mut device = wacore::store::Device::new();
            device.registration_id = step as u32;
            store.save(&device).await?;
        }
        StepKind::Identities => {
            let rows: Vec<(Arc<str>, [u8; 32])> = (0..20)
                .map(|r| (Arc::from(name(step, "identity", r)), [step as u8; 32]))
                .collect();
            store.put_identities_batch(&rows).await?;
        }
        StepKind::Sessions => {
            let rows: Vec<(Arc<str>, Bytes)> = (0..50)
                .map(|r| {
                    (
                        Arc::from(name(step, "session", r)),
                        Bytes::from(value(step, r, 1024)),
                    )
                })
                .collect();
            store.put_sessions_batch(&rows).await?;
        }
        StepKind::Prekeys => {
            let rows: Vec<(u32, Bytes)> = (0..200)
                .map(|r| (prekey_id(step, r), Bytes::from(value(step, r, 64))))
                .collect();
            store.store_prekeys_batch(&rows, false).await?;
        }
        StepKind::SignedPrekey => {
            store
                .store_signed_prekey(prekey_id(step, 0), &value(step, 0, 128))
                .await?;
        }
        StepKind::SenderKeys => {
            let rows: Vec<(Arc<str>, Bytes)> = (0..20)
                .map(|r| {
                    (
                        Arc::from(name(step, "sender-key", r)),
                        Bytes::from(value(step, r, 512)),
                    )
                })
                .collect();
            store.put_sender_keys_batch(&rows).await?;
        }
        StepKind::SyncKey => {
            let key = AppStateSyncKey {
                key_data: value(step, 0, 32),
                fingerprint: value(step, 1, 16),
                timestamp: step as i64,
            };
            store.set_sync_key(&step.to_be_bytes(), key).await?;
        }
        StepKind::Version => {
            let state = HashState {
                version: step,
                ..Default::default()
            };
            store.set_version(&collection(step), state).await?;
        }
        StepKind::MutationMacs => {
            let macs: Vec<AppStateMutationMAC> = (0..500)
                .map(|r| AppStateMutationMAC {
                    index_mac: mac_index(step, r).to_vec(),
                    value_mac: value(step, r, 32),
                })
                .collect();
            store
                .put_mutation_macs(&collection(step), step, &macs)
                .await?;
        }
        StepKind::SenderKeyDevices => {
            let devices: Vec<String> = (0..100).map(|r| name(step, "member", r)).collect();
            let rows: Vec<(&str, bool)> = devices.iter().map(|d| (d.as_str(), true)).collect();
            store
                .set_sender_key_status(&name(step, "group", 0), &rows)
                .await?;
        }
        StepKind::LidMappings => {
            let rows: Vec<LidPnMappingEntry> = (0..200).map(|r| lid_entry(step, r)).collect();
            store.put_lid_mappings(&rows).await?;
        }
        StepKind::BaseKey => {
            store
                .save_base_key(
                    &name(step, "address", 0),
                    &name(step, "message", 0),
                    &value(step, 0, 33),
                )
                .await?;
        }
        StepKind::DeviceLists => {
            let records: Vec<DeviceListRecord> = (0..100)
                .map(|r| DeviceListRecord {
                    user: name(step, "user", r),
                    devices: vec![],
                    timestamp: step as i64,
                    phash: None,
                    raw_id: None,
                })
                .collect();
            store.update_device_lists(records).await?;
        }
        StepKind::GroupMetadata => {
            store
                .put_group_metadata(&name(step, "group", 0), &value(step, 0, 2048))
                .await?;
        }
        StepKind::TcToken => {
            let entry = TcTokenEntry {
                token: value(step, 0, 24),
                token_timestamp: step as i64,
                sender_timestamp: None,
            };
            store.put_tc_token(&name(step, "tc", 0), &entry).await?;
        }
        StepKind::SentMessage => {
            store
                .store_sent_message(
                    &name(step, "chat", 0),
                    &name(step, "id", 0),
                    &value(step, 0, 300),
                )
                .await?;
        }
        StepKind::PendingInbound => {
            let owned: Vec<(String, Vec<u8>)> = (0..20)
                .map(|r| (name(step, "pending", r), value(step, r, 200)))
                .collect();
            let chat = name(step, "chat", 0);
            let rows: Vec<PendingInboundRow<'_>> = owned
                .iter()
                .map(|(id, message)| PendingInboundRow {
                    chat: &chat,
                    sender: "sender@lid",
                    id,
                    message,
                })
                .collect();
            store.store_pending_inbound_batch(&rows).await?;
        }
        StepKind::MsgSecrets => {
            let chat: Arc<str> = Arc::from(name(step, "chat", 0));
            let rows: Vec<MsgSecretEntry> = (0..300)
                .map(|r| MsgSecretEntry {
                    chat: chat.clone(),
                    sender: Arc::from("sender@lid"),
                    msg_id: Arc::from(name(step, "msg", r)),
                    secret: [step as u8; 32],
                    expires_at: i64::MAX,
                    message_ts: step as i64,
                })
                .collect();
            store.put_msg_secrets(rows).await?;
        }
    }
    Ok(())
}

fn lid_entry(step: u64, row: usize) -> LidPnMappingEntry {
    LidPnMappingEntry {
        lid: format!("{}{row:04}", 100_000 + step),
        phone_number: format!("55{}{row:04}", 100_000 + step),
        created_at: step as i64,
        updated_at: step as i64,
        learning_source: "fault".into(),
    }
}

/// How much of step `step` the store holds.
pub async fn step_presence(store: &Arc<dyn Backend>, step: u64) -> Result<Presence, Failure> {
    let mut found = 0usize;
    let expected;
    match step_kind(step) {
        StepKind::SaveDevice => {
            // The device row is overwritten by later device steps: a later
            // step's id also proves this one landed.
            expected = 1;
            if let Some(device) = store.load().await? {
                found = (u64::from(device.registration_id) >= step) as usize;
            }
        }
        StepKind::Identities => {
            expected = 20;
            for r in 0..20 {
                let got = store.load_identity(&name(step, "identity", r)).await?;
                found += (got == Some([step as u8; 32])) as usize;
            }
        }
        StepKind::Sessions => {
            expected = 50;
            for r in 0..50 {
                let got = store.get_session(&name(step, "session", r)).await?;
                found += (got.as_deref() == Some(&value(step, r, 1024)[..])) as usize;
            }
        }
        StepKind::Prekeys => {
            expected = 200;
            let ids: Vec<u32> = (0..200).map(|r| prekey_id(step, r)).collect();
            for (id, record) in store.load_prekeys_batch(&ids).await? {
                let r = ids.iter().position(|i| *i == id).unwrap_or(usize::MAX);
                found += (r != usize::MAX && record == value(step, r, 64)) as usize;
            }
        }
        StepKind::SignedPrekey => {
            expected = 1;
            let got = store.load_signed_prekey(prekey_id(step, 0)).await?;
            found = (got.as_deref() == Some(&value(step, 0, 128)[..])) as usize;
        }
        StepKind::SenderKeys => {
            expected = 20;
            for r in 0..20 {
                let got = store.get_sender_key(&name(step, "sender-key", r)).await?;
                found += (got.as_deref() == Some(&value(step, r, 512)[..])) as usize;
            }
        }
        StepKind::SyncKey => {
            expected = 1;
            let got = store.get_sync_key(&step.to_be_bytes()).await?;
            found = got.is_some_and(|k| k.key_data == value(step, 0, 32)) as usize;
        }
        StepKind::Version => {
            expected = 1;
            found = (store.get_version(&collection(step)).await?.version == step) as usize;
        }
        StepKind::MutationMacs => {
            expected = 500;
            let keys: Vec<[u8; 32]> = (0..500).map(|r| mac_index(step, r)).collect();
            found = store
                .get_mutation_macs(&collection(step), &keys)
                .await?
                .len();
        }
        StepKind::SenderKeyDevices => {
            expected = 100;
            found = store
                .get_sender_key_devices(&name(step, "group", 0))
                .await?
                .into_iter()
                .filter(|(_, has_key)| *has_key)
                .count();
        }
        StepKind::LidMappings => {
            expected = 200;
            for r in 0..200 {
                let entry = lid_entry(step, r);
                let got = store.get_lid_mapping(&entry.lid).await?;
                found += got.is_some_and(|m| m.phone_number == entry.phone_number) as usize;
            }
        }
        StepKind::BaseKey => {
            expected = 1;
            found = store
                .has_same_base_key(
                    &name(step, "address", 0),
                    &name(step, "message", 0),
                    &value(step, 0, 33),
                )
                .await? as usize;
        }
        StepKind::DeviceLists => {
            expected = 100;
            for r in 0..100 {
                let got = store.get_devices(&name(step, "user", r)).await?;
                found += got.is_some_and(|d| d.timestamp == step as i64) as usize;
            }
        }
        StepKind::GroupMetadata => {
            expected = 1;
            let got = store.get_group_metadata(&name(step, "group", 0)).await?;
            found = (got.as_deref() == Some(&value(step, 0, 2048)[..])) as usize;
        }
        StepKind::TcToken => {
            expected = 1;
            let got = store.get_tc_token(&name(step, "tc", 0)).await?;
            found = got.is_some_and(|t| t.token == value(step, 0, 24)) as usize;
        }
        StepKind::SentMessage => {
            // The trait has no read without take; verification is the last
            // use of a recovered store, so taking is harmless.
            expected = 1;
            let got = store
                .take_sent_message(&name(step, "chat", 0), &name(step, "id", 0))
                .await?;
            found = (got.as_deref() == Some(&value(step, 0, 300)[..])) as usize;
        }
        StepKind::PendingInbound => {
            expected = 20;
            let chat = name(step, "chat", 0);
            for r in 0..20 {
                let got = store
                    .get_pending_inbound(&chat, "sender@lid", &name(step, "pending", r))
                    .await?;
                found += (got.as_deref() == Some(&value(step, r, 200)[..])) as usize;
            }
        }
        StepKind::MsgSecrets => {
            expected = 300;
            let chat = name(step, "chat", 0);
            for r in 0..300 {
                let got = store
                    .get_msg_secret(&chat, "sender@lid", &name(step, "msg", r))
                    .await?;
                found += (got.as_deref() == Some(&[step as u8; 32][..])) as usize;
            }
        }
    }
    Ok(presence(found, expected))
}

/// Checks (destructively: sent messages are taken) that the store holds a prefix of the workload: steps `1..=m`
/// complete and steps `m+1..=attempted+1` absent, with
/// `durable <= m <= attempted`. Returns `m`.
///
/// `durable`: the last step the store promised to keep (acknowledged with
/// fsync-before-ack, or covered by a completed flush). `attempted`: the last
/// step started (the one in flight when the fault hit, or the last one run).
pub async fn verify_prefix(
    store: &Arc<dyn Backend>,
    durable: u64,
    attempted: u64,
) -> Result<u64, Failure> {
    let mut first_absent = None;
    for step in 1..=attempted + 1 {
        match step_presence(store, step).await? {
            Presence::Complete => {
                if let Some(absent) = first_absent {
                    return Err(Failure(format!(
                        "step {step} ({:?}) is there but the earlier step {absent} is not: not a prefix",
                        step_kind(step)
                    )));
                }
            }
            Presence::Absent => {
                first_absent.get_or_insert(step);
            }
            Presence::Partial { found, expected } => {
                return Err(Failure(format!(
                    "step {step} ({:?}) is partly there: {found} of {expected} rows (a torn batch)",
                    step_kind(step)
                )));
            }
        }
    }
    let kept = first_absent.map_or(attempted + 1, |absent| absent - 1);
    if kept < durable {
        return Err(Failure(format!(
            "step {} ({:?}) was made durable but is lost (steps 1..={kept} kept, {durable} durable)",
            kept + 1,
            step_kind(kept + 1)
        )));
    }
    if kept > attempted {
        return Err(Failure(format!(
            "step {kept} is there although only {attempted} steps were started"
        )));
    }
    Ok(kept)
}
