//! A [`CacheStore`] on Redis: whatsapp-rust's pluggable caches shared by
//! several bot instances.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use std::sync::Arc;
//! use whatsapp_rust_redis_cache::RedisCacheStore;
//!
//! let cache = Arc::new(RedisCacheStore::open("redis://127.0.0.1/", "bot-eu-1:")?);
//! // whatsapp_rust::CacheConfig { cache_stores: CacheStores::all(cache), ..Default::default() }
//! # Ok(()) }
//! ```
//!
//! Layout: every entry is one Redis string at
//! `{prefix}{namespace length}:{namespace}:{key}`. The length makes the
//! name unambiguous (`("a", "b:c")` and `("a:b", "c")` differ), and the
//! prefix separates deployments sharing a server. `clear` and `entry_count`
//! walk `{prefix}{len}:{namespace}:*` with `SCAN` in pages of 500 (never
//! `KEYS`, which blocks the server on a large keyspace) and delete with
//! `UNLINK` (freed in the background). TTLs are sent in milliseconds
//! (`PX`), so a sub-second TTL is kept as asked (never `EX 0`, a Redis
//! error).

#![warn(missing_docs)]

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::Duration;

use anyhow::Context as _;
use async_trait::async_trait;
use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, Client, RedisError};
use wacore::store::cache::CacheStore;

/// Keys per `SCAN` page in `clear` and `entry_count`.
const SCAN_PAGE: usize = 500;

/// A [`CacheStore`] on a Redis server.
pub struct RedisCacheStore {
    client: Client,
    prefix: String,
    config: AsyncConnectionConfig,
    /// The shared connection; `None` after it failed, until the next call
    /// opens a new one.
    connection: Mutex<Option<MultiplexedConnection>>,
}

impl std::fmt::Debug for RedisCacheStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisCacheStore")
            .field(
                "server",
                &self.client.get_connection_info().addr().to_string(),
            )
            .field("prefix", &self.prefix)
            .finish()
    }
}

impl RedisCacheStore {
    /// A store on the server at `url` (`redis://host:port/db`, `rediss://`
    /// is not compiled in), its keys under `prefix`. Connects lazily: a
    /// server that is down is an error of the first call, not of `open`.
    ///
    /// # Errors
    /// If `url` is not a Redis URL.
    pub fn open(url: &str, prefix: impl Into<String>) -> anyhow::Result<RedisCacheStore> {
        let client = Client::open(url).with_context(|| format!("bad Redis URL {url:?}"))?;
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(5)))
            .set_response_timeout(Some(Duration::from_secs(5)));
        Ok(RedisCacheStore {
            client,
            prefix: prefix.into(),
            config,
            connection: Mutex::new(None),
        })
    }

    /// The key prefix.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    fn key(&self, namespace: &str, key: &str) -> String {
        format!("{}{}:{namespace}:{key}", self.prefix, namespace.len())
    }

    /// The `SCAN MATCH` pattern of every key of `namespace`.
    fn pattern(&self, namespace: &str) -> String {
        format!(
            "{}*",
            glob_escape(&format!("{}{}:{namespace}:", self.prefix, namespace.len()))
        )
    }

    async fn connection(&self) -> anyhow::Result<MultiplexedConnection> {
        if let Some(c) = self.slot().clone() {
            return Ok(c);
        }
        let fresh = self
            .client
            .get_multiplexed_async_connection_with_config(&self.config)
            .await
            .context("cannot connect to Redis")?;
        *self.slot() = Some(fresh.clone());
        Ok(fresh)
    }

    fn slot(&self) -> std::sync::MutexGuard<'_, Option<MultiplexedConnection>> {
        self.connection.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `cmd`; a connection-level failure drops the shared connection so
    /// the next call reconnects (after a server restart, for example).
    async fn run<T: redis::FromRedisValue>(&self, cmd: &redis::Cmd) -> anyhow::Result<T> {
        let mut connection = self.connection().await?;
        match cmd.query_async(&mut connection).await {
            Ok(value) => Ok(value),
            Err(e) => {
                if breaks_the_connection(&e) {
                    *self.slot() = None;
                }
                Err(anyhow::Error::new(e).context("Redis command failed"))
            }
        }
    }

    /// Every key of `namespace`, page by page, each page handed to `page`.
    async fn scan(&self, namespace: &str, mut page: impl AsyncPage) -> anyhow::Result<()> {
        let pattern = self.pattern(namespace);
        let mut cursor: u64 = 0;
        loop {
            let mut cmd = redis::cmd("SCAN");
            cmd.arg(cursor)
                .arg("MATCH")
                .arg(&pattern)
                .arg("COUNT")
                .arg(SCAN_PAGE);
            let (next, keys): (u64, Vec<String>) = self.run(&cmd).await?;
            page.take(self, keys).await?;
            if next == 0 {
                return Ok(());
            }
            cursor = next;
        }
    }
}

