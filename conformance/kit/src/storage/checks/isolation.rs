//! Collections that share keys stay apart: the same address as a session,
//! an identity and a sender key; the same index MAC in two collections; the
//! same device in two groups; the same message id in two chats. Each check
//! writes, deletes and reads one while verifying the others.

use bytes::Bytes;

use super::{check, mac};
use crate::ensure_eq;
use crate::storage::flaws::flaw;

crate::storage::checks::register! {
    isolation:
    one_address_as_session_identity_and_sender_key,
    one_index_mac_in_two_collections,
    one_device_in_two_groups,
    one_message_id_in_two_chats,
}

const ADDRESS: &str = "5511999990000.0:1@s.whatsapp.net";

check!(
    one_address_as_session_identity_and_sender_key,
    "SignalStore",
    Contract,
    Nothing,
    [
        put_identity,
        load_identity,
        delete_identity,
        get_session,
        put_session,
        delete_session,
        put_sender_key,
        get_sender_key,
        delete_sender_key
    ],
    "sessions, identities and sender keys are separate collections: writing or deleting one row of an address leaves the others of that address",
    |ctx| {
        let s = ctx.store();
        s.put_session(ADDRESS, &[1]).await?;
        ensure_eq!(
            s.load_identity(ADDRESS).await?,
            None,
            "identity after a session put"
        );
        ensure_eq!(
            s.get_sender_key(ADDRESS).await?,
            None,
            "sender key after a session put"
        );
        s.put_identity(ADDRESS, [2; 32]).await?;
        s.put_sender_key(ADDRESS, &[3]).await?;
        s.delete_session(ADDRESS).await?;
        ensure_eq!(s.get_session(ADDRESS).await?, None, "the deleted session");
        ensure_eq!(
            s.load_identity(ADDRESS).await?,
            Some([2; 32]),
            "identity after the session's delete"
        );
        ensure_eq!(
            s.get_sender_key(ADDRESS).await?,
            Some(vec![3]),
            "sender key after the session's delete"
        );
        s.put_session(ADDRESS, &[1]).await?;
        s.delete_identity(ADDRESS).await?;
        s.delete_sender_key(ADDRESS).await?;
        let session = s.get_session(ADDRESS).await?.map(|b: Bytes| b.to_vec());
        ensure_eq!(
            session,
            Some(vec![1]),
            "session after the identity's and sender key's deletes"
        );
        Ok(None)
    }
);

flaw! {
    /// Deleting a session deletes the address's identity too.
    delete_session_takes_the_identity, caught_by: one_address_as_session_identity_and_sender_key;
    async fn delete_session(&self, address: &str) -> Result<()> {
        self.inner.delete_identity(address).await?;
        self.inner.delete_session(address).await
    }
}

check!(
    one_index_mac_in_two_collections,
    "AppSyncStore",
    Contract,
    Nothing,
    [
        put_mutation_macs,
        get_mutation_mac,
        get_mutation_macs,
        delete_mutation_macs
    ],
    "mutation MACs are keyed by (collection, index MAC): the same index in two collections holds two values, and a delete in one leaves the other",
    |ctx| {
        let s = ctx.store();
        s.put_mutation_macs("regular", 1, &[mac(5, 1)]).await?;
        s.put_mutation_macs("regular_high", 1, &[mac(5, 2)]).await?;
        let index = mac(5, 0).index_mac;
        ensure_eq!(
            s.get_mutation_mac("regular", &index).await?,
            Some(vec![1; 32]),
            "regular"
        );
        ensure_eq!(
            s.get_mutation_mac("regular_high", &index).await?,
            Some(vec![2; 32]),
            "regular_high"
        );
        let batch = s
            .get_mutation_macs("regular_high", &[super::index(5)])
            .await?;
        ensure_eq!(
            batch.get(&super::index(5)).cloned(),
            Some(vec![2; 32]),
            "regular_high, batch read"
        );
        s.delete_mutation_macs("regular", std::slice::from_ref(&index))
            .await?;
        ensure_eq!(
            s.get_mutation_mac("regular", &index).await?,
            None,
            "regular after its delete"
        );
        ensure_eq!(
            s.get_mutation_mac("regular_high", &index).await?,
            Some(vec![2; 32]),
            "regular_high after regular's delete"
        );
        Ok(None)
    }
);

