//! A [`Runtime`] on smol's executor, timers and blocking pool: a
//! whatsapp-rust bot with no tokio at all.
//!
//! ```
//! use std::sync::Arc;
//! use wacore::runtime::Runtime;
//! use whatsapp_rust_smol_runtime::SmolRuntime;
//!
//! let runtime: Arc<dyn Runtime> = Arc::new(SmolRuntime::new());
//! let (tx, rx) = std::sync::mpsc::channel();
//! runtime.spawn_detached(Box::pin(async move { tx.send(42).unwrap() }));
//! assert_eq!(rx.recv().unwrap(), 42);
//! ```
//!
//! What the client relies on, and how this crate keeps it:
//! - dropping or aborting an [`AbortHandle`] drops the task's future at once,
//!   even one parked on a future that never wakes: the task is wrapped in
//!   [`Abortable`], whose abort wakes it;
//! - [`AbortHandle::detach`] leaves the task running: the smol `Task` is
//!   detached at spawn, never held by the handle (dropping a smol `Task`
//!   cancels it);
//! - `spawn_blocking` runs the closure on smol's blocking pool and resolves
//!   after it returns; a panic inside it is caught there, so it neither
//!   crosses into the awaiting task nor takes a worker down;
//! - a single-threaded runtime returns `Some` from `yield_now` and 1 from
//!   `yield_frequency`, so a tight loop of the client lets timers and other
//!   tasks on the one thread run.

#![warn(missing_docs)]

use std::future::Future;
use std::num::NonZeroUsize;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use futures_util::future::{AbortHandle as Abort, Abortable};
use wacore::runtime::{AbortHandle, Runtime};

type BoxedTask = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// A [`Runtime`] running tasks on its own smol executor threads.
///
/// The worker threads stop when the last clone of the runtime is dropped;
/// tasks still queued then are dropped with the executor.
#[derive(Clone)]
pub struct SmolRuntime {
    executor: Arc<smol::Executor<'static>>,
    workers: usize,
    _stop: Arc<Stop>,
}

/// Stops the worker threads when the last runtime clone goes.
struct Stop(smol::channel::Sender<()>);

impl Drop for Stop {
    fn drop(&mut self) {
        self.0.close();
    }
}

impl SmolRuntime {
    /// A multi-threaded runtime: one worker thread per available core.
    pub fn new() -> SmolRuntime {
        let cores = thread::available_parallelism().map_or(1, NonZeroUsize::get);
        SmolRuntime::with_workers(cores.max(2))
    }

    /// A runtime whose tasks all run on one worker thread. It asks callers
    /// to yield after every item of a tight loop.
    pub fn single_threaded() -> SmolRuntime {
        SmolRuntime::with_workers(1)
    }

    /// A runtime with `workers` worker threads (at least one).
    ///
    /// # Panics
    /// If the operating system refuses to start a thread.
    pub fn with_workers(workers: usize) -> SmolRuntime {
        let workers = workers.max(1);
        let executor = Arc::new(smol::Executor::new());
        let (stop, stopped) = smol::channel::bounded::<()>(1);
        for i in 0..workers {
            let (executor, stopped) = (executor.clone(), stopped.clone());
            thread::Builder::new()
                .name(format!("smol-runtime-{i}"))
                .spawn(move || smol::block_on(executor.run(stopped.recv())))
                .expect("the OS refused a smol worker thread");
        }
        SmolRuntime {
            executor,
            workers,
            _stop: Arc::new(Stop(stop)),
        }
    }

    /// How many worker threads run tasks.
    pub fn workers(&self) -> usize {
        self.workers
    }

    /// Whether every task runs on one thread.
    pub fn is_single_threaded(&self) -> bool {
        self.workers == 1
    }

    /// Runs `future` to completion on the calling thread, while the workers
    /// run the tasks it spawns: the entry point of a program.
    pub fn block_on<T>(&self, future: impl Future<Output = T>) -> T {
        smol::block_on(future)
    }
}

impl Default for SmolRuntime {
    fn default() -> SmolRuntime {
        SmolRuntime::new()
    }
}

impl std::fmt::Debug for SmolRuntime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmolRuntime")
            .field("workers", &self.workers)
            .finish()
    }
}

#[async_trait::async_trait]
impl Runtime for SmolRuntime {
    fn spawn(&self, future: BoxedTask) -> AbortHandle {
        let (abort, registration) = Abort::new_pair();
        // Detached at once: the handle holds only the abort switch, so its
        // `detach()` leaves the task running.
        self.executor
            .spawn(async move {
                let _ = Abortable::new(future, registration).await;
            })
            .detach();
        AbortHandle::new(move || abort.abort())
    }

    fn spawn_detached(&self, future: BoxedTask) {
        self.executor.spawn(future).detach();
    }

    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send>> {
        // `Timer::after` never fires early; an overflowing deadline never fires.
        Box::pin(async move {
            smol::Timer::after(duration).await;
        })
    }

    fn spawn_blocking(
        &self,
        f: Box<dyn FnOnce() + Send + 'static>,
    ) -> Pin<Box<dyn Future<Output = ()> + Send>> {
        Box::pin(async move {
            // The panic stays on the pool thread; the caller only learns that
            // the closure is over (as with tokio's JoinError, ignored).
            let _ = smol::unblock(move || catch_unwind(AssertUnwindSafe(f))).await;
        })
    }

    fn yield_now(&self) -> Option<Pin<Box<dyn Future<Output = ()> + Send>>> {
        if self.is_single_threaded() {
            Some(Box::pin(smol::future::yield_now()))
        } else {
            None
        }
    }

    fn yield_frequency(&self) -> u32 {
        if self.is_single_threaded() { 1 } else { 10 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dropped_handle_drops_a_parked_task() {
        struct Flag(std::sync::mpsc::Sender<()>);
        impl Drop for Flag {
            fn drop(&mut self) {
                let _ = self.0.send(());
            }
        }
        let runtime = SmolRuntime::single_threaded();
        let (tx, rx) = std::sync::mpsc::channel();
        let flag = Flag(tx);
        let handle = runtime.spawn(Box::pin(async move {
            let _flag = flag;
            std::future::pending::<()>().await;
        }));
        drop(handle);
        rx.recv_timeout(Duration::from_secs(5))
            .expect("the parked task's future was dropped");
    }
}
