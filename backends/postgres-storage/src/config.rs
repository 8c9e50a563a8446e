//! How to reach the database and what to call things in it.

use std::sync::Arc;
use std::time::Duration;

use tokio_postgres::config::SslMode;

use crate::error::Error;

/// Where and how [`PostgresStore`](crate::PostgresStore) connects.
///
/// ```
/// use whatsapp_rust_postgres_storage::PostgresConfig;
/// let config = PostgresConfig::new("postgres://bot:secret@db.internal/whatsapp")
///     .schema("bots_eu")
///     .pool_size(8);
/// ```
#[derive(Clone)]
pub struct PostgresConfig {
    pub(crate) url: String,
    pub(crate) tls: Option<Arc<rustls::ClientConfig>>,
    pub(crate) schema: String,
    pub(crate) pool_size: usize,
    pub(crate) connect_timeout: Duration,
    pub(crate) device_id: i32,
}

/// The schema the tables live in unless [`PostgresConfig::schema`] says otherwise.
pub const DEFAULT_SCHEMA: &str = "whatsapp";

impl PostgresConfig {
    /// A configuration for the database at `url`, a libpq-style connection
    /// string (`postgres://user:pass@host:port/db` or `host=... user=...`).
    /// Defaults: schema `whatsapp`, a pool of 16 connections, a 10 s connect
    /// timeout, account (device id) 1.
    pub fn new(url: impl Into<String>) -> PostgresConfig {
        PostgresConfig {
            url: url.into(),
            tls: None,
            schema: DEFAULT_SCHEMA.to_owned(),
            pool_size: 16,
            connect_timeout: Duration::from_secs(10),
            device_id: 1,
        }
    }

    /// The schema that holds the tables (created if missing): lowercase ASCII
    /// letters, digits and `_`, starting with a letter or `_`, at most 63
    /// bytes. Separate schemas are separate stores in one database.
    pub fn schema(mut self, schema: impl Into<String>) -> PostgresConfig {
        self.schema = schema.into();
        self
    }

    /// The most connections the store holds open (each concurrent call needs one).
    pub fn pool_size(mut self, size: usize) -> PostgresConfig {
        self.pool_size = size;
        self
    }

    /// How long opening one connection may take before it is an error.
    pub fn connect_timeout(mut self, timeout: Duration) -> PostgresConfig {
        self.connect_timeout = timeout;
        self
    }

    /// The account the store's handle serves at first (see
    /// [`PostgresStore::for_device`](crate::PostgresStore::for_device)).
    pub fn device_id(mut self, device_id: i32) -> PostgresConfig {
        self.device_id = device_id;
        self
    }

    /// Connects over TLS with `config` (its roots, client certificate and
    /// crypto provider, as given). The URL's `sslmode` applies: `prefer`
    /// (the default) uses TLS when the server offers it, `require` refuses a
    /// server that does not. Without this call connections are plain, and
    /// `sslmode=require` is refused as a configuration error.
    ///
    /// ```
    /// # use whatsapp_rust_postgres_storage::{PostgresConfig, rustls};
    /// # fn tls(client: rustls::ClientConfig) -> PostgresConfig {
    /// PostgresConfig::new("postgres://bot@db.internal/whatsapp?sslmode=require").tls(client)
    /// # }
    /// ```
    pub fn tls(mut self, config: rustls::ClientConfig) -> PostgresConfig {
        self.tls = Some(Arc::new(config));
        self
    }

