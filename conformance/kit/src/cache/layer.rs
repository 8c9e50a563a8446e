//! Wrappers around a cache store: override one method, forward the rest.

use std::time::Duration;

use async_trait::async_trait;
use wacore::store::cache::CacheStore;

/// A wrapper around a cache store: each method forwards to
/// [`inner`](Self::inner) unless overridden. Wrap it in [`LayeredCache`] to
/// get a `CacheStore`. (Five methods, written here and in the forwarding
/// impl: the trait is small, a macro would hide more than it saves.)
#[async_trait]
pub trait CacheLayer: Send + Sync + 'static {
    /// The wrapped store.
    fn inner(&self) -> &dyn CacheStore;

    /// `CacheStore::get`.
    async fn get(&self, namespace: &str, key: &str) -> anyhow::Result<Option<Vec<u8>>> {
        self.inner().get(namespace, key).await
    }

    /// `CacheStore::set`.
    async fn set(
        &self,
        namespace: &str,
        key: &str,
        value: &[u8],
        ttl: Option<Duration>,
    ) -> anyhow::Result<()> {
        self.inner().set(namespace, key, value, ttl).await
    }

    /// `CacheStore::delete`.
    async fn delete(&self, namespace: &str, key: &str) -> anyhow::Result<()> {
        self.inner().delete(namespace, key).await
    }

    /// `CacheStore::clear`.
    async fn clear(&self, namespace: &str) -> anyhow::Result<()> {
        self.inner().clear(namespace).await
    }

    /// `CacheStore::entry_count`.
    async fn entry_count(&self, namespace: &str) -> anyhow::Result<u64> {
        self.inner().entry_count(namespace).await
    }
}

/// The `CacheStore` of a [`CacheLayer`].
pub struct LayeredCache<L>(pub L);

#[async_trait]
impl<L: CacheLayer> CacheStore for LayeredCache<L> {
    async fn get(&self, namespace: &str, key: &str) -> anyhow::Result<Option<Vec<u8>>> {
        self.0.get(namespace, key).await
    }

    async fn set(
        &self,
        namespace: &str,
        key: &str,
        value: &[u8],
        ttl: Option<Duration>,
    ) -> anyhow::Result<()> {
        self.0.set(namespace, key, value, ttl).await
    }

    async fn delete(&self, namespace: &str, key: &str) -> anyhow::Result<()> {
        self.0.delete(namespace, key).await
    }

    async fn clear(&self, namespace: &str) -> anyhow::Result<()> {
        self.0.clear(namespace).await
    }

    async fn entry_count(&self, namespace: &str) -> anyhow::Result<u64> {
        self.0.entry_count(namespace).await
    }
}
