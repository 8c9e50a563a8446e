//! The lab's transports and HTTP clients for the kit's `transport` and
//! `http` families: ours (`whatsapp-rust-ws-transport`,
//! `whatsapp-rust-http-client`) on smol and on tokio, and whatsapp-rust's
//! own (`TokioWebSocketTransportFactory`, `UreqHttpClient`), each pointed at
//! the kit's CA and proxies as its API allows.

use std::sync::Arc;

use wacore::net::{HttpClient, TransportFactory};
use wacore::runtime::Runtime;
use whatsapp_rust_conformance::http::{self, HttpUnderTest};
use whatsapp_rust_conformance::stack::StackUnderTest;
use whatsapp_rust_conformance::transport::{self, Target, TransportUnderTest};
use whatsapp_rust_conformance::{Executor, Expectations};
use whatsapp_rust_http_client::RuntimeHttpClient;
use whatsapp_rust_smol_runtime::SmolRuntime;
use whatsapp_rust_ws_transport::{Proxy, TlsOptions, WsTransportFactory};

/// Our factory for `target`, its read pumps on `runtime`.
pub fn ours(
    runtime: Arc<dyn Runtime>,
    target: &Target,
) -> anyhow::Result<Arc<dyn TransportFactory>> {
    let mut factory = WsTransportFactory::new(runtime)
        .with_url(target.url.clone())
        .with_tls(
            TlsOptions::default()
                .without_webpki_roots()
                .add_root_certificate(target.ca.clone()),
        );
    if let Some(proxy) = &target.proxy {
        factory = factory.with_proxy(Proxy::parse(proxy)?);
    }
    Ok(Arc::new(factory))
}

/// whatsapp-rust's tokio transport, trusting the kit's CA through its
/// `with_connector`. It has no proxy option (its docs: implement a factory).
pub fn tokio_reference(target: &Target) -> anyhow::Result<Arc<dyn TransportFactory>> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(target.ca.clone())?;
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .with_root_certificates(roots)
    .with_no_client_auth();
    let connector = whatsapp_rust::transport::Connector::Rustls(tokio_rustls::TlsConnector::from(
        Arc::new(config),
    ));
    Ok(Arc::new(
        whatsapp_rust::transport::TokioWebSocketTransportFactory::new()
            .with_url(target.url.clone())
            .with_connector(connector),
    ))
}

/// The transports: `ws-transport` (ours, smol runtime, checks driven from
/// smol), `ws-transport-on-tokio` (ours on whatsapp-rust's `TokioRuntime`),
/// `tokio-transport` (whatsapp-rust's, direct connections only).
pub fn transports() -> Vec<(TransportUnderTest, Expectations)> {
    let smol: Arc<dyn Runtime> = Arc::new(SmolRuntime::with_workers(2));
    vec![
        (
            TransportUnderTest::new(
                "ws-transport",
                transport::Capabilities::with_proxies(),
                Executor::Smol,
                move |target| ours(smol.clone(), target),
            ),
            Expectations::none(),
        ),
        (
            TransportUnderTest::new(
                "ws-transport-on-tokio",
                transport::Capabilities::with_proxies(),
                Executor::TokioMultiThread,
                |target| ours(Arc::new(whatsapp_rust::TokioRuntime), target),
            ),
            Expectations::none(),
        ),
        (
            TransportUnderTest::new(
                "tokio-transport",
                transport::Capabilities::direct_only(),
                Executor::TokioMultiThread,
                tokio_reference,
            ),
            Expectations::none().expect_failure(
                "transport::disconnect_returns_while_a_send_is_stalled",
                "whatsapp-rust-tokio-transport 0.7.0: `disconnect` signals its read pump, then awaits \
                 `self.sink.lock()`, the tokio Mutex a `send` parked on a full socket holds, so it \
                 never returns while the server reads nothing (seen here: no return within 10 s)",
            ),
        ),
    ]
}

