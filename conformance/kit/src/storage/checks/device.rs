//! DeviceStore checks.

use wacore::store::Device;

use super::check;
use crate::storage::flaws::flaw;
use crate::{Failure, ensure, ensure_eq};

fn keys(d: &Device) -> Vec<u8> {
    [&d.noise_key, &d.identity_key, &d.signed_pre_key]
        .iter()
        .flat_map(|k| {
            let mut v = k.private_key.serialize().to_vec();
            v.extend_from_slice(k.public_key.public_key_bytes());
            v
        })
        .collect()
}

crate::storage::checks::register! {
    device:
    device_round_trip,
    every_persisted_device_field_round_trips,
    create_makes_a_loadable_device,
    create_twice,
    snapshot_db_accepts_a_name,
    resource_report,
}

check!(
    device_round_trip,
    "DeviceStore",
    Contract,
    Nothing,
    [save, load, exists],
    "save stores the device; load returns it (every persisted field); exists tells",
    |ctx| {
        let s = ctx.store();
        ensure!(
            !s.exists().await? || s.load().await?.is_some(),
            "exists() without a loadable device"
        );
        let mut d = Device::new();
        d.push_name = "Bót ✓".into();
        d.registration_id = u32::MAX;
        d.signed_pre_key_id = 0x8000_0000;
        d.next_pre_key_id = 812;
        d.login_counter = 3;
        d.lid_migrated = true;
        d.edge_routing_info = Some(vec![1, 2, 3]);
        d.props_hash = Some("h".into());
        d.last_signed_pre_key_rotation_ms = 1_700_000_000_000;
        s.save(&d).await?;
        ensure!(s.exists().await?, "exists after save");
        let got = s
            .load()
            .await?
            .ok_or_else(|| Failure("load returned None after save".into()))?;
        ensure!(keys(&got) == keys(&d), "key pairs changed");
        ensure_eq!(
            (
                got.push_name.as_str(),
                got.registration_id,
                got.signed_pre_key_id,
                got.next_pre_key_id,
                got.login_counter,
                got.lid_migrated
            ),
            ("Bót ✓", u32::MAX, 0x8000_0000, 812, 3, true),
            "scalar fields"
        );
        ensure_eq!(
            (got.edge_routing_info, got.props_hash),
            (Some(vec![1, 2, 3]), Some("h".to_string())),
            "optional fields"
        );
        ensure_eq!(
            got.last_signed_pre_key_rotation_ms,
            1_700_000_000_000,
            "rotation time"
        );
        ensure!(
            got.signed_pre_key_signature == d.signed_pre_key_signature,
            "signature changed"
        );
        ensure_eq!(got.adv_secret_key, d.adv_secret_key, "adv secret key");
        ensure_eq!(
            got.device_props.os.as_deref(),
            Some("rust"),
            "device_props restored on load"
        );
        Ok(None)
    }
);

flaw! {
    /// The device never loads.
    load_always_none, caught_by: device_round_trip;
    async fn load(&self) -> Result<Option<wacore::store::Device>> {
        Ok(None)
    }
}

check!(
    every_persisted_device_field_round_trips,
    "DeviceStore",
    Contract,
    Nothing,
    [save, load],
    "save then load returns every field of Device that the client persists, field by field (device_props, client_profile and nct_salt_sync_seen are runtime state)",
    |ctx| {
        let s = ctx.store();
        let mut d = Device::new();
        d.pn = Some(
            "5511999990000@s.whatsapp.net"
                .parse()
                .map_err(|e| Failure(format!("{e:?}")))?,
        );
        d.lid = Some(
            "100000000000001@lid"
                .parse()
                .map_err(|e| Failure(format!("{e:?}")))?,
        );
        d.account = Some(std::sync::Arc::new(
            waproto::whatsapp::ADVSignedDeviceIdentity {
                details: Some(vec![1, 2, 3]),
                account_signature_key: Some(vec![4; 32]),
                account_signature: Some(vec![5; 64]),
                device_signature: Some(vec![6; 64]),
            },
        ));
        d.app_version_primary = 2;
        d.app_version_secondary = 3000;
        d.app_version_tertiary = 1_023_456_789;
        d.app_version_last_fetched_ms = 1_700_000_000_123;
        d.first_unupload_pre_key_id = 0x8000_0002;
        d.server_has_prekeys = true;
        d.nct_salt = Some(vec![7; 16]);
        d.server_cert_chain = Some(wacore::store::device::CachedServerCertChain {
            intermediate: wacore::store::device::CachedNoiseCert {
                key: [8; 32],
                not_before: 1,
                not_after: i64::MAX,
            },
            leaf: wacore::store::device::CachedNoiseCert {
                key: [9; 32],
                not_before: -1,
                not_after: 1_800_000_000,
            },
        });
        d.read_receipts_disabled = true;
        s.save(&d).await?;
        let got = s
            .load()
            .await?
            .ok_or_else(|| Failure("load returned None after save".into()))?;
        ensure_eq!(got.pn, d.pn, "pn");
        ensure_eq!(got.lid, d.lid, "lid");
        ensure_eq!(
            got.account.as_deref().map(|a| (
                &a.details,
                &a.account_signature_key,
                &a.account_signature,
                &a.device_signature
            )),
            d.account.as_deref().map(|a| (
                &a.details,
                &a.account_signature_key,
                &a.account_signature,
                &a.device_signature
            )),
            "account"
        );
        ensure_eq!(
            (
                got.app_version_primary,
                got.app_version_secondary,
                got.app_version_tertiary
            ),
            (2, 3000, 1_023_456_789),
            "app version"
        );
        ensure_eq!(
            got.app_version_last_fetched_ms,
            1_700_000_000_123,
            "app_version_last_fetched_ms"
        );
        ensure_eq!(
            got.first_unupload_pre_key_id,
            0x8000_0002,
            "first_unupload_pre_key_id"
        );
        ensure_eq!(got.server_has_prekeys, true, "server_has_prekeys");
        ensure_eq!(got.nct_salt, d.nct_salt, "nct_salt");
        ensure_eq!(
            got.server_cert_chain,
            d.server_cert_chain,
            "server_cert_chain"
        );
        ensure_eq!(got.read_receipts_disabled, true, "read_receipts_disabled");
        Ok(None)
    }
);

