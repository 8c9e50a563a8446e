//! The TLS client configuration: which roots to trust and whether to present
//! a client certificate.

use std::sync::Arc;

use anyhow::Context;
use rustls::ClientConfig;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

/// What the TLS client trusts and presents. The default trusts the Mozilla
/// roots (webpki-roots) and presents no certificate.
#[derive(Debug, Clone)]
pub struct TlsOptions {
    webpki_roots: bool,
    extra_roots: Vec<CertificateDer<'static>>,
    client_auth: Option<(Vec<CertificateDer<'static>>, Arc<PrivateKeyDer<'static>>)>,
}

impl Default for TlsOptions {
    fn default() -> Self {
        TlsOptions {
            webpki_roots: true,
            extra_roots: Vec::new(),
            client_auth: None,
        }
    }
}

impl TlsOptions {
    /// Trusts `root` besides the others (a corporate or test CA).
    pub fn add_root_certificate(mut self, root: CertificateDer<'static>) -> Self {
        self.extra_roots.push(root);
        self
    }

    /// Trusts only the roots added with [`add_root_certificate`](Self::add_root_certificate),
    /// not the Mozilla set.
    pub fn without_webpki_roots(mut self) -> Self {
        self.webpki_roots = false;
        self
    }

    /// Presents `chain` (leaf first) with its private `key` when the server
    /// asks for a client certificate.
    pub fn with_client_auth(
        mut self,
        chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
    ) -> Self {
        self.client_auth = Some((chain, Arc::new(key)));
        self
    }

    /// Builds the rustls configuration (ring provider, TLS 1.2 and 1.3).
    /// Fails on a root or client certificate rustls cannot use.
    pub fn build(&self) -> anyhow::Result<Arc<ClientConfig>> {
        let mut roots = rustls::RootCertStore::empty();
        if self.webpki_roots {
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        }
        for root in &self.extra_roots {
            roots
                .add(root.clone())
                .context("a root certificate rustls cannot use")?;
        }
        let builder =
            ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                .with_safe_default_protocol_versions()
                .context("the ring provider supports no TLS version")?
                .with_root_certificates(roots);
        let config = match &self.client_auth {
            Some((chain, key)) => builder
                .with_client_auth_cert(chain.clone(), key.clone_key())
                .context("the client certificate or its key is unusable")?,
            None => builder.with_no_client_auth(),
        };
        Ok(Arc::new(config))
    }
}
