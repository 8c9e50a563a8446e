//! `RedbCacheStore`: whatsapp-rust's pluggable cache (group metadata, device
//! registry, LID-PN maps) in the store's own file, so a bot's caches are warm
//! after a restart.
//!
//! Layout: `CACHE_ENTRIES` holds `(namespace, key) -> (expiry, seq, value)`
//! per account; `CACHE_ORDER` lists the entries by write sequence (oldest
//! first); `CACHE_USAGE` keeps the account's entry and byte counts. A set
//! that takes the account over its byte budget evicts the oldest-written
//! entries in the same transaction. Expiry is wall-clock Unix milliseconds
//! (it must survive a restart); an expired entry reads as missing and is
//! removed by the next write that touches it or by eviction.
//!
//! Writes go through the store's writer thread like every other write (no
//! fsync on the caller's thread); reads are snapshot reads on the caller's
//! thread.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;

use crate::txn::Tx;
use crate::view::ReadRows;
use wacore::store::cache::CacheStore;

use crate::RedbStore;
use crate::error::{Error, Result};
use crate::keys::{Key, PrefixRange};
use crate::records::{Blob, CacheEntryRecord, CacheUsageRecord, Record};
use crate::rows::{get, scan};
use crate::store::next_write_seq;
use crate::tables::{CACHE_ENTRIES, CACHE_ORDER, CACHE_USAGE};

/// The default byte budget of one account's cache: 64 MiB of keys and values.
pub const DEFAULT_CACHE_BYTES: u64 = 64 << 20;

/// A `wacore::store::cache::CacheStore` kept in a [`RedbStore`]'s file, for
/// that store's account. Bounded: a write past the byte budget evicts the
/// oldest-written entries.
///
/// ```no_run
/// # fn demo() -> Result<(), wacore::store::error::StoreError> {
/// use std::sync::Arc;
/// use whatsapp_rust_redb_storage::{RedbCacheStore, RedbStore};
///
/// let store = RedbStore::open("whatsapp.redb")?;
/// let cache = Arc::new(RedbCacheStore::new(&store));
/// // Bot::builder().with_backend(store).with_cache_config(CacheConfig {
/// //     cache_stores: CacheStores::all(cache), ..Default::default() })
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct RedbCacheStore {
    store: RedbStore,
    max_bytes: u64,
}

impl RedbCacheStore {
    /// The cache of `store`'s account, with [`DEFAULT_CACHE_BYTES`].
    pub fn new(store: &RedbStore) -> RedbCacheStore {
        RedbCacheStore {
            store: store.clone(),
            max_bytes: DEFAULT_CACHE_BYTES,
        }
    }

    /// The same cache with a budget of `bytes` of keys and values (at least 1).
    pub fn with_max_bytes(mut self, bytes: u64) -> RedbCacheStore {
        self.max_bytes = bytes.max(1);
        self
    }

    /// The byte budget.
    pub fn max_bytes(&self) -> u64 {
        self.max_bytes
    }

    fn entry_key(&self, namespace: &str, key: &str) -> Key {
        self.store.key().scoped(namespace, key)
    }
}

