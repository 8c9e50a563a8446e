//! The stack family (feature `stack`): whatsapp-rust's real Noise handshake
//! (`whatsapp_rust::handshake::do_handshake`, public in 0.7.0) over the
//! transport under test, on the runtime under test, with the store under
//! test, against a loopback TLS WebSocket server that runs an in-process
//! Noise responder.
//!
//! What it shows is the whole path a reconnecting bot takes: a cold start
//! (XX) stores the server's certificate chain in the backend; after the
//! store is closed and reopened, the next connect resumes with IK from the
//! stored chain; a stale stored key (the server rotated) falls back to XX
//! and stores the new chain. A store that loses the device's cert chain
//! across a reopen, a transport that mangles a frame, a runtime whose timers
//! misfire: each fails here, where the family checks of each part might not
//! see how they combine.
//!
//! ```no_run
//! use std::sync::Arc;
//! use whatsapp_rust_conformance::{Executor, Expectations, stack, storage};
//! # fn parts() -> (Arc<dyn wacore::runtime::Runtime>, Box<dyn storage::Factory>) { unimplemented!() }
//! # fn my_factory(_: &whatsapp_rust_conformance::transport::Target)
//! #     -> anyhow::Result<Arc<dyn wacore::net::TransportFactory>> { unimplemented!() }
//! let (runtime, store) = parts();
//! let subject = stack::StackUnderTest::new("mine", runtime, my_factory, store, Executor::DEFAULT);
//! let report = Executor::DEFAULT
//!     .block_on(stack::run_suite(&subject, &Expectations::none(), |_, _, _| {}))
//!     .expect("the declared deviations name real checks");
//! assert!(report.is_ok(), "{:#?}", report.to_json());
//! ```

mod checks;
mod responder;

#[cfg(test)]
mod flaws;

use std::fmt;
use std::sync::Arc;

use wacore::net::TransportFactory;
use wacore::runtime::Runtime;

pub use crate::net::{run_check, run_check_within, run_suite, test_main, test_main_each};
pub use checks::all_checks;

use crate::Executor;
use crate::storage::Factory;
use crate::transport::Target;

/// A runtime, a transport and a store, checked together.
#[derive(Clone)]
pub struct StackUnderTest {
    name: String,
    runtime: Arc<dyn Runtime>,
    transport: crate::transport::MakeFactory,
    store: Arc<dyn Factory>,
    executor: Executor,
}

impl StackUnderTest {
    /// `transport` builds the factory for a target (as in the transport
    /// family); `store` must reopen its stores (`Instance::reopen`), as a
    /// persistent store does.
    pub fn new(
        name: impl Into<String>,
        runtime: Arc<dyn Runtime>,
        transport: impl Fn(&Target) -> anyhow::Result<Arc<dyn TransportFactory>> + Send + Sync + 'static,
        store: Box<dyn Factory>,
        executor: Executor,
    ) -> Self {
        StackUnderTest {
            name: name.into(),
            runtime,
            transport: Arc::new(transport),
            store: Arc::from(store),
            executor,
        }
    }
}

impl fmt::Debug for StackUnderTest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StackUnderTest")
            .field("name", &self.name)
            .field("store", &self.store.name())
            .field("executor", &self.executor)
            .finish()
    }
}

/// One check of the stack family.
pub type Check = crate::net::Check<StackUnderTest>;

impl crate::net::Subject for StackUnderTest {
    const AREA: &'static str = "Stack";

    fn name(&self) -> &str {
        &self.name
    }

    fn claims_proxies(&self) -> bool {
        false
    }

    fn executor(&self) -> Executor {
        self.executor
    }

    fn checks() -> Vec<Check> {
        all_checks()
    }
}
