//! The kit's storage factory for this backend (feature `conformance`): each
//! store is a fresh schema in the database at a URL, dropped at teardown,
//! so the whole storage suite runs against a real server without touching
//! anything else in it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use wacore::store::traits::Backend;
use whatsapp_rust_conformance::storage::{
    Capabilities, Factory, Instance, MessageTs, PrekeyBatchOrder, SetupError,
};

use crate::{PostgresConfig, PostgresStore};

/// Fresh schemas in the database at `url`.
pub struct PostgresFactory {
    url: String,
    prefix: String,
    next: AtomicU64,
}

impl PostgresFactory {
    /// Schemas named `kit_<pid>_<start time>_<n>` in the database at `url`
    /// (a libpq-style connection string): new in every run, so none holds
    /// rows of an earlier one.
    pub fn new(url: impl Into<String>) -> PostgresFactory {
        let started = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() % 1_000_000_000);
        PostgresFactory {
            url: url.into(),
            prefix: format!("kit_{}_{started}", std::process::id()),
            next: AtomicU64::new(0),
        }
    }

    /// The configuration of the schema called `schema` at this factory's URL
    /// (small pools: the kit opens many stores at once).
    pub fn config(&self, schema: &str) -> PostgresConfig {
        PostgresConfig::new(self.url.clone())
            .schema(schema)
            .pool_size(4)
    }
}

struct PostgresInstance {
    config: PostgresConfig,
    store: PostgresStore,
}

#[async_trait]
impl Factory for PostgresFactory {
    fn name(&self) -> &str {
        "postgres"
    }
    fn capabilities(&self) -> Capabilities {
        Capabilities::all()
            .message_ts(MessageTs::Stored)
            .prekey_batch_order(PrekeyBatchOrder::RequestOrderOnce)
    }
    async fn open(&self) -> Result<Box<dyn Instance>, SetupError> {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let config = self.config(&format!("{}_{n}", self.prefix));
        let store = PostgresStore::connect(config.clone())
            .await
            .map_err(SetupError::failed)?;
        Ok(Box::new(PostgresInstance { config, store }))
    }
}

async fn drop_schema(store: &PostgresStore) -> Result<(), SetupError> {
    let client = store.client().await.map_err(SetupError::failed)?;
    client
        .batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", store.schema()))
        .await
        .map_err(SetupError::failed)?;
    Ok(())
}

#[async_trait]
impl Instance for PostgresInstance {
    fn store(&self) -> Arc<dyn Backend> {
        Arc::new(self.store.clone())
    }
    /// A new pool on the same schema: what a restarted process sees.
    async fn reopen(&mut self) -> Result<(), SetupError> {
        self.store.close();
        self.store = PostgresStore::connect(self.config.clone())
            .await
            .map_err(SetupError::failed)?;
        Ok(())
    }
    async fn account(&self, device_id: i32) -> Result<Arc<dyn Backend>, SetupError> {
        Ok(Arc::new(self.store.for_device(device_id)))
    }
    /// Another pool on the same schema and account, like a second process.
    async fn second_handle(&self) -> Result<Arc<dyn Backend>, SetupError> {
        let other = PostgresStore::connect(self.config.clone().device_id(self.store.device_id()))
            .await
            .map_err(SetupError::failed)?;
        Ok(Arc::new(other))
    }
    /// Drops the schema and everything in it.
    async fn teardown(self: Box<Self>) -> Result<(), SetupError> {
        drop_schema(&self.store).await?;
        self.store.close();
        Ok(())
    }
}

impl PostgresFactory {
    /// The schema that stands for `path` in crash campaigns (the kit's
    /// campaign names each kill's store by a fresh directory): `crash_` and a
    /// hash of the path, so each kill gets a store of its own.
    pub fn schema_for_path(path: &std::path::Path) -> String {
        // FNV-1a: stable across runs and builds, unlike std's hasher.
        let hash = path
            .as_os_str()
            .as_encoded_bytes()
            .iter()
            .fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
                (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
            });
        format!("crash_{hash:016x}")
    }

    /// Opens (creating if needed) the store that stands for `path`.
    pub async fn open_at(&self, path: &std::path::Path) -> Result<PostgresStore, SetupError> {
        PostgresStore::connect(self.config(&Self::schema_for_path(path)))
            .await
            .map_err(SetupError::failed)
    }
}
