//! Schema migrations: instances starting at once migrate once, and a schema
//! from a newer release is refused before anything is touched.

mod common;

use common::PgServer;
use whatsapp_rust_conformance::Executor;
use whatsapp_rust_postgres_storage::{Error, PostgresConfig, PostgresStore, SCHEMA_VERSION};

async fn raw(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    client
}

#[test]
fn eight_instances_starting_at_once_migrate_once_and_a_newer_schema_is_refused() {
    let Some(server) = PgServer::start() else {
        return;
    };
    let url = server.url();
    Executor::TokioMultiThread.block_on(async {
        let starts = (0..8).map(|_| {
            PostgresStore::connect(PostgresConfig::new(&url).schema("racing").pool_size(1))
        });
        for started in futures::future::join_all(starts).await {
            started.unwrap_or_else(|e| panic!("a racing start failed: {e}"));
        }
        let client = raw(&url).await;
        let rows = client
            .query("SELECT version FROM racing.schema_version", &[])
            .await
            .unwrap();
        assert_eq!(rows.len(), 1, "one version row");
        assert_eq!(rows[0].get::<_, i32>(0), SCHEMA_VERSION);

        client
            .execute("UPDATE racing.schema_version SET version = 99", &[])
            .await
            .unwrap();
        let refused = PostgresStore::connect(PostgresConfig::new(&url).schema("racing"))
            .await
            .expect_err("a newer schema must be refused");
        assert!(
            matches!(refused, Error::NewerSchema { found: 99, .. }),
            "{refused}"
        );
        eprintln!("{refused}");
        let version: i32 = client
            .query_one("SELECT version FROM racing.schema_version", &[])
            .await
            .unwrap()
            .get(0);
        assert_eq!(version, 99, "the refusal touched nothing");
    });
}
