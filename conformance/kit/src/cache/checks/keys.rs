//! Namespaces and keys: isolation, clear, separators, joined names.

use super::{CLIENT_NAMESPACES, JIDS, check, register};
use crate::ensure_eq;

register!(
    namespaces_are_isolated,
    clear_empties_only_its_namespace,
    keys_with_separators_round_trip,
    joined_names_do_not_collide,
    the_clients_namespaces_hold_its_values,
);

check!(
    namespaces_are_isolated,
    Contract,
    "one key in two namespaces is two entries: set, overwrite and delete in one leave the other \
     (CacheStore: \"implementations should use [the namespace] to partition keys\")",
    |ctx| {
        let (a, b) = ("lid_pn_by_lid", "lid_pn_by_pn");
        ctx.store.set(a, JIDS[3], b"in a", None).await?;
        ctx.store.set(b, JIDS[3], b"in b", None).await?;
        ensure_eq!(
            ctx.store.get(a, JIDS[3]).await?,
            Some(b"in a".to_vec()),
            "get({a}) after set in both"
        );
        ctx.store.set(a, JIDS[3], b"a again", None).await?;
        ensure_eq!(
            ctx.store.get(b, JIDS[3]).await?,
            Some(b"in b".to_vec()),
            "get({b}) after overwriting in {a}"
        );
        ctx.store.delete(a, JIDS[3]).await?;
        ensure_eq!(
            ctx.store.get(b, JIDS[3]).await?,
            Some(b"in b".to_vec()),
            "get({b}) after deleting in {a}"
        );
        ensure_eq!(
            ctx.store.get("group", JIDS[3]).await?,
            None,
            "get of the key in a third namespace"
        );
        Ok(None)
    }
);

check!(
    clear_empties_only_its_namespace,
    Contract,
    "clear(ns) deletes every key of ns and nothing of any other namespace, names that share a \
     prefix with ns included (CacheStore::clear: \"delete all keys in a namespace\")",
    |ctx| {
        let namespaces = ["group", "groups", "grou", "group:x", "device_registry"];
        for ns in namespaces {
            for key in JIDS {
                ctx.store.set(ns, key, ns.as_bytes(), None).await?;
            }
        }
        ctx.store.clear("group").await?;
        for ns in namespaces {
            for key in JIDS {
                let expected = (ns != "group").then(|| ns.as_bytes().to_vec());
                ensure_eq!(
                    ctx.store.get(ns, key).await?,
                    expected,
                    "get({ns:?}, {key:?}) after clear(\"group\")"
                );
            }
        }
        ctx.store.set("group", JIDS[0], b"after", None).await?;
        ensure_eq!(
            ctx.store.get("group", JIDS[0]).await?,
            Some(b"after".to_vec()),
            "a set after clear"
        );
        Ok(None)
    }
);

check!(
    keys_with_separators_round_trip,
    Contract,
    "keys are opaque: JIDs with '@', ':' and '.', a device suffix, spaces, '*', '%' and non-ASCII \
     are distinct keys that read back as written",
    |ctx| {
        let keys = [
            JIDS[1],
            JIDS[2],
            "5511999990000.0:12@s.whatsapp.net",
            "a key with spaces",
            "*",
            "%",
            "g*",
            "ação@s.whatsapp.net",
            "x:y:z",
        ];
        for (i, key) in keys.iter().enumerate() {
            ctx.store
                .set("device_registry", key, &[i as u8, 0xab], None)
                .await?;
        }
        for (i, key) in keys.iter().enumerate() {
            ensure_eq!(
                ctx.store.get("device_registry", key).await?,
                Some(vec![i as u8, 0xab]),
                "get({key:?})"
            );
        }
        Ok(None)
    }
);

check!(
    joined_names_do_not_collide,
    Contract,
    "namespace and key stay apart: (\"a\", \"b:c\") and (\"a:b\", \"c\") are two entries, and \
     clear(\"a\") leaves (\"a:b\", \"c\") (a store keying by \"{ns}:{key}\" merges them)",
    |ctx| {
        ctx.store.set("a", "b:c", b"first", None).await?;
        ctx.store.set("a:b", "c", b"second", None).await?;
        ensure_eq!(
            ctx.store.get("a", "b:c").await?,
            Some(b"first".to_vec()),
            "get(\"a\", \"b:c\")"
        );
        ensure_eq!(
            ctx.store.get("a:b", "c").await?,
            Some(b"second".to_vec()),
            "get(\"a:b\", \"c\")"
        );
        ctx.store.clear("a").await?;
        ensure_eq!(
            ctx.store.get("a:b", "c").await?,
            Some(b"second".to_vec()),
            "get(\"a:b\", \"c\") after clear(\"a\")"
        );
        Ok(None)
    }
);

check!(
    the_clients_namespaces_hold_its_values,
    Contract,
    "the namespaces the client writes (group, device_registry, lid_pn_by_lid, lid_pn_by_pn) hold \
     its serde_json values under JID keys, with the TTL of its cache config",
    |ctx| {
        let value = |ns: &str, key: &str| {
            serde_json::to_vec(&serde_json::json!({
                "namespace": ns, "jid": key, "participants": ["5511999990000@s.whatsapp.net"],
                "created_at": 1_700_000_000, "addressing_mode": "lid",
            }))
            .expect("a JSON value serialises")
        };
        let ttl = Some(std::time::Duration::from_secs(3600));
        for ns in CLIENT_NAMESPACES {
            for key in JIDS {
                ctx.store.set(ns, key, &value(ns, key), ttl).await?;
            }
        }
        for ns in CLIENT_NAMESPACES {
            for key in JIDS {
                ensure_eq!(
                    ctx.store.get(ns, key).await?,
                    Some(value(ns, key)),
                    "get({ns:?}, {key:?})"
                );
            }
        }
        Ok(None)
    }
);
