//! TTLs: none persists, some expires, sub-second ones work, an overwrite
//! takes the new TTL.

use std::time::Duration;

use super::{check, register};
use crate::ensure_eq;
use crate::limit::pause;

register!(
    no_ttl_persists,
    a_ttl_expires,
    a_sub_second_ttl_is_neither_zero_nor_forever,
    an_overwrite_takes_the_new_ttl,
);

/// Past any TTL these checks set, rounded up to whole seconds (Redis `EX`),
/// with room for a server's expiry to be observed.
const PAST_EXPIRY: Duration = Duration::from_millis(2300);

check!(
    no_ttl_persists,
    Contract,
    "ttl None: the entry persists until deleted or evicted (CacheStore::set)",
    |ctx| {
        ctx.store.set("group", "kept@g.us", b"kept", None).await?;
        ctx.store
            .set(
                "group",
                "short@g.us",
                b"short",
                Some(Duration::from_millis(300)),
            )
            .await?;
        pause(PAST_EXPIRY).await;
        ensure_eq!(
            ctx.store.get("group", "kept@g.us").await?,
            Some(b"kept".to_vec()),
            "an entry set with no TTL, {PAST_EXPIRY:?} later"
        );
        Ok(None)
    }
);

check!(
    a_ttl_expires,
    Contract,
    "ttl Some(d): the entry is readable at once and gone once d has passed (CacheStore::set; the \
     client's cache config TTLs)",
    |ctx| {
        ctx.store
            .set(
                "group",
                "one-second@g.us",
                b"v",
                Some(Duration::from_secs(1)),
            )
            .await?;
        ensure_eq!(
            ctx.store.get("group", "one-second@g.us").await?,
            Some(b"v".to_vec()),
            "get right after set with a 1 s TTL"
        );
        pause(PAST_EXPIRY).await;
        ensure_eq!(
            ctx.store.get("group", "one-second@g.us").await?,
            None,
            "get {PAST_EXPIRY:?} after set with a 1 s TTL"
        );
        Ok(None)
    }
);

check!(
    a_sub_second_ttl_is_neither_zero_nor_forever,
    Defect,
    "a TTL under a second is stored (not an error, as Redis answers `EX 0`; not expired at once) \
     and expires (not \"never\"); whole seconds may round it up",
    |ctx| {
        let ttl = Duration::from_millis(400);
        ctx.store
            .set(
                "lid_pn_by_pn",
                "5511999990000@s.whatsapp.net",
                b"v",
                Some(ttl),
            )
            .await?;
        ensure_eq!(
            ctx.store
                .get("lid_pn_by_pn", "5511999990000@s.whatsapp.net")
                .await?,
            Some(b"v".to_vec()),
            "get right after set with a {ttl:?} TTL"
        );
        pause(PAST_EXPIRY).await;
        ensure_eq!(
            ctx.store
                .get("lid_pn_by_pn", "5511999990000@s.whatsapp.net")
                .await?,
            None,
            "get {PAST_EXPIRY:?} after set with a {ttl:?} TTL"
        );
        Ok(None)
    }
);

check!(
    an_overwrite_takes_the_new_ttl,
    Contract,
    "set replaces the TTL with its own: an entry first set with a short TTL, then overwritten \
     with none, persists; one set with none, then overwritten with a short TTL, expires",
    |ctx| {
        let short = Some(Duration::from_millis(500));
        ctx.store
            .set("group", "made-permanent@g.us", b"1", short)
            .await?;
        ctx.store
            .set("group", "made-permanent@g.us", b"2", None)
            .await?;
        ctx.store
            .set("group", "made-temporary@g.us", b"1", None)
            .await?;
        ctx.store
            .set("group", "made-temporary@g.us", b"2", short)
            .await?;
        pause(PAST_EXPIRY).await;
        ensure_eq!(
            ctx.store.get("group", "made-permanent@g.us").await?,
            Some(b"2".to_vec()),
            "a short-TTL entry overwritten with no TTL"
        );
        ensure_eq!(
            ctx.store.get("group", "made-temporary@g.us").await?,
            None,
            "a no-TTL entry overwritten with a short TTL"
        );
        Ok(None)
    }
);
