//! The workloads: one async function per storage path, over any `Backend`.
//!
//! Every write workload cycles its keys over a bounded key space (so a long
//! run overwrites instead of growing the file without end); every read
//! workload reads rows [`seed`] wrote. Values have realistic sizes: sessions
//! 1 KiB, sender keys 512 B, prekeys 64 B.

use std::sync::Arc;

use bytes::Bytes;
use futures::future::{BoxFuture, FutureExt, join_all};
use wacore::appstate::hash::HashState;
use wacore::appstate::processor::AppStateMutationMAC;
use wacore::store::traits::{
    AppStateSyncKey, Backend, DeviceListRecord, LidPnMappingEntry, MsgSecretEntry, TcTokenEntry,
};

use crate::Failure;

/// What a workload exercises; decides how its figure reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// One point read per op.
    Read,
    /// One point write per op (one durable acknowledgement).
    Write,
    /// One batch call per run; the figure counts rows.
    BatchWrite,
    /// One batch read per run; the figure counts rows.
    BatchRead,
    /// A sequence of calls a client makes for one event; the figure counts events.
    ClientPath,
    /// N tasks each waiting for its own durable acknowledgement; counts writes.
    Concurrent,
}

type RunFn = for<'a> fn(&'a Arc<dyn Backend>, u64) -> BoxFuture<'a, Result<(), Failure>>;

/// One benchmark workload.
#[derive(Clone, Copy)]
pub struct Workload {
    /// The trait method (`get_session`, `put_sessions_batch`, ...) or the
    /// path (`receive_message`, `concurrent_writers_16`, ...).
    pub name: &'static str,
    /// Operations one run counts: rows for batches, writes for concurrent
    /// writers, 1 otherwise.
    pub ops_per_run: u64,
    /// What it exercises.
    pub class: Class,
    /// What one run does, in a line.
    pub description: &'static str,
    run: RunFn,
}

impl std::fmt::Debug for Workload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Workload")
            .field("name", &self.name)
            .field("ops_per_run", &self.ops_per_run)
            .field("class", &self.class)
            .finish()
    }
}

impl Workload {
    /// Runs the workload once; `i` numbers the run (keys derive from it).
    pub async fn run(&self, store: &Arc<dyn Backend>, i: u64) -> Result<(), Failure> {
        (self.run)(store, i).await
    }

    /// True for workloads that write.
    pub fn writes(&self) -> bool {
        !matches!(self.class, Class::Read | Class::BatchRead)
    }
}

/// Rows [`seed`] writes per domain; reads pick among them.
pub const SEEDED: u64 = 1_000;
/// Write workloads overwrite within this many keys.
const KEY_SPACE: u64 = 5_000;
const SESSION_BYTES: usize = 1024;

fn user(i: u64) -> String {
    format!("{}@lid", 100_000_000 + i)
}

fn mac_index(i: u64) -> [u8; 32] {
    let mut index = [0x3C; 32];
    index[..8].copy_from_slice(&i.to_be_bytes());
    index
}

fn macs(first: u64, n: u64) -> Vec<AppStateMutationMAC> {
    (first..first + n)
        .map(|j| AppStateMutationMAC {
            index_mac: mac_index(j).to_vec(),
            value_mac: vec![(j % 251) as u8; 32],
        })
        .collect()
}

fn lid_entry(i: u64, ts: i64) -> LidPnMappingEntry {
    LidPnMappingEntry {
        lid: format!("{}", 200_000_000_000 + i),
        phone_number: format!("55{}", 11_900_000_000 + i),
        created_at: ts,
        updated_at: ts,
        learning_source: "usync".into(),
    }
}

fn device_list(i: u64, ts: i64) -> DeviceListRecord {
    DeviceListRecord {
        user: user(i),
        devices: vec![],
        timestamp: ts,
        phash: Some("2:abcdef".into()),
        raw_id: None,
    }
}

fn secret(chat: &Arc<str>, i: u64) -> MsgSecretEntry {
    MsgSecretEntry {
        chat: chat.clone(),
        sender: Arc::from("sender@lid"),
        msg_id: Arc::from(format!("3EB0{i:016X}")),
        secret: [(i % 251) as u8; 32],
        expires_at: i64::MAX,
        message_ts: i as i64,
    }
}

