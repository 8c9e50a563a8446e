//! The checks, one file per trait, plus cross-cutting ones (edge inputs,
//! accounts, persistence). Each is a plain `async fn(&mut Ctx) -> CheckResult`
//! wrapped by [`check!`] with its verdict, the methods it calls and the trait
//! rule it enforces; each file lists its checks once, at its top.

pub(crate) mod accounts;
pub(crate) mod app_sync;
pub(crate) mod batches;
pub(crate) mod device;
pub(crate) mod edge;
pub(crate) mod executor;
pub(crate) mod isolation;
pub(crate) mod msg_secret;
pub(crate) mod protocol;
pub(crate) mod races;
pub(crate) mod signal;

use std::sync::Arc;

use wacore::appstate::processor::AppStateMutationMAC;
use wacore::store::traits::{LidPnMappingEntry, MsgSecretEntry};

/// Declares a check: `fn $name() -> Check`, private, so a check left out of
/// its file's [`register!`] list is dead code (a warning, an error in CI).
///
/// Arguments: name, area (the trait), verdict, needed capability, the trait
/// methods it calls, the rule it enforces, the body.
macro_rules! check {
    (
        $name:ident, $area:literal, $verdict:ident, $needs:ident,
        [$($method:ident),* $(,)?], $rule:literal,
        |$ctx:ident| $body:block
    ) => {
        fn $name() -> $crate::storage::Check {
            async fn body($ctx: &mut $crate::storage::Ctx) -> $crate::CheckResult $body
            $crate::storage::Check {
                name: "",
                area: $area,
                methods: &[$($crate::storage::Method::$method),*],
                verdict: $crate::Verdict::$verdict,
                needs: $crate::storage::Needs::$needs,
                rule: $rule,
                run: |ctx| Box::pin(body(ctx)),
            }
        }
    };
}
pub(crate) use check;

/// A file's checks, in report order, named `area::check`: generates the
/// file's `checks()`. The family joins the files' lists (see
/// [`all_checks`](crate::storage::all_checks)).
macro_rules! register {
    ($area:ident: $($name:ident),* $(,)?) => {
        /// This file's checks, in report order.
        pub(crate) fn checks() -> Vec<$crate::storage::Check> {
            vec![$(
                $crate::storage::Check {
                    name: concat!(stringify!($area), "::", stringify!($name)),
                    ..$name()
                }
            ),*]
        }
    };
}
pub(crate) use register;

/// A mutation MAC whose 32-byte index encodes `i`.
pub(crate) fn mac(i: u64, value: u8) -> AppStateMutationMAC {
    AppStateMutationMAC {
        index_mac: index(i).to_vec(),
        value_mac: vec![value; 32],
    }
}

/// The 32-byte index MAC of [`mac`].
pub(crate) fn index(i: u64) -> [u8; 32] {
    let mut k = [0u8; 32];
    k[..8].copy_from_slice(&i.to_be_bytes());
    k
}

pub(crate) fn mapping(lid: &str, pn: &str, updated_at: i64) -> LidPnMappingEntry {
    LidPnMappingEntry {
        lid: lid.into(),
        phone_number: pn.into(),
        created_at: 1,
        updated_at,
        learning_source: "usync".into(),
    }
}

pub(crate) fn secret(id: &str, byte: u8, expires_at: i64, message_ts: i64) -> MsgSecretEntry {
    MsgSecretEntry {
        chat: Arc::from("120363000000000000@g.us"),
        sender: Arc::from("5511999990000@s.whatsapp.net"),
        msg_id: Arc::from(id),
        secret: [byte; 32],
        expires_at,
        message_ts,
    }
}

/// Brings a store to where the client has it after start-up:
/// `PersistenceManager` calls `exists()` and, if false, `create()`. Checks of
/// data the client only writes after start-up (LID mappings) call this first;
/// `protocol::lid_mapping_before_device_row` reports what happens without it.
pub(crate) async fn started(
    store: &std::sync::Arc<dyn wacore::store::traits::Backend>,
) -> Result<(), crate::Failure> {
    if !store.exists().await? {
        store.create().await?;
    }
    Ok(())
}

pub(crate) use crate::yield_now;

pub(crate) const CHAT: &str = "120363000000000000@g.us";
pub(crate) const SENDER: &str = "5511999990000@s.whatsapp.net";
