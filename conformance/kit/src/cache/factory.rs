//! Where the checks get fresh cache stores, and what a store claims.

use std::future::Future;
use std::sync::Arc;

use futures::future::BoxFuture;
use wacore::store::cache::CacheStore;

use crate::storage::SetupError;

/// What `entry_count` returns, as the store declares it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum EntryCount {
    /// The live entries of the namespace, exactly: the kit holds it to that.
    Exact,
    /// An estimate (expired entries not yet purged, counts of a sampling
    /// server): the kit only reports what it saw.
    Approximate,
    /// `Ok(0)` always (the trait's default, "cannot cheaply report counts").
    #[default]
    Unsupported,
}

/// What a cache store claims.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Capabilities {
    /// What `entry_count` returns.
    pub entry_count: EntryCount,
}

impl Capabilities {
    /// Claims `entry_count`.
    pub fn with_entry_count(mut self, entry_count: EntryCount) -> Capabilities {
        self.entry_count = entry_count;
        self
    }
}

/// Makes fresh, empty cache stores for the checks.
pub trait Factory: Send + Sync {
    /// The store's name in reports.
    fn name(&self) -> &str;
    /// What it claims.
    fn capabilities(&self) -> Capabilities;
    /// A fresh, empty store.
    fn open(&self) -> BoxFuture<'_, Result<Arc<dyn CacheStore>, SetupError>>;
}

type Open = dyn Fn() -> BoxFuture<'static, Result<Arc<dyn CacheStore>, SetupError>> + Send + Sync;

/// A [`Factory`] from a name, capabilities and a closure.
pub struct SimpleFactory {
    name: String,
    caps: Capabilities,
    open: Box<Open>,
}

impl SimpleFactory {
    /// `open` makes a fresh, empty store each time it is called.
    pub fn new<F, Fut, S>(name: impl Into<String>, caps: Capabilities, open: F) -> SimpleFactory
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<S, SetupError>> + Send + 'static,
        S: IntoCacheStore,
    {
        SimpleFactory {
            name: name.into(),
            caps,
            open: Box::new(move || {
                let opening = open();
                Box::pin(async move { opening.await.map(IntoCacheStore::into_cache_store) })
            }),
        }
    }
}

/// What a [`SimpleFactory`]'s closure may return: an `Arc` of any cache
/// store, or an `Arc<dyn CacheStore>`.
pub trait IntoCacheStore {
    /// The store as a trait object.
    fn into_cache_store(self) -> Arc<dyn CacheStore>;
}

impl<S: CacheStore> IntoCacheStore for Arc<S> {
    fn into_cache_store(self) -> Arc<dyn CacheStore> {
        self
    }
}

impl IntoCacheStore for Arc<dyn CacheStore> {
    fn into_cache_store(self) -> Arc<dyn CacheStore> {
        self
    }
}

impl Factory for SimpleFactory {
    fn name(&self) -> &str {
        &self.name
    }

    fn capabilities(&self) -> Capabilities {
        self.caps
    }

    fn open(&self) -> BoxFuture<'_, Result<Arc<dyn CacheStore>, SetupError>> {
        (self.open)()
    }
}

impl<F: Factory + ?Sized> Factory for Box<F> {
    fn name(&self) -> &str {
        (**self).name()
    }

    fn capabilities(&self) -> Capabilities {
        (**self).capabilities()
    }

    fn open(&self) -> BoxFuture<'_, Result<Arc<dyn CacheStore>, SetupError>> {
        (**self).open()
    }
}
