//! A WebSocket [`TransportFactory`] for whatsapp-rust that runs on any async
//! runtime: async-tungstenite for the protocol, rustls for TLS, async-net
//! for sockets, and the client's own [`Runtime`] for the read pump. No tokio.
//!
//! ```no_run
//! # fn demo(runtime: std::sync::Arc<dyn wacore::runtime::Runtime>) -> anyhow::Result<()> {
//! use whatsapp_rust_ws_transport::{Proxy, WsTransportFactory};
//!
//! let factory = WsTransportFactory::new(runtime)
//!     .with_proxy(Proxy::parse("socks5://user:secret@127.0.0.1:1080")?);
//! // ClientBuilder::with_transport_factory(factory) ...
//! # Ok(()) }
//! ```
//!
//! What it promises (each rule is a check of the conformance kit's
//! `transport` family, which this crate passes): events arrive as
//! `Connected`, `DataReceived`* in order, one `Disconnected`, then the
//! channel closes; the reason says what happened (a close frame's code and
//! text, EOF, a read error, or `Unknown` for our own `disconnect`);
//! `disconnect` is idempotent and sends close code 1000; `send` after it is
//! an error; the event channel is bounded, and a full channel stops reading
//! the socket; dropping the receiver stops the read pump.

#![warn(missing_docs)]

mod proxy;
mod tls;
mod transport;

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use anyhow::{Context, bail};
use async_net::TcpStream;
use async_trait::async_trait;
use async_tungstenite::tungstenite::client::IntoClientRequest;
use async_tungstenite::tungstenite::protocol::WebSocketConfig;
use futures_util::future::{Either, select};
use rustls::ClientConfig;
use rustls_pki_types::ServerName;
use wacore::net::{
    Transport, TransportEvent, TransportFactory, WHATSAPP_WEB_ORIGIN, WHATSAPP_WEB_WS_URL,
};
use wacore::runtime::Runtime;

pub use proxy::{Proxy, ProxyKind};
pub use tls::TlsOptions;

use transport::Stream;

/// How long `create_transport` may take by default (TCP, proxy, TLS and the
/// upgrade together). The client allows 20 s; failing first gives a clearer error.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(15);

/// How many events may wait in the channel by default before the read pump
/// stops reading the socket (whatsapp-rust's own transport uses 64 too).
pub const DEFAULT_EVENT_CAPACITY: usize = 64;

/// Opens WebSocket connections to WhatsApp (or to the URL given), directly or
/// through a proxy. Cheap to clone; the TLS configuration is built once.
#[derive(Clone)]
pub struct WsTransportFactory {
    runtime: Arc<dyn Runtime>,
    url: String,
    origin: Option<String>,
    proxy: Option<Proxy>,
    tls: TlsOptions,
    tls_config: Arc<OnceLock<Result<Arc<ClientConfig>, String>>>,
    connect_timeout: Duration,
    event_capacity: usize,
}

impl WsTransportFactory {
    /// A factory for WhatsApp Web's endpoint that spawns its read pumps on
    /// `runtime` (the one the client runs on), trusting the Mozilla roots.
    pub fn new(runtime: Arc<dyn Runtime>) -> Self {
        WsTransportFactory {
            runtime,
            url: WHATSAPP_WEB_WS_URL.to_owned(),
            origin: Some(WHATSAPP_WEB_ORIGIN.to_owned()),
            proxy: None,
            tls: TlsOptions::default(),
            tls_config: Arc::default(),
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            event_capacity: DEFAULT_EVENT_CAPACITY,
        }
    }

    /// Connects to `url` (`ws://` or `wss://`) instead: a relay or a test server.
    pub fn with_url(mut self, url: impl Into<String>) -> Self {
        self.url = url.into();
        self
    }

    /// Sends `origin` as the upgrade's `Origin` (default: WhatsApp Web's, which
    /// stays right for a relay: it names the endpoint, not the host dialled).
    pub fn with_origin(mut self, origin: impl Into<String>) -> Self {
        self.origin = Some(origin.into());
        self
    }

    /// Sends no `Origin` header.
    pub fn without_origin(mut self) -> Self {
        self.origin = None;
        self
    }

    /// Connects through `proxy` (see [`Proxy::parse`]).
    pub fn with_proxy(mut self, proxy: Proxy) -> Self {
        self.proxy = Some(proxy);
        self
    }

    /// Uses these TLS options (custom roots, a client certificate).
    pub fn with_tls(mut self, tls: TlsOptions) -> Self {
        self.tls = tls;
        self.tls_config = Arc::default();
        self
    }

