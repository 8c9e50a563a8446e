//! `entry_count` as declared; concurrent writers; odd inputs.

use std::time::Duration;

use super::{JIDS, check, register};
use crate::cache::EntryCount;
use crate::{ensure, ensure_eq};

register!(
    entry_count_is_as_declared,
    concurrent_writers_to_one_key_converge,
    odd_inputs_return_instead_of_panicking,
);

check!(
    entry_count_is_as_declared,
    Contract,
    "entry_count(ns) counts the live entries of ns only, exactly if the store declares it exact; \
     a store that cannot count returns Ok(0) (CacheStore::entry_count)",
    |ctx| {
        for key in JIDS {
            ctx.store.set("group", key, b"v", None).await?;
        }
        ctx.store
            .set("group", JIDS[0], b"overwritten", None)
            .await?;
        ctx.store.delete("group", JIDS[1]).await?;
        ctx.store
            .set(
                "group",
                "expiring@g.us",
                b"v",
                Some(Duration::from_millis(200)),
            )
            .await?;
        ctx.store
            .set("device_registry", JIDS[0], b"elsewhere", None)
            .await?;
        crate::limit::pause(Duration::from_millis(1300)).await;
        let count = ctx.store.entry_count("group").await?;
        match ctx.caps.entry_count {
            EntryCount::Exact => ensure_eq!(
                count,
                4,
                "entry_count(group) of a store declaring exact counts, after 5 sets, an overwrite, a delete and an expiry, with 1 entry elsewhere"
            ),
            EntryCount::Unsupported => {
                ensure_eq!(count, 0, "entry_count of a store declaring no counts")
            }
            EntryCount::Approximate => {}
        }
        Ok(Some(format!("entry_count(group) = {count} (4 live)")))
    }
);

check!(
    concurrent_writers_to_one_key_converge,
    Contract,
    "concurrent sets of one key leave exactly one of the written values, whole, and every later \
     get agrees (the client's tasks write the same JID at once)",
    |ctx| {
        for round in 0..20u8 {
            let values: Vec<Vec<u8>> = (0..8u8)
                .map(|w| vec![w.wrapping_mul(31).wrapping_add(round); 64 + 97 * w as usize])
                .collect();
            let writers = values
                .iter()
                .map(|v| ctx.store.set("group", JIDS[0], v, None));
            for result in futures::future::join_all(writers).await {
                result?;
            }
            let first = ctx.store.get("group", JIDS[0]).await?;
            ensure!(
                first.as_ref().is_some_and(|f| values.contains(f)),
                "round {round}: after 8 concurrent sets the key holds {} bytes that no writer wrote",
                first.map_or(0, |f| f.len())
            );
            ensure_eq!(
                ctx.store.get("group", JIDS[0]).await?,
                first,
                "round {round}: a second get"
            );
        }
        Ok(None)
    }
);

check!(
    odd_inputs_return_instead_of_panicking,
    Contract,
    "an empty namespace or key, a 64 KiB key and a NUL inside a key are answered with Ok or an \
     error, never a panic, and what was stored reads back (CacheStore: errors are returned for \
     observability)",
    |ctx| {
        let long = "k".repeat(64 << 10);
        let cases = [
            ("", "key"),
            ("group", ""),
            ("group", long.as_str()),
            ("group", "nul\0inside"),
            ("", ""),
        ];
        let mut refused = Vec::new();
        for (ns, key) in cases {
            match ctx.store.set(ns, key, b"odd", None).await {
                Ok(()) => ensure_eq!(
                    ctx.store.get(ns, key).await?,
                    Some(b"odd".to_vec()),
                    "get of an odd key that set accepted (ns {ns:?}, key of {} bytes)",
                    key.len()
                ),
                Err(_) => refused.push(format!("({ns:?}, {} bytes)", key.len())),
            }
            let _ = ctx.store.delete(ns, key).await;
        }
        Ok((!refused.is_empty()).then(|| format!("refused with an error: {}", refused.join(", "))))
    }
);
