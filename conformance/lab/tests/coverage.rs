//! Every method of the five traits is exercised by at least one check: the
//! whole suite runs on a redb store (every capability) wrapped in
//! `Recording`, and every name in `TRAIT_METHODS` must have been called.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use wacore::store::traits::Backend;
use whatsapp_rust_conformance::recording::{Recording, TRAIT_METHODS};
use whatsapp_rust_conformance::references::RedbFactory;
use whatsapp_rust_conformance::{Capabilities, Expectations, Factory, Instance, run_suite};

type Seen = Arc<Mutex<BTreeSet<&'static str>>>;

struct Recorded {
    inner: RedbFactory,
    seen: Seen,
}

struct RecordedInstance {
    inner: Box<dyn Instance>,
    seen: Seen,
}

impl RecordedInstance {
    fn wrap(&self, store: Arc<dyn Backend>) -> Arc<dyn Backend> {
        Arc::new(Recording::new(store, self.seen.clone()))
    }
}

#[async_trait]
impl Factory for Recorded {
    fn name(&self) -> &str {
        "recorded-redb"
    }
    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }
    async fn open(&self) -> Result<Box<dyn Instance>, String> {
        Ok(Box::new(RecordedInstance {
            inner: self.inner.open().await?,
            seen: self.seen.clone(),
        }))
    }
}

#[async_trait]
impl Instance for RecordedInstance {
    fn store(&self) -> Arc<dyn Backend> {
        self.wrap(self.inner.store())
    }
    async fn reopen(&mut self) -> Result<(), String> {
        self.inner.reopen().await
    }
    async fn account(&self, device_id: i32) -> Result<Arc<dyn Backend>, String> {
        Ok(self.wrap(self.inner.account(device_id).await?))
    }
    async fn second_handle(&self) -> Result<Arc<dyn Backend>, String> {
        Ok(self.wrap(self.inner.second_handle().await?))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_trait_method_is_exercised_by_some_check() {
    let seen: Seen = Arc::default();
    let factory = Recorded {
        inner: RedbFactory,
        seen: seen.clone(),
    };
    let report = run_suite(&factory, &Expectations::none(), |_, _, _| {}).await;
    assert!(
        report.is_ok(),
        "the suite failed on redb: {:#?}",
        report.to_json()
    );
    assert_eq!(report.unsupported(), 0, "redb claims every capability");
    let seen = seen.lock().unwrap();
    let missing: Vec<_> = TRAIT_METHODS
        .iter()
        .filter(|m| !seen.contains(*m))
        .collect();
    assert!(missing.is_empty(), "methods no check calls: {missing:?}");
    assert_eq!(TRAIT_METHODS.len(), 82);
}