/// What `scan` does with each page of keys.
#[async_trait]
trait AsyncPage: Send {
    async fn take(&mut self, store: &RedisCacheStore, keys: Vec<String>) -> anyhow::Result<()>;
}

/// Deletes each page (`UNLINK`: freed in the background).
struct Unlink;

#[async_trait]
impl AsyncPage for Unlink {
    async fn take(&mut self, store: &RedisCacheStore, keys: Vec<String>) -> anyhow::Result<()> {
        if !keys.is_empty() {
            let _: u64 = store.run(redis::cmd("UNLINK").arg(&keys)).await?;
        }
        Ok(())
    }
}

/// Collects the distinct keys (`SCAN` may return a key twice).
#[derive(Default)]
struct Distinct(HashSet<String>);

#[async_trait]
impl AsyncPage for &mut Distinct {
    async fn take(&mut self, _store: &RedisCacheStore, keys: Vec<String>) -> anyhow::Result<()> {
        self.0.extend(keys);
        Ok(())
    }
}

fn breaks_the_connection(e: &RedisError) -> bool {
    e.is_io_error()
        || e.is_connection_dropped()
        || e.is_connection_refusal()
        || e.is_timeout()
        || e.is_unrecoverable_error()
}

/// `text` with Redis glob metacharacters escaped, for `SCAN MATCH`.
fn glob_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\' | '^' | '-') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A TTL in whole milliseconds, rounded up and at least 1 (`PX 0` is an error).
fn ttl_millis(ttl: Duration) -> u64 {
    u64::try_from(ttl.as_nanos().div_ceil(1_000_000))
        .unwrap_or(u64::MAX)
        .max(1)
}

#[async_trait]
impl CacheStore for RedisCacheStore {
    async fn get(&self, namespace: &str, key: &str) -> anyhow::Result<Option<Vec<u8>>> {
        self.run(redis::cmd("GET").arg(self.key(namespace, key)))
            .await
    }

    async fn set(
        &self,
        namespace: &str,
        key: &str,
        value: &[u8],
        ttl: Option<Duration>,
    ) -> anyhow::Result<()> {
        let mut cmd = redis::cmd("SET");
        cmd.arg(self.key(namespace, key)).arg(value);
        if let Some(ttl) = ttl {
            cmd.arg("PX").arg(ttl_millis(ttl));
        }
        let _: () = self.run(&cmd).await?;
        Ok(())
    }

    async fn delete(&self, namespace: &str, key: &str) -> anyhow::Result<()> {
        let _: u64 = self
            .run(redis::cmd("UNLINK").arg(self.key(namespace, key)))
            .await?;
        Ok(())
    }

    async fn clear(&self, namespace: &str) -> anyhow::Result<()> {
        self.scan(namespace, Unlink).await
    }

    /// The distinct live keys `SCAN` finds: exact when nothing writes the
    /// namespace meanwhile (Redis never returns a logically expired key).
    async fn entry_count(&self, namespace: &str) -> anyhow::Result<u64> {
        let mut keys = Distinct::default();
        self.scan(namespace, &mut keys).await?;
        Ok(keys.0.len() as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_never_collide_and_patterns_are_literal() {
        let s = RedisCacheStore::open("redis://127.0.0.1:1/", "t:").unwrap();
        assert_ne!(s.key("a", "b:c"), s.key("a:b", "c"));
        assert_eq!(
            s.pattern("g*[x]"),
            "t\\:5\\:g\\*\\[x\\]\\:*".replace("\\:", ":")
        );
        assert_eq!(ttl_millis(Duration::from_micros(1)), 1);
        assert_eq!(ttl_millis(Duration::from_millis(400)), 400);
        assert_eq!(ttl_millis(Duration::ZERO), 1);
    }
}
