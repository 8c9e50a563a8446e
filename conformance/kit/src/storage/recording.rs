//! [`Recording`]: a store wrapper that notes which trait methods were called.
//! The kit uses it to prove that every check calls the methods it claims to
//! cover; a backend author can use it to see what a workload calls.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use wacore::store::traits::Backend;

use super::methods::{Layer, Layered, Method};

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
