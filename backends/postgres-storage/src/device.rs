//! `DeviceStore`: the account's device row, and the resource report.
//!
//! The device is a row of typed columns (readable with `psql`), never a
//! serde blob: `Device` has fields serde skips. Like SqliteStore, loading
//! restores the runtime-only fields: `device_props` to `DEVICE_PROPS`,
//! `client_profile` to `ClientProfile::web()`, `nct_salt_sync_seen` to false.

use std::sync::Arc;

use async_trait::async_trait;
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;
use wacore::libsignal::protocol::{KeyPair, PrivateKey, PublicKey};
use wacore::stats::StorageResourceReport;
use wacore::store::Device;
use wacore::store::device::{CachedNoiseCert, CachedServerCertChain, account_serde};
use wacore::store::error::Result;
use wacore::store::traits::DeviceStore;
use wacore_binary::Jid;

use crate::error::Error;
use crate::store::{PostgresStore, from_u32, to_u32};

const TABLE: &str = "devices";

/// A key pair as 64 bytes: private 32 ‖ public 32.
fn keypair_bytes(pair: &KeyPair) -> Vec<u8> {
    let mut out = pair.private_key.serialize().to_vec();
    out.extend_from_slice(pair.public_key.public_key_bytes());
    out
}

fn keypair_of(bytes: &[u8], column: &str) -> std::result::Result<KeyPair, Error> {
    let bad = |detail: String| Error::decode(TABLE, format!("{column}: {detail}"));
    if bytes.len() != 64 {
        return Err(bad(format!("{} bytes, want 64", bytes.len())));
    }
    let private = PrivateKey::deserialize(&bytes[..32]).map_err(|e| bad(e.to_string()))?;
    let public =
        PublicKey::from_djb_public_key_bytes(&bytes[32..]).map_err(|e| bad(e.to_string()))?;
    Ok(KeyPair::new(public, private))
}

/// The server's cert chain as 96 bytes: for the intermediate, then the
/// leaf, key (32) ‖ not_before (i64 BE) ‖ not_after (i64 BE).
fn cert_chain_bytes(chain: &CachedServerCertChain) -> Vec<u8> {
    let mut out = Vec::with_capacity(96);
    for cert in [&chain.intermediate, &chain.leaf] {
        out.extend_from_slice(&cert.key);
        out.extend_from_slice(&cert.not_before.to_be_bytes());
        out.extend_from_slice(&cert.not_after.to_be_bytes());
    }
    out
}

fn cert_chain_of(bytes: &[u8]) -> std::result::Result<CachedServerCertChain, Error> {
    if bytes.len() != 96 {
        return Err(Error::decode(
            TABLE,
            format!("server_cert_chain: {} bytes, want 96", bytes.len()),
        ));
    }
    let cert = |b: &[u8]| CachedNoiseCert {
        key: b[..32].try_into().expect("32 bytes"),
        not_before: i64::from_be_bytes(b[32..40].try_into().expect("8 bytes")),
        not_after: i64::from_be_bytes(b[40..48].try_into().expect("8 bytes")),
    };
    Ok(CachedServerCertChain {
        intermediate: cert(&bytes[..48]),
        leaf: cert(&bytes[48..]),
    })
}

fn array<const N: usize>(bytes: &[u8], column: &str) -> std::result::Result<[u8; N], Error> {
    bytes
        .try_into()
        .map_err(|_| Error::decode(TABLE, format!("{column}: {} bytes, want {N}", bytes.len())))
}

fn jid_of(text: Option<String>, column: &str) -> std::result::Result<Option<Jid>, Error> {
    text.map(|t| {
        t.parse::<Jid>()
            .map_err(|e| Error::decode(TABLE, format!("{column} {t:?}: {e}")))
    })
    .transpose()
}

/// The insert of every column; `$1` is the device id. The column list is
/// written once here, and [`device_of`] reads the same names.
macro_rules! insert_device {
    () => {
        "INSERT INTO devices (device_id, pn, lid, registration_id, noise_key,
        identity_key, signed_pre_key, signed_pre_key_id, signed_pre_key_signature,
        adv_secret_key, account, push_name, app_version_primary, app_version_secondary,
        app_version_tertiary, app_version_last_fetched_ms, edge_routing_info, props_hash,
        next_pre_key_id, first_unupload_pre_key_id, server_has_prekeys, nct_salt,
        server_cert_chain, login_counter, lid_migrated, last_signed_pre_key_rotation_ms,
        read_receipts_disabled)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18,
        $19, $20, $21, $22, $23, $24, $25, $26, $27)"
    };
}

