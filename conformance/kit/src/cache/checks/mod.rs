//! The cache checks, one file per concern (values, namespaces and keys,
//! expiry, counting and concurrency), each listing its checks once with
//! [`register!`].

mod counting;
mod expiry;
mod keys;
mod values;

use super::Check;

/// Every cache check, in report order.
pub fn all_checks() -> Vec<Check> {
    [
        values::checks(),
        keys::checks(),
        expiry::checks(),
        counting::checks(),
    ]
    .concat()
}

/// The namespaces whatsapp-rust 0.7.0 writes through a `CacheStore`
/// (`cache_config.rs`, `lid_pn_cache.rs`).
pub const CLIENT_NAMESPACES: [&str; 4] =
    ["group", "device_registry", "lid_pn_by_lid", "lid_pn_by_pn"];

/// Declares a check: `fn $name() -> Check` (private, so one left out of its
/// file's [`register!`] list is dead code). Arguments: name, verdict, the
/// rule and where it comes from, the body over the [`Ctx`](super::Ctx).
macro_rules! check {
    ($name:ident, $verdict:ident, $rule:literal, |$ctx:ident| $body:block) => {
        fn $name() -> $crate::cache::Check {
            #[allow(unused_variables)]
            async fn body($ctx: &$crate::cache::Ctx) -> $crate::CheckResult $body
            $crate::cache::Check {
                name: "",
                verdict: $crate::Verdict::$verdict,
                rule: $rule,
                run: |ctx| Box::pin(body(ctx)),
            }
        }
    };
}
pub(crate) use check;

/// A file's checks, in report order, named `cache::check`.
macro_rules! register {
    ($($name:ident),* $(,)?) => {
        /// This file's checks, in report order.
        pub(crate) fn checks() -> Vec<$crate::cache::Check> {
            vec![$(
                $crate::cache::Check {
                    name: concat!("cache::", stringify!($name)),
                    ..$name()
                }
            ),*]
        }
    };
}
pub(crate) use register;

/// JIDs as the client uses them for keys.
pub(crate) const JIDS: [&str; 5] = [
    "120363021033254949@g.us",
    "5511999990000@s.whatsapp.net",
    "5511999990000:12@s.whatsapp.net",
    "100000000000001@lid",
    "100000000000001:3@lid",
];