flaw! {
    /// MACs are stored by index alone: one collection overwrites another.
    macs_keyed_without_collection, caught_by: one_index_mac_in_two_collections;
    async fn put_mutation_macs(&self, _name: &str, version: u64, mutations: &[wacore::appstate::processor::AppStateMutationMAC]) -> Result<()> {
        self.inner.put_mutation_macs("", version, mutations).await
    }
    async fn get_mutation_mac(&self, _name: &str, index_mac: &[u8]) -> Result<Option<Vec<u8>>> {
        self.inner.get_mutation_mac("", index_mac).await
    }
    async fn get_mutation_macs(&self, _name: &str, index_macs: &[[u8; 32]]) -> Result<std::collections::HashMap<[u8; 32], Vec<u8>>> {
        self.inner.get_mutation_macs("", index_macs).await
    }
    async fn delete_mutation_macs(&self, _name: &str, index_macs: &[Vec<u8>]) -> Result<()> {
        self.inner.delete_mutation_macs("", index_macs).await
    }
}

check!(
    one_device_in_two_groups,
    "ProtocolStore",
    Contract,
    Nothing,
    [
        set_sender_key_status,
        get_sender_key_devices,
        clear_sender_key_devices
    ],
    "sender-key device rows are keyed by (group, device): one device holds its own status in each group, and clearing a group leaves the others",
    |ctx| {
        let s = ctx.store();
        let (g1, g2) = ("120363000000000001@g.us", "120363000000000002@g.us");
        s.set_sender_key_status(g1, &[("d@lid", true)]).await?;
        s.set_sender_key_status(g2, &[("d@lid", false)]).await?;
        ensure_eq!(
            s.get_sender_key_devices(g1).await?,
            vec![("d@lid".to_string(), true)],
            "group 1"
        );
        ensure_eq!(
            s.get_sender_key_devices(g2).await?,
            vec![("d@lid".to_string(), false)],
            "group 2"
        );
        s.clear_sender_key_devices(g1).await?;
        ensure_eq!(
            s.get_sender_key_devices(g1).await?,
            vec![],
            "group 1 after its clear"
        );
        ensure_eq!(
            s.get_sender_key_devices(g2).await?,
            vec![("d@lid".to_string(), false)],
            "group 2 after group 1's clear"
        );
        Ok(None)
    }
);

flaw! {
    /// Clearing one group's devices clears every group's.
    clear_sender_key_devices_clears_all, caught_by: one_device_in_two_groups;
    async fn clear_sender_key_devices(&self, _group_jid: &str) -> Result<()> {
        self.inner.clear_all_sender_key_devices().await
    }
}

check!(
    one_message_id_in_two_chats,
    "ProtocolStore",
    Contract,
    Nothing,
    [
        store_sent_message,
        take_sent_message,
        save_base_key,
        has_same_base_key
    ],
    "sent messages are keyed by (chat, message id) and base keys by (address, message id): the same id in two chats or for two addresses is two rows",
    |ctx| {
        let s = ctx.store();
        let (a, b) = ("120363000000000001@g.us", "120363000000000002@g.us");
        s.store_sent_message(a, "3EB0SAME", &[1]).await?;
        s.store_sent_message(b, "3EB0SAME", &[2]).await?;
        ensure_eq!(
            s.take_sent_message(a, "3EB0SAME").await?,
            Some(vec![1]),
            "chat a"
        );
        ensure_eq!(
            s.take_sent_message(b, "3EB0SAME").await?,
            Some(vec![2]),
            "chat b after chat a's take"
        );
        s.save_base_key("a@lid", "3EB0SAME", &[1]).await?;
        s.save_base_key("b@lid", "3EB0SAME", &[2]).await?;
        ensure_eq!(
            s.has_same_base_key("a@lid", "3EB0SAME", &[1]).await?,
            true,
            "address a"
        );
        ensure_eq!(
            s.has_same_base_key("b@lid", "3EB0SAME", &[2]).await?,
            true,
            "address b"
        );
        Ok(None)
    }
);

flaw! {
    /// Sent messages are keyed by message id alone.
    sent_messages_keyed_without_chat, caught_by: one_message_id_in_two_chats;
    async fn store_sent_message(&self, _chat_jid: &str, message_id: &str, payload: &[u8]) -> Result<()> {
        self.inner.store_sent_message("", message_id, payload).await
    }
    async fn take_sent_message(&self, _chat_jid: &str, message_id: &str) -> Result<Option<Vec<u8>>> {
        self.inner.take_sent_message("", message_id).await
    }
}
