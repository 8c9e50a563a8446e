//! Deliberately broken HTTP clients, for the kit's own tests: each wraps the
//! passing reference (this workspace's `RuntimeHttpClient` on a smol
//! runtime) with one flaw and must fail the check its test names.

use std::io::{Cursor, Read};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use async_trait::async_trait;
use wacore::net::{HttpClient, HttpRequest, HttpResponse, StreamingHttpResponse, UploadBody};
use wacore::runtime::Runtime;
use whatsapp_rust_http_client::RuntimeHttpClient;
use whatsapp_rust_smol_runtime::SmolRuntime;

use super::{Capabilities, HttpUnderTest, Target, all_checks, run_check};
use crate::{Executor, Expectations, Outcome};

fn runtime() -> Arc<dyn Runtime> {
    static RUNTIME: OnceLock<Arc<dyn Runtime>> = OnceLock::new();
    RUNTIME
        .get_or_init(|| Arc::new(SmolRuntime::with_workers(2)))
        .clone()
}

/// The passing reference for `target`, its timeout `timeout` and its proxy `proxy`.
fn reference(timeout: Duration, proxy: Option<&str>) -> anyhow::Result<RuntimeHttpClient> {
    let mut builder = RuntimeHttpClient::builder(runtime())
        .connect_timeout(timeout)
        .idle_timeout(timeout);
    if let Some(proxy) = proxy {
        builder = builder.proxy(proxy)?;
    }
    builder.build()
}

/// The one thing a flawed client does wrong.
#[derive(Clone, Copy, PartialEq)]
enum Flaw {
    ClientErrorsAsErr,
    ServerErrorsAsErr,
    DropsErrorBodies,
    TruncatesBodies,
    DropsHeaders,
    LowercasesHeaderValues,
    PostAsGet,
    ClaimsStreamingWithoutIt,
    BuffersStreamingDownloads,
    StreamingErrorsAsErr,
    UploadsWholeReader,
    PadsShortUploads,
    UploadsRequestBody,
    RefusedAsOk,
    NoTimeout,
    IgnoresProxy,
    DropsProxyCredentials,
}

struct Flawed {
    inner: RuntimeHttpClient,
    flaw: Flaw,
}

#[async_trait]
impl HttpClient for Flawed {
    async fn execute(&self, mut request: HttpRequest) -> anyhow::Result<HttpResponse> {
        match self.flaw {
            Flaw::DropsHeaders => request.headers.clear(),
            Flaw::LowercasesHeaderValues => request
                .headers
                .values_mut()
                .for_each(|v| *v = v.to_lowercase()),
            Flaw::PostAsGet => {
                request.method = "GET".into();
                request.body = None;
            }
            _ => {}
        }
        let mut response = match self.inner.execute(request).await {
            Err(_) if self.flaw == Flaw::RefusedAsOk => {
                return Ok(HttpResponse {
                    status_code: 503,
                    body: Vec::new(),
                });
            }
            other => other?,
        };
        let status = response.status_code;
        match self.flaw {
            Flaw::ClientErrorsAsErr if (400..500).contains(&status) => {
                anyhow::bail!("HTTP {status}")
            }
            Flaw::ServerErrorsAsErr if status >= 500 => anyhow::bail!("HTTP {status}"),
            Flaw::DropsErrorBodies if status >= 400 => response.body.clear(),
            Flaw::TruncatesBodies => response.body.truncate(64 * 1024),
            _ => {}
        }
        Ok(response)
    }

    fn supports_streaming(&self) -> bool {
        true
    }

    fn execute_streaming(&self, request: HttpRequest) -> anyhow::Result<StreamingHttpResponse> {
        match self.flaw {
            Flaw::ClaimsStreamingWithoutIt => anyhow::bail!("streaming not supported"),
            Flaw::BuffersStreamingDownloads => {
                let mut response = self.inner.execute_streaming(request)?;
                let mut body = Vec::new();
                response.body.read_to_end(&mut body)?;
                Ok(StreamingHttpResponse {
                    status_code: response.status_code,
                    body: Box::new(Cursor::new(body)),
                })
            }
            Flaw::StreamingErrorsAsErr => {
                let response = self.inner.execute_streaming(request)?;
                anyhow::ensure!(response.status_code < 400, "HTTP {}", response.status_code);
                Ok(response)
            }
            _ => self.inner.execute_streaming(request),
        }
    }

    fn supports_upload_streaming(&self) -> bool {
        true
    }

    fn execute_upload(
        &self,
        request: HttpRequest,
        mut body: UploadBody,
        length: u64,
    ) -> anyhow::Result<HttpResponse> {
        match self.flaw {
            Flaw::UploadsWholeReader | Flaw::PadsShortUploads => {
                let mut all = Vec::new();
                body.read_to_end(&mut all)?;
                if self.flaw == Flaw::PadsShortUploads {
                    all.resize(all.len().max(length as usize), 0);
                }
                let len = all.len() as u64;
                self.inner
                    .execute_upload(request, Box::new(Cursor::new(all)), len)
            }
            Flaw::UploadsRequestBody => {
                let given = request.body.clone().unwrap_or_default();
                let len = given.len() as u64;
                self.inner
                    .execute_upload(request, Box::new(Cursor::new(given.to_vec())), len)
            }
            _ => self.inner.execute_upload(request, body, length),
        }
    }
}

