//! An [`HttpClient`] for whatsapp-rust that runs on any async runtime: ureq
//! (blocking, rustls) on the blocking pool of the client's own [`Runtime`].
//! No tokio.
//!
//! ```no_run
//! # fn demo(runtime: std::sync::Arc<dyn wacore::runtime::Runtime>) -> anyhow::Result<()> {
//! use whatsapp_rust_http_client::RuntimeHttpClient;
//!
//! let client = RuntimeHttpClient::builder(runtime)
//!     .proxy("socks5://user:secret@127.0.0.1:1080")?
//!     .build()?;
//! // ClientBuilder::with_http_client(client) ...
//! # Ok(()) }
//! ```
//!
//! What it promises (each rule is a check of the conformance kit's `http`
//! family, which this crate passes): a completed exchange is `Ok` whatever
//! its status, 4xx and 5xx included; headers go out as given; GET and POST;
//! `execute_streaming` reads the body as it arrives (constant memory);
//! `execute_upload` sends exactly `content_length` bytes under that
//! `Content-Length`, never chunked; connect and read timeouts are errors.

#![warn(missing_docs)]

use std::io::Read;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use async_trait::async_trait;
use base64::Engine;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use ureq::tls::{Certificate, ClientCert, PrivateKey, RootCerts, TlsConfig};
use wacore::net::{HttpClient, HttpRequest, HttpResponse, StreamingHttpResponse, UploadBody};
use wacore::runtime::Runtime;
use wacore::stats::HttpResourceReport;

/// The largest body `execute` keeps in memory by default, and the most a
/// streaming download reads: WhatsApp's largest file, 2 GiB.
pub const DEFAULT_MAX_BODY_BYTES: u64 = 2 * 1024 * 1024 * 1024;
/// How long a TCP connection (and proxy and TLS handshake) may take by default.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
/// How long a read or a write may stall by default before the exchange fails.
/// A stall, not the whole exchange: a long healthy download is not cut.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// A non-2xx body is a diagnostic (a CDN's error page), kept up to this many bytes.
const ERROR_BODY_CAP: u64 = 64 * 1024;
// ureq's buffers per connection and its idle pool, for `resource_report`.
const BUFFER_BYTES: usize = 16 * 1024;
const MAX_IDLE_CONNECTIONS: usize = 3;

/// ureq on the client's runtime. Cheap to clone: clones share a pool.
#[derive(Clone)]
pub struct RuntimeHttpClient {
    runtime: Arc<dyn Runtime>,
    agent: ureq::Agent,
    max_body_bytes: u64,
}

/// Options for a [`RuntimeHttpClient`]; see [`RuntimeHttpClient::builder`].
pub struct Builder {
    runtime: Arc<dyn Runtime>,
    proxy: Option<ureq::Proxy>,
    webpki_roots: bool,
    extra_roots: Vec<CertificateDer<'static>>,
    client_auth: Option<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>,
    connect_timeout: Duration,
    idle_timeout: Duration,
    call_timeout: Option<Duration>,
    max_body_bytes: u64,
}

impl RuntimeHttpClient {
    /// A client with the defaults: Mozilla roots, no proxy, the default timeouts.
    pub fn new(runtime: Arc<dyn Runtime>) -> RuntimeHttpClient {
        RuntimeHttpClient::builder(runtime)
            .build()
            .expect("the default options are valid")
    }

    /// Options for a client whose `execute` runs on `runtime`'s blocking pool.
    pub fn builder(runtime: Arc<dyn Runtime>) -> Builder {
        Builder {
            runtime,
            proxy: None,
            webpki_roots: true,
            extra_roots: Vec::new(),
            client_auth: None,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            call_timeout: None,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
        }
    }

    /// One exchange, on the calling thread (blocking).
    fn exchange(
        &self,
        request: HttpRequest,
        body: Option<(UploadBody, u64)>,
    ) -> anyhow::Result<ureq::http::Response<ureq::Body>> {
        let mut builder = ureq::http::Request::builder()
            .method(request.method.as_str())
            .uri(request.url.as_str());
        for (name, value) in &request.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        let method = request.method.as_str();
        if !matches!(method, "GET" | "POST") {
            bail!("unsupported HTTP method {method:?} (GET and POST are)");
        }
        let response = match body {
            Some((reader, length)) => {
                // An explicit length keeps ureq from chunking a reader body,
                // which WhatsApp's CDN refuses.
                let request = builder
                    .header("content-length", length.to_string())
                    .body(ureq::SendBody::from_owned_reader(ExactBody {
                        reader,
                        left: length,
                    }))
                    .with_context(|| format!("bad request to {}", request.url))?;
                self.agent.run(request)
            }
            None => {
                let payload = request.body.as_deref().unwrap_or_default();
                let request = builder
                    .body(payload)
                    .with_context(|| format!("bad request to {}", request.url))?;
                self.agent.run(request)
            }
        };
        response.map_err(|e| anyhow::Error::new(e).context(format!("{} {}", method, request.url)))
    }