/// Our HTTP client for `target`, its blocking calls on `runtime`'s pool.
pub fn our_client(
    runtime: Arc<dyn Runtime>,
    target: &http::Target,
) -> anyhow::Result<Arc<dyn HttpClient>> {
    let mut builder = RuntimeHttpClient::builder(runtime)
        .connect_timeout(target.timeout)
        .idle_timeout(target.timeout);
    if let Some(proxy) = &target.proxy {
        builder = builder.proxy(proxy)?;
    }
    Ok(Arc::new(builder.build()?))
}

/// whatsapp-rust's `UreqHttpClient`, on an agent with the target's timeout
/// and proxy (its `with_agent` is how its docs say to configure both).
/// The target's timeout bounds every phase but reading the response body
/// (connecting, sending, the response head), not the whole call: as ureq's
/// `timeout_global` it cut the kit's 64 MiB streaming download at 2 s on a
/// loaded machine.
pub fn ureq_reference(target: &http::Target) -> anyhow::Result<Arc<dyn HttpClient>> {
    let proxy = target.proxy.as_deref().map(ureq::Proxy::new).transpose()?;
    let bound = Some(target.timeout);
    let agent = ureq::Agent::config_builder()
        .timeout_resolve(bound)
        .timeout_connect(bound)
        .timeout_send_request(bound)
        .timeout_send_body(bound)
        .timeout_recv_response(bound)
        .proxy(proxy)
        .build()
        .into();
    Ok(Arc::new(whatsapp_rust::http::UreqHttpClient::with_agent(
        agent,
    )))
}

/// The HTTP clients: `http-client` (ours, smol runtime), `http-client-on-tokio`
/// (ours on `TokioRuntime`), `ureq-client` (whatsapp-rust's, on tokio).
pub fn http_clients() -> Vec<(HttpUnderTest, Expectations)> {
    let smol: Arc<dyn Runtime> = Arc::new(SmolRuntime::with_workers(2));
    vec![
        (
            HttpUnderTest::new(
                "http-client",
                http::Capabilities::with_proxies(),
                Executor::Smol,
                move |target| our_client(smol.clone(), target),
            ),
            Expectations::none(),
        ),
        (
            HttpUnderTest::new(
                "http-client-on-tokio",
                http::Capabilities::with_proxies(),
                Executor::TokioMultiThread,
                |target| our_client(Arc::new(whatsapp_rust::TokioRuntime), target),
            ),
            Expectations::none(),
        ),
        (
            HttpUnderTest::new(
                "ureq-client",
                http::Capabilities::with_proxies(),
                Executor::TokioMultiThread,
                ureq_reference,
            ),
            Expectations::none(),
        ),
    ]
}

/// The stacks: `smol+ws-transport+redb` (no tokio in the client's path) and
/// `tokio+tokio-transport+sqlite` (whatsapp-rust's own parts).
pub fn stacks() -> Vec<(StackUnderTest, Expectations)> {
    let smol: Arc<dyn Runtime> = Arc::new(SmolRuntime::with_workers(2));
    let pumps = smol.clone();
    vec![
        (
            StackUnderTest::new(
                "smol+ws-transport+redb",
                smol,
                move |target| ours(pumps.clone(), target),
                crate::references::Reference::Redb.factory(),
                Executor::Smol,
            ),
            Expectations::none(),
        ),
        (
            StackUnderTest::new(
                "tokio+tokio-transport+sqlite",
                Arc::new(whatsapp_rust::TokioRuntime),
                tokio_reference,
                crate::references::Reference::Sqlite.factory(),
                Executor::TokioMultiThread,
            ),
            Expectations::none(),
        ),
    ]
}

/// The transports and HTTP clients of `check`: ours (smol) by default,
/// ours on tokio and whatsapp-rust's with `--backend NAME|all`.
pub fn net_targets() -> Vec<whatsapp_rust_conformance::cli::NetTarget> {
    use whatsapp_rust_conformance::cli::NetTarget;
    let transports = transports().into_iter().map(|(subject, expectations)| {
        let default = subject.name() == "ws-transport";
        NetTarget::transport(subject, expectations).by_default(default)
    });
    let clients = http_clients().into_iter().map(|(subject, expectations)| {
        let default = subject.name() == "http-client";
        NetTarget::http(subject, expectations).by_default(default)
    });
    transports.chain(clients).collect()
}
