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