/// `save`: every column replaced.
const SAVE: &str = concat!(
    insert_device!(),
    " ON CONFLICT (device_id) DO UPDATE SET pn = EXCLUDED.pn, lid = EXCLUDED.lid,
        registration_id = EXCLUDED.registration_id, noise_key = EXCLUDED.noise_key,
        identity_key = EXCLUDED.identity_key, signed_pre_key = EXCLUDED.signed_pre_key,
        signed_pre_key_id = EXCLUDED.signed_pre_key_id,
        signed_pre_key_signature = EXCLUDED.signed_pre_key_signature,
        adv_secret_key = EXCLUDED.adv_secret_key, account = EXCLUDED.account,
        push_name = EXCLUDED.push_name, app_version_primary = EXCLUDED.app_version_primary,
        app_version_secondary = EXCLUDED.app_version_secondary,
        app_version_tertiary = EXCLUDED.app_version_tertiary,
        app_version_last_fetched_ms = EXCLUDED.app_version_last_fetched_ms,
        edge_routing_info = EXCLUDED.edge_routing_info, props_hash = EXCLUDED.props_hash,
        next_pre_key_id = EXCLUDED.next_pre_key_id,
        first_unupload_pre_key_id = EXCLUDED.first_unupload_pre_key_id,
        server_has_prekeys = EXCLUDED.server_has_prekeys, nct_salt = EXCLUDED.nct_salt,
        server_cert_chain = EXCLUDED.server_cert_chain, login_counter = EXCLUDED.login_counter,
        lid_migrated = EXCLUDED.lid_migrated,
        last_signed_pre_key_rotation_ms = EXCLUDED.last_signed_pre_key_rotation_ms,
        read_receipts_disabled = EXCLUDED.read_receipts_disabled"
);

/// `create`: an existing row wins.
const CREATE: &str = concat!(insert_device!(), " ON CONFLICT (device_id) DO NOTHING");

/// Writes `device` as account `device_id`'s row: replacing it (`save`) or
/// only if there is none (`create`).
async fn write_device(
    store: &PostgresStore,
    device: &Device,
    replace: bool,
) -> std::result::Result<(), Error> {
    let pn = device.pn.as_ref().map(|j| j.to_string());
    let lid = device.lid.as_ref().map(|j| j.to_string());
    let account = device.account.as_ref().map(|a| account_serde::to_bytes(a));
    let cert_chain = device.server_cert_chain.as_ref().map(cert_chain_bytes);
    let params: [&(dyn ToSql + Sync); 27] = [
        &store.device_id(),
        &pn,
        &lid,
        &from_u32(device.registration_id),
        &keypair_bytes(&device.noise_key),
        &keypair_bytes(&device.identity_key),
        &keypair_bytes(&device.signed_pre_key),
        &from_u32(device.signed_pre_key_id),
        &device.signed_pre_key_signature.as_slice(),
        &device.adv_secret_key.as_slice(),
        &account,
        &device.push_name,
        &from_u32(device.app_version_primary),
        &from_u32(device.app_version_secondary),
        &from_u32(device.app_version_tertiary),
        &device.app_version_last_fetched_ms,
        &device.edge_routing_info,
        &device.props_hash,
        &from_u32(device.next_pre_key_id),
        &from_u32(device.first_unupload_pre_key_id),
        &device.server_has_prekeys,
        &device.nct_salt,
        &cert_chain,
        &device.login_counter,
        &device.lid_migrated,
        &device.last_signed_pre_key_rotation_ms,
        &device.read_receipts_disabled,
    ];
    let sql = if replace { SAVE } else { CREATE };
    store.execute(sql, &params).await.map(drop)
}