fn sync_key(i: u64) -> AppStateSyncKey {
    AppStateSyncKey {
        key_data: vec![(i % 251) as u8; 32],
        fingerprint: vec![1; 16],
        timestamp: i as i64,
    }
}

const GROUP: &str = "120363000000000000@g.us";
const FANOUT: u64 = 1_000;

/// Writes the rows the read workloads read (and the device row), once per store.
pub async fn seed(store: &Arc<dyn Backend>) -> Result<(), Failure> {
    if !store.exists().await? {
        store.create().await?;
    }
    let session = Bytes::from(vec![0x5A; SESSION_BYTES]);
    let sessions: Vec<(Arc<str>, Bytes)> = (0..SEEDED)
        .map(|i| (Arc::from(user(i)), session.clone()))
        .collect();
    store.put_sessions_batch(&sessions).await?;
    let identities: Vec<(Arc<str>, [u8; 32])> =
        (0..SEEDED).map(|i| (Arc::from(user(i)), [7; 32])).collect();
    store.put_identities_batch(&identities).await?;
    let prekeys: Vec<(u32, Bytes)> = (1..=812u32)
        .map(|id| (id, Bytes::from(vec![9; 64])))
        .collect();
    store.store_prekeys_batch(&prekeys, false).await?;
    let sender_keys: Vec<(Arc<str>, Bytes)> = (0..SEEDED)
        .map(|i| {
            (
                Arc::from(format!("{GROUP}::{}", user(i))),
                Bytes::from(vec![3; 512]),
            )
        })
        .collect();
    store.put_sender_keys_batch(&sender_keys).await?;
    for i in 0..16u64 {
        store.set_sync_key(&i.to_be_bytes(), sync_key(i)).await?;
    }
    let version = HashState {
        version: 1,
        ..Default::default()
    };
    store.set_version("regular", version).await?;
    store.put_mutation_macs("regular", 1, &macs(0, 500)).await?;
    let mappings: Vec<_> = (0..SEEDED).map(|i| lid_entry(i, 1)).collect();
    store.put_lid_mappings(&mappings).await?;
    store
        .update_device_lists((0..SEEDED).map(|i| device_list(i, 1)).collect())
        .await?;
    for i in 0..SEEDED.min(100) {
        let token = TcTokenEntry {
            token: vec![1; 24],
            token_timestamp: 1,
            sender_timestamp: None,
        };
        store.put_tc_token(&user(i), &token).await?;
    }
    let chat: Arc<str> = Arc::from("chat@s.whatsapp.net");
    store
        .put_msg_secrets((0..SEEDED).map(|i| secret(&chat, i)).collect())
        .await?;
    let devices: Vec<String> = (0..FANOUT).map(|d| format!("{}:1", user(d))).collect();
    let rows: Vec<(&str, bool)> = devices.iter().map(|d| (d.as_str(), true)).collect();
    store.set_sender_key_status(GROUP, &rows).await?;
    Ok(())
}

macro_rules! workload {
    ($name:literal, $ops:expr, $class:ident, $desc:literal, |$store:ident, $i:ident| $body:block) => {
        Workload {
            name: $name,
            ops_per_run: $ops,
            class: Class::$class,
            description: $desc,
            run: |$store, $i| async move { $body }.boxed(),
        }
    };
}

fn found<T>(value: Option<T>, what: &str) -> Result<T, Failure> {
    value.ok_or_else(|| Failure(format!("{what}: a seeded row is missing")))
}

/// Every workload, in report order.
pub fn all_workloads() -> Vec<Workload> {
    let mut all = point_workloads();
    all.extend(batch_workloads());
    all.extend(client_paths());
    all.extend(concurrent_writers());
    all
}

