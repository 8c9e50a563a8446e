//! The checks, one file per trait, plus cross-cutting ones (edge inputs,
//! accounts, persistence). Each is a plain `async fn(Ctx) -> CheckResult`
//! wrapped by [`check!`] with its verdict and the trait rule it enforces.

pub mod accounts;
pub mod app_sync;
pub mod device;
pub mod edge;
pub mod msg_secret;
pub mod protocol;
pub mod signal;

use std::sync::Arc;

use wacore::appstate::processor::AppStateMutationMAC;
use wacore::store::traits::{LidPnMappingEntry, MsgSecretEntry};

/// Declares `pub fn $name() -> Check`; the registry fills in the name.
macro_rules! check {
    (
        $name:ident, $area:literal, $verdict:ident, $needs:ident, $rule:literal,
        |$ctx:ident| $body:block
    ) => {
        pub fn $name() -> $crate::Check {
            async fn body($ctx: $crate::Ctx) -> $crate::CheckResult $body
            $crate::Check {
                name: "",
                area: $area,
                verdict: $crate::Verdict::$verdict,
                needs: $crate::Needs::$needs,
                rule: $rule,
                run: |ctx| Box::pin(body(ctx)),
            }
        }
    };
}
pub(crate) use check;

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
