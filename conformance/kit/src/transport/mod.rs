//! The transport family (feature `net`): checks of
//! `wacore::net::TransportFactory` and `Transport`, over any factory that can
//! be pointed at a URL, trust a CA and (optionally) go through a proxy.
//!
//! The kit runs the servers: a TLS WebSocket server per check (its CA made
//! per run) with scripted behaviour, and HTTP CONNECT and SOCKS5 proxies.
//! The rules come from wacore's `net.rs` and how the client uses a
//! transport: events `Connected`, `DataReceived`* in order (any chunking),
//! one `Disconnected` with the reason that happened, then the channel
//! closes; `disconnect` is idempotent (the client calls it on several
//! paths) and sends close code 1000; `send` after it is `Err`; the upgrade
//! carries `Origin: https://web.whatsapp.com`.
//!
//! ```no_run
//! use std::sync::Arc;
//! use whatsapp_rust_conformance::{Executor, Expectations};
//! use whatsapp_rust_conformance::transport::{Capabilities, TransportUnderTest, run_suite};
//! # fn my_factory(url: &str, ca: rustls_pki_types::CertificateDer<'static>, proxy: Option<&str>)
//! #     -> anyhow::Result<Arc<dyn wacore::net::TransportFactory>> { unimplemented!() }
//!
//! let subject = TransportUnderTest::new("mine", Capabilities::with_proxies(), Executor::DEFAULT, |target| {
//!     my_factory(&target.url, target.ca.clone(), target.proxy.as_deref())
//! });
//! let report = Executor::DEFAULT
//!     .block_on(run_suite(&subject, &Expectations::none(), |_, _, _| {}))
//!     .expect("the declared deviations name real checks");
//! assert!(report.is_ok(), "{:#?}", report.to_json());
//! ```

pub(crate) mod checks;

#[cfg(test)]
mod flaws;

use std::fmt;
use std::sync::Arc;

use rustls_pki_types::CertificateDer;
use wacore::net::TransportFactory;

pub use crate::net::{run_check, run_check_within, run_suite, test_main, test_main_each};
pub use checks::all_checks;

use crate::Executor;
pub use crate::net::Capabilities;

/// Where the kit asks a factory to connect.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Target {
    /// `wss://127.0.0.1:port/ws/chat` (or another URL the check chose).
    pub url: String,
    /// The root the factory must trust: the kit's CA for this run.
    pub ca: CertificateDer<'static>,
    /// A proxy URL to go through (`http://[user:pass@]127.0.0.1:port` or
    /// `socks5://...`), for a factory that claims proxies.
    pub proxy: Option<String>,
}

impl Target {
    /// A target at `url`, trusting `ca`, optionally through `proxy`.
    pub fn new(
        url: impl Into<String>,
        ca: CertificateDer<'static>,
        proxy: Option<String>,
    ) -> Target {
        Target {
            url: url.into(),
            ca,
            proxy,
        }
    }
}

/// Builds a factory for a [`Target`]; an `Err` fails the check that asked.
pub type MakeFactory =
    Arc<dyn Fn(&Target) -> anyhow::Result<Arc<dyn TransportFactory>> + Send + Sync>;

/// A transport to check: its name, how to build its factory, what it
/// claims, and the executor its checks run on (a tokio-bound transport
/// needs a tokio one).
#[derive(Clone)]
pub struct TransportUnderTest {
    name: String,
    caps: Capabilities,
    executor: Executor,
    make: MakeFactory,
}

impl TransportUnderTest {
    /// `make` builds the factory under test for each target.
    pub fn new(
        name: impl Into<String>,
        caps: Capabilities,
        executor: Executor,
        make: impl Fn(&Target) -> anyhow::Result<Arc<dyn TransportFactory>> + Send + Sync + 'static,
    ) -> Self {
        TransportUnderTest {
            name: name.into(),
            caps,
            executor,
            make: Arc::new(make),
        }
    }

    /// Its name in reports.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// What it claims.
    pub fn capabilities(&self) -> Capabilities {
        self.caps
    }

    /// The executor its checks run on.
    pub fn executor(&self) -> Executor {
        self.executor
    }

    /// A factory for `target`.
    pub fn factory(&self, target: &Target) -> anyhow::Result<Arc<dyn TransportFactory>> {
        (self.make)(target)
    }
}

impl fmt::Debug for TransportUnderTest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TransportUnderTest")
            .field("name", &self.name)
            .field("caps", &self.caps)
            .field("executor", &self.executor)
            .finish()
    }
}

/// One check of the transport family.
pub type Check = crate::net::Check<TransportUnderTest>;

impl crate::net::Subject for TransportUnderTest {
    const AREA: &'static str = "Transport";

    fn name(&self) -> &str {
        &self.name
    }

    fn claims_proxies(&self) -> bool {
        self.caps.proxies
    }

    fn executor(&self) -> Executor {
        self.executor
    }

    fn checks() -> Vec<Check> {
        all_checks()
    }
}