fn now_ms() -> u64 {
    // A clock before 1970 reads as 0: entries then simply live longer.
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// The expiry of an entry set now with `ttl`: 0 (never) for `None`; a
/// sub-millisecond TTL rounds up to 1 ms, never down to "expired" or "never".
fn expiry(ttl: Option<Duration>, now_ms: u64) -> u64 {
    match ttl {
        None => 0,
        Some(ttl) => {
            let ms = u64::try_from(ttl.as_nanos().div_ceil(1_000_000)).unwrap_or(u64::MAX);
            now_ms.saturating_add(ms).max(1)
        }
    }
}

fn read_usage(txn: &Tx<'_>, account: &Key) -> Result<CacheUsageRecord> {
    Ok(get(&txn.open_table(CACHE_USAGE)?, account)?.unwrap_or_default())
}

/// Removes the entry at `key`, if any, with its order row; returns its size.
fn remove_entry(txn: &Tx<'_>, account: &Key, key: &[u8]) -> Result<Option<u64>> {
    let removed = {
        let mut entries = txn.open_table(CACHE_ENTRIES)?;
        let old = entries.remove(key)?;
        old.map(|v| CacheEntryRecord::decode(&v)).transpose()?
    };
    let Some(old) = removed else { return Ok(None) };
    txn.open_table(CACHE_ORDER)?
        .remove(account.clone().sequenced(old.seq).as_slice())?;
    Ok(Some((key.len() + old.value.len()) as u64))
}

/// Evicts the oldest-written entries until `usage` is within `max_bytes`.
fn evict(txn: &Tx<'_>, account: &Key, usage: &mut CacheUsageRecord, max_bytes: u64) -> Result<()> {
    while usage.bytes > max_bytes {
        let oldest = {
            let order = txn.open_table(CACHE_ORDER)?;
            let range = PrefixRange::new(account);
            let mut rows = order.range(range.bounds())?;
            match rows.next() {
                Some(row) => Blob::decode(row?.1.value())?.0,
                None => break,
            }
        };
        let size = remove_entry(txn, account, &oldest)?
            .ok_or_else(|| Error::Database("internal: a cache order row names no entry".into()))?;
        usage.entries = usage.entries.saturating_sub(1);
        usage.bytes = usage.bytes.saturating_sub(size);
    }
    Ok(())
}

#[async_trait]
impl CacheStore for RedbCacheStore {
    async fn get(&self, namespace: &str, key: &str) -> anyhow::Result<Option<Vec<u8>>> {
        let key = self.entry_key(namespace, key);
        let entry: Option<CacheEntryRecord> = self
            .store
            .read(|txn| get(&txn.open_table(CACHE_ENTRIES)?, &key))?;
        let now = now_ms();
        Ok(entry.filter(|e| e.live_at(now)).map(|e| e.value))
    }

    async fn set(
        &self,
        namespace: &str,
        key: &str,
        value: &[u8],
        ttl: Option<Duration>,
    ) -> anyhow::Result<()> {
        let entry_key = self.entry_key(namespace, key);
        let size = (entry_key.as_slice().len() + value.len()) as u64;
        anyhow::ensure!(
            size <= self.max_bytes,
            "a cache entry of {size} bytes is larger than the cache's budget of {} bytes",
            self.max_bytes
        );
        let (account, value, max_bytes) = (self.store.key(), value.to_vec(), self.max_bytes);
        let expires_at_ms = expiry(ttl, now_ms());
        self.store
            .write(move |txn| {
                let mut usage = read_usage(txn, &account)?;
                if let Some(old) = remove_entry(txn, &account, entry_key.as_slice())? {
                    usage.entries = usage.entries.saturating_sub(1);
                    usage.bytes = usage.bytes.saturating_sub(old);
                }
                let seq = next_write_seq(txn, 1)?;
                let record = CacheEntryRecord::encode_parts(expires_at_ms, seq, &value);
                txn.open_table(CACHE_ENTRIES)?
                    .insert(entry_key.as_slice(), record.as_slice())?;
                txn.open_table(CACHE_ORDER)?.insert(
                    account.clone().sequenced(seq).as_slice(),
                    Blob::encode_slice(entry_key.as_slice()).as_slice(),
                )?;
                usage.entries += 1;
                usage.bytes += size;
                evict(txn, &account, &mut usage, max_bytes)?;
                txn.open_table(CACHE_USAGE)?
                    .insert(account.as_slice(), usage.encode().as_slice())?;
                Ok(())
            })
            .await?;
        Ok(())
    }

    async fn delete(&self, namespace: &str, key: &str) -> anyhow::Result<()> {
        let (account, entry_key) = (self.store.key(), self.entry_key(namespace, key));
        self.store
            .write(move |txn| {
                if let Some(size) = remove_entry(txn, &account, entry_key.as_slice())? {
                    let mut usage = read_usage(txn, &account)?;
                    usage.entries = usage.entries.saturating_sub(1);
                    usage.bytes = usage.bytes.saturating_sub(size);
                    txn.open_table(CACHE_USAGE)?
                        .insert(account.as_slice(), usage.encode().as_slice())?;
                }
                Ok(())
            })
            .await?;
        Ok(())
    }

    async fn clear(&self, namespace: &str) -> anyhow::Result<()> {
        let (account, prefix) = (self.store.key(), self.store.key().scope(namespace));
        self.store
            .write(move |txn| {
                let mut doomed = Vec::new();
                scan(&txn.open_table(CACHE_ENTRIES)?, &prefix, |k, _| {
                    doomed.push(k.to_vec());
                    Ok(())
                })?;
                let mut usage = read_usage(txn, &account)?;
                for key in &doomed {
                    if let Some(size) = remove_entry(txn, &account, key)? {
                        usage.entries = usage.entries.saturating_sub(1);
                        usage.bytes = usage.bytes.saturating_sub(size);
                    }
                }
                txn.open_table(CACHE_USAGE)?
                    .insert(account.as_slice(), usage.encode().as_slice())?;
                Ok(())
            })
            .await?;
        Ok(())
    }

    /// Exact: the live (unexpired) entries of `namespace`, counted in one snapshot.
    async fn entry_count(&self, namespace: &str) -> anyhow::Result<u64> {
        let prefix = self.store.key().scope(namespace);
        let now = now_ms();
        Ok(self.store.read(|txn| {
            let mut live = 0u64;
            scan(&txn.open_table(CACHE_ENTRIES)?, &prefix, |_, v| {
                live += u64::from(CacheEntryRecord::decode(v)?.live_at(now));
                Ok(())
            })?;
            Ok(live)
        })?)
    }
}
