//! The store-trait methods of wacore 0.7.0, written once.
//!
//! One macro invocation below lists every method of the five traits behind
//! `Backend` with its signature. From it come:
//!
//! - [`Method`]: a value per method, so a check names what it exercises and
//!   a report can say which checks cover a method;
//! - [`Layer`]: a trait with one default method per store method that
//!   forwards to an inner store. A wrapper overrides only what it changes
//!   (a deliberately broken test backend overrides one method);
//! - [`Layered`]: the `Backend` over any `Layer`, calling [`Layer::before`]
//!   ahead of every method and [`Layer::after`] once it returned (how
//!   [`Recording`](super::recording::Recording) sees calls, and how the
//!   runner names the calls in flight when a check runs out of time).
//!
//! The list is checked against wacore by the compiler: a listed method wacore
//! lacks, or a changed signature, fails to compile; a method wacore adds
//! with a default body is caught by `clippy::missing_trait_methods`, which
//! the `Layered` impls deny.

use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use wacore::appstate::hash::HashState;
use wacore::appstate::processor::AppStateMutationMAC;
use wacore::store::error::Result;
use wacore::store::traits::{
    AppStateSyncKey, AppSyncStore, Backend, DeviceListRecord, DeviceStore, LidPnMappingEntry,
    MsgSecretEntry, MsgSecretStore, PendingInboundKey, PendingInboundRow, ProtocolStore,
    SignalStore, TcTokenEntry,
};

type MacsByIndex = std::collections::HashMap<[u8; 32], Vec<u8>>;
type Secret = [u8; wacore::reporting_token::MESSAGE_SECRET_SIZE];

macro_rules! store_surface {
    ($(
        $trait:ident {
            $( fn $method:ident($($arg:ident: $ty:ty),*) -> $ret:ty; )*
        }
    )*) => {
        /// One method of the store traits. Variants are spelt as the methods
        /// are, so `Method::put_mutation_macs` reads as the call it names.
        #[allow(non_camel_case_types, missing_docs)]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Method {
            $($( $method, )*)*
        }

        impl Method {
            /// Every method, in wacore's declaration order, trait by trait.
            pub const ALL: &'static [Method] = &[$($( Method::$method, )*)*];

            /// The method's name, as in the trait (`put_mutation_macs`).
            pub fn name(self) -> &'static str {
                match self {
                    $($( Method::$method => stringify!($method), )*)*
                }
            }

            /// The trait that declares it (`AppSyncStore`).
            pub fn trait_name(self) -> &'static str {
                match self {
                    $($( Method::$method => stringify!($trait), )*)*
                }
            }
        }

        /// A store wrapper: every method forwards to [`Layer::inner`] unless
        /// the implementation overrides it. Wrap it in [`Layered`] to get a
        /// `Backend`.
        ///
        /// ```
        /// use std::sync::Arc;
        /// use wacore::store::traits::Backend;
        /// use whatsapp_rust_conformance::storage::{Layer, Layered};
        ///
        /// /// Loses every session: a flaw the kit must catch.
        /// struct Forgetful(Arc<dyn Backend>);
        ///
        /// #[async_trait::async_trait]
        /// impl Layer for Forgetful {
        ///     fn inner(&self) -> &dyn Backend {
        ///         &*self.0
        ///     }
        ///     async fn put_session(&self, _address: &str, _session: &[u8]) -> wacore::store::error::Result<()> {
        ///         Ok(())
        ///     }
        /// }
        ///
        /// let store: Arc<dyn Backend> =
        ///     Arc::new(Layered(Forgetful(Arc::new(wacore::store::InMemoryBackend::new()))));
        /// ```
        #[async_trait]
        pub trait Layer: Send + Sync + 'static {
            /// The store every method not overridden forwards to.
            fn inner(&self) -> &dyn Backend;

            /// Called by [`Layered`] before every method, overridden or not.
            fn before(&self, method: Method) {
                let _ = method;
            }

            /// Called by [`Layered`] after every method has returned (not when
            /// its future is dropped first).
            fn after(&self, method: Method) {
                let _ = method;
            }

            $($(
                #[allow(missing_docs)]
                async fn $method(&self, $($arg: $ty),*) -> $ret {
                    self.inner().$method($($arg),*).await
                }
            )*)*
        }

        /// The `Backend` over a [`Layer`].
        pub struct Layered<L>(pub L);

        $(
            #[async_trait]
            #[deny(clippy::missing_trait_methods)]
            impl<L: Layer> $trait for Layered<L> {
                $(
                    async fn $method(&self, $($arg: $ty),*) -> $ret {
                        self.0.before(Method::$method);
                        let result = Layer::$method(&self.0, $($arg),*).await;
                        self.0.after(Method::$method);
                        result
                    }
                )*
            }
        )*
    };
}

