//! The tables, and the versioned migrations that create them.
//!
//! Each entry of [`MIGRATIONS`] moves the schema one version up; the version
//! lives in `schema_version`. [`migrate`] runs in one transaction under a
//! transaction-scoped advisory lock keyed by the schema's name, so two
//! processes starting at once apply each migration once, and a schema at a
//! version newer than this build is refused before anything is touched.
//!
//! Every table is keyed by `device_id` first (many accounts per schema). Keys
//! (JIDs, addresses, collection names, message ids) are `bytea` holding the
//! UTF-8 bytes: the trait's keys are arbitrary strings, NUL included, which
//! `text` cannot hold; bytes compare bytewise, so prefix ranges
//! (`has_signal_state_for_user`) use the primary key and nothing depends on
//! the server's locale. Read them in `psql` with `convert_from(col, 'UTF8')`. Unsigned 32-bit values are stored as `bigint` (no
//! sign wrap, unlike SqliteStore's `integer` columns).

use tokio_postgres::Client;

use crate::error::{Context, Error};

/// The schema's version after every migration of this build.
pub const SCHEMA_VERSION: i32 = MIGRATIONS.len() as i32;

/// Version N+1 is `MIGRATIONS[N]`. Never edit a released entry: add one.
const MIGRATIONS: &[&str] = &[V1];

const V1: &str = r#"
CREATE TABLE devices (
    device_id integer PRIMARY KEY,
    pn text,
    lid text,
    registration_id bigint NOT NULL,
    noise_key bytea NOT NULL,
    identity_key bytea NOT NULL,
    signed_pre_key bytea NOT NULL,
    signed_pre_key_id bigint NOT NULL,
    signed_pre_key_signature bytea NOT NULL,
    adv_secret_key bytea NOT NULL,
    account bytea,
    push_name text NOT NULL,
    app_version_primary bigint NOT NULL,
    app_version_secondary bigint NOT NULL,
    app_version_tertiary bigint NOT NULL,
    app_version_last_fetched_ms bigint NOT NULL,
    edge_routing_info bytea,
    props_hash text,
    next_pre_key_id bigint NOT NULL,
    first_unupload_pre_key_id bigint NOT NULL,
    server_has_prekeys boolean NOT NULL,
    nct_salt bytea,
    server_cert_chain bytea,
    login_counter integer NOT NULL,
    lid_migrated boolean NOT NULL,
    last_signed_pre_key_rotation_ms bigint NOT NULL,
    read_receipts_disabled boolean NOT NULL
);
CREATE TABLE identities (
    device_id integer NOT NULL, address bytea NOT NULL, key bytea NOT NULL,
    PRIMARY KEY (device_id, address));
CREATE TABLE sessions (
    device_id integer NOT NULL, address bytea NOT NULL, record bytea NOT NULL,
    PRIMARY KEY (device_id, address));
CREATE TABLE prekeys (
    device_id integer NOT NULL, id bigint NOT NULL, record bytea NOT NULL,
    uploaded boolean NOT NULL, PRIMARY KEY (device_id, id));
CREATE TABLE signed_prekeys (
    device_id integer NOT NULL, id bigint NOT NULL, record bytea NOT NULL,
    PRIMARY KEY (device_id, id));
CREATE TABLE sender_keys (
    device_id integer NOT NULL, address bytea NOT NULL, record bytea NOT NULL,
    PRIMARY KEY (device_id, address));
CREATE SEQUENCE write_order;
CREATE TABLE app_state_keys (
    device_id integer NOT NULL, key_id bytea NOT NULL, key_data bytea NOT NULL,
    fingerprint bytea NOT NULL, timestamp bigint NOT NULL,
    set_order bigint NOT NULL DEFAULT nextval('write_order'),
    PRIMARY KEY (device_id, key_id));
CREATE TABLE app_state_versions (
    device_id integer NOT NULL, name bytea NOT NULL, version bigint NOT NULL,
    hash bytea NOT NULL, index_keys bytea[] NOT NULL, index_values bytea[] NOT NULL,
    mac_mismatch_fatal boolean NOT NULL, PRIMARY KEY (device_id, name));
CREATE TABLE mutation_macs (
    device_id integer NOT NULL, name bytea NOT NULL, index_mac bytea NOT NULL,
    version bigint NOT NULL, value_mac bytea NOT NULL,
    PRIMARY KEY (device_id, name, index_mac));
