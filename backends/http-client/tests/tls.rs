//! TLS options over HTTPS: an added root is trusted (and a server no trusted
//! root signed is refused), and a client certificate is presented when the
//! server requires one.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, OnceLock};

use wacore::net::{HttpClient, HttpRequest};
use whatsapp_rust_conformance::net::TestPki;
use whatsapp_rust_http_client::{Builder, RuntimeHttpClient};
use whatsapp_rust_smol_runtime::SmolRuntime;

/// Serves one HTTPS request with `tls`: 200 "ok".
fn serve(tls: Arc<rustls::ServerConfig>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "https://127.0.0.1:{}/",
        listener.local_addr().unwrap().port()
    );
    std::thread::spawn(move || {
        let (tcp, _) = listener.accept().unwrap();
        let mut stream = rustls::StreamOwned::new(rustls::ServerConnection::new(tls).unwrap(), tcp);
        let mut head = Vec::new();
        let mut byte = [0u8];
        while !head.ends_with(b"\r\n\r\n") {
            match stream.read(&mut byte) {
                Ok(1) => head.push(byte[0]),
                _ => return,
            }
        }
        let _ = stream
            .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
        let _ = stream.flush();
    });
    url
}

fn builder() -> Builder {
    static RUNTIME: OnceLock<Arc<SmolRuntime>> = OnceLock::new();
    RuntimeHttpClient::builder(
        RUNTIME
            .get_or_init(|| Arc::new(SmolRuntime::with_workers(1)))
            .clone(),
    )
}

fn get(client: RuntimeHttpClient, url: String) -> anyhow::Result<(u16, Vec<u8>)> {
    futures_lite::future::block_on(client.execute(HttpRequest::get(url)))
        .map(|r| (r.status_code, r.body))
}

#[test]
fn an_added_root_is_trusted() {
    let pki = TestPki::new("test CA").unwrap();
    let client = builder().add_root_certificate(pki.ca()).build().unwrap();
    let (status, body) =
        get(client, serve(pki.server_config())).expect("the added root is trusted");
    assert_eq!((status, body.as_slice()), (200, &b"ok"[..]));
}

#[test]
fn a_server_no_trusted_root_signed_is_refused() {
    let pki = TestPki::new("test CA").unwrap();
    let client = builder().build().unwrap();
    let error = get(client, serve(pki.server_config())).expect_err("an unknown CA is refused");
    assert!(format!("{error:#}").contains("UnknownIssuer"), "{error:#}");
}

#[test]
fn a_client_certificate_is_presented_when_required() {
    let pki = TestPki::new("test CA").unwrap();
    let (chain, key) = pki.client_identity();
    let client = builder()
        .without_webpki_roots()
        .add_root_certificate(pki.ca())
        .client_auth(chain, key)
        .build()
        .unwrap();
    let (status, _) = get(client, serve(pki.server_config_requiring_client_auth()))
        .expect("accepted with its certificate");
    assert_eq!(status, 200);

    let client = builder()
        .without_webpki_roots()
        .add_root_certificate(pki.ca())
        .build()
        .unwrap();
    let error = get(client, serve(pki.server_config_requiring_client_auth()))
        .expect_err("refused without one");
    eprintln!("refused without a certificate: {error:#}");
}
