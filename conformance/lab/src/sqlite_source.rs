//! Reading every account of a SqliteStore (whatsapp-rust-sqlite-storage
//! 0.7.0) database file as portable rows, for `migrate`.
//!
//! Keys are enumerated with SQL (diesel, the same SQLite the store links);
//! values are read through `SqliteStore`'s own trait methods wherever the
//! trait has a getter, so its wire formats (sync keys, app-state versions,
//! device lists, the device row) are decoded by its own code. Columns the
//! trait cannot read (a prekey's `uploaded` flag, a mutation MAC's patch
//! version, base keys, sent and pending messages, a message secret's expiry)
//! are read from SQL.
//!
//! What SqliteStore 0.7.0 itself lost or cannot read is reported as a
//! [`Finding`], never silently changed.

use std::path::Path;
use std::sync::Arc;

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Binary, Bool, Integer, Text};
use diesel::sqlite::SqliteConnection;
use wacore::store::traits::Backend;
use whatsapp_rust_redb_storage::portable::{Hex, Row, device_row};
use whatsapp_rust_sqlite_storage::SqliteStore;

use crate::transfer::AccountRows;

/// Something about the source the copy cannot change, said once per kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The table it concerns.
    pub table: &'static str,
    /// How many rows.
    pub rows: u64,
    /// What, and what the copy does about it.
    pub what: &'static str,
}

/// Why the source could not be read.
pub type SourceError = Box<dyn std::error::Error + Send + Sync>;

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = Integer)]
    n: i32,
}

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    a: String,
}

#[derive(QueryableByName)]
struct BlobKey {
    #[diesel(sql_type = Binary)]
    k: Vec<u8>,
}

#[derive(QueryableByName)]
struct PrekeyRow {
    #[diesel(sql_type = Integer)]
    id: i32,
    #[diesel(sql_type = Binary)]
    record: Vec<u8>,
    #[diesel(sql_type = Bool)]
    uploaded: bool,
}

#[derive(QueryableByName)]
struct MacRow {
    #[diesel(sql_type = Text)]
    a: String,
    #[diesel(sql_type = BigInt)]
    version: i64,
    #[diesel(sql_type = Binary)]
    k: Vec<u8>,
}

#[derive(QueryableByName)]
struct PairBlob {
    #[diesel(sql_type = Text)]
    a: String,
    #[diesel(sql_type = Text)]
    b: String,
    #[diesel(sql_type = Binary)]
    blob: Vec<u8>,
    #[diesel(sql_type = BigInt)]
    ts: i64,
}

#[derive(QueryableByName)]
struct Triple {
    #[diesel(sql_type = Text)]
    a: String,
    #[diesel(sql_type = Text)]
    b: String,
    #[diesel(sql_type = Text)]
    c: String,
    #[diesel(sql_type = Binary)]
    blob: Vec<u8>,
    #[diesel(sql_type = BigInt)]
    ts: i64,
    #[diesel(sql_type = BigInt)]
    ts2: i64,
}

/// The data tables of SqliteStore 0.7.0 and their account column, for
/// finding accounts that have rows but no device row.
const ACCOUNT_TABLES: &[&str] = &[
    "identities",
    "sessions",
    "prekeys",
    "signed_prekeys",
    "sender_keys",
    "app_state_keys",
    "app_state_versions",
    "app_state_mutation_macs",
    "sender_key_devices",
    "lid_pn_mapping",
    "base_keys",
    "device_registry",
    "group_metadata",
    "tc_tokens",
    "sent_messages",
    "pending_inbound_messages",
    "msg_secrets",
];

fn query<T: QueryableByName<diesel::sqlite::Sqlite> + 'static>(
    conn: &mut SqliteConnection,
    sql: &str,
    account: i32,
) -> Result<Vec<T>, SourceError> {
    Ok(diesel::sql_query(sql)
        .bind::<Integer, _>(account)
        .load::<T>(conn)
        .map_err(|e| format!("{sql}: {e}"))?)
}