CREATE TABLE sender_key_devices (
    device_id integer NOT NULL, group_jid bytea NOT NULL,
    device_jid bytea NOT NULL, has_key boolean NOT NULL,
    PRIMARY KEY (device_id, group_jid, device_jid));
CREATE INDEX sender_key_devices_by_device ON sender_key_devices (device_id, device_jid);
CREATE TABLE lid_mappings (
    device_id integer NOT NULL, lid bytea NOT NULL,
    phone_number bytea NOT NULL, created_at bigint NOT NULL,
    updated_at bigint NOT NULL, learning_source text NOT NULL,
    write_order bigint NOT NULL DEFAULT nextval('write_order'),
    PRIMARY KEY (device_id, lid));
CREATE INDEX lid_mappings_by_phone ON lid_mappings (device_id, phone_number, updated_at, write_order);
CREATE TABLE base_keys (
    device_id integer NOT NULL, address bytea NOT NULL,
    message_id bytea NOT NULL, base_key bytea NOT NULL,
    PRIMARY KEY (device_id, address, message_id));
CREATE TABLE device_lists (
    device_id integer NOT NULL, user_id bytea NOT NULL, devices jsonb NOT NULL,
    timestamp bigint NOT NULL, phash text, raw_id bigint,
    PRIMARY KEY (device_id, user_id));
CREATE TABLE group_metadata (
    device_id integer NOT NULL, group_jid bytea NOT NULL, blob bytea NOT NULL,
    PRIMARY KEY (device_id, group_jid));
CREATE TABLE tc_tokens (
    device_id integer NOT NULL, jid bytea NOT NULL, token bytea NOT NULL,
    token_timestamp bigint NOT NULL, sender_timestamp bigint,
    PRIMARY KEY (device_id, jid));
CREATE TABLE sent_messages (
    device_id integer NOT NULL, chat_jid bytea NOT NULL,
    message_id bytea NOT NULL, payload bytea NOT NULL, stored_at bigint NOT NULL,
    PRIMARY KEY (device_id, chat_jid, message_id));
CREATE TABLE pending_inbound (
    device_id integer NOT NULL, chat bytea NOT NULL, sender bytea NOT NULL,
    id bytea NOT NULL, message bytea NOT NULL, stored_at bigint NOT NULL,
    PRIMARY KEY (device_id, chat, sender, id));
CREATE TABLE msg_secrets (
    device_id integer NOT NULL, chat bytea NOT NULL, sender bytea NOT NULL,
    msg_id bytea NOT NULL, secret bytea NOT NULL, expires_at bigint NOT NULL,
    message_ts bigint NOT NULL, PRIMARY KEY (device_id, chat, sender, msg_id));
"#;

/// Brings `schema` to [`SCHEMA_VERSION`], once across racing processes.
/// The connection's `search_path` is already `schema`.
pub(crate) async fn migrate(client: &mut Client, schema: &str) -> Result<(), Error> {
    let tx = client
        .transaction()
        .await
        .context("starting the migration")?;
    // Keyed by the schema name: stores in other schemas migrate in parallel.
    tx.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended('whatsapp-rust-postgres-storage/' || $1, 0))",
        &[&schema],
    )
    .await
    .context("taking the migration lock")?;
    tx.batch_execute(&format!(
        "CREATE SCHEMA IF NOT EXISTS {schema};
         CREATE TABLE IF NOT EXISTS schema_version (
             only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
             version integer NOT NULL);"
    ))
    .await
    .context("creating the schema")?;
    let found: i32 = tx
        .query_opt("SELECT version FROM schema_version", &[])
        .await
        .context("reading the schema version")?
        .map_or(0, |row| row.get(0));
    if found < 0 {
        return Err(Error::decode(
            "schema_version",
            format!("negative version {found}"),
        ));
    }
    if found > SCHEMA_VERSION {
        return Err(Error::NewerSchema {
            schema: schema.to_owned(),
            found,
            supported: SCHEMA_VERSION,
        });
    }
    for migration in &MIGRATIONS[found as usize..] {
        tx.batch_execute(migration)
            .await
            .context("applying a schema migration")?;
    }
    if found < SCHEMA_VERSION {
        tx.execute(
            "INSERT INTO schema_version (version) VALUES ($1)
             ON CONFLICT (only_row) DO UPDATE SET version = EXCLUDED.version",
            &[&SCHEMA_VERSION],
        )
        .await
        .context("recording the schema version")?;
    }
    tx.commit().await.context("committing the migration")
}
