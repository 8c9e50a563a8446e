//! A client certificate is presented when the server asks for one: a TLS
//! server that requires a certificate signed by its CA accepts the
//! transport with `TlsOptions::with_client_auth`, and refuses it without.

use std::net::TcpListener;
use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
use rustls::server::WebPkiClientVerifier;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use wacore::net::{TransportEvent, TransportFactory};
use whatsapp_rust_smol_runtime::SmolRuntime;
use whatsapp_rust_ws_transport::{TlsOptions, WsTransportFactory};

struct Pki {
    ca: CertificateDer<'static>,
    server: Arc<rustls::ServerConfig>,
    client: (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>),
}

fn pki() -> Pki {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params
        .distinguished_name
        .push(DnType::CommonName, "test CA");
    let ca_key = KeyPair::generate().unwrap();
    let ca = params.self_signed(&ca_key).unwrap();
    let issue = |names: Vec<String>| {
        let key = KeyPair::generate().unwrap();
        let cert = CertificateParams::new(names)
            .unwrap()
            .signed_by(&key, &ca, &ca_key)
            .unwrap();
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        (vec![cert.der().clone()], key)
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca.der().clone()).unwrap();
    let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .unwrap();
    let (chain, key) = issue(vec!["127.0.0.1".into()]);
    let server = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key)
        .unwrap();
    Pki {
        ca: ca.der().clone(),
        server: Arc::new(server),
        client: issue(vec!["bot".into()]),
    }
}

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
    let pki = pki();
    let (chain, key) = pki.client;
    let tls = TlsOptions::default()
        .without_webpki_roots()
        .add_root_certificate(pki.ca.clone())
        .with_client_auth(chain, key);
    let url = serve(pki.server.clone());
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
    let pki = pki();
    let tls = TlsOptions::default()
        .without_webpki_roots()
        .add_root_certificate(pki.ca.clone());
    let url = serve(pki.server.clone());
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
