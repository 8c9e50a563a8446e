//! Values: missing, empty, binary, large, overwritten, deleted.

use super::{JIDS, check, register};
use crate::{ensure, ensure_eq};

register!(
    a_missing_key_reads_as_none,
    binary_values_round_trip,
    an_empty_value_is_not_missing,
    a_one_mib_value_round_trips,
    an_overwrite_replaces_the_value,
    delete_removes_only_its_key,
    deleting_a_missing_key_is_ok,
);

check!(
    a_missing_key_reads_as_none,
    Contract,
    "get of a key never set is Ok(None), not an error (CacheStore::get; the client treats an \
     error as a miss but logs it)",
    |ctx| {
        for key in JIDS {
            ensure_eq!(
                ctx.store.get("group", key).await?,
                None,
                "get(group, {key:?}) on an empty store"
            );
        }
        Ok(None)
    }
);

check!(
    binary_values_round_trip,
    Contract,
    "values are opaque bytes: every byte value, invalid UTF-8 and NULs included, reads back as \
     written (CacheStore: \"keys and values are opaque strings / bytes\")",
    |ctx| {
        let all: Vec<u8> = (0..=255u8).collect();
        let odd: Vec<u8> = vec![0xff, 0xfe, 0x00, 0xc3, 0x28, 0x00, 0x80];
        for (key, value) in [("all-bytes", &all), ("invalid-utf8", &odd)] {
            ctx.store.set("group", key, value, None).await?;
            ensure_eq!(
                ctx.store.get("group", key).await?,
                Some(value.clone()),
                "get(group, {key:?})"
            );
        }
        Ok(None)
    }
);

check!(
    an_empty_value_is_not_missing,
    Contract,
    "an empty value is stored: get returns Some(empty), not None (an empty value is not a missing one)",
    |ctx| {
        ctx.store.set("device_registry", JIDS[1], b"", None).await?;
        ensure_eq!(
            ctx.store.get("device_registry", JIDS[1]).await?,
            Some(Vec::new()),
            "get after set of an empty value"
        );
        Ok(None)
    }
);

check!(
    a_one_mib_value_round_trips,
    Contract,
    "a 1 MiB value (a large group's metadata) reads back whole",
    |ctx| {
        let value: Vec<u8> = (0..1 << 20)
            .map(|i: u32| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
            .collect();
        ctx.store.set("group", JIDS[0], &value, None).await?;
        let back = ctx.store.get("group", JIDS[0]).await?;
        ensure!(
            back.as_ref() == Some(&value),
            "a 1 MiB value read back as {} bytes",
            back.map_or(0, |v| v.len())
        );
        Ok(None)
    }
);

check!(
    an_overwrite_replaces_the_value,
    Contract,
    "set of an existing key replaces its value, longer or shorter",
    |ctx| {
        for value in [
            &b"first"[..],
            b"a much longer second value",
            b"3",
            b"fourth",
        ] {
            ctx.store.set("group", JIDS[0], value, None).await?;
            ensure_eq!(
                ctx.store.get("group", JIDS[0]).await?,
                Some(value.to_vec()),
                "get after set({:?})",
                String::from_utf8_lossy(value)
            );
        }
        Ok(None)
    }
);

check!(
    delete_removes_only_its_key,
    Contract,
    "delete removes its key (get is then None) and no other key of the namespace",
    |ctx| {
        for (i, key) in JIDS.iter().enumerate() {
            ctx.store
                .set("lid_pn_by_lid", key, &[i as u8], None)
                .await?;
        }
        ctx.store.delete("lid_pn_by_lid", JIDS[2]).await?;
        for (i, key) in JIDS.iter().enumerate() {
            let expected = (i != 2).then(|| vec![i as u8]);
            ensure_eq!(
                ctx.store.get("lid_pn_by_lid", key).await?,
                expected,
                "get({key:?}) after deleting {:?}",
                JIDS[2]
            );
        }
        Ok(None)
    }
);

check!(
    deleting_a_missing_key_is_ok,
    Contract,
    "delete of a key that is not there is Ok (the client invalidates entries it never cached)",
    |ctx| {
        ctx.store.delete("group", "never-set@g.us").await?;
        ctx.store.set("group", JIDS[0], b"v", None).await?;
        ctx.store.delete("group", JIDS[0]).await?;
        ctx.store.delete("group", JIDS[0]).await?;
        Ok(None)
    }
);
