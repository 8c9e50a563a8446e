//! The connection pool, and the small tokio runtime its connections run on.
//!
//! tokio-postgres splits a connection into a `Client` (a channel; its futures
//! run on any executor) and a `Connection` future that owns the socket and
//! needs tokio's reactor. The store owns one tokio thread that opens
//! connections and drives them, so a caller on smol, async-std or a plain
//! `block_on` awaits the store like a caller on tokio does, and no pool
//! operation needs the caller's runtime.

use std::sync::Arc;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use futures_util::future::BoxFuture;
use rustls::ClientConfig;
use tokio_postgres::tls::MakeTlsConnect;
use tokio_postgres::{NoTls, Socket};
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::config::PostgresConfig;
use crate::error::Error;

/// The store's own runtime, shut down without blocking when the last handle
/// goes (dropping a tokio runtime inside another runtime's task would panic).
pub(crate) struct ConnectionRuntime(Option<tokio::runtime::Runtime>);

impl ConnectionRuntime {
    fn start() -> Result<ConnectionRuntime, Error> {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("whatsapp-postgres")
            .enable_all()
            .build()
            .map(|rt| ConnectionRuntime(Some(rt)))
            .map_err(|e| Error::Connect(format!("starting the connection thread: {e}")))
    }

    pub(crate) fn handle(&self) -> &tokio::runtime::Handle {
        self.0.as_ref().expect("runtime lives until drop").handle()
    }
}

impl Drop for ConnectionRuntime {
    fn drop(&mut self) {
        if let Some(rt) = self.0.take() {
            rt.shutdown_background();
        }
    }
}

/// Opens connections on the store's runtime (deadpool's default connector
/// would `tokio::spawn` on whatever runtime the caller happens to be in),
/// plain or over TLS.
struct OnConnectionRuntime {
    runtime: tokio::runtime::Handle,
    tls: Option<MakeRustlsConnect>,
}

type Connected = (tokio_postgres::Client, tokio::task::JoinHandle<()>);

/// Connects, then drives the connection on the current (the store's) runtime.
async fn connect_with<T>(
    config: tokio_postgres::Config,
    tls: T,
) -> Result<Connected, tokio_postgres::Error>
where
    T: MakeTlsConnect<Socket>,
    T::Stream: Send + 'static,
{
    let (client, connection) = config.connect(tls).await?;
    let driver = tokio::spawn(async move {
        // The client sees the error on its next call; nothing to do here.
        let _ = connection.await;
    });
    Ok((client, driver))
}

impl deadpool_postgres::Connect for OnConnectionRuntime {
    fn connect(
        &self,
        pg_config: &tokio_postgres::Config,
    ) -> BoxFuture<'_, Result<Connected, tokio_postgres::Error>> {
        let pg_config = pg_config.clone();
        let tls = self.tls.clone();
        let connecting = self.runtime.spawn(async move {
            match tls {
                Some(tls) => connect_with(pg_config, tls).await,
                None => connect_with(pg_config, NoTls).await,
            }
        });
        Box::pin(async move {
            match connecting.await {
                Ok(connected) => connected,
                Err(join) if join.is_panic() => std::panic::resume_unwind(join.into_panic()),
                // The runtime outlives the pool (field order in `Shared`), so
                // a connect is never cancelled under a live pool.
                Err(_) => panic!("the store's connection thread stopped while connecting"),
            }
        })
    }
}

/// A pool of up to `config.pool_size` connections driven by `runtime`.
pub(crate) fn pool(config: &PostgresConfig) -> Result<(Pool, Arc<ConnectionRuntime>), Error> {
    let driver_config = config.driver_config()?;
    let runtime = Arc::new(ConnectionRuntime::start()?);
    let manager = Manager::from_connect(
        driver_config,
        OnConnectionRuntime {
            runtime: runtime.handle().clone(),
            tls: config
                .tls
                .as_ref()
                .map(|c| MakeRustlsConnect::new(ClientConfig::clone(c))),
        },
        ManagerConfig {
            // A connection whose server went away is closed on the client
            // side at once; checking that flag costs no round trip.
            recycling_method: RecyclingMethod::Fast,
        },
    );
    let pool = Pool::builder(manager)
        .max_size(config.pool_size)
        .build()
        .map_err(|e| Error::Config(format!("building the connection pool: {e}")))?;
    Ok((pool, runtime))
}
