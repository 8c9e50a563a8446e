//! The executors a suite can run on. Checks use no runtime-specific API, so
//! a runtime-agnostic backend passes on all of them; a backend that needs
//! tokio (one that calls `spawn_blocking`, like `SqliteStore`) runs on the
//! tokio ones (cargo feature `tokio`).

use std::future::Future;

/// An executor to run a suite on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Executor {
    /// tokio, multi-thread scheduler with two workers (feature `tokio`).
    #[cfg(feature = "tokio")]
    TokioMultiThread,
    /// tokio, current-thread scheduler (feature `tokio`).
    #[cfg(feature = "tokio")]
    TokioCurrentThread,
    /// smol's `block_on` on the calling thread (feature `smol`).
    #[cfg(feature = "smol")]
    Smol,
    /// `futures::executor::block_on` on the calling thread: no runtime at all.
    Plain,
}

impl Executor {
    /// Every executor compiled in, in a stable order.
    pub const ALL: &'static [Executor] = &[
        #[cfg(feature = "tokio")]
        Executor::TokioMultiThread,
        #[cfg(feature = "tokio")]
        Executor::TokioCurrentThread,
        #[cfg(feature = "smol")]
        Executor::Smol,
        Executor::Plain,
    ];

    /// The default: tokio multi-thread when compiled in, else smol, else plain.
    pub const DEFAULT: Executor = Executor::ALL[0];

    /// The name used by the CLI (`tokio`, `tokio-current`, `smol`, `plain`).
    pub fn name(self) -> &'static str {
        match self {
            #[cfg(feature = "tokio")]
            Executor::TokioMultiThread => "tokio",
            #[cfg(feature = "tokio")]
            Executor::TokioCurrentThread => "tokio-current",
            #[cfg(feature = "smol")]
            Executor::Smol => "smol",
            Executor::Plain => "plain",
        }
    }

    /// The executor named `name`, if compiled in.
    pub fn from_name(name: &str) -> Option<Executor> {
        Executor::ALL.iter().copied().find(|e| e.name() == name)
    }

    /// Runs `future` to completion on this executor.
    ///
    /// # Panics
    /// If the operating system refuses the threads of a tokio runtime.
    pub fn block_on<F: Future>(self, future: F) -> F::Output {
        match self {
            #[cfg(feature = "tokio")]
            Executor::TokioMultiThread => tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("the OS refused a tokio runtime")
                .block_on(future),
            #[cfg(feature = "tokio")]
            Executor::TokioCurrentThread => tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("the OS refused a tokio runtime")
                .block_on(future),
            #[cfg(feature = "smol")]
            Executor::Smol => smol::block_on(future),
            Executor::Plain => futures::executor::block_on(future),
        }
    }
}
