//! Wrappers around a runtime: override one method, forward the rest.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use wacore::runtime::{AbortHandle, Runtime};

/// A spawned task, as the trait takes it.
pub type Task = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;
/// A future the trait hands back (`sleep`, `spawn_blocking`, `yield_now`).
pub type Waiting = Pin<Box<dyn Future<Output = ()> + Send>>;

/// A wrapper around a runtime: each method forwards to [`inner`](Self::inner)
/// unless overridden. Wrap it in [`LayeredRuntime`] to get a `Runtime`.
/// (The six methods are written here and in `LayeredRuntime`'s forwarding
/// impl: the trait is small and stable, a macro would hide more than it saves.)
pub trait RuntimeLayer: Send + Sync + 'static {
    /// The wrapped runtime.
    fn inner(&self) -> &dyn Runtime;

    /// `Runtime::spawn`.
    fn spawn(&self, future: Task) -> AbortHandle {
        self.inner().spawn(future)
    }

    /// `Runtime::spawn_detached`.
    fn spawn_detached(&self, future: Task) {
        self.inner().spawn_detached(future)
    }

    /// `Runtime::sleep`.
    fn sleep(&self, duration: Duration) -> Waiting {
        self.inner().sleep(duration)
    }

    /// `Runtime::spawn_blocking`.
    fn spawn_blocking(&self, f: Box<dyn FnOnce() + Send + 'static>) -> Waiting {
        self.inner().spawn_blocking(f)
    }

    /// `Runtime::yield_now`.
    fn yield_now(&self) -> Option<Waiting> {
        self.inner().yield_now()
    }

    /// `Runtime::yield_frequency`.
    fn yield_frequency(&self) -> u32 {
        self.inner().yield_frequency()
    }
}

/// The `Runtime` of a [`RuntimeLayer`].
pub struct LayeredRuntime<L>(pub L);

#[async_trait::async_trait]
impl<L: RuntimeLayer> Runtime for LayeredRuntime<L> {
    fn spawn(&self, future: Task) -> AbortHandle {
        self.0.spawn(future)
    }

    fn spawn_detached(&self, future: Task) {
        self.0.spawn_detached(future)
    }

    fn sleep(&self, duration: Duration) -> Waiting {
        self.0.sleep(duration)
    }

    fn spawn_blocking(&self, f: Box<dyn FnOnce() + Send + 'static>) -> Waiting {
        self.0.spawn_blocking(f)
    }

    fn yield_now(&self) -> Option<Waiting> {
        self.0.yield_now()
    }

    fn yield_frequency(&self) -> u32 {
        self.0.yield_frequency()
    }
}
