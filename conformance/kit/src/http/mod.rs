//! The http family (feature `net`): checks of `wacore::net::HttpClient`,
//! over any client the kit can point at a proxy and a request timeout.
//!
//! The kit runs a loopback HTTP server and HTTP CONNECT and SOCKS5 proxies.
//! The rules come from wacore's `net.rs` and how the client uses HTTP: a
//! completed exchange is `Ok` whatever its status (media retries read
//! 401/403/404/410; whatsapp-rust PR #1188); headers go out verbatim; GET
//! and POST; `execute_streaming` and `execute_upload` are called from a
//! blocking context, stream in bounded memory, and an upload carries an
//! exact `Content-Length`, never chunked (WhatsApp's CDN refuses chunked);
//! `supports_*` say what the client does; a refused connection or a
//! timeout is `Err`, promptly.
//!
//! ```no_run
//! use std::sync::Arc;
//! use whatsapp_rust_conformance::{Executor, Expectations};
//! use whatsapp_rust_conformance::http::{Capabilities, HttpUnderTest, run_suite};
//! # fn my_client(timeout: std::time::Duration, proxy: Option<&str>)
//! #     -> anyhow::Result<Arc<dyn wacore::net::HttpClient>> { unimplemented!() }
//!
//! let subject = HttpUnderTest::new("mine", Capabilities::with_proxies(), Executor::DEFAULT, |target| {
//!     my_client(target.timeout, target.proxy.as_deref())
//! });
//! let report = Executor::DEFAULT
//!     .block_on(run_suite(&subject, &Expectations::none(), |_, _, _| {}))
//!     .expect("the declared deviations name real checks");
//! assert!(report.is_ok(), "{:#?}", report.to_json());
//! ```

mod checks;

#[cfg(test)]
mod flaws;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use wacore::net::HttpClient;

pub use crate::net::{run_check, run_check_within, run_suite, test_main, test_main_each};
pub use checks::all_checks;

use crate::Executor;
pub use crate::net::Capabilities;

/// How the kit asks for a client to be built.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Target {
    /// A request must fail once it has waited this long for the server
    /// (the kit's stalled route checks it; 2 s).
    pub timeout: Duration,
    /// A proxy URL to go through (`http://[user:pass@]127.0.0.1:port` or
    /// `socks5://...`), for a client that claims proxies.
    pub proxy: Option<String>,
}

impl Target {
    /// A client with request timeout `timeout`, optionally through `proxy`.
    pub fn new(timeout: Duration, proxy: Option<String>) -> Target {
        Target { timeout, proxy }
    }
}

/// Builds a client for a [`Target`]; an `Err` fails the check that asked.
pub type MakeClient = Arc<dyn Fn(&Target) -> anyhow::Result<Arc<dyn HttpClient>> + Send + Sync>;

/// A client to check: its name, how to build it, what it claims, and the
/// executor its checks run on (a tokio-bound client needs a tokio one).
#[derive(Clone)]
pub struct HttpUnderTest {
    name: String,
    caps: Capabilities,
    executor: Executor,
    make: MakeClient,
}

impl HttpUnderTest {
    /// `make` builds the client under test for each target.
    pub fn new(
        name: impl Into<String>,
        caps: Capabilities,
        executor: Executor,
        make: impl Fn(&Target) -> anyhow::Result<Arc<dyn HttpClient>> + Send + Sync + 'static,
    ) -> Self {
        HttpUnderTest {
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

    /// A client for `target`.
    pub fn client(&self, target: &Target) -> anyhow::Result<Arc<dyn HttpClient>> {
        (self.make)(target)
    }
}

impl fmt::Debug for HttpUnderTest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpUnderTest")
            .field("name", &self.name)
            .field("caps", &self.caps)
            .field("executor", &self.executor)
            .finish()
    }
}

/// One check of the http family.
pub type Check = crate::net::Check<HttpUnderTest>;

impl crate::net::Subject for HttpUnderTest {
    const AREA: &'static str = "Http";

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
