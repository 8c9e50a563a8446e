//! Deliberately broken cache stores, for the kit's own tests: each overrides
//! one method of a passing `MemoryCacheStore` (declared exact counts) and
//! must fail the check named by its `caught_by`.

use std::sync::Arc;

use wacore::store::cache::CacheStore;
use whatsapp_rust_memory_cache::MemoryCacheStore;

use super::{
    CacheLayer, Capabilities, EntryCount, LayeredCache, SimpleFactory, all_checks, run_check,
};
use crate::{Expectations, Outcome};

fn factory(wrap: fn(Arc<dyn CacheStore>) -> Arc<dyn CacheStore>) -> SimpleFactory {
    let caps = Capabilities::default().with_entry_count(EntryCount::Exact);
    SimpleFactory::new("flawed", caps, move || {
        let store = wrap(Arc::new(MemoryCacheStore::new()));
        async move { Ok(store) }
    })
}

fn assert_caught(check: &str, wrap: fn(Arc<dyn CacheStore>) -> Arc<dyn CacheStore>) {
    let name = format!("cache::{check}");
    let check = all_checks()
        .into_iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no check {name}"));
    let report =
        futures::executor::block_on(run_check(&check, &factory(wrap), &Expectations::none()));
    match report.outcome {
        Outcome::Failed { message } => eprintln!("caught by {}: {message}", report.check),
        other => panic!("{} missed the flaw: {other:?}", report.check),
    }
}

