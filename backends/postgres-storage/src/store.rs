//! The store handle, and the few helpers every trait module shares.

use std::sync::Arc;

use deadpool_postgres::{Object, Pool};
use tokio_postgres::types::ToSql;
use tokio_postgres::{Row, Statement};

use crate::config::PostgresConfig;
use crate::connect::{self, ConnectionRuntime};
use crate::error::{Context, Error};
use crate::schema;

/// A whatsapp-rust storage backend on PostgreSQL.
///
/// One handle serves one account (`device_id`); [`PostgresStore::for_device`]
/// gives a handle on another account sharing the same pool. Cloning is cheap.
/// Any number of processes may open the same schema: every batch is one
/// statement (one round trip), and every read-modify-write is one statement,
/// so racing processes see each other's writes whole.
#[derive(Clone)]
pub struct PostgresStore {
    shared: Arc<Shared>,
    device_id: i32,
}

// Field order is drop order: the pool (and its connections) before the
// runtime that drives them.
struct Shared {
    pool: Pool,
    _runtime: Arc<ConnectionRuntime>,
    schema: String,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore")
            .field("schema", &self.shared.schema)
            .field("device_id", &self.device_id)
            .finish_non_exhaustive()
    }
}

impl PostgresStore {
    /// Connects, creates the schema and its tables if missing (or migrates
    /// them to this build's version), and returns a handle on
    /// `config.device_id`. Works from any async runtime.
    ///
    /// Errors: a bad configuration, an unreachable server, or a schema
    /// migrated by a newer release ([`Error::NewerSchema`]).
    pub async fn connect(config: PostgresConfig) -> Result<PostgresStore, Error> {
        let (pool, runtime) = connect::pool(&config)?;
        let store = PostgresStore {
            shared: Arc::new(Shared {
                pool,
                _runtime: runtime,
                schema: config.schema.clone(),
            }),
            device_id: config.device_id,
        };
        let mut client = store.client().await?;
        schema::migrate(&mut client, &config.schema).await?;
        Ok(store)
    }

    /// A handle on account `device_id`, sharing this handle's connections.
    pub fn for_device(&self, device_id: i32) -> PostgresStore {
        PostgresStore {
            shared: Arc::clone(&self.shared),
            device_id,
        }
    }

    /// The account this handle serves.
    pub fn device_id(&self) -> i32 {
        self.device_id
    }

    /// The schema this store's tables live in.
    pub fn schema(&self) -> &str {
        &self.shared.schema
    }

    /// The device ids of every account in the schema, ascending.
    pub async fn accounts(&self) -> Result<Vec<i32>, Error> {
        let rows = self
            .query("SELECT device_id FROM devices ORDER BY device_id", &[])
            .await?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    /// Closes the pool: idle connections close now, busy ones when returned.
    /// Other handles of this store get errors afterwards.
    pub fn close(&self) {
        self.shared.pool.close();
    }

    pub(crate) async fn client(&self) -> Result<Object, Error> {
        self.shared.pool.get().await.map_err(|e| match e {
            deadpool_postgres::PoolError::Backend(source) => Error::Postgres {
                context: "connecting",
                source,
            },
            other => Error::Connect(other.to_string()),
        })
    }

    async fn prepared(client: &Object, sql: &'static str) -> Result<Statement, Error> {
        client
            .prepare_cached(sql)
            .await
            .context("preparing a statement")
    }

    /// Runs one statement; the number of rows it touched.
    pub(crate) async fn execute(
        &self,
        sql: &'static str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<u64, Error> {
        let client = self.client().await?;
        let statement = Self::prepared(&client, sql).await?;
        client.execute(&statement, params).await.context(what(sql))
    }

    /// Runs one query; all its rows.
    pub(crate) async fn query(
        &self,
        sql: &'static str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>, Error> {
        let client = self.client().await?;
        let statement = Self::prepared(&client, sql).await?;
        client.query(&statement, params).await.context(what(sql))
    }

    /// Runs one query; its row, if any.
    pub(crate) async fn query_opt(
        &self,
        sql: &'static str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Option<Row>, Error> {
        let client = self.client().await?;
        let statement = Self::prepared(&client, sql).await?;
        client
            .query_opt(&statement, params)
            .await
            .context(what(sql))
    }
}

/// A short label for a statement in error messages: its verb and table.
fn what(sql: &'static str) -> &'static str {
    let sql = sql.trim_start();
    let end = sql
        .match_indices(char::is_whitespace)
        .nth(2)
        .map_or(sql.len(), |(i, _)| i);
    &sql[..end]
}

/// A stored key (UTF-8 bytes in a `bytea` column) back into its string.
pub(crate) fn text(table: &'static str, bytes: Vec<u8>) -> Result<String, Error> {
    String::from_utf8(bytes).map_err(|e| Error::decode(table, format!("key is not UTF-8: {e}")))
}

/// `u32` values travel as `bigint`.
pub(crate) fn from_u32(value: u32) -> i64 {
    i64::from(value)
}

/// A stored `bigint` back into the `u32` it came from.
pub(crate) fn to_u32(table: &'static str, value: i64) -> Result<u32, Error> {
    u32::try_from(value).map_err(|_| Error::decode(table, format!("{value} is not a u32")))
}

/// Keeps the last occurrence of each key, at its position: one
/// `INSERT .. ON CONFLICT DO UPDATE` may not touch a row twice, and the
/// trait says the last duplicate in a batch wins (it was also written last).
pub(crate) fn last_wins<T, K: std::hash::Hash + Eq>(
    items: impl IntoIterator<Item = T>,
    key: impl Fn(&T) -> K,
) -> Vec<T> {
    let mut position = std::collections::HashMap::new();
    let mut out: Vec<Option<T>> = Vec::new();
    for item in items {
        if let Some(earlier) = position.insert(key(&item), out.len()) {
            out[earlier] = None;
        }
        out.push(Some(item));
    }
    out.into_iter().flatten().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_wins_keeps_the_last_value_at_its_position() {
        let got = last_wins([("a", 1), ("b", 2), ("a", 3)], |(k, _)| *k);
        assert_eq!(got, vec![("b", 2), ("a", 3)]);
    }

    #[test]
    fn statements_are_labelled_by_verb_and_table() {
        assert_eq!(
            what("\n  DELETE FROM sessions WHERE x"),
            "DELETE FROM sessions"
        );
        assert_eq!(what("SELECT"), "SELECT");
    }

    #[test]
    fn stored_values_outside_u32_are_errors() {
        assert!(to_u32("prekeys", -1).is_err());
        assert_eq!(to_u32("prekeys", from_u32(u32::MAX)).unwrap(), u32::MAX);
    }
}
