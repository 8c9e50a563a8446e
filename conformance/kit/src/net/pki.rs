//! A certificate authority made per run, and the server certificates it signs.

use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
use rustls::ServerConfig;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// A CA and a server certificate it signed for `localhost` and `127.0.0.1`.
/// Point the client under test at [`ca`](Self::ca) as a trusted root.
pub struct TestPki {
    ca: CertificateDer<'static>,
    server: Arc<ServerConfig>,
}

impl TestPki {
    /// A new CA named `name` and its server certificate.
    pub fn new(name: &str) -> anyhow::Result<TestPki> {
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        let ca_key = KeyPair::generate()?;
        let ca_cert = params.self_signed(&ca_key)?;

        let mut params =
            CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])?;
        params
            .distinguished_name
            .push(DnType::CommonName, "localhost");
        let key = KeyPair::generate()?;
        let cert = params.signed_by(&key, &ca_cert, &ca_key)?;

        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        let server =
            ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                .with_safe_default_protocol_versions()?
                .with_no_client_auth()
                .with_single_cert(vec![cert.der().clone(), ca_cert.der().clone()], key)?;
        Ok(TestPki {
            ca: ca_cert.der().clone(),
            server: Arc::new(server),
        })
    }

    /// The CA's certificate (DER): the root a client must trust.
    pub fn ca(&self) -> CertificateDer<'static> {
        self.ca.clone()
    }

    /// The TLS configuration of a server presenting the signed certificate.
    pub(crate) fn server_config(&self) -> Arc<ServerConfig> {
        self.server.clone()
    }
}

impl std::fmt::Debug for TestPki {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestPki").finish_non_exhaustive()
    }
}
