//! The conformance kit's transport family over this crate's factory, on a
//! smol runtime with checks driven from smol: no tokio anywhere.

use std::sync::Arc;

use wacore::net::TransportFactory;
use whatsapp_rust_conformance::transport::{Capabilities, TransportUnderTest, test_main};
use whatsapp_rust_conformance::{Executor, Expectations};
use whatsapp_rust_smol_runtime::SmolRuntime;
use whatsapp_rust_ws_transport::{Proxy, TlsOptions, WsTransportFactory};

fn main() {
    let runtime = Arc::new(SmolRuntime::with_workers(2));
    let subject = TransportUnderTest::new(
        "ws-transport",
        Capabilities::with_proxies(),
        Executor::Smol,
        move |target| {
            let mut factory = WsTransportFactory::new(runtime.clone())
                .with_url(target.url.clone())
                .with_tls(
                    TlsOptions::default()
                        .without_webpki_roots()
                        .add_root_certificate(target.ca.clone()),
                );
            if let Some(proxy) = &target.proxy {
                factory = factory.with_proxy(Proxy::parse(proxy)?);
            }
            Ok(Arc::new(factory) as Arc<dyn TransportFactory>)
        },
    );
    test_main(subject, Expectations::none());
}
