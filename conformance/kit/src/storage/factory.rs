//! What a backend author hands the kit: a factory of fresh stores and the
//! capabilities the store claims.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use wacore::store::error::StoreError;
use wacore::store::traits::Backend;

/// A factory or instance could not do what the kit asked (open a fresh
/// store, reopen it, open another account, tear it down).
#[derive(Debug)]
#[non_exhaustive]
pub enum SetupError {
    /// The store does not offer this; the default of the optional
    /// [`Instance`] methods. Says what was asked.
    Unsupported(&'static str),
    /// The backend, or whatever the factory set up around it, failed.
    Failed(Box<dyn std::error::Error + Send + Sync>),
}

impl SetupError {
    /// Wraps any error (or a message: `SetupError::failed("no schema")`).
    pub fn failed(error: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> SetupError {
        SetupError::Failed(error.into())
    }
}

impl fmt::Display for SetupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SetupError::Unsupported(what) => write!(f, "this store does not support {what}"),
            SetupError::Failed(e) => f.write_str(&crate::verdict::error_chain(e.as_ref())),
        }
    }
}

impl std::error::Error for SetupError {}

impl From<StoreError> for SetupError {
    fn from(e: StoreError) -> Self {
        SetupError::Failed(Box::new(e))
    }
}

impl From<std::io::Error> for SetupError {
    fn from(e: std::io::Error) -> Self {
        SetupError::Failed(Box::new(e))
    }
}

impl From<SetupError> for crate::Failure {
    fn from(e: SetupError) -> Self {
        crate::Failure(format!("the store's set-up failed: {e}"))
    }
}

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
    /// A SIGKILL of a process writing to the store loses no acknowledged
    /// write. The crash campaign holds a store that claims it to exactly
    /// that; one that does not must keep a prefix of its acknowledged
    /// writes, whole (`storage::crash::Guarantee`).
    pub process_crash_safe: bool,
    /// Choices the trait leaves open that the store declares: the kit then
    /// holds it to them (undeclared ones are only observed).
    pub choices: Choices,
}

/// Behaviour the trait leaves to the backend. A declared choice turns the
/// implementation-defined check that observes it into a requirement: a store
/// that declares one thing and does another fails that check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Choices {
    /// What `get_msg_secret_with_ts` returns as the message time.
    pub message_ts: Option<MessageTs>,
    /// The order and repeats of `load_prekeys_batch`'s result.
    pub prekey_batch_order: Option<PrekeyBatchOrder>,
}

/// What `get_msg_secret_with_ts` returns as the message time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum MessageTs {
    /// The `message_ts` stored by `put_msg_secrets`.
    Stored,
    /// Always 0 (the trait's default: message_ts is not stored).
    Zero,
}

/// The order and repeats of `load_prekeys_batch`'s result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PrekeyBatchOrder {
    /// In request order; a repeated id once.
    RequestOrderOnce,
    /// In request order; a repeated id as often as it was asked for.
    RequestOrderRepeated,
    /// Sorted by id; each id once.
    SortedOnce,
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
            process_crash_safe: false,
            choices: Choices {
                message_ts: None,
                prekey_batch_order: None,
            },
        }
    }

    /// Everything optional (no choice declared).
    pub const fn all() -> Self {
        Capabilities {
            persistent: true,
            multi_account: true,
            pending_inbound: true,
            group_metadata: true,
            second_handle: true,
            process_crash_safe: true,
            choices: Capabilities::none().choices,
        }
    }

    /// Declares what `get_msg_secret_with_ts` returns as the message time.
    pub const fn message_ts(mut self, choice: MessageTs) -> Self {
        self.choices.message_ts = Some(choice);
        self
    }

    /// Declares the order and repeats of `load_prekeys_batch`'s result.
    pub const fn prekey_batch_order(mut self, choice: PrekeyBatchOrder) -> Self {
        self.choices.prekey_batch_order = Some(choice);
        self
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

    /// Sets [`Capabilities::process_crash_safe`].
    pub const fn process_crash_safe(mut self, yes: bool) -> Self {
        self.process_crash_safe = yes;
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
    async fn open(&self) -> Result<Box<dyn Instance>, SetupError>;
}

#[async_trait]
impl<F: Factory + ?Sized> Factory for Box<F> {
    fn name(&self) -> &str {
        (**self).name()
    }
    fn capabilities(&self) -> Capabilities {
        (**self).capabilities()
    }
    async fn open(&self) -> Result<Box<dyn Instance>, SetupError> {
        (**self).open().await
    }
}

/// One fresh store under test.
#[async_trait]
pub trait Instance: Send + Sync {
    /// The store (account 1, or whatever the backend's default account is).
    fn store(&self) -> Arc<dyn Backend>;

    /// Persistent stores: close every handle, reopen the same data; `store()`
    /// then returns the reopened store.
    async fn reopen(&mut self) -> Result<(), SetupError> {
        Err(SetupError::Unsupported("reopening (it is not persistent)"))
    }

    /// Multi-account stores: another account (device id) of the same store.
    async fn account(&self, device_id: i32) -> Result<Arc<dyn Backend>, SetupError> {
        let _ = device_id;
        Err(SetupError::Unsupported("other accounts"))
    }

    /// A second, independent handle on the same data and account (for
    /// example a second connection), used to watch writes from outside.
    async fn second_handle(&self) -> Result<Arc<dyn Backend>, SetupError> {
        Err(SetupError::Unsupported("a second handle"))
    }

    /// Called once after the check, whatever its outcome: removes what the
    /// store left outside the process (a schema, a key prefix, a server-side
    /// database). The default does nothing; dropping the instance frees
    /// in-process stores and temporary files. A failure here fails the check.
    async fn teardown(self: Box<Self>) -> Result<(), SetupError> {
        Ok(())
    }
}

type OpenFn = dyn Fn() -> futures::future::BoxFuture<'static, Result<Arc<dyn Backend>, SetupError>>
    + Send
    + Sync;

/// The shortest way in for an in-process, non-persistent store:
///
/// ```
/// use std::sync::Arc;
/// use whatsapp_rust_conformance::storage::{Capabilities, SimpleFactory};
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
        Fut: std::future::Future<Output = Result<Arc<dyn Backend>, SetupError>> + Send + 'static,
    {
        SimpleFactory {
            name: name.into(),
            capabilities,
            open: Box::new(move || Box::pin(open())),
        }
    }

    /// A factory of stores made by a plain constructor, claiming no optional
    /// capability ([`SimpleFactory::with_capabilities`] to claim some):
    ///
    /// ```
    /// use whatsapp_rust_conformance::storage::SimpleFactory;
    /// let factory = SimpleFactory::of("memory", wacore::store::InMemoryBackend::new);
    /// ```
    pub fn of<B, F>(name: impl Into<String>, make: F) -> Self
    where
        B: Backend + 'static,
        F: Fn() -> B + Send + Sync + 'static,
    {
        let make = Arc::new(make);
        SimpleFactory::new(name, Capabilities::none(), move || {
            let store: Arc<dyn Backend> = Arc::new(make());
            async move { Ok(store) }
        })
    }

    /// The same factory, claiming `capabilities`.
    pub fn with_capabilities(mut self, capabilities: Capabilities) -> Self {
        self.capabilities = capabilities;
        self
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
    async fn open(&self) -> Result<Box<dyn Instance>, SetupError> {
        Ok(Box::new(SimpleInstance((self.open)().await?)))
    }
}