fn point_workloads() -> Vec<Workload> {
    vec![
        workload!("get_session", 1, Read, "read one 1 KiB session", |s, i| {
            found(s.get_session(&user(i % SEEDED)).await?, "session")?;
            Ok(())
        }),
        workload!(
            "put_session",
            1,
            Write,
            "write one 1 KiB session",
            |s, i| {
                s.put_session(&user(i % KEY_SPACE), &[0x5A; SESSION_BYTES])
                    .await?;
                Ok(())
            }
        ),
        workload!("load_identity", 1, Read, "read one identity key", |s, i| {
            found(s.load_identity(&user(i % SEEDED)).await?, "identity")?;
            Ok(())
        }),
        workload!(
            "put_identity",
            1,
            Write,
            "write one identity key",
            |s, i| {
                s.put_identity(&user(i % KEY_SPACE), [8; 32]).await?;
                Ok(())
            }
        ),
        workload!("load_prekey", 1, Read, "read one prekey", |s, i| {
            found(s.load_prekey((i % 812) as u32 + 1).await?, "prekey")?;
            Ok(())
        }),
        workload!("store_prekey", 1, Write, "write one prekey", |s, i| {
            s.store_prekey(10_000 + (i % KEY_SPACE) as u32, &[9; 64], false)
                .await?;
            Ok(())
        }),
        workload!(
            "get_sender_key",
            1,
            Read,
            "read one 512 B sender key",
            |s, i| {
                let name = format!("{GROUP}::{}", user(i % SEEDED));
                found(s.get_sender_key(&name).await?, "sender key")?;
                Ok(())
            }
        ),
        workload!(
            "put_sender_key",
            1,
            Write,
            "write one 512 B sender key",
            |s, i| {
                let name = format!("{GROUP}::{}", user(i % KEY_SPACE));
                s.put_sender_key(&name, &[3; 512]).await?;
                Ok(())
            }
        ),
        workload!(
            "get_sync_key",
            1,
            Read,
            "read one app-state sync key",
            |s, i| {
                found(s.get_sync_key(&(i % 16).to_be_bytes()).await?, "sync key")?;
                Ok(())
            }
        ),
        workload!(
            "set_sync_key",
            1,
            Write,
            "write one app-state sync key",
            |s, i| {
                s.set_sync_key(&(100 + i % KEY_SPACE).to_be_bytes(), sync_key(i))
                    .await?;
                Ok(())
            }
        ),
        workload!(
            "get_version",
            1,
            Read,
            "read one app-state version",
            |s, _i| {
                s.get_version("regular").await?;
                Ok(())
            }
        ),
        workload!(
            "set_version",
            1,
            Write,
            "write one app-state version",
            |s, i| {
                let state = HashState {
                    version: i,
                    ..Default::default()
                };
                s.set_version("regular_low", state).await?;
                Ok(())
            }
        ),
        workload!(
            "get_lid_mapping",
            1,
            Read,
            "read one LID to phone mapping",
            |s, i| {
                let lid = lid_entry(i % SEEDED, 1).lid;
                found(s.get_lid_mapping(&lid).await?, "lid mapping")?;
                Ok(())
            }
        ),
        workload!(
            "put_lid_mapping",
            1,
            Write,
            "write one LID/phone mapping",
            |s, i| {
                s.put_lid_mapping(&lid_entry(10_000 + i % KEY_SPACE, i as i64))
                    .await?;
                Ok(())
            }
        ),
        workload!(
            "get_devices",
            1,
            Read,
            "read one user's device list",
            |s, i| {
                found(s.get_devices(&user(i % SEEDED)).await?, "device list")?;
                Ok(())
            }
        ),
        workload!(
            "update_device_list",
            1,
            Write,
            "write one user's device list",
            |s, i| {
                s.update_device_list(device_list(i % KEY_SPACE, i as i64))
                    .await?;
                Ok(())
            }
        ),
        workload!(
            "get_tc_token",
            1,
            Read,
            "read one trusted-contact token",
            |s, i| {
                found(
                    s.get_tc_token(&user(i % SEEDED.min(100))).await?,
                    "tc token",
                )?;
                Ok(())
            }
        ),
        workload!(
            "put_tc_token",
            1,
            Write,
            "write one trusted-contact token",
            |s, i| {
                let token = TcTokenEntry {
                    token: vec![2; 24],
                    token_timestamp: i as i64,
                    sender_timestamp: None,
                };
                s.put_tc_token(&user(i % KEY_SPACE), &token).await?;
                Ok(())
            }
        ),
        workload!(
            "get_msg_secret",
            1,
            Read,
            "read one message secret",
            |s, i| {
                let id = format!("3EB0{:016X}", i % SEEDED);
                found(
                    s.get_msg_secret("chat@s.whatsapp.net", "sender@lid", &id)
                        .await?,
                    "message secret",
                )?;
                Ok(())
            }
        ),
        workload!(
            "put_msg_secret",
            1,
            Write,
            "write one message secret",
            |s, i| {
                let id = format!("3EB1{:016X}", i % KEY_SPACE);
                s.put_msg_secret("chat@s.whatsapp.net", "sender@lid", &id, &[4; 32])
                    .await?;
                Ok(())
            }
        ),
        workload!("load", 1, Read, "read the device record", |s, _i| {
            found(s.load().await?, "device")?;
            Ok(())
        }),
    ]
}

