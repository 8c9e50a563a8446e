//! A certificate authority made per run, and the server certificates it signs.

use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
use rustls::ServerConfig;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// A CA, a server certificate it signed for `localhost` and `127.0.0.1`,
/// and a client certificate it signed. Point the client under test at
/// [`ca`](Self::ca) as a trusted root.
pub struct TestPki {
    ca: CertificateDer<'static>,
    server: Arc<ServerConfig>,
    server_requiring_client: Arc<ServerConfig>,
    client: (Vec<CertificateDer<'static>>, Arc<PrivateKeyDer<'static>>),
}

impl TestPki {
    /// A new CA named `name` and its server certificate.
    pub fn new(name: &str) -> anyhow::Result<TestPki> {
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        let ca_key = KeyPair::generate()?;
        let ca_cert = params.self_signed(&ca_key)?;

        let issue = |names: Vec<String>, common_name: &str| -> anyhow::Result<_> {
            let mut params = CertificateParams::new(names)?;
            params
                .distinguished_name
                .push(DnType::CommonName, common_name);
            let key = KeyPair::generate()?;
            let cert = params.signed_by(&key, &ca_cert, &ca_key)?;
            let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
            Ok((vec![cert.der().clone(), ca_cert.der().clone()], key))
        };
        let (chain, key) = issue(
            vec!["localhost".to_owned(), "127.0.0.1".to_owned()],
            "localhost",
        )?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let server = ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(chain.clone(), key.clone_key())?;
        let mut roots = rustls::RootCertStore::empty();
        roots.add(ca_cert.der().clone())?;
        let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
            Arc::new(roots),
            provider.clone(),
        )
        .build()?;
        let server_requiring_client = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_client_cert_verifier(verifier)
            .with_single_cert(chain, key)?;
        let (client_chain, client_key) = issue(Vec::new(), "conformance kit client")?;
        Ok(TestPki {
            ca: ca_cert.der().clone(),
            server: Arc::new(server),
            server_requiring_client: Arc::new(server_requiring_client),
            client: (client_chain, Arc::new(client_key)),
        })
    }

    /// The CA's certificate (DER): the root a client must trust.
    pub fn ca(&self) -> CertificateDer<'static> {
        self.ca.clone()
    }

    /// The TLS configuration of a server presenting the signed certificate.
    pub fn server_config(&self) -> Arc<ServerConfig> {
        self.server.clone()
    }

    /// The same server, refusing clients without a certificate the CA signed.
    pub fn server_config_requiring_client_auth(&self) -> Arc<ServerConfig> {
        self.server_requiring_client.clone()
    }

    /// A client certificate chain (leaf first) the CA signed, and its key.
    pub fn client_identity(&self) -> (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>) {
        (self.client.0.clone(), self.client.1.clone_key())
    }
}

impl std::fmt::Debug for TestPki {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestPki").finish_non_exhaustive()
    }
}
