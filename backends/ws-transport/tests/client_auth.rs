//! A client certificate is presented when the server asks for one: a TLS
//! server that requires a certificate signed by its CA accepts the
//! transport with `TlsOptions::with_client_auth`, and refuses it without.

use std::net::TcpListener;
use std::sync::Arc;

use wacore::net::{TransportEvent, TransportFactory};
use whatsapp_rust_conformance::net::TestPki;
use whatsapp_rust_smol_runtime::SmolRuntime;
use whatsapp_rust_ws_transport::{TlsOptions, WsTransportFactory};

/// Serves one connection: TLS (client certificate required), the upgrade,
/// then one "hello" frame.
fn serve(server: Arc<rustls::ServerConfig>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("wss://127.0.0.1:{}/", listener.local_addr().unwrap().port());
    std::thread::spawn(move || {
        let (tcp, _) = listener.accept().unwrap();
        let tls = rustls::StreamOwned::new(rustls::ServerConnection::new(server).unwrap(), tcp);
        if let Ok(mut ws) = tungstenite::accept(tls) {
            let _ = ws.send(tungstenite::Message::Binary(b"hello".to_vec().into()));
            let _ = ws.read();
        }
    });
    url
}

/// The factory on a runtime that lives as long as the test process (the
/// read pump is a task of it: a dropped runtime drops the pump).
fn factory(url: String, tls: TlsOptions) -> WsTransportFactory {
    static RUNTIME: std::sync::OnceLock<Arc<SmolRuntime>> = std::sync::OnceLock::new();
    WsTransportFactory::new(
        RUNTIME
            .get_or_init(|| Arc::new(SmolRuntime::with_workers(1)))
            .clone(),
    )
    .with_url(url)
    .with_tls(tls)
}

#[test]
fn a_client_certificate_is_presented_when_asked() {
    let pki = TestPki::new("test CA").unwrap();
    let (chain, key) = pki.client_identity();
    let tls = TlsOptions::default()
        .without_webpki_roots()
        .add_root_certificate(pki.ca())
        .with_client_auth(chain, key);
    let url = serve(pki.server_config_requiring_client_auth());
    futures_lite::future::block_on(async {
        let (transport, events) = factory(url, tls)
            .create_transport()
            .await
            .expect("connects with its certificate");
        assert!(matches!(events.recv().await, Ok(TransportEvent::Connected)));
        match events.recv().await {
            Ok(TransportEvent::DataReceived(data)) => assert_eq!(&data[..], b"hello"),
            other => panic!("expected the server's frame, got {other:?}"),
        }
        transport.disconnect().await;
    });
}

#[test]
fn without_a_client_certificate_the_server_refuses() {
    let pki = TestPki::new("test CA").unwrap();
    let tls = TlsOptions::default()
        .without_webpki_roots()
        .add_root_certificate(pki.ca());
    let url = serve(pki.server_config_requiring_client_auth());
    let result = futures_lite::future::block_on(factory(url, tls).create_transport());
    let error = format!(
        "{:#}",
        result
            .err()
            .expect("a server requiring a certificate refuses")
    );
    assert!(
        error.contains("CertificateRequired"),
        "refused for another reason: {error}"
    );
}
