//! The raw-redb baseline: the same inserts and reads as the engine's
//! workloads, done straight on a redb `Database` on the calling thread, one
//! transaction per call, at the same durability (fsync per commit, or none).
//! Keys and values have the sizes the engine stores (a 4-byte account prefix,
//! a version byte). The engine's overhead is its figure over this one.

use std::path::Path;

use redb::{Database, Durability, ReadableDatabase, TableDefinition};

use whatsapp_rust_conformance::storage::bench::{self, Budget, Measurement};

type Table = TableDefinition<'static, &'static [u8], &'static [u8]>;
const SESSIONS: Table = TableDefinition::new("session");
const IDENTITIES: Table = TableDefinition::new("identity");
const PREKEYS: Table = TableDefinition::new("prekey");
const MACS: Table = TableDefinition::new("mutation_mac");
const VERSIONS: Table = TableDefinition::new("app_state_version");
const LIDS: Table = TableDefinition::new("lid_mapping");
const PN_INDEX: Table = TableDefinition::new("pn_index");
const DEVICE_LISTS: Table = TableDefinition::new("device_list");
const SECRETS: Table = TableDefinition::new("msg_secret");

const PREFIX: [u8; 4] = [0x80, 0, 0, 1];

fn key(parts: &[&[u8]]) -> Vec<u8> {
    let mut k = PREFIX.to_vec();
    for p in parts {
        k.extend_from_slice(p);
        k.push(0);
    }
    k
}

fn value(len: usize) -> Vec<u8> {
    let mut v = vec![0x5A; len + 1];
    v[0] = 1;
    v
}

fn user(i: u64) -> String {
    format!("{}@lid", 100_000_000 + i)
}

/// A redb file driven directly.
pub struct RawRedb {
    db: Database,
    durability: Durability,
}

/// Workloads the baseline implements (the others have no raw equivalent:
/// concurrency is the engine's group commit; paths of many tables are
/// covered by `receive_message` and `app_state_sync`).
pub const RAW_WORKLOADS: &[&str] = &[
    "get_session",
    "put_session",
    "load_identity",
    "put_identity",
    "load_prekey",
    "store_prekey",
    "put_sessions_batch",
    "store_prekeys_batch",
    "put_mutation_macs",
    "put_lid_mappings",
    "update_device_lists",
    "put_msg_secrets",
    "get_mutation_macs",
    "load_prekeys_batch",
    "receive_message",
    "app_state_sync",
];

impl RawRedb {
    /// Creates the file at `path`; `durable` picks fsync-per-commit or none.
    pub fn create(path: &Path, durable: bool) -> Result<RawRedb, String> {
        let db = Database::create(path).map_err(|e| e.to_string())?;
        let raw = RawRedb {
            db,
            durability: if durable {
                Durability::Immediate
            } else {
                Durability::None
            },
        };
        raw.seed().map_err(|e| e.to_string())?;
        Ok(raw)
    }