    /// The driver's configuration: the URL parsed, the connect timeout set and
    /// `search_path` pinned to the schema at connection start-up (no extra
    /// round trip, and the statements name no schema).
    pub(crate) fn driver_config(&self) -> Result<tokio_postgres::Config, Error> {
        check_schema_name(&self.schema)?;
        if self.pool_size == 0 {
            return Err(Error::Config("pool_size must be at least 1".into()));
        }
        let mut config: tokio_postgres::Config = self.url.parse().map_err(|e| {
            Error::Config(format!("connection string {:?}: {e}", redact(&self.url)))
        })?;
        if self.tls.is_none() && config.get_ssl_mode() == SslMode::Require {
            return Err(Error::Config(
                "sslmode=require needs a TLS client configuration: PostgresConfig::tls".into(),
            ));
        }
        config.connect_timeout(self.connect_timeout);
        if config.get_application_name().is_none() {
            config.application_name("whatsapp-rust-postgres-storage");
        }
        // Validated above: the name needs no quoting. Options from the URL stay.
        let pinned = format!("-c search_path={}", self.schema);
        let options = match config.get_options() {
            Some(given) if !given.is_empty() => format!("{given} {pinned}"),
            _ => pinned,
        };
        config.options(options);
        Ok(config)
    }
}

impl std::fmt::Debug for PostgresConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresConfig")
            .field("url", &redact(&self.url))
            .field("tls", &self.tls.is_some())
            .field("schema", &self.schema)
            .field("pool_size", &self.pool_size)
            .field("connect_timeout", &self.connect_timeout)
            .field("device_id", &self.device_id)
            .finish()
    }
}

/// Schema names are spliced into SQL and connection options, so only plain
/// lowercase identifiers are accepted.
pub(crate) fn check_schema_name(schema: &str) -> Result<(), Error> {
    let mut chars = schema.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_');
    let rest_ok = chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if first_ok && rest_ok && schema.len() <= 63 && !schema.starts_with("pg_") {
        Ok(())
    } else {
        Err(Error::Config(format!(
            "schema name {schema:?}: use 1 to 63 lowercase ASCII letters, digits or '_', \
             starting with a letter or '_' and not with 'pg_'"
        )))
    }
}

/// The URL without its password, for error messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            match userinfo.find(':') {
                Some(colon) => format!(
                    "{}{}:***{}",
                    &url[..scheme + 3],
                    &userinfo[..colon],
                    &url[at..]
                ),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_names_that_would_need_quoting_are_refused() {
        for bad in [
            "",
            "Bots",
            "1bots",
            "bots-eu",
            "bots eu",
            "pg_bots",
            "a\"b",
            &"a".repeat(64),
        ] {
            let err = PostgresConfig::new("postgres://localhost/db")
                .schema(bad)
                .driver_config()
                .unwrap_err();
            assert!(matches!(err, Error::Config(_)), "{bad:?}: {err}");
        }
        for good in ["whatsapp", "_x", "bots_eu_2", &"a".repeat(63)] {
            check_schema_name(good).unwrap();
        }
    }

    #[test]
    fn a_pool_of_zero_is_refused() {
        let err = PostgresConfig::new("postgres://localhost/db")
            .pool_size(0)
            .driver_config()
            .unwrap_err();
        assert!(err.to_string().contains("pool_size"), "{err}");
    }

    #[test]
    fn a_bad_url_is_reported_without_its_password() {
        let err = PostgresConfig::new("postgres://bot:hunter2@host:notaport/db")
            .driver_config()
            .unwrap_err();
        let text = err.to_string();
        assert!(!text.contains("hunter2"), "{text}");
        assert!(text.contains("bot:***@host"), "{text}");
    }

    #[test]
    fn sslmode_require_without_tls_is_refused() {
        let err = PostgresConfig::new("postgres://localhost/db?sslmode=require")
            .driver_config()
            .unwrap_err();
        assert!(err.to_string().contains("PostgresConfig::tls"), "{err}");
    }

    #[test]
    fn debug_output_hides_the_password() {
        let text = format!(
            "{:?}",
            PostgresConfig::new("postgres://bot:hunter2@host/db")
        );
        assert!(!text.contains("hunter2"), "{text}");
    }

    #[test]
    fn the_schema_is_pinned_in_the_connection_options() {
        let config = PostgresConfig::new("postgres://localhost/db")
            .schema("bots")
            .driver_config()
            .unwrap();
        assert_eq!(config.get_options(), Some("-c search_path=bots"));
    }
}
