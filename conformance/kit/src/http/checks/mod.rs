//! The http checks, one file per concern (statuses, requests, streaming,
//! failures, proxies), each listing its checks once with [`register!`].

mod failures;
mod proxies;
mod requests;
mod statuses;
mod streaming;

use std::sync::Arc;
use std::time::Duration;

use wacore::net::{HttpClient, HttpRequest, HttpResponse};

use super::{Check, HttpUnderTest, Target};
use crate::Failure;
use crate::net::HttpServer;

/// Every http check, in report order.
pub fn all_checks() -> Vec<Check> {
    [
        statuses::checks(),
        requests::checks(),
        streaming::checks(),
        failures::checks(),
        proxies::checks(),
    ]
    .concat()
}

/// How long an exchange on loopback may take before the check fails.
pub(crate) const BOUND: Duration = Duration::from_secs(10);

/// The request timeout the kit asks clients to be built with.
pub(crate) const TIMEOUT: Duration = Duration::from_secs(2);

/// Declares an http check (see [`net_check`](crate::net::net_check)).
macro_rules! check {
    ($($args:tt)*) => {
        $crate::net::net_check!($crate::http::HttpUnderTest, $($args)*);
    };
}
pub(crate) use check;

/// A file's http checks, in report order, named `http::check`.
macro_rules! register {
    ($($name:ident),* $(,)?) => {
        $crate::net::net_register!("http", $crate::http::HttpUnderTest; $($name),*);
    };
}
pub(crate) use register;

/// The subject's client for a direct connection (or through `proxy`).
pub(crate) fn client(
    subject: &HttpUnderTest,
    proxy: Option<String>,
) -> Result<Arc<dyn HttpClient>, Failure> {
    subject
        .client(&Target {
            timeout: TIMEOUT,
            proxy,
        })
        .map_err(|e| Failure(format!("the subject could not build a client: {e:#}")))
}

/// A fresh kit server.
pub(crate) fn server() -> Result<HttpServer, Failure> {
    HttpServer::start()
        .map_err(|e| Failure(format!("the kit could not start its HTTP server: {e}")))
}

/// `execute`'s own result, or a failure if it took longer than [`BOUND`].
pub(crate) async fn try_execute(
    client: &Arc<dyn HttpClient>,
    request: HttpRequest,
) -> Result<anyhow::Result<HttpResponse>, Failure> {
    crate::limit::within(BOUND, client.execute(request))
        .await
        .ok_or_else(|| Failure(format!("execute did not return within {BOUND:?}")))
}

/// `execute`, failing the check on an `Err`.
pub(crate) async fn execute(
    client: &Arc<dyn HttpClient>,
    request: HttpRequest,
) -> Result<HttpResponse, Failure> {
    let url = request.url.clone();
    try_execute(client, request)
        .await?
        .map_err(|e| Failure(format!("{url}: execute returned Err: {e:#}")))
}

/// Runs `work` on a thread of its own (the blocking context the trait's
/// streaming methods need), failing the check if it takes longer than `bound`.
pub(crate) async fn blocking<T: Send + 'static>(
    bound: Duration,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, Failure> {
    crate::limit::within(bound, crate::net::on_thread(work))
        .await
        .ok_or_else(|| Failure(format!("a blocking call did not return within {bound:?}")))?
        .ok_or_else(|| Failure("a blocking call panicked".into()))
}
