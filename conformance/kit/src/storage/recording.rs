//! [`Recording`]: a store wrapper that notes which trait methods were called.
//! The kit uses it to prove that every check calls the methods it claims to
//! cover; a backend author can use it to see what a workload calls.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use wacore::store::traits::Backend;

use super::methods::{Layer, Layered, Method};
use super::{Capabilities, Check, Factory, Instance, SetupError, run_check};
use crate::Expectations;

/// The methods called so far, shared between wrappers and whoever reads them.
pub type Calls = Arc<Mutex<BTreeSet<Method>>>;

/// Forwards every call to the inner store and records which method it was.
pub struct Recording {
    inner: Arc<dyn Backend>,
    calls: Calls,
}

impl Recording {
    /// `inner`, with every call recorded into `calls` (shared, so several
    /// wrapped stores can feed one set).
    pub fn wrap(inner: Arc<dyn Backend>, calls: Calls) -> Arc<dyn Backend> {
        Arc::new(Layered(Recording { inner, calls }))
    }
}

impl Layer for Recording {
    fn inner(&self) -> &dyn Backend {
        &*self.inner
    }

    fn before(&self, method: Method) {
        // A poisoned set still holds every name recorded before the panic.
        let mut calls = self.calls.lock().unwrap_or_else(|e| e.into_inner());
        calls.insert(method);
    }
}

/// A factory whose stores (every handle: the store, other accounts, second
/// handles) record their calls into one set: what a check or a whole suite
/// calls on a real backend.
pub struct RecordingFactory<F> {
    inner: F,
    calls: Calls,
}

impl<F: Factory> RecordingFactory<F> {
    /// Wraps `inner`; every store it opens records into `calls`.
    pub fn new(inner: F, calls: Calls) -> Self {
        RecordingFactory { inner, calls }
    }
}

struct RecordingInstance {
    inner: Box<dyn Instance>,
    calls: Calls,
}

#[async_trait]
impl<F: Factory> Factory for RecordingFactory<F> {
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }
    async fn open(&self) -> Result<Box<dyn Instance>, SetupError> {
        Ok(Box::new(RecordingInstance {
            inner: self.inner.open().await?,
            calls: self.calls.clone(),
        }))
    }
}

#[async_trait]
impl Instance for RecordingInstance {
    fn store(&self) -> Arc<dyn Backend> {
        Recording::wrap(self.inner.store(), self.calls.clone())
    }
    async fn reopen(&mut self) -> Result<(), SetupError> {
        self.inner.reopen().await
    }
    async fn account(&self, device_id: i32) -> Result<Arc<dyn Backend>, SetupError> {
        let store = self.inner.account(device_id).await?;
        Ok(Recording::wrap(store, self.calls.clone()))
    }
    async fn second_handle(&self) -> Result<Arc<dyn Backend>, SetupError> {
        let store = self.inner.second_handle().await?;
        Ok(Recording::wrap(store, self.calls.clone()))
    }
    async fn teardown(self: Box<Self>) -> Result<(), SetupError> {
        self.inner.teardown().await
    }
}

/// Runs `check` on a fresh store of `factory` and returns the methods it
/// called (on every handle), whatever its outcome.
pub async fn methods_called(check: &Check, factory: &dyn Factory) -> BTreeSet<Method> {
    let calls: Calls = Arc::default();
    let recording = RecordingFactory::new(FactoryRef(factory), calls.clone());
    run_check(check, &recording, &Expectations::none()).await;
    calls.lock().unwrap_or_else(|e| e.into_inner()).clone()
}

/// A borrowed factory, so [`methods_called`] needs no ownership.
struct FactoryRef<'a>(&'a dyn Factory);

#[async_trait]
impl Factory for FactoryRef<'_> {
    fn name(&self) -> &str {
        self.0.name()
    }
    fn capabilities(&self) -> Capabilities {
        self.0.capabilities()
    }
    async fn open(&self) -> Result<Box<dyn Instance>, SetupError> {
        self.0.open().await
    }
}
