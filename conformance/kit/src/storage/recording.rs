//! [`Recording`]: a store wrapper that notes which trait methods were called.
//! The kit uses it to prove that every check calls the methods it claims to
//! cover; a backend author can use it to see what a workload calls.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use wacore::store::traits::Backend;

use super::methods::{Layer, Layered, Method};
use super::wrapped::{FactoryRef, WrappedFactory};
use super::{Check, Factory, run_check};
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
/// handles) record their calls into `calls`: what a check or a whole suite
/// calls on a real backend.
pub fn recording_factory<F: Factory>(inner: F, calls: Calls) -> WrappedFactory<F> {
    WrappedFactory::new(inner, move |store| Recording::wrap(store, calls.clone()))
}

/// Runs `check` on a fresh store of `factory` and returns the methods it
/// called (on every handle), whatever its outcome.
pub async fn methods_called(check: &Check, factory: &dyn Factory) -> BTreeSet<Method> {
    let calls: Calls = Arc::default();
    let recording = recording_factory(FactoryRef(factory), calls.clone());
    run_check(check, &recording, &Expectations::none()).await;
    calls.lock().unwrap_or_else(|e| e.into_inner()).clone()
}