fn batch_workloads() -> Vec<Workload> {
    vec![
        workload!(
            "put_sessions_batch",
            100,
            BatchWrite,
            "100 sessions of 1 KiB in one call",
            |s, i| {
                let value = Bytes::from(vec![0x5B; SESSION_BYTES]);
                let rows: Vec<(Arc<str>, Bytes)> = (0..100)
                    .map(|j| {
                        (
                            Arc::from(user((i * 100 + j) % (KEY_SPACE * 4))),
                            value.clone(),
                        )
                    })
                    .collect();
                s.put_sessions_batch(&rows).await?;
                Ok(())
            }
        ),
        workload!(
            "store_prekeys_batch",
            812,
            BatchWrite,
            "812 prekeys in one call (one upload)",
            |s, i| {
                let base = 20_000 + ((i % 8) * 812) as u32;
                let rows: Vec<(u32, Bytes)> = (0..812u32)
                    .map(|j| (base + j, Bytes::from(vec![9; 64])))
                    .collect();
                s.store_prekeys_batch(&rows, false).await?;
                Ok(())
            }
        ),
        workload!(
            "put_mutation_macs",
            500,
            BatchWrite,
            "500 mutation MACs in one call",
            |s, i| {
                s.put_mutation_macs("critical_block", i, &macs((i % 20) * 500, 500))
                    .await?;
                Ok(())
            }
        ),
        workload!(
            "put_lid_mappings",
            1000,
            BatchWrite,
            "1,000 LID/phone mappings in one call",
            |s, i| {
                let rows: Vec<_> = (0..1000)
                    .map(|j| lid_entry(100_000 + (i % 5) * 1000 + j, i as i64))
                    .collect();
                s.put_lid_mappings(&rows).await?;
                Ok(())
            }
        ),
        workload!(
            "update_device_lists",
            1000,
            BatchWrite,
            "1,000 device lists in one call",
            |s, i| {
                let rows = (0..1000)
                    .map(|j| device_list(100_000 + (i % 5) * 1000 + j, i as i64))
                    .collect();
                s.update_device_lists(rows).await?;
                Ok(())
            }
        ),
        workload!(
            "put_msg_secrets",
            10_000,
            BatchWrite,
            "10,000 message secrets in one call",
            |s, i| {
                let chat: Arc<str> = Arc::from(format!("history-{}@g.us", i % 3));
                let rows = (0..10_000).map(|j| secret(&chat, j)).collect();
                s.put_msg_secrets(rows).await?;
                Ok(())
            }
        ),
        workload!(
            "get_mutation_macs",
            500,
            BatchRead,
            "500 mutation MACs by index in one call",
            |s, _i| {
                let keys: Vec<[u8; 32]> = (0..500).map(mac_index).collect();
                let got = s.get_mutation_macs("regular", &keys).await?;
                if got.len() != 500 {
                    return Err(Failure(format!(
                        "get_mutation_macs found {} of 500",
                        got.len()
                    )));
                }
                Ok(())
            }
        ),
        workload!(
            "load_prekeys_batch",
            812,
            BatchRead,
            "812 prekeys by id in one call",
            |s, _i| {
                let ids: Vec<u32> = (1..=812).collect();
                let got = s.load_prekeys_batch(&ids).await?;
                if got.len() != 812 {
                    return Err(Failure(format!(
                        "load_prekeys_batch found {} of 812",
                        got.len()
                    )));
                }
                Ok(())
            }
        ),
    ]
}

