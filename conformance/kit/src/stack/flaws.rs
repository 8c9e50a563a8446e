//! Broken stacks, for the kit's own tests: the passing stack (this
//! workspace's smol runtime and WebSocket transport, wacore's
//! `InMemoryBackend` kept across "reopens") with one part broken, each of
//! which must fail the check its test names.

use std::sync::{Arc, OnceLock};

use async_trait::async_trait;
use wacore::net::TransportFactory;
use wacore::runtime::Runtime;
use wacore::store::Device;
use wacore::store::InMemoryBackend;
use wacore::store::traits::Backend;
use whatsapp_rust_smol_runtime::SmolRuntime;
use whatsapp_rust_ws_transport::{TlsOptions, WsTransportFactory};

use super::{StackUnderTest, all_checks, run_check};
use crate::storage::{Capabilities, Factory, Instance, Layer, Layered, SetupError};
use crate::{Executor, Expectations, Outcome};

fn runtime() -> Arc<dyn Runtime> {
    static RUNTIME: OnceLock<Arc<dyn Runtime>> = OnceLock::new();
    RUNTIME
        .get_or_init(|| Arc::new(SmolRuntime::with_workers(2)))
        .clone()
}

/// What the store does wrong on `save` (the device row).
#[derive(Clone, Copy, PartialEq)]
enum Flaw {
    None,
    DropsCertChain,
    DropsPhoneNumber,
}

/// An in-memory store that "reopens" to the same data, through the flaw.
struct Store(Flaw);

struct Opened {
    data: Arc<InMemoryBackend>,
    flaw: Flaw,
}

struct Flawed {
    inner: Arc<InMemoryBackend>,
    flaw: Flaw,
}

#[async_trait]
impl Layer for Flawed {
    fn inner(&self) -> &dyn Backend {
        &*self.inner
    }

    async fn save(&self, device: &Device) -> wacore::store::error::Result<()> {
        let mut device = device.clone();
        match self.flaw {
            Flaw::DropsCertChain => device.server_cert_chain = None,
            Flaw::DropsPhoneNumber => device.pn = None,
            Flaw::None => {}
        }
        wacore::store::traits::DeviceStore::save(&*self.inner, &device).await
    }
}

#[async_trait]
impl Factory for Store {
    fn name(&self) -> &str {
        "memory-kept"
    }
    fn capabilities(&self) -> Capabilities {
        Capabilities::none().persistent(true)
    }
    async fn open(&self) -> Result<Box<dyn Instance>, SetupError> {
        Ok(Box::new(Opened {
            data: Arc::new(InMemoryBackend::new()),
            flaw: self.0,
        }))
    }
}

#[async_trait]
impl Instance for Opened {
    fn store(&self) -> Arc<dyn Backend> {
        Arc::new(Layered(Flawed {
            inner: self.data.clone(),
            flaw: self.flaw,
        }))
    }
    async fn reopen(&mut self) -> Result<(), SetupError> {
        Ok(())
    }
}

fn subject(flaw: Flaw) -> StackUnderTest {
    let make = |target: &crate::transport::Target| {
        let factory = WsTransportFactory::new(runtime())
            .with_url(target.url.clone())
            .with_tls(
                TlsOptions::default()
                    .without_webpki_roots()
                    .add_root_certificate(target.ca.clone()),
            );
        Ok(Arc::new(factory) as Arc<dyn TransportFactory>)
    };
    StackUnderTest::new(
        "flawed",
        runtime(),
        make,
        Box::new(Store(flaw)),
        Executor::Plain,
    )
}

fn outcome(check: &str, flaw: Flaw) -> Outcome {
    let name = format!("stack::{check}");
    let check = all_checks()
        .into_iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no check {name}"));
    let report = Executor::Plain.block_on(run_check(&check, &subject(flaw), &Expectations::none()));
    report.outcome
}

#[test]
fn the_passing_stack_passes_every_check() {
    for check in all_checks() {
        let name = check.name.trim_start_matches("stack::");
        let outcome = outcome(name, Flaw::None);
        assert!(
            matches!(outcome, Outcome::Passed { .. }),
            "{name}: {outcome:?}"
        );
    }
}

#[test]
fn a_store_that_loses_the_cert_chain_is_caught() {
    match outcome("cold_start_stores_the_cert_chain", Flaw::DropsCertChain) {
        Outcome::Failed { message } => {
            assert!(
                message.contains("lost the device's server certificate chain"),
                "{message}"
            );
            eprintln!("caught: {message}");
        }
        other => panic!("missed: {other:?}"),
    }
}

#[test]
fn a_store_that_loses_the_pairing_is_caught() {
    match outcome("reopened_store_resumes_with_ik", Flaw::DropsPhoneNumber) {
        Outcome::Failed { message } => eprintln!("caught: {message}"),
        other => panic!("missed: {other:?}"),
    }
}
