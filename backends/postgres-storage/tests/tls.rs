//! TLS to the server: a server that refuses plain connections, a CA and a
//! server certificate made for the test, a store that trusts the CA (works),
//! one that trusts another CA (a clear error) and one with no TLS (refused).

mod common;

use std::sync::Arc;

use common::{PgServer, ServerTls};
use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair, SanType};
use rustls::pki_types::CertificateDer;
use wacore::store::traits::SignalStore;
use whatsapp_rust_conformance::Executor;
use whatsapp_rust_postgres_storage::{PostgresConfig, PostgresStore};

/// A CA (DER) and a server certificate for 127.0.0.1 signed by it.
fn certificates() -> (Vec<u8>, ServerTls) {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    params
        .subject_alt_names
        .push(SanType::IpAddress("127.0.0.1".parse().unwrap()));
    let cert = params.signed_by(&key, &ca, &ca_key).unwrap();
    let tls = ServerTls {
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    };
    (ca.der().to_vec(), tls)
}

fn client_trusting(ca_der: Vec<u8>) -> rustls::ClientConfig {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(CertificateDer::from(ca_der)).unwrap();
    rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth()
}

#[test]
fn a_store_speaks_tls_to_a_tls_only_server_and_refuses_a_wrong_ca() {
    let (ca, tls) = certificates();
    let Some(server) = PgServer::start_tls_only(&tls) else {
        return;
    };
    let url = format!("{} sslmode=require", server.url());
    Executor::DEFAULT.block_on(async {
        let store = PostgresStore::connect(
            PostgresConfig::new(&url)
                .schema("tls")
                .tls(client_trusting(ca)),
        )
        .await
        .unwrap_or_else(|e| panic!("TLS connect: {e}"));
        store.put_session("a@lid", b"over tls").await.unwrap();
        assert_eq!(
            store.get_session("a@lid").await.unwrap().as_deref(),
            Some(&b"over tls"[..])
        );

        let (other_ca, _) = certificates();
        let wrong = PostgresStore::connect(
            PostgresConfig::new(&url)
                .schema("tls")
                .tls(client_trusting(other_ca)),
        )
        .await
        .expect_err("a server certificate from another CA must be refused");
        assert!(wrong.is_connection_lost(), "{wrong}");
        eprintln!("another CA: {wrong}");

        let plain = PostgresStore::connect(
            PostgresConfig::new(format!("{} sslmode=disable", server.url())).schema("tls"),
        )
        .await
        .expect_err("the server refuses plain connections");
        eprintln!("no TLS: {plain}");
    });
}