/// Reads the SqliteStore file at `path`: every account's rows, each with
/// the store opened on that account as the source to read rows back from.
/// Opening it through `SqliteStore` first applies the store's own pending
/// migrations (as a bot upgrading to 0.7.0 would). No bot may be writing to
/// it. Runs on a tokio runtime (SqliteStore needs one).
pub async fn read(
    path: &Path,
    mut progress: impl FnMut(i32, &str, usize),
) -> Result<(Vec<AccountRows>, Vec<Finding>), SourceError> {
    let url = path
        .to_str()
        .ok_or("the SQLite path is not UTF-8")?
        .to_owned();
    let first = SqliteStore::new(&url).await?;
    drop(first);
    let mut conn = SqliteConnection::establish(&url)?;
    // Wait, as SqliteStore's own connections do, while another connection
    // holds the file (the last one closing checkpoints the WAL): without a
    // busy timeout a read can fail at once with "database is locked".
    diesel::sql_query("PRAGMA busy_timeout = 5000").execute(&mut conn)?;
    let mut union = String::from("SELECT id AS n FROM device WHERE ?1 = ?1");
    for table in ACCOUNT_TABLES {
        union.push_str(&format!(" UNION SELECT device_id AS n FROM {table}"));
    }
    let accounts: Vec<Id> = query(&mut conn, &union, 0)?;
    let mut findings = Vec::new();
    let mut out = Vec::new();
    for Id { n: account } in accounts {
        let store: Arc<dyn Backend> = Arc::new(SqliteStore::new_for_device(&url, account).await?);
        let rows = read_account(&mut conn, &*store, account, &mut findings, &mut progress).await?;
        out.push(AccountRows {
            account,
            rows,
            source: Some(store),
        });
    }
    Ok((out, merge(findings)))
}

/// Adds up findings of the same kind across accounts.
fn merge(findings: Vec<Finding>) -> Vec<Finding> {
    let mut merged: Vec<Finding> = Vec::new();
    for f in findings {
        match merged
            .iter_mut()
            .find(|m| m.table == f.table && m.what == f.what)
        {
            Some(m) => m.rows += f.rows,
            None => merged.push(f),
        }
    }
    merged.retain(|f| f.rows > 0);
    merged
}