fn device_of(row: &Row) -> std::result::Result<Device, Error> {
    let u32_of = |column: &str| to_u32(TABLE, row.get(column));
    Ok(Device {
        pn: jid_of(row.get("pn"), "pn")?,
        lid: jid_of(row.get("lid"), "lid")?,
        registration_id: u32_of("registration_id")?,
        noise_key: keypair_of(row.get("noise_key"), "noise_key")?,
        identity_key: keypair_of(row.get("identity_key"), "identity_key")?,
        signed_pre_key: keypair_of(row.get("signed_pre_key"), "signed_pre_key")?,
        signed_pre_key_id: u32_of("signed_pre_key_id")?,
        signed_pre_key_signature: array(
            row.get("signed_pre_key_signature"),
            "signed_pre_key_signature",
        )?,
        adv_secret_key: array(row.get("adv_secret_key"), "adv_secret_key")?,
        account: row
            .get::<_, Option<&[u8]>>("account")
            .map(|raw| {
                account_serde::from_bytes(raw)
                    .map(Arc::new)
                    .map_err(|e| Error::decode(TABLE, format!("account: {e}")))
            })
            .transpose()?,
        push_name: row.get("push_name"),
        app_version_primary: u32_of("app_version_primary")?,
        app_version_secondary: u32_of("app_version_secondary")?,
        app_version_tertiary: u32_of("app_version_tertiary")?,
        app_version_last_fetched_ms: row.get("app_version_last_fetched_ms"),
        device_props: Arc::new(wacore::store::device::DEVICE_PROPS.clone()),
        client_profile: wacore::client_profile::ClientProfile::web(),
        edge_routing_info: row.get("edge_routing_info"),
        props_hash: row.get("props_hash"),
        next_pre_key_id: u32_of("next_pre_key_id")?,
        first_unupload_pre_key_id: u32_of("first_unupload_pre_key_id")?,
        server_has_prekeys: row.get("server_has_prekeys"),
        nct_salt: row.get("nct_salt"),
        nct_salt_sync_seen: false,
        server_cert_chain: row
            .get::<_, Option<&[u8]>>("server_cert_chain")
            .map(cert_chain_of)
            .transpose()?,
        login_counter: row.get("login_counter"),
        lid_migrated: row.get("lid_migrated"),
        last_signed_pre_key_rotation_ms: row.get("last_signed_pre_key_rotation_ms"),
        read_receipts_disabled: row.get("read_receipts_disabled"),
    })
}

// Every method is overridden: a trait default would silently change
// behaviour (a read-modify-write race, a row-by-row batch). CI runs clippy.
#[async_trait]
#[deny(clippy::missing_trait_methods)]
impl DeviceStore for PostgresStore {
    async fn save(&self, device: &Device) -> Result<()> {
        Ok(write_device(self, device, true).await?)
    }

    /// `device_props`, `client_profile` and `nct_salt_sync_seen` are runtime
    /// state: they come back as `DEVICE_PROPS`, `ClientProfile::web()` and `false`.
    async fn load(&self) -> Result<Option<Device>> {
        let row = self
            .query_opt(
                "SELECT * FROM devices WHERE device_id = $1",
                &[&self.device_id()],
            )
            .await?;
        Ok(row.as_ref().map(device_of).transpose()?)
    }

    async fn exists(&self) -> Result<bool> {
        let row = self
            .query_opt(
                "SELECT 1 FROM devices WHERE device_id = $1",
                &[&self.device_id()],
            )
            .await?;
        Ok(row.is_some())
    }

    /// Creates this account's device row with fresh keys and returns its
    /// device id. Idempotent, across processes too: if the row exists it is
    /// kept untouched (its identity keys are never replaced).
    async fn create(&self) -> Result<i32> {
        write_device(self, &Device::new(), false).await?;
        Ok(self.device_id())
    }

    /// Does nothing: a server's data is snapshotted with the server's own
    /// tools (`pg_dump --schema`, base backups, point-in-time recovery),
    /// which see every account at once; see the crate's README.
    async fn snapshot_db(&self, _name: &str, _extra_content: Option<&[u8]>) -> Result<()> {
        Ok(())
    }

    /// `memory_bytes: Some(0)`: the data lives in the server, not in this
    /// process (wacore's convention for remote stores). `pages`: the
    /// schema's tables and indexes in 8 KiB pages (every account together),
    /// `None` if the server cannot be asked.
    async fn resource_report(&self) -> StorageResourceReport {
        let bytes = self
            .query_opt(
                "SELECT sum(pg_total_relation_size(c.oid))::bigint FROM pg_class c
                 JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE n.nspname = current_schema() AND c.relkind = 'r'",
                &[],
            )
            .await
            .ok()
            .flatten()
            .and_then(|r| r.get::<_, Option<i64>>(0));
        StorageResourceReport {
            memory_bytes: Some(0),
            pages: bytes.map(|b| b.max(0) as u64 / 8192),
            io_read_bytes: None,
            io_write_bytes: None,
        }
    }
}
