//! What a backend author hands the kit: a factory of fresh stores and the
//! capabilities the store claims.

use std::sync::Arc;

use async_trait::async_trait;
use wacore::store::traits::Backend;

/// Optional parts of the contract a backend may or may not provide. A check
/// that needs a capability the store lacks verifies that the store says so
/// properly (an error or the documented no-op), never passes silently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Capabilities {
    /// Data survives [`Instance::reopen`].
    pub persistent: bool,
    /// [`Instance::account`] gives other accounts of the same store.
    pub multi_account: bool,
    /// The pending-inbound buffer (the durability hook) is implemented.
    pub pending_inbound: bool,
    /// Group metadata is persisted (not the no-op default).
    pub group_metadata: bool,
    /// [`Instance::second_handle`] opens a second, independent handle on the same data.
    pub second_handle: bool,
}

impl Capabilities {
    /// Nothing optional: a plain in-process store.
    pub const fn none() -> Self {
        Capabilities {
            persistent: false,
            multi_account: false,
            pending_inbound: false,
            group_metadata: false,
            second_handle: false,
        }
    }

    /// Everything optional.
    pub const fn all() -> Self {
        Capabilities {
            persistent: true,
            multi_account: true,
            pending_inbound: true,
            group_metadata: true,
            second_handle: true,
        }
    }

    /// Sets [`Capabilities::persistent`].
    pub const fn persistent(mut self, yes: bool) -> Self {
        self.persistent = yes;
        self
    }

    /// Sets [`Capabilities::multi_account`].
    pub const fn multi_account(mut self, yes: bool) -> Self {
        self.multi_account = yes;
        self
    }

    /// Sets [`Capabilities::pending_inbound`].
    pub const fn pending_inbound(mut self, yes: bool) -> Self {
        self.pending_inbound = yes;
        self
    }

    /// Sets [`Capabilities::group_metadata`].
    pub const fn group_metadata(mut self, yes: bool) -> Self {
        self.group_metadata = yes;
        self
    }

    /// Sets [`Capabilities::second_handle`].
    pub const fn second_handle(mut self, yes: bool) -> Self {
        self.second_handle = yes;
        self
    }
}

/// Makes fresh, empty stores. Every check gets its own, so order never matters.
#[async_trait]
pub trait Factory: Send + Sync {
    /// A short name for reports (`redb`, `sqlite`, `my-postgres`, ...).
    fn name(&self) -> &str;
    /// What the store claims to support.
    fn capabilities(&self) -> Capabilities;
    /// Opens a fresh, empty store.
    async fn open(&self) -> Result<Box<dyn Instance>, String>;
}

/// One fresh store under test.
#[async_trait]
pub trait Instance: Send + Sync {
    /// The store (account 1, or whatever the backend's default account is).
    fn store(&self) -> Arc<dyn Backend>;

    /// Persistent stores: close every handle, reopen the same data; `store()`
    /// then returns the reopened store.
    async fn reopen(&mut self) -> Result<(), String> {
        Err("this store is not persistent".into())
    }

    /// Multi-account stores: another account (device id) of the same store.
    async fn account(&self, device_id: i32) -> Result<Arc<dyn Backend>, String> {
        let _ = device_id;
        Err("this store has one account".into())
    }

    /// A second, independent handle on the same data and account (for
    /// example a second connection), used to watch writes from outside.
    async fn second_handle(&self) -> Result<Arc<dyn Backend>, String> {
        Err("this store offers no second handle".into())
    }
}

type OpenFn =
    dyn Fn() -> futures::future::BoxFuture<'static, Result<Arc<dyn Backend>, String>> + Send + Sync;

/// The shortest way in for an in-process, non-persistent store:
///
/// ```
/// use std::sync::Arc;
/// use whatsapp_rust_conformance::{Capabilities, SimpleFactory};
/// let factory = SimpleFactory::new("memory", Capabilities::none(), || async {
///     Ok(Arc::new(wacore::store::InMemoryBackend::new()) as _)
/// });
/// ```
pub struct SimpleFactory {
    name: String,
    capabilities: Capabilities,
    open: Box<OpenFn>,
}

impl SimpleFactory {
    /// A factory calling `open` for every fresh store.
    pub fn new<F, Fut>(name: impl Into<String>, capabilities: Capabilities, open: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = Result<Arc<dyn Backend>, String>> + Send + 'static,
    {
        SimpleFactory {
            name: name.into(),
            capabilities,
            open: Box::new(move || Box::pin(open())),
        }
    }
}

struct SimpleInstance(Arc<dyn Backend>);

#[async_trait]
impl Instance for SimpleInstance {
    fn store(&self) -> Arc<dyn Backend> {
        self.0.clone()
    }
}

#[async_trait]
impl Factory for SimpleFactory {
    fn name(&self) -> &str {
        &self.name
    }
    fn capabilities(&self) -> Capabilities {
        self.capabilities
    }
    async fn open(&self) -> Result<Box<dyn Instance>, String> {
        Ok(Box::new(SimpleInstance((self.open)().await?)))
    }
}