    /// Reads a whole response: a 2xx body up to the cap (over it is an
    /// error: a cut payload must not pass for a whole one), any other body
    /// up to [`ERROR_BODY_CAP`] (its status is what matters).
    fn read(&self, response: ureq::http::Response<ureq::Body>) -> anyhow::Result<HttpResponse> {
        let status_code = response.status().as_u16();
        let body = if response.status().is_success() {
            response
                .into_body()
                .into_with_config()
                .limit(self.max_body_bytes)
                .read_to_vec()
                .context("reading the response body")?
        } else {
            let mut body = Vec::new();
            let cap = self.max_body_bytes.min(ERROR_BODY_CAP);
            // A failed read still leaves the status worth returning.
            let _ = response
                .into_body()
                .into_reader()
                .take(cap)
                .read_to_end(&mut body);
            body
        };
        Ok(HttpResponse { status_code, body })
    }
}

impl Builder {
    /// Sends every request through the proxy at `url`: `http://[user:pass@]host:port`
    /// (CONNECT) or `socks5://[user:pass@]host:port` (`socks5h://` resolves
    /// names at the proxy).
    pub fn proxy(mut self, url: &str) -> anyhow::Result<Builder> {
        let proxy = ureq::Proxy::new(url).with_context(|| format!("bad proxy URL {url:?}"))?;
        self.proxy = Some(proxy);
        Ok(self)
    }

    /// Trusts `root` besides the others (a corporate or test CA).
    pub fn add_root_certificate(mut self, root: CertificateDer<'static>) -> Builder {
        self.extra_roots.push(root);
        self
    }

    /// Trusts only the roots added with [`add_root_certificate`](Self::add_root_certificate).
    pub fn without_webpki_roots(mut self) -> Builder {
        self.webpki_roots = false;
        self
    }

    /// Presents `chain` (leaf first) with its private `key` when a server asks.
    pub fn client_auth(
        mut self,
        chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
    ) -> Builder {
        self.client_auth = Some((chain, key));
        self
    }

    /// How long connecting (TCP, proxy, TLS) may take.
    pub fn connect_timeout(mut self, timeout: Duration) -> Builder {
        self.connect_timeout = timeout;
        self
    }

    /// How long a single read or write may stall.
    pub fn idle_timeout(mut self, timeout: Duration) -> Builder {
        self.idle_timeout = timeout;
        self
    }

    /// Bounds each whole exchange (none by default: media can be large).
    pub fn call_timeout(mut self, timeout: Duration) -> Builder {
        self.call_timeout = Some(timeout);
        self
    }

    /// The most a body may hold (see [`DEFAULT_MAX_BODY_BYTES`]).
    pub fn max_body_bytes(mut self, bytes: u64) -> Builder {
        self.max_body_bytes = bytes;
        self
    }

    /// The client. Fails on a private key of a kind rustls cannot use.
    pub fn build(self) -> anyhow::Result<RuntimeHttpClient> {
        let mut tls = TlsConfig::builder();
        if !self.extra_roots.is_empty() || !self.webpki_roots {
            let mozilla = webpki_root_certs::TLS_SERVER_ROOT_CERTS
                .iter()
                .filter(|_| self.webpki_roots)
                .map(|der| Certificate::from_der(der).to_owned());
            let extra = self
                .extra_roots
                .iter()
                .map(|der| Certificate::from_der(der).to_owned());
            tls = tls.root_certs(RootCerts::from(mozilla.chain(extra).collect::<Vec<_>>()));
        } else {
            tls = tls.root_certs(RootCerts::WebPki);
        }
        if let Some((chain, key)) = &self.client_auth {
            let chain: Vec<_> = chain
                .iter()
                .map(|der| Certificate::from_der(der).to_owned())
                .collect();
            let key = private_key(key)?;
            tls = tls.client_cert(Some(ClientCert::new_with_certs(&chain, key)));
        }
        let config = ureq::Agent::config_builder()
            // The rule whatsapp-rust relies on: a status is an answer, not an error.
            .http_status_as_error(false)
            .proxy(self.proxy)
            .tls_config(tls.build())
            .timeout_connect(Some(self.connect_timeout))
            .timeout_per_read(Some(self.idle_timeout))
            .timeout_per_write(Some(self.idle_timeout))
            .timeout_per_call(self.call_timeout)
            .input_buffer_size(BUFFER_BYTES)
            .output_buffer_size(BUFFER_BYTES)
            .max_idle_connections(MAX_IDLE_CONNECTIONS)
            .build();
        Ok(RuntimeHttpClient {
            runtime: self.runtime,
            agent: config.into(),
            max_body_bytes: self.max_body_bytes,
        })
    }
}