fn assert_caught(check: &str, flaw: Flaw) {
    let name = format!("http::{check}");
    let check = all_checks()
        .into_iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no check {name}"));
    let subject = HttpUnderTest::new(
        "flawed",
        Capabilities::with_proxies(),
        Executor::Plain,
        move |target: &Target| {
            let timeout = if flaw == Flaw::NoTimeout {
                Duration::from_secs(120)
            } else {
                target.timeout
            };
            let proxy = match flaw {
                Flaw::IgnoresProxy => None,
                Flaw::DropsProxyCredentials => target.proxy.as_deref().map(|p| {
                    let (scheme, rest) = p.split_once("://").unwrap_or(("http", p));
                    format!(
                        "{scheme}://{}",
                        rest.rsplit_once('@').map_or(rest, |(_, host)| host)
                    )
                }),
                _ => target.proxy.clone(),
            };
            let inner = reference(timeout, proxy.as_deref())?;
            Ok(Arc::new(Flawed { inner, flaw }) as Arc<dyn HttpClient>)
        },
    );
    let report = Executor::Plain.block_on(run_check(&check, &subject, &Expectations::none()));
    match report.outcome {
        Outcome::Failed { message } => eprintln!("caught by {}: {message}", report.check),
        other => panic!("{} missed the flaw: {other:?}", report.check),
    }
}

/// `flaw!(name, caught_by: check, Flaw::X)`: a test that the check fails.
macro_rules! flaw {
    ($(#[$doc:meta])* $name:ident, caught_by: $check:ident, $flaw:ident) => {
        $(#[$doc])*
        #[test]
        fn $name() {
            assert_caught(stringify!($check), Flaw::$flaw);
        }
    };
}

flaw!(
    /// 4xx statuses become `Err` (ureq's default; whatsapp-rust PR #1188).
    client_errors_as_err, caught_by: client_error_statuses_are_ok, ClientErrorsAsErr
);
flaw!(
    /// 5xx statuses become `Err`.
    server_errors_as_err, caught_by: server_error_status_is_ok, ServerErrorsAsErr
);
flaw!(
    /// Error pages lose their bodies.
    drops_error_bodies, caught_by: client_error_statuses_are_ok, DropsErrorBodies
);
flaw!(
    /// Bodies are cut at 64 KiB.
    truncates_bodies, caught_by: post_sends_its_body, TruncatesBodies
);
flaw!(
    /// Request headers are not sent.
    drops_headers, caught_by: headers_go_out_verbatim, DropsHeaders
);
flaw!(
    /// Header values are lower-cased on the way out.
    lowercases_header_values, caught_by: headers_go_out_verbatim, LowercasesHeaderValues
);
flaw!(
    /// A POST goes out as a GET without its body.
    post_as_get, caught_by: post_sends_its_body, PostAsGet
);
flaw!(
    /// `supports_streaming` says yes; `execute_streaming` is the default `Err`.
    claims_streaming_without_it, caught_by: streaming_flag_matches_behaviour, ClaimsStreamingWithoutIt
);
flaw!(
    /// A streaming download is read whole into memory before it is returned.
    buffers_streaming_downloads, caught_by: streaming_download_in_bounded_memory, BuffersStreamingDownloads
);
flaw!(
    /// A streaming download of a 404 is an `Err`.
    streaming_errors_as_err, caught_by: streaming_keeps_error_statuses, StreamingErrorsAsErr
);
flaw!(
    /// An upload sends the whole reader, whatever `content_length` says.
    uploads_whole_reader, caught_by: upload_never_exceeds_content_length, UploadsWholeReader
);
flaw!(
    /// A short upload is padded with zeros to `content_length`.
    pads_short_uploads, caught_by: short_upload_is_err, PadsShortUploads
);
flaw!(
    /// An upload sends the request's body instead of the reader.
    uploads_request_body, caught_by: upload_has_exact_content_length, UploadsRequestBody
);
flaw!(
    /// A refused connection becomes a 503 answer.
    refused_as_ok, caught_by: refused_connection_is_err, RefusedAsOk
);
flaw!(
    /// The client waits two minutes on a silent server.
    no_timeout, caught_by: stalled_server_times_out, NoTimeout
);
flaw!(
    /// The proxy setting is ignored.
    ignores_proxy, caught_by: through_http_connect, IgnoresProxy
);
flaw!(
    /// The proxy's credentials are dropped.
    drops_proxy_credentials, caught_by: through_socks5_with_credentials, DropsProxyCredentials
);