flaw! {
    /// The signed device identity (`account`) is not persisted.
    device_account_dropped, caught_by: every_persisted_device_field_round_trips;
    async fn save(&self, device: &wacore::store::Device) -> Result<()> {
        let mut device = device.clone();
        device.account = None;
        self.inner.save(&device).await
    }
}

flaw! {
    /// Fields added to `Device` after the store was written (cert chain, nct
    /// salt) fall back to their defaults.
    device_newer_fields_dropped, caught_by: every_persisted_device_field_round_trips;
    async fn load(&self) -> Result<Option<wacore::store::Device>> {
        Ok(self.inner.load().await?.map(|mut d| {
            d.server_cert_chain = None;
            d.nct_salt = None;
            d
        }))
    }
}

check!(
    create_makes_a_loadable_device,
    "DeviceStore",
    Contract,
    Nothing,
    [exists, create],
    "create creates a new device row and returns its device_id; afterwards exists() is true (PersistenceManager calls exists, create, load)",
    |ctx| {
        let s = ctx.store();
        let id = s.create().await?;
        ensure!(s.exists().await?, "exists() is false after create()");
        Ok(Some(format!("create() returned device id {id}")))
    }
);

check!(
    create_twice,
    "DeviceStore",
    ImplementationDefined,
    Nothing,
    [load, create],
    "create called when the device row already exists",
    |ctx| {
        let s = ctx.store();
        let first = s.create().await?;
        let keys_before = s.load().await?.map(|d| keys(&d));
        let second = s.create().await;
        let keys_after = s.load().await?.map(|d| keys(&d));
        let kept = keys_before == keys_after;
        Ok(Some(match second {
            Ok(id) => format!(
                "first id {first}, second call Ok({id}); device keys {}",
                if kept { "kept" } else { "REPLACED" }
            ),
            Err(e) => format!(
                "first id {first}, second call failed ({e}); device keys {}",
                if kept { "kept" } else { "REPLACED" }
            ),
        }))
    }
);

check!(
    snapshot_db_accepts_a_name,
    "DeviceStore",
    ImplementationDefined,
    Nothing,
    [snapshot_db],
    "snapshot_db(name, extra): create a snapshot of the database state (the default does nothing)",
    |ctx| {
        let s = ctx.store();
        let result = s.snapshot_db("conformance-kit", Some(b"{}")).await;
        Ok(Some(match result {
            Ok(()) => "Ok".to_string(),
            Err(e) => format!("error: {e}"),
        }))
    }
);

check!(
    resource_report,
    "DeviceStore",
    ImplementationDefined,
    Nothing,
    [put_session, resource_report],
    "resource_report: best-effort process-local memory and size figures (all None = not reported)",
    |ctx| {
        let s = ctx.store();
        s.put_session("a@lid", &[0; 4096]).await?;
        let r = s.resource_report().await;
        Ok(Some(format!(
            "memory_bytes {:?}, pages {:?}, io_read_bytes {:?}, io_write_bytes {:?}",
            r.memory_bytes, r.pages, r.io_read_bytes, r.io_write_bytes
        )))
    }
);