    /// Bounds `create_transport` (TCP, proxy, TLS and upgrade) to `timeout`.
    pub fn with_connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Lets `capacity` events wait before reading stops (at least 1).
    pub fn with_event_capacity(mut self, capacity: usize) -> Self {
        self.event_capacity = capacity.max(1);
        self
    }

    fn tls_config(&self) -> anyhow::Result<Arc<ClientConfig>> {
        self.tls_config
            .get_or_init(|| self.tls.build().map_err(|e| format!("{e:#}")))
            .clone()
            .map_err(anyhow::Error::msg)
    }

    async fn connect(
        &self,
    ) -> anyhow::Result<(Arc<dyn Transport>, async_channel::Receiver<TransportEvent>)> {
        let target = Target::parse(&self.url)?;
        let (dial_host, dial_port) = match &self.proxy {
            Some(proxy) => proxy.address(),
            None => (target.host.as_str(), target.port),
        };
        let mut tcp = TcpStream::connect((dial_host, dial_port))
            .await
            .with_context(|| format!("connecting to {dial_host}:{dial_port}"))?;
        // Frames are small and latency-bound.
        let _ = tcp.set_nodelay(true);
        if let Some(proxy) = &self.proxy {
            proxy
                .open_tunnel(&mut tcp, &target.host, target.port)
                .await?;
        }
        let stream = if target.tls {
            let name = ServerName::try_from(target.host.clone())
                .with_context(|| format!("{:?} is not a valid TLS server name", target.host))?;
            let tls = futures_rustls::TlsConnector::from(self.tls_config()?)
                .connect(name, tcp)
                .await
                .with_context(|| format!("TLS handshake with {}", target.host))?;
            Stream::Tls(Box::new(tls))
        } else {
            Stream::Plain(tcp)
        };
        let mut request = self
            .url
            .as_str()
            .into_client_request()
            .with_context(|| format!("bad WebSocket URL {:?}", self.url))?;
        if let Some(origin) = &self.origin {
            let value = origin
                .parse()
                .with_context(|| format!("invalid Origin {origin:?}"))?;
            request.headers_mut().insert("Origin", value);
        }
        let (ws, _response) = async_tungstenite::client_async_with_config(
            request,
            stream,
            Some(WebSocketConfig::default()),
        )
        .await
        .with_context(|| format!("WebSocket upgrade at {}", self.url))?;
        Ok(transport::start(
            ws,
            target.tls,
            &self.runtime,
            self.event_capacity,
        ))
    }
}

#[async_trait]
impl TransportFactory for WsTransportFactory {
    async fn create_transport(
        &self,
    ) -> anyhow::Result<(Arc<dyn Transport>, async_channel::Receiver<TransportEvent>)> {
        let timeout = self.runtime.sleep(self.connect_timeout);
        match select(Box::pin(self.connect()), timeout).await {
            Either::Left((result, _)) => result,
            Either::Right(_) => bail!(
                "connecting to {} took longer than {:?}",
                self.url,
                self.connect_timeout
            ),
        }
    }
}

impl std::fmt::Debug for WsTransportFactory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WsTransportFactory")
            .field("url", &self.url)
            .field("origin", &self.origin)
            .field("proxy", &self.proxy)
            .field("connect_timeout", &self.connect_timeout)
            .field("event_capacity", &self.event_capacity)
            .finish_non_exhaustive()
    }
}

/// Where a WebSocket URL points.
struct Target {
    host: String,
    port: u16,
    tls: bool,
}

impl Target {
    fn parse(url: &str) -> anyhow::Result<Target> {
        let uri: http::Uri = url
            .parse()
            .with_context(|| format!("bad WebSocket URL {url:?}"))?;
        let tls = match uri.scheme_str() {
            Some("wss") => true,
            Some("ws") => false,
            other => bail!("WebSocket URL {url:?}: scheme {other:?} is not ws or wss"),
        };
        let host = uri
            .host()
            .with_context(|| format!("WebSocket URL {url:?} has no host"))?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let port = uri.port_u16().unwrap_or(if tls { 443 } else { 80 });
        Ok(Target { host, port, tls })
    }
}

#[cfg(test)]
mod tests {
    use super::Target;

    #[test]
    fn targets_default_their_port_by_scheme() {
        let t = Target::parse("wss://web.whatsapp.com/ws/chat").unwrap();
        assert_eq!(
            (t.host.as_str(), t.port, t.tls),
            ("web.whatsapp.com", 443, true)
        );
        let t = Target::parse("ws://[::1]:8080/x").unwrap();
        assert_eq!((t.host.as_str(), t.port, t.tls), ("::1", 8080, false));
        assert!(Target::parse("https://example.com").is_err());
        assert!(Target::parse("not a url").is_err());
    }
}