#[async_trait]
impl HttpClient for RuntimeHttpClient {
    async fn execute(&self, request: HttpRequest) -> anyhow::Result<HttpResponse> {
        let client = self.clone();
        let (done, result) = futures_channel::oneshot::channel();
        self.runtime
            .spawn_blocking(Box::new(move || {
                let _ = done.send(client.exchange(request, None).and_then(|r| client.read(r)));
            }))
            .await;
        result
            .await
            .context("the runtime dropped the blocking HTTP call")?
    }

    fn supports_streaming(&self) -> bool {
        true
    }

    fn execute_streaming(&self, request: HttpRequest) -> anyhow::Result<StreamingHttpResponse> {
        if request.method != "GET" {
            bail!("streaming downloads are GET, not {}", request.method);
        }
        let response = self.exchange(request, None)?;
        let status_code = response.status().as_u16();
        // Capped like `execute`: a sink in memory must not be driven to OOM.
        let body = response.into_body().into_reader().take(self.max_body_bytes);
        Ok(StreamingHttpResponse {
            status_code,
            body: Box::new(body),
        })
    }

    fn supports_upload_streaming(&self) -> bool {
        true
    }

    fn execute_upload(
        &self,
        request: HttpRequest,
        body: UploadBody,
        content_length: u64,
    ) -> anyhow::Result<HttpResponse> {
        if request.method != "POST" {
            bail!("streaming uploads are POST, not {}", request.method);
        }
        let response = self.exchange(request, Some((body, content_length)))?;
        self.read(response)
    }

    fn resource_report(&self) -> Option<HttpResourceReport> {
        Some(HttpResourceReport {
            pool_connections: Some(MAX_IDLE_CONNECTIONS as u64),
            pool_buffer_bytes: Some((MAX_IDLE_CONNECTIONS * 2 * BUFFER_BYTES) as u64),
            inflight_bytes: None,
        })
    }
}

/// An upload body of exactly `left` bytes: never more (the rest of the
/// reader stays unread), and an error if the reader ends short, so a
/// request is never sent with a body shorter than its `Content-Length`.
struct ExactBody {
    reader: UploadBody,
    left: u64,
}

impl Read for ExactBody {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.left == 0 {
            return Ok(0);
        }
        let want = buf
            .len()
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let n = self.reader.read(&mut buf[..want])?;
        if n == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                format!(
                    "the upload body ended {} bytes before its content_length",
                    self.left
                ),
            ));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

/// ureq takes a key's kind only through PEM (its `KeyKind` is private), so
/// the DER is wrapped in the PEM label of its kind.
fn private_key(key: &PrivateKeyDer<'_>) -> anyhow::Result<PrivateKey<'static>> {
    let label = match key {
        PrivateKeyDer::Pkcs1(_) => "RSA PRIVATE KEY",
        PrivateKeyDer::Pkcs8(_) => "PRIVATE KEY",
        PrivateKeyDer::Sec1(_) => "EC PRIVATE KEY",
        _ => bail!("unsupported kind of private key for the client certificate"),
    };
    let body = base64::engine::general_purpose::STANDARD.encode(key.secret_der());
    let pem = format!("-----BEGIN {label}-----\n{body}\n-----END {label}-----\n");
    PrivateKey::from_pem(pem.as_bytes()).context("the client certificate's key is unusable")
}

impl std::fmt::Debug for RuntimeHttpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RuntimeHttpClient")
            .field("max_body_bytes", &self.max_body_bytes)
            .finish_non_exhaustive()
    }
}