store_surface! {
    SignalStore {
        fn put_identity(address: &str, key: [u8; 32]) -> Result<()>;
        fn put_identities_batch(identities: &[(Arc<str>, [u8; 32])]) -> Result<()>;
        fn load_identity(address: &str) -> Result<Option<[u8; 32]>>;
        fn delete_identity(address: &str) -> Result<()>;
        fn get_session(address: &str) -> Result<Option<Bytes>>;
        fn put_session(address: &str, session: &[u8]) -> Result<()>;
        fn put_sessions_batch(sessions: &[(Arc<str>, Bytes)]) -> Result<()>;
        fn delete_session(address: &str) -> Result<()>;
        fn has_session(address: &str) -> Result<bool>;
        fn has_signal_state_for_user(user: &str) -> Result<bool>;
        fn store_prekey(id: u32, record: &[u8], uploaded: bool) -> Result<()>;
        fn store_prekeys_batch(keys: &[(u32, Bytes)], uploaded: bool) -> Result<()>;
        fn load_prekey(id: u32) -> Result<Option<Bytes>>;
        fn load_prekeys_batch(ids: &[u32]) -> Result<Vec<(u32, Bytes)>>;
        fn mark_prekeys_uploaded(ids: &[u32]) -> Result<()>;
        fn remove_prekey(id: u32) -> Result<()>;
        fn get_max_prekey_id() -> Result<u32>;
        fn store_signed_prekey(id: u32, record: &[u8]) -> Result<()>;
        fn load_signed_prekey(id: u32) -> Result<Option<Vec<u8>>>;
        fn load_all_signed_prekeys() -> Result<Vec<(u32, Vec<u8>)>>;
        fn remove_signed_prekey(id: u32) -> Result<()>;
        fn put_sender_key(address: &str, record: &[u8]) -> Result<()>;
        fn put_sender_keys_batch(sender_keys: &[(Arc<str>, Bytes)]) -> Result<()>;
        fn get_sender_key(address: &str) -> Result<Option<Vec<u8>>>;
        fn delete_sender_key(address: &str) -> Result<()>;
    }
    AppSyncStore {
        fn get_sync_key(key_id: &[u8]) -> Result<Option<AppStateSyncKey>>;
        fn set_sync_key(key_id: &[u8], key: AppStateSyncKey) -> Result<()>;
        fn get_version(name: &str) -> Result<HashState>;
        fn set_version(name: &str, state: HashState) -> Result<()>;
        fn put_mutation_macs(name: &str, version: u64, mutations: &[AppStateMutationMAC]) -> Result<()>;
        fn get_mutation_mac(name: &str, index_mac: &[u8]) -> Result<Option<Vec<u8>>>;
        fn get_mutation_macs(name: &str, index_macs: &[[u8; 32]]) -> Result<MacsByIndex>;
        fn delete_mutation_macs(name: &str, index_macs: &[Vec<u8>]) -> Result<()>;
        fn clear_mutation_macs(name: &str) -> Result<()>;
        fn get_latest_sync_key_id() -> Result<Option<Vec<u8>>>;
    }
    ProtocolStore {
        fn get_sender_key_devices(group_jid: &str) -> Result<Vec<(String, bool)>>;
        fn set_sender_key_status(group_jid: &str, entries: &[(&str, bool)]) -> Result<()>;
        fn clear_sender_key_devices(group_jid: &str) -> Result<()>;
        fn delete_sender_key_device_rows(device_jids: &[&str]) -> Result<()>;
        fn clear_all_sender_key_devices() -> Result<()>;
        fn get_lid_mapping(lid: &str) -> Result<Option<LidPnMappingEntry>>;
        fn get_pn_mapping(phone: &str) -> Result<Option<LidPnMappingEntry>>;
        fn put_lid_mapping(entry: &LidPnMappingEntry) -> Result<()>;
        fn put_lid_mappings(entries: &[LidPnMappingEntry]) -> Result<()>;
        fn get_all_lid_mappings() -> Result<Vec<LidPnMappingEntry>>;
        fn save_base_key(address: &str, message_id: &str, base_key: &[u8]) -> Result<()>;
        fn has_same_base_key(address: &str, message_id: &str, current_base_key: &[u8]) -> Result<bool>;
        fn delete_base_key(address: &str, message_id: &str) -> Result<()>;
        fn update_device_list(record: DeviceListRecord) -> Result<()>;
        fn update_device_lists(records: Vec<DeviceListRecord>) -> Result<()>;
        fn get_devices(user: &str) -> Result<Option<DeviceListRecord>>;
        fn delete_devices(user: &str) -> Result<()>;
        fn get_group_metadata(group_jid: &str) -> Result<Option<Vec<u8>>>;
        fn put_group_metadata(group_jid: &str, blob: &[u8]) -> Result<()>;
        fn delete_group_metadata(group_jid: &str) -> Result<()>;
        fn get_tc_token(jid: &str) -> Result<Option<TcTokenEntry>>;
        fn put_tc_token(jid: &str, entry: &TcTokenEntry) -> Result<()>;
        fn delete_tc_token(jid: &str) -> Result<()>;
        fn get_all_tc_token_jids() -> Result<Vec<String>>;
        fn delete_expired_tc_tokens(token_cutoff: i64, sender_cutoff: i64) -> Result<u32>;
        fn touch_tc_token_sender_timestamp(jid: &str, sender_timestamp: i64) -> Result<()>;
        fn store_received_tc_token(jid: &str, token: &[u8], token_timestamp: i64) -> Result<()>;
        fn store_sent_message(chat_jid: &str, message_id: &str, payload: &[u8]) -> Result<()>;
        fn take_sent_message(chat_jid: &str, message_id: &str) -> Result<Option<Vec<u8>>>;
        fn delete_expired_sent_messages(cutoff_timestamp: i64) -> Result<u32>;
        fn store_pending_inbound(chat: &str, sender: &str, id: &str, message: &[u8]) -> Result<()>;
        fn get_pending_inbound(chat: &str, sender: &str, id: &str) -> Result<Option<Vec<u8>>>;
        fn delete_pending_inbound(chat: &str, sender: &str, id: &str) -> Result<()>;
        fn delete_expired_pending_inbound(cutoff_timestamp: i64) -> Result<u32>;
        fn store_pending_inbound_batch(rows: &[PendingInboundRow<'_>]) -> Result<()>;
        fn delete_pending_inbound_batch(keys: &[PendingInboundKey<'_>]) -> Result<()>;
    }
    DeviceStore {
        fn save(device: &wacore::store::Device) -> Result<()>;
        fn load() -> Result<Option<wacore::store::Device>>;
        fn exists() -> Result<bool>;
        fn create() -> Result<i32>;
        fn snapshot_db(name: &str, extra_content: Option<&[u8]>) -> Result<()>;
        fn resource_report() -> wacore::stats::StorageResourceReport;
    }
    MsgSecretStore {
        fn put_msg_secret(chat: &str, sender: &str, msg_id: &str, secret: &Secret) -> Result<()>;
        fn put_msg_secrets(entries: Vec<MsgSecretEntry>) -> Result<usize>;
        fn get_msg_secret(chat: &str, sender: &str, msg_id: &str) -> Result<Option<Vec<u8>>>;
        fn get_msg_secret_with_ts(chat: &str, sender: &str, msg_id: &str) -> Result<Option<(Vec<u8>, i64)>>;
        fn delete_expired_msg_secrets(cutoff_timestamp: i64) -> Result<u32>;
    }
}

impl std::fmt::Display for Method {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The method name was not one of the store traits'.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownMethod(pub String);

impl std::fmt::Display for UnknownMethod {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "no store-trait method is named {:?}", self.0)
    }
}

impl std::error::Error for UnknownMethod {}

impl std::str::FromStr for Method {
    type Err = UnknownMethod;
    fn from_str(name: &str) -> std::result::Result<Method, UnknownMethod> {
        Method::ALL
            .iter()
            .copied()
            .find(|m| m.name() == name)
            .ok_or_else(|| UnknownMethod(name.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::Method;

    #[test]
    fn every_method_of_the_five_traits_is_listed_once() {
        assert_eq!(Method::ALL.len(), 82);
        let names: std::collections::BTreeSet<_> = Method::ALL.iter().map(|m| m.name()).collect();
        assert_eq!(names.len(), Method::ALL.len());
        assert_eq!("put_mutation_macs".parse(), Ok(Method::put_mutation_macs));
        assert_eq!(Method::put_mutation_macs.trait_name(), "AppSyncStore");
        assert!("put_mutation_mac".parse::<Method>().is_err());
    }
}