fn client_paths() -> Vec<Workload> {
    vec![
        workload!(
            "receive_message",
            1,
            ClientPath,
            "decrypt path: get_session, load_identity, put_session",
            |s, i| {
                let who = user(i % SEEDED);
                found(s.get_session(&who).await?, "session")?;
                found(s.load_identity(&who).await?, "identity")?;
                s.put_session(&who, &[0x5A; SESSION_BYTES]).await?;
                Ok(())
            }
        ),
        workload!(
            "app_state_sync",
            1,
            ClientPath,
            "one patch: get_mutation_macs(500), put_mutation_macs(500), set_version",
            |s, i| {
                let keys: Vec<[u8; 32]> = (0..500).map(|j| mac_index(1_000_000 + j)).collect();
                s.get_mutation_macs("regular_high", &keys).await?;
                s.put_mutation_macs("regular_high", i, &macs(1_000_000 + (i % 20) * 500, 500))
                    .await?;
                let state = HashState {
                    version: i,
                    ..Default::default()
                };
                s.set_version("regular_high", state).await?;
                Ok(())
            }
        ),
        workload!(
            "group_fanout",
            1,
            ClientPath,
            "group send: get_sender_key_devices, set_sender_key_status for 1,000 devices",
            |s, i| {
                let known = s.get_sender_key_devices(GROUP).await?;
                if known.len() as u64 != FANOUT {
                    return Err(Failure(format!(
                        "{} of {FANOUT} fan-out devices",
                        known.len()
                    )));
                }
                let has_key = i % 2 == 0;
                let rows: Vec<(&str, bool)> =
                    known.iter().map(|(d, _)| (d.as_str(), has_key)).collect();
                s.set_sender_key_status(GROUP, &rows).await?;
                Ok(())
            }
        ),
        workload!(
            "history_sync",
            1,
            ClientPath,
            "one history-sync chunk: put_lid_mappings(500), update_device_lists(200), put_msg_secrets(2,000), put_sessions_batch(50)",
            |s, i| {
                let base = 300_000 + (i % 10) * 2_000;
                let mappings: Vec<_> = (0..500).map(|j| lid_entry(base + j, i as i64)).collect();
                s.put_lid_mappings(&mappings).await?;
                s.update_device_lists((0..200).map(|j| device_list(base + j, i as i64)).collect())
                    .await?;
                let chat: Arc<str> = Arc::from(format!("history-chunk-{}@g.us", i % 5));
                s.put_msg_secrets((0..2_000).map(|j| secret(&chat, j)).collect())
                    .await?;
                let value = Bytes::from(vec![0x5C; SESSION_BYTES]);
                let sessions: Vec<(Arc<str>, Bytes)> = (0..50)
                    .map(|j| (Arc::from(user(base + j)), value.clone()))
                    .collect();
                s.put_sessions_batch(&sessions).await?;
                Ok(())
            }
        ),
    ]
}

/// `concurrent_writers_N`: N callers at once, each writing one session and
/// waiting for its own acknowledgement (joined on one task, so it runs on any
/// executor; the store sees N requests in flight).
async fn concurrent(store: &Arc<dyn Backend>, i: u64, n: u64) -> Result<(), Failure> {
    let writes = (0..n).map(|t| {
        let key = user(50_000 + (i * n + t) % KEY_SPACE);
        async move { store.put_session(&key, &[0x5D; SESSION_BYTES]).await }
    });
    for result in join_all(writes).await {
        result?;
    }
    Ok(())
}

fn concurrent_writers() -> Vec<Workload> {
    vec![
        workload!(
            "concurrent_writers_1",
            1,
            Concurrent,
            "1 writer awaiting its ack",
            |s, i| { concurrent(s, i, 1).await }
        ),
        workload!(
            "concurrent_writers_4",
            4,
            Concurrent,
            "4 writers, each awaiting its ack",
            |s, i| { concurrent(s, i, 4).await }
        ),
        workload!(
            "concurrent_writers_16",
            16,
            Concurrent,
            "16 writers, each awaiting its ack",
            |s, i| { concurrent(s, i, 16).await }
        ),
        workload!(
            "concurrent_writers_64",
            64,
            Concurrent,
            "64 writers, each awaiting its ack",
            |s, i| { concurrent(s, i, 64).await }
        ),
    ]
}