/// `flaw! { /// what is broken
///     name, caught_by: check { extra_field: Type, ... };
///     async fn overridden(&self, ...) -> ... { ... } }`
macro_rules! flaw {
    (
        $(#[$doc:meta])*
        $name:ident, caught_by: $check:ident $({ $($field:ident: $fty:ty),* $(,)? })?;
        $($body:tt)*
    ) => {
        mod $name {
            #[allow(unused_imports)]
            use std::{collections::HashMap, sync::{Arc, Mutex}, time::{Duration, Instant}};
            use wacore::store::cache::CacheStore;
            use crate::cache::{CacheLayer, LayeredCache};

            $(#[$doc])*
            struct Flawed {
                inner: Arc<dyn CacheStore>,
                $($($field: $fty,)*)?
            }

            #[async_trait::async_trait]
            impl CacheLayer for Flawed {
                fn inner(&self) -> &dyn CacheStore {
                    &*self.inner
                }
                $($body)*
            }

            #[test]
            fn is_caught() {
                super::assert_caught(stringify!($check), |inner| {
                    Arc::new(LayeredCache(Flawed { inner, $($($field: Default::default(),)*)? }))
                });
            }
        }
    };
}

flaw! {
    /// A missing key is an error ("not found").
    missing_is_an_error, caught_by: a_missing_key_reads_as_none;
    async fn get(&self, ns: &str, key: &str) -> anyhow::Result<Option<Vec<u8>>> {
        self.inner.get(ns, key).await?.map(Some).ok_or_else(|| anyhow::anyhow!("not found"))
    }
}

flaw! {
    /// Values go through a lossy UTF-8 string.
    values_as_text, caught_by: binary_values_round_trip;
    async fn set(&self, ns: &str, key: &str, value: &[u8], ttl: Option<Duration>) -> anyhow::Result<()> {
        self.inner.set(ns, key, String::from_utf8_lossy(value).as_bytes(), ttl).await
    }
}

flaw! {
    /// An empty value reads as missing.
    empty_is_missing, caught_by: an_empty_value_is_not_missing;
    async fn get(&self, ns: &str, key: &str) -> anyhow::Result<Option<Vec<u8>>> {
        Ok(self.inner.get(ns, key).await?.filter(|v| !v.is_empty()))
    }
}

flaw! {
    /// Values are cut at 512 KiB.
    values_cut_at_512_kib, caught_by: a_one_mib_value_round_trips;
    async fn set(&self, ns: &str, key: &str, value: &[u8], ttl: Option<Duration>) -> anyhow::Result<()> {
        self.inner.set(ns, key, &value[..value.len().min(512 << 10)], ttl).await
    }
}

flaw! {
    /// set only writes keys that are absent.
    set_if_absent, caught_by: an_overwrite_replaces_the_value;
    async fn set(&self, ns: &str, key: &str, value: &[u8], ttl: Option<Duration>) -> anyhow::Result<()> {
        if self.inner.get(ns, key).await?.is_none() {
            self.inner.set(ns, key, value, ttl).await?;
        }
        Ok(())
    }
}

flaw! {
    /// Deleting a missing key is an error.
    delete_missing_is_an_error, caught_by: deleting_a_missing_key_is_ok;
    async fn delete(&self, ns: &str, key: &str) -> anyhow::Result<()> {
        anyhow::ensure!(self.inner.get(ns, key).await?.is_some(), "no such key");
        self.inner.delete(ns, key).await
    }
}

flaw! {
    /// delete clears the whole namespace.
    delete_clears_the_namespace, caught_by: delete_removes_only_its_key;
    async fn delete(&self, ns: &str, _key: &str) -> anyhow::Result<()> {
        self.inner.clear(ns).await
    }
}

flaw! {
    /// The namespace is ignored: one flat key space.
    namespace_ignored, caught_by: namespaces_are_isolated;
    async fn get(&self, _ns: &str, key: &str) -> anyhow::Result<Option<Vec<u8>>> {
        self.inner.get("", key).await
    }
    async fn set(&self, _ns: &str, key: &str, value: &[u8], ttl: Option<Duration>) -> anyhow::Result<()> {
        self.inner.set("", key, value, ttl).await
    }
    async fn delete(&self, _ns: &str, key: &str) -> anyhow::Result<()> {
        self.inner.delete("", key).await
    }
}

flaw! {
    /// clear(ns) clears every namespace whose name starts with ns (a `ns*` pattern).
    clear_by_prefix, caught_by: clear_empties_only_its_namespace { seen: Mutex<Vec<String>> };
    async fn set(&self, ns: &str, key: &str, value: &[u8], ttl: Option<Duration>) -> anyhow::Result<()> {
        self.seen.lock().unwrap().push(ns.to_owned());
        self.inner.set(ns, key, value, ttl).await
    }
    async fn clear(&self, ns: &str) -> anyhow::Result<()> {
        let all: Vec<String> = self.seen.lock().unwrap().clone();
        for other in all.iter().filter(|o| o.starts_with(ns)) {
            self.inner.clear(other).await?;
        }
        Ok(())
    }
}

flaw! {
    /// Entries are keyed "{ns}:{key}" in one flat space.
    joined_names, caught_by: joined_names_do_not_collide { seen: Mutex<Vec<String>> };
    async fn get(&self, ns: &str, key: &str) -> anyhow::Result<Option<Vec<u8>>> {
        self.inner.get("", &format!("{ns}:{key}")).await
    }
    async fn set(&self, ns: &str, key: &str, value: &[u8], ttl: Option<Duration>) -> anyhow::Result<()> {
        let joined = format!("{ns}:{key}");
        self.seen.lock().unwrap().push(joined.clone());
        self.inner.set("", &joined, value, ttl).await
    }
    async fn delete(&self, ns: &str, key: &str) -> anyhow::Result<()> {
        self.inner.delete("", &format!("{ns}:{key}")).await
    }
    async fn clear(&self, ns: &str) -> anyhow::Result<()> {
        let all: Vec<String> = self.seen.lock().unwrap().clone();
        for joined in all.iter().filter(|j| j.starts_with(&format!("{ns}:"))) {
            self.inner.delete("", joined).await?;
        }
        Ok(())
    }
}

flaw! {
    /// Keys are "normalised" by dropping a JID's device part (`:12`).
    device_part_dropped, caught_by: keys_with_separators_round_trip;
    async fn get(&self, ns: &str, key: &str) -> anyhow::Result<Option<Vec<u8>>> {
        self.inner.get(ns, &super::without_device(key)).await
    }
    async fn set(&self, ns: &str, key: &str, value: &[u8], ttl: Option<Duration>) -> anyhow::Result<()> {
        self.inner.set(ns, &super::without_device(key), value, ttl).await
    }
}

fn without_device(key: &str) -> String {
    match (key.find(':'), key.find('@')) {
        (Some(colon), Some(at)) if colon < at => format!("{}{}", &key[..colon], &key[at..]),
        _ => key.to_owned(),
    }
}

flaw! {
    /// Values that parse as JSON are stored re-rendered (as a JSON column
    /// such as Postgres `jsonb` would give them back).
    json_values_re_rendered, caught_by: the_clients_namespaces_hold_its_values;
    async fn set(&self, ns: &str, key: &str, value: &[u8], ttl: Option<Duration>) -> anyhow::Result<()> {
        match serde_json::from_slice::<serde_json::Value>(value) {
            Ok(json) => self.inner.set(ns, key, serde_json::to_string_pretty(&json)?.as_bytes(), ttl).await,
            Err(_) => self.inner.set(ns, key, value, ttl).await,
        }
    }
}

flaw! {
    /// ttl None becomes a default TTL of one second.
    no_ttl_gets_a_default, caught_by: no_ttl_persists;
    async fn set(&self, ns: &str, key: &str, value: &[u8], ttl: Option<Duration>) -> anyhow::Result<()> {
        self.inner.set(ns, key, value, ttl.or(Some(Duration::from_secs(1)))).await
    }
}

flaw! {
    /// TTLs are ignored.
    ttl_ignored, caught_by: a_ttl_expires;
    async fn set(&self, ns: &str, key: &str, value: &[u8], _ttl: Option<Duration>) -> anyhow::Result<()> {
        self.inner.set(ns, key, value, None).await
    }
}

flaw! {
    /// The TTL is sent in whole seconds: under a second it is `EX 0`, an error.
    sub_second_ttl_is_ex_0, caught_by: a_sub_second_ttl_is_neither_zero_nor_forever;
    async fn set(&self, ns: &str, key: &str, value: &[u8], ttl: Option<Duration>) -> anyhow::Result<()> {
        if let Some(ttl) = ttl {
            anyhow::ensure!(ttl.as_secs() > 0, "ERR invalid expire time in 'set' command");
            return self.inner.set(ns, key, value, Some(Duration::from_secs(ttl.as_secs()))).await;
        }
        self.inner.set(ns, key, value, None).await
    }
}

flaw! {
    /// A TTL under a second means "no expiry".
    sub_second_ttl_is_forever, caught_by: a_sub_second_ttl_is_neither_zero_nor_forever;
    async fn set(&self, ns: &str, key: &str, value: &[u8], ttl: Option<Duration>) -> anyhow::Result<()> {
        self.inner.set(ns, key, value, ttl.filter(|t| t.as_secs() > 0)).await
    }
}

flaw! {
    /// An overwrite without a TTL keeps the entry's old expiry.
    overwrite_keeps_the_old_ttl, caught_by: an_overwrite_takes_the_new_ttl { expiry: Mutex<HashMap<(String, String), Instant>> };
    async fn set(&self, ns: &str, key: &str, value: &[u8], ttl: Option<Duration>) -> anyhow::Result<()> {
        let name = (ns.to_owned(), key.to_owned());
        let ttl = match ttl {
            Some(ttl) => {
                self.expiry.lock().unwrap().insert(name, Instant::now() + ttl);
                Some(ttl)
            }
            None => self.expiry.lock().unwrap().get(&name).map(|at| at.saturating_duration_since(Instant::now())),
        };
        self.inner.set(ns, key, value, ttl).await
    }
}

flaw! {
    /// entry_count counts sets minus deletes, not live entries.
    count_of_writes, caught_by: entry_count_is_as_declared { writes: Mutex<HashMap<String, u64>> };
    async fn set(&self, ns: &str, key: &str, value: &[u8], ttl: Option<Duration>) -> anyhow::Result<()> {
        *self.writes.lock().unwrap().entry(ns.to_owned()).or_default() += 1;
        self.inner.set(ns, key, value, ttl).await
    }
    async fn delete(&self, ns: &str, key: &str) -> anyhow::Result<()> {
        {
            let mut writes = self.writes.lock().unwrap();
            let n = writes.entry(ns.to_owned()).or_default();
            *n = n.saturating_sub(1);
        }
        self.inner.delete(ns, key).await
    }
    async fn entry_count(&self, ns: &str) -> anyhow::Result<u64> {
        Ok(self.writes.lock().unwrap().get(ns).copied().unwrap_or(0))
    }
}

flaw! {
    /// A value is written in two steps (first half, then the rest appended
    /// to whatever is there): concurrent writers tear it.
    writes_in_two_steps, caught_by: concurrent_writers_to_one_key_converge;
    async fn set(&self, ns: &str, key: &str, value: &[u8], ttl: Option<Duration>) -> anyhow::Result<()> {
        let half = value.len() / 2;
        self.inner.set(ns, key, &value[..half], ttl).await?;
        crate::yield_now().await;
        let mut whole = self.inner.get(ns, key).await?.unwrap_or_default();
        whole.extend_from_slice(&value[half..]);
        self.inner.set(ns, key, &whole, ttl).await
    }
}

flaw! {
    /// An empty key panics (indexing its first byte).
    panics_on_an_empty_key, caught_by: odd_inputs_return_instead_of_panicking;
    async fn set(&self, ns: &str, key: &str, value: &[u8], ttl: Option<Duration>) -> anyhow::Result<()> {
        let _first = key.as_bytes()[0];
        self.inner.set(ns, key, value, ttl).await
    }
}

/// Forwards everything.
struct Unflawed(Arc<dyn CacheStore>);

impl CacheLayer for Unflawed {
    fn inner(&self) -> &dyn CacheStore {
        &*self.0
    }
}

#[test]
fn the_unflawed_wrapper_passes_every_check() {
    let report = futures::executor::block_on(super::run_suite(
        &factory(|inner| Arc::new(LayeredCache(Unflawed(inner)))),
        &Expectations::none(),
        |_, _, _| {},
    ))
    .expect("no expectations");
    assert!(report.is_ok(), "{:#?}", report.to_json());
}

/// Every check of the family has at least one flaw here that it must catch.
#[test]
fn every_check_has_a_flaw() {
    let source = include_str!("flaws.rs");
    for check in super::all_checks() {
        let short = check.name.trim_start_matches("cache::");
        assert!(
            source.contains(&format!("caught_by: {short}")),
            "{} has no broken wrapper proving it live",
            check.name
        );
    }
}
