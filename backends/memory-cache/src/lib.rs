//! A small in-process [`CacheStore`]: namespaces, TTLs and a bounded number
//! of entries, for examples and tests.
//!
//! ```
//! use whatsapp_rust_memory_cache::MemoryCacheStore;
//! use wacore::store::cache::CacheStore;
//!
//! # futures_lite_block_on(async {
//! let cache = MemoryCacheStore::with_capacity(10_000);
//! cache.set("group", "120363021033254949@g.us", b"{}", None).await.unwrap();
//! assert_eq!(cache.get("group", "120363021033254949@g.us").await.unwrap(), Some(b"{}".to_vec()));
//! # });
//! # fn futures_lite_block_on<F: std::future::Future>(f: F) -> F::Output {
//! #     let mut f = std::pin::pin!(f);
//! #     let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
//! #     loop { if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) { return v; } }
//! # }
//! ```
//!
//! Every call takes one mutex for a few map operations and never awaits
//! while holding it, so the store is safe on any executor.

#![warn(missing_docs)]

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use wacore::store::cache::CacheStore;

/// An in-process cache store holding at most `capacity` entries.
#[derive(Debug)]
pub struct MemoryCacheStore {
    capacity: usize,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// (namespace, key) -> entry; a tuple, so no separator can make two
    /// names collide.
    entries: HashMap<(String, String), Entry>,
    /// Write order, for evicting the oldest entry when full.
    order: BTreeMap<u64, (String, String)>,
    next_seq: u64,
}

#[derive(Debug)]
struct Entry {
    value: Vec<u8>,
    expires: Option<Instant>,
    seq: u64,
}

impl Entry {
    fn live(&self, now: Instant) -> bool {
        self.expires.is_none_or(|at| at > now)
    }
}

impl MemoryCacheStore {
    /// A store of at most 100,000 entries.
    pub fn new() -> MemoryCacheStore {
        MemoryCacheStore::with_capacity(100_000)
    }

    /// A store of at most `capacity` entries (at least one).
    pub fn with_capacity(capacity: usize) -> MemoryCacheStore {
        MemoryCacheStore {
            capacity: capacity.max(1),
            state: Mutex::default(),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic elsewhere cannot leave the maps half-updated in a way that
        // matters for a cache; keep serving.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Default for MemoryCacheStore {
    fn default() -> MemoryCacheStore {
        MemoryCacheStore::new()
    }
}

impl State {
    fn remove(&mut self, name: &(String, String)) {
        if let Some(entry) = self.entries.remove(name) {
            self.order.remove(&entry.seq);
        }
    }

    /// Makes room for one entry: expired ones first, then the oldest written.
    fn make_room(&mut self, capacity: usize, now: Instant) {
        if self.entries.len() < capacity {
            return;
        }
        self.entries.retain(|_, e| e.live(now));
        let live = &self.entries;
        self.order.retain(|_, name| live.contains_key(name));
        while self.entries.len() >= capacity {
            let Some((_, oldest)) = self.order.pop_first() else {
                break;
            };
            self.entries.remove(&oldest);
        }
    }
}

#[async_trait]
impl CacheStore for MemoryCacheStore {
    async fn get(&self, namespace: &str, key: &str) -> anyhow::Result<Option<Vec<u8>>> {
        let name = (namespace.to_owned(), key.to_owned());
        let mut state = self.state();
        match state.entries.get(&name) {
            Some(e) if e.live(Instant::now()) => Ok(Some(e.value.clone())),
            Some(_) => {
                state.remove(&name);
                Ok(None)
            }
            None => Ok(None),
        }
    }

    async fn set(
        &self,
        namespace: &str,
        key: &str,
        value: &[u8],
        ttl: Option<Duration>,
    ) -> anyhow::Result<()> {
        let now = Instant::now();
        // A TTL too long for the clock is "never expires".
        let expires = ttl.and_then(|ttl| now.checked_add(ttl));
        let name = (namespace.to_owned(), key.to_owned());
        let mut state = self.state();
        state.remove(&name);
        state.make_room(self.capacity, now);
        let seq = state.next_seq;
        state.next_seq += 1;
        state.order.insert(seq, name.clone());
        let entry = Entry {
            value: value.to_vec(),
            expires,
            seq,
        };
        state.entries.insert(name, entry);
        Ok(())
    }

    async fn delete(&self, namespace: &str, key: &str) -> anyhow::Result<()> {
        self.state().remove(&(namespace.to_owned(), key.to_owned()));
        Ok(())
    }

    async fn clear(&self, namespace: &str) -> anyhow::Result<()> {
        let mut state = self.state();
        let doomed: Vec<_> = state
            .entries
            .keys()
            .filter(|(ns, _)| ns == namespace)
            .cloned()
            .collect();
        for name in doomed {
            state.remove(&name);
        }
        Ok(())
    }

    async fn entry_count(&self, namespace: &str) -> anyhow::Result<u64> {
        let now = Instant::now();
        let state = self.state();
        Ok(state
            .entries
            .iter()
            .filter(|((ns, _), e)| ns == namespace && e.live(now))
            .count() as u64)
    }
}