async fn read_account(
    conn: &mut SqliteConnection,
    store: &dyn Backend,
    account: i32,
    findings: &mut Vec<Finding>,
    progress: &mut impl FnMut(i32, &str, usize),
) -> Result<Vec<Row>, SourceError> {
    let mut rows = Vec::new();
    let mut note = |table: &'static str, rows: u64, what: &'static str| {
        findings.push(Finding { table, rows, what })
    };
    let names = |conn: &mut SqliteConnection, sql: &str| -> Result<Vec<String>, SourceError> {
        Ok(query::<Name>(conn, sql, account)?
            .into_iter()
            .map(|n| n.a)
            .collect())
    };

    if let Some(device) = store.load().await? {
        rows.push(device_row(&device));
    }
    for address in names(
        conn,
        "SELECT address AS a FROM identities WHERE device_id = ?",
    )? {
        if let Some(key) = store.load_identity(&address).await? {
            rows.push(Row::Identity {
                address,
                key: Hex(key.to_vec()),
            });
        }
    }
    progress(account, "identity", rows.len());
    for address in names(
        conn,
        "SELECT address AS a FROM sessions WHERE device_id = ?",
    )? {
        if let Some(record) = store.get_session(&address).await? {
            rows.push(Row::Session {
                address,
                record: Hex(record.to_vec()),
            });
        }
    }
    progress(account, "session", rows.len());
    let prekeys: Vec<PrekeyRow> = query(
        conn,
        "SELECT id, key AS record, uploaded FROM prekeys WHERE device_id = ?",
        account,
    )?;
    let negative = prekeys.iter().filter(|p| p.id < 0).count() as u64;
    note(
        "prekey",
        negative,
        "ids >= 2^31 stored as negative 32-bit integers; copied with their original u32 id",
    );
    rows.extend(prekeys.into_iter().map(|p| Row::Prekey {
        id: p.id as u32,
        record: Hex(p.record),
        uploaded: p.uploaded,
    }));
    for (id, record) in store.load_all_signed_prekeys().await? {
        rows.push(Row::SignedPrekey {
            id,
            record: Hex(record),
        });
    }
    for address in names(
        conn,
        "SELECT address AS a FROM sender_keys WHERE device_id = ?",
    )? {
        if let Some(record) = store.get_sender_key(&address).await? {
            rows.push(Row::SenderKey {
                address,
                record: Hex(record),
            });
        }
    }
    progress(account, "sender_key", rows.len());
    let key_ids: Vec<BlobKey> = query(
        conn,
        "SELECT key_id AS k FROM app_state_keys WHERE device_id = ?",
        account,
    )?;
    let mut unreadable = 0;
    for BlobKey { k } in key_ids {
        match store.get_sync_key(&k).await? {
            Some(key) => rows.push(Row::from_sync_key(k, key)),
            None => unreadable += 1,
        }
    }
    note(
        "sync_key",
        unreadable,
        "SqliteStore cannot decode these keys (it reads them as absent and re-requests them): not copied",
    );
    if let Some(key_id) = store.get_latest_sync_key_id().await? {
        rows.push(Row::LatestSyncKey {
            key_id: Hex(key_id),
        });
    }
    for collection in names(
        conn,
        "SELECT name AS a FROM app_state_versions WHERE device_id = ?",
    )? {
        let state = store.get_version(&collection).await?;
        rows.push(Row::from_app_state_version(collection, state));
    }
    let macs: Vec<MacRow> = query(
        conn,
        "SELECT name AS a, version, index_mac AS k FROM app_state_mutation_macs WHERE device_id = ?",
        account,
    )?;
    for mac in macs {
        if let Some(value_mac) = store.get_mutation_mac(&mac.a, &mac.k).await? {
            rows.push(Row::MutationMac {
                collection: mac.a,
                index_mac: Hex(mac.k),
                value_mac: Hex(value_mac),
                patch_version: mac.version as u64,
            });
        }
    }
    progress(account, "mutation_mac", rows.len());
    for group in names(
        conn,
        "SELECT DISTINCT group_jid AS a FROM sender_key_devices WHERE device_id = ?",
    )? {
        for (device_jid, has_key) in store.get_sender_key_devices(&group).await? {
            rows.push(Row::SenderKeyDevice {
                group: group.clone(),
                device_jid,
                has_key,
            });
        }
    }
    let mut lids = store.get_all_lid_mappings().await?;
    // Oldest first: an importer writing them in this order keeps the newest
    // mapping of a phone number the one `get_pn_mapping` answers.
    lids.sort_by(|a, b| (a.updated_at, &a.lid).cmp(&(b.updated_at, &b.lid)));
    rows.extend(lids.into_iter().map(Row::from_lid_mapping));
    let base_keys: Vec<PairBlob> = query(
        conn,
        "SELECT address AS a, message_id AS b, base_key AS blob, created_at AS ts FROM base_keys WHERE device_id = ?",
        account,
    )?;
    rows.extend(base_keys.into_iter().map(|r| Row::BaseKey {
        address: r.a,
        message_id: r.b,
        base_key: Hex(r.blob),
    }));
    let mut truncated = 0;
    for user in names(
        conn,
        "SELECT user_id AS a FROM device_registry WHERE device_id = ?",
    )? {
        if let Some(record) = store.get_devices(&user).await? {
            truncated += u64::from(record.timestamp < 0);
            rows.push(Row::from_device_list(record));
        }
    }
    note(
        "device_list",
        truncated,
        "timestamps SqliteStore truncated to 32 bits when it stored them (negative now; the original is lost): copied as SqliteStore returns them",
    );
    for group in names(
        conn,
        "SELECT group_jid AS a FROM group_metadata WHERE device_id = ?",
    )? {
        if let Some(blob) = store.get_group_metadata(&group).await? {
            rows.push(Row::GroupMetadata {
                group,
                blob: Hex(blob),
            });
        }
    }
    for jid in store.get_all_tc_token_jids().await? {
        if let Some(entry) = store.get_tc_token(&jid).await? {
            rows.push(Row::from_tc_token(jid, entry));
        }
    }
    let sent: Vec<PairBlob> = query(
        conn,
        "SELECT chat_jid AS a, message_id AS b, payload AS blob, created_at AS ts FROM sent_messages WHERE device_id = ?",
        account,
    )?;
    note(
        "sent_message",
        sent.len() as u64,
        "stored_at becomes the time of the copy (the trait cannot set it): kept for retries a little longer",
    );
    rows.extend(sent.into_iter().map(|r| Row::SentMessage {
        chat: r.a,
        message_id: r.b,
        payload: Hex(r.blob),
        stored_at: r.ts,
    }));
    let pending: Vec<Triple> = query(
        conn,
        "SELECT chat AS a, sender AS b, id AS c, message AS blob, inserted_at AS ts, 0 AS ts2 FROM pending_inbound_messages WHERE device_id = ?",
        account,
    )?;
    note(
        "pending_inbound",
        pending.len() as u64,
        "stored_at becomes the time of the copy (the trait cannot set it)",
    );
    rows.extend(pending.into_iter().map(|r| Row::PendingInbound {
        chat: r.a,
        sender: r.b,
        id: r.c,
        message: Hex(r.blob),
        stored_at: r.ts,
    }));
    let secrets: Vec<Triple> = query(
        conn,
        "SELECT chat AS a, sender AS b, msg_id AS c, secret AS blob, expires_at AS ts, message_ts AS ts2 FROM msg_secrets WHERE device_id = ?",
        account,
    )?;
    rows.extend(secrets.into_iter().map(|r| Row::MsgSecret {
        chat: r.a,
        sender: r.b,
        msg_id: r.c,
        secret: Hex(r.blob),
        expires_at: r.ts,
        message_ts: r.ts2,
    }));
    progress(account, "msg_secret", rows.len());
    Ok(rows)
}