    /// The label the engine's figures use for the same durability.
    pub fn durability_label(&self) -> &'static str {
        match self.durability {
            Durability::Immediate => "fsync before ack",
            _ => "crash may lose recent commits (no fsync)",
        }
    }

    fn write(
        &self,
        f: impl FnOnce(&redb::WriteTransaction) -> Result<(), redb::Error>,
    ) -> Result<(), redb::Error> {
        let mut txn = self.db.begin_write()?;
        txn.set_durability(self.durability)?;
        f(&txn)?;
        txn.commit()?;
        Ok(())
    }

    fn seed(&self) -> Result<(), redb::Error> {
        let mut txn = self.db.begin_write()?;
        txn.set_durability(Durability::Immediate)?;
        {
            let mut s = txn.open_table(SESSIONS)?;
            let mut id = txn.open_table(IDENTITIES)?;
            for i in 0..bench::SEEDED {
                s.insert(
                    key(&[user(i).as_bytes()]).as_slice(),
                    value(1024).as_slice(),
                )?;
                id.insert(key(&[user(i).as_bytes()]).as_slice(), value(32).as_slice())?;
            }
            let mut p = txn.open_table(PREKEYS)?;
            for id in 1..=812u32 {
                p.insert(key(&[&id.to_be_bytes()]).as_slice(), value(65).as_slice())?;
            }
            let mut m = txn.open_table(MACS)?;
            for j in 0..500u64 {
                m.insert(mac_key("regular", j).as_slice(), value(40).as_slice())?;
            }
            for t in [VERSIONS, LIDS, PN_INDEX, DEVICE_LISTS, SECRETS] {
                txn.open_table(t)?;
            }
        }
        txn.commit()?;
        Ok(())
    }

    /// Runs one call of `workload` (`i` numbers the run); `None` when the
    /// baseline has no equivalent.
    pub fn run(&self, workload: &str, i: u64) -> Option<Result<(), redb::Error>> {
        let seeded = bench::SEEDED;
        Some(match workload {
            "get_session" => self.get(SESSIONS, &key(&[user(i % seeded).as_bytes()])),
            "put_session" => self.put(SESSIONS, key(&[user(i % 5000).as_bytes()]), 1024),
            "load_identity" => self.get(IDENTITIES, &key(&[user(i % seeded).as_bytes()])),
            "put_identity" => self.put(IDENTITIES, key(&[user(i % 5000).as_bytes()]), 32),
            "load_prekey" => self.get(PREKEYS, &key(&[&((i % 812) as u32 + 1).to_be_bytes()])),
            "store_prekey" => self.put(
                PREKEYS,
                key(&[&(10_000 + i as u32 % 5000).to_be_bytes()]),
                65,
            ),
            "put_sessions_batch" => self.write(|txn| {
                let mut t = txn.open_table(SESSIONS)?;
                for j in 0..100 {
                    let k = key(&[user((i * 100 + j) % 20_000).as_bytes()]);
                    t.insert(k.as_slice(), value(1024).as_slice())?;
                }
                Ok(())
            }),
            "store_prekeys_batch" => self.write(|txn| {
                let mut t = txn.open_table(PREKEYS)?;
                let base = 20_000 + ((i % 8) * 812) as u32;
                for j in 0..812u32 {
                    t.insert(
                        key(&[&(base + j).to_be_bytes()]).as_slice(),
                        value(65).as_slice(),
                    )?;
                }
                Ok(())
            }),
            "put_mutation_macs" => self.write(|txn| {
                let mut t = txn.open_table(MACS)?;
                for j in 0..500 {
                    let k = mac_key("critical_block", (i % 20) * 500 + j);
                    t.insert(k.as_slice(), value(40).as_slice())?;
                }
                Ok(())
            }),
            "put_lid_mappings" => self.write(|txn| {
                let mut lids = txn.open_table(LIDS)?;
                let mut pns = txn.open_table(PN_INDEX)?;
                for j in 0..1000 {
                    let n = 100_000 + (i % 5) * 1000 + j;
                    let lid = format!("{}", 200_000_000_000 + n);
                    let pn = format!("55{}", 11_900_000_000 + n);
                    lids.insert(key(&[lid.as_bytes()]).as_slice(), value(48).as_slice())?;
                    pns.insert(
                        key(&[pn.as_bytes(), lid.as_bytes()]).as_slice(),
                        value(8).as_slice(),
                    )?;
                }
                Ok(())
            }),
            "update_device_lists" => self.write(|txn| {
                let mut t = txn.open_table(DEVICE_LISTS)?;
                for j in 0..1000 {
                    let k = key(&[user(100_000 + (i % 5) * 1000 + j).as_bytes()]);
                    t.insert(k.as_slice(), value(24).as_slice())?;
                }
                Ok(())
            }),
            "put_msg_secrets" => self.write(|txn| {
                let mut t = txn.open_table(SECRETS)?;
                let chat = format!("history-{}@g.us", i % 3);
                for j in 0..10_000u64 {
                    let id = format!("3EB0{j:016X}");
                    let k = key(&[chat.as_bytes(), b"sender@lid", id.as_bytes()]);
                    t.insert(k.as_slice(), value(48).as_slice())?;
                }
                Ok(())
            }),
            "get_mutation_macs" => self.get_many(MACS, (0..500).map(|j| mac_key("regular", j))),
            "load_prekeys_batch" => {
                self.get_many(PREKEYS, (1..=812u32).map(|id| key(&[&id.to_be_bytes()])))
            }
            "receive_message" => {
                let who = key(&[user(i % seeded).as_bytes()]);
                self.get(SESSIONS, &who)
                    .and_then(|()| self.get(IDENTITIES, &who))
                    .and_then(|()| self.put(SESSIONS, who, 1024))
            }
            "app_state_sync" => self
                .get_many(
                    MACS,
                    (0..500).map(|j| mac_key("regular_high", 1_000_000 + j)),
                )
                .and_then(|()| {
                    self.write(|txn| {
                        let mut t = txn.open_table(MACS)?;
                        for j in 0..500 {
                            let k = mac_key("regular_high", 1_000_000 + (i % 20) * 500 + j);
                            t.insert(k.as_slice(), value(40).as_slice())?;
                        }
                        let mut v = txn.open_table(VERSIONS)?;
                        v.insert(key(&[b"regular_high"]).as_slice(), value(130).as_slice())?;
                        Ok(())
                    })
                }),
            _ => return None,
        })
    }

    fn put(&self, table: Table, k: Vec<u8>, len: usize) -> Result<(), redb::Error> {
        self.write(|txn| {
            txn.open_table(table)?
                .insert(k.as_slice(), value(len).as_slice())?;
            Ok(())
        })
    }

    fn get(&self, table: Table, k: &[u8]) -> Result<(), redb::Error> {
        let txn = self.db.begin_read()?;
        let found = txn.open_table(table)?.get(k)?.map(|v| v.value().len());
        std::hint::black_box(found);
        Ok(())
    }

    fn get_many(
        &self,
        table: Table,
        keys: impl Iterator<Item = Vec<u8>>,
    ) -> Result<(), redb::Error> {
        let txn = self.db.begin_read()?;
        let t = txn.open_table(table)?;
        for k in keys {
            std::hint::black_box(t.get(k.as_slice())?.map(|v| v.value().len()));
        }
        Ok(())
    }

    /// Measures `workload` with the loop [`bench::measure`] uses; `None`
    /// when the baseline has no equivalent.
    pub async fn measure(
        &self,
        workload: &bench::Workload,
        budget: Budget,
        counter: &mut u64,
    ) -> Option<Result<Measurement, String>> {
        RAW_WORKLOADS.iter().find(|w| **w == workload.name)?;
        let timed = bench::time_runs(budget, counter, |i| {
            let outcome = self.run(workload.name, i).expect("listed workload");
            std::future::ready(outcome.map_err(|e| e.to_string()))
        })
        .await;
        Some(timed.map(|(runs, elapsed)| {
            Measurement::new(workload, "redb-raw", self.durability_label(), runs, elapsed)
        }))
    }
}

fn mac_key(collection: &str, j: u64) -> Vec<u8> {
    let mut index = [0x3C; 32];
    index[..8].copy_from_slice(&j.to_be_bytes());
    key(&[collection.as_bytes(), &index])
}
