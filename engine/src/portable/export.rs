//! Reading a redb file into [`Row`]s: every data table of every account, in
//! one read snapshot, each key and record decoded by the engine's own
//! decoders (so a row the engine cannot read is an error, not a skipped
//! line).

use std::collections::BTreeMap;

use redb::TableHandle;
use wacore::appstate::hash::HashState;
use wacore::store::Device;
use wacore::store::error::StoreError;
use wacore::store::traits::{AppStateSyncKey, DeviceListRecord, LidPnMappingEntry, TcTokenEntry};

use super::{AccountRow, DeviceSummary, Hex, Row};
use crate::RedbStore;
use crate::error::{Error, Result};
use crate::keys::{Key, device_id_of, id_of, message_of, name_of, scoped_of};
use crate::records::{
    Blob, DeviceRecord, Identity, MsgSecretRecord, MutationMacRecord, PnIndexRecord, PreKeyRecord,
    Record, SenderKeyStatus, StampedBlob,
};
use crate::tables::{self, Table};
use crate::view::{ReadRows, View};

impl RedbStore {
    /// Calls `sink` with every row of every account of the file (or of
    /// `account` only), from one read snapshot: accounts in device-id order,
    /// tables in [`tables`] order, rows in key order (LID mappings in
    /// the order they were written). Stops at the first error of `sink`.
    /// Reads every row: seconds on a large file.
    pub fn export_rows(
        &self,
        account: Option<i32>,
        mut sink: impl FnMut(AccountRow) -> std::io::Result<()>,
    ) -> Result<(), StoreError> {
        self.read(|txn| {
            let mut by_account: BTreeMap<i32, Vec<Row>> = BTreeMap::new();
            for table in EXPORTED {
                for (device_id, row) in table_rows(txn, table)? {
                    if account.is_none_or(|a| a == device_id) {
                        by_account.entry(device_id).or_default().push(row);
                    }
                }
            }
            for (device_id, rows) in by_account {
                for row in rows {
                    sink(AccountRow {
                        account: device_id,
                        row,
                    })
                    .map_err(|e| Error::InvalidInput(format!("writing the export: {e}")))?;
                }
            }
            Ok(())
        })
    }
}

/// The tables exported, in import order: the device first (some stores
/// refuse other rows of an account without it). The PN index and the cache
/// tables are left out (see the module docs).
const EXPORTED: &[Table] = &[
    tables::DEVICES,
    tables::IDENTITIES,
    tables::SESSIONS,
    tables::PREKEYS,
    tables::SIGNED_PREKEYS,
    tables::SENDER_KEYS,
    tables::SYNC_KEYS,
    tables::LATEST_SYNC_KEY,
    tables::APP_STATE_VERSIONS,
    tables::MUTATION_MACS,
    tables::SENDER_KEY_DEVICES,
    tables::LID_MAPPINGS,
    tables::BASE_KEYS,
    tables::DEVICE_LISTS,
    tables::GROUP_METADATA,
    tables::TC_TOKENS,
    tables::SENT_MESSAGES,
    tables::PENDING_INBOUND,
    tables::MSG_SECRETS,
];

/// Every table name a [`Row`] can carry ([`Row::table`]), in import order.
pub fn tables() -> impl Iterator<Item = &'static str> {
    EXPORTED.iter().map(|t| t.name())
}

/// Every row of one table, with its account.
fn table_rows(txn: &View<'_>, table: &'static Table) -> Result<Vec<(i32, Row)>> {
    let name = table.name();
    let handle = txn.open_table(*table)?;
    let mut rows = Vec::new();
    for entry in handle.iter()? {
        let (key, value) = entry?;
        let (key, value) = (key.value(), value.value());
        rows.push((device_id_of(key, name)?, decode_row(name, key, value)?));
    }
    if table.name() == tables::LID_MAPPINGS.name() {
        sort_by_write_order(txn, &mut rows)?;
    }
    Ok(rows)
}

/// Decodes one row of the table called `name`.
fn decode_row(name: &'static str, key: &[u8], value: &[u8]) -> Result<Row> {
    let text = |bytes: &[u8]| {
        String::from_utf8(bytes.to_vec())
            .map_err(|_| Error::decode(name, "a key component is not UTF-8"))
    };
    let hex = |bytes: &[u8]| Hex(bytes.to_vec());
    Ok(match name {
        "device" => {
            DeviceRecord::decode(value)?;
            Row::Device { record: hex(value) }
        }
        "identity" => Row::Identity {
            address: text(name_of(key))?,
            key: hex(&Identity::decode(value)?.0),
        },
        "session" => Row::Session {
            address: text(name_of(key))?,
            record: Hex(Blob::decode(value)?.0),
        },
        "prekey" => {
            let r = PreKeyRecord::decode(value)?;
            Row::Prekey {
                id: id_of(key, name)?,
                record: Hex(r.record),
                uploaded: r.uploaded,
            }
        }
        "signed_prekey" => Row::SignedPrekey {
            id: id_of(key, name)?,
            record: Hex(Blob::decode(value)?.0),
        },
        "sender_key" => Row::SenderKey {
            address: text(name_of(key))?,
            record: Hex(Blob::decode(value)?.0),
        },
        "sync_key" => Row::from_sync_key(name_of(key).to_vec(), AppStateSyncKey::decode(value)?),
        "latest_sync_key" => Row::LatestSyncKey {
            key_id: Hex(Blob::decode(value)?.0),
        },
        "app_state_version" => {
            Row::from_app_state_version(text(name_of(key))?, HashState::decode(value)?)
        }
        "mutation_mac" => {
            let (collection, index_mac) = scoped_of(key, name)?;
            let r = MutationMacRecord::decode(value)?;
            Row::MutationMac {
                collection: text(collection)?,
                index_mac: hex(index_mac),
                value_mac: Hex(r.value_mac),
                patch_version: r.patch_version,
            }
        }
        "sender_key_device" => {
            let (group, device_jid) = scoped_of(key, name)?;
            Row::SenderKeyDevice {
                group: text(group)?,
                device_jid: text(device_jid)?,
                has_key: SenderKeyStatus::decode(value)?.0,
            }
        }
        "lid_mapping" => Row::from_lid_mapping(LidPnMappingEntry::decode(value)?),
        "base_key" => {
            let (address, message_id) = scoped_of(key, name)?;
            Row::BaseKey {
                address: text(address)?,
                message_id: text(message_id)?,
                base_key: Hex(Blob::decode(value)?.0),
            }
        }
        "device_list" => Row::from_device_list(DeviceListRecord::decode(value)?),
        "group_metadata" => Row::GroupMetadata {
            group: text(name_of(key))?,
            blob: Hex(Blob::decode(value)?.0),
        },
        "tc_token" => Row::from_tc_token(text(name_of(key))?, TcTokenEntry::decode(value)?),
        "sent_message" => {
            let (chat, message_id) = scoped_of(key, name)?;
            let r = StampedBlob::decode(value)?;
            Row::SentMessage {
                chat: text(chat)?,
                message_id: text(message_id)?,
                payload: Hex(r.payload),
                stored_at: r.stored_at,
            }
        }
        "pending_inbound" => {
            let (chat, sender, id) = message_of(key, name)?;
            let r = StampedBlob::decode(value)?;
            Row::PendingInbound {
                chat: text(chat)?,
                sender: text(sender)?,
                id: text(id)?,
                message: Hex(r.payload),
                stored_at: r.stored_at,
            }
        }
        "msg_secret" => {
            let (chat, sender, msg_id) = message_of(key, name)?;
            let r = MsgSecretRecord::decode(value)?;
            Row::MsgSecret {
                chat: text(chat)?,
                sender: text(sender)?,
                msg_id: text(msg_id)?,
                secret: hex(&r.secret),
                expires_at: r.expires_at,
                message_ts: r.message_ts,
            }
        }
        other => {
            return Err(Error::InvalidInput(format!(
                "table {other} is not exported"
            )));
        }
    })
}

/// Orders LID mappings by the write sequence their phone-number index entry
/// recorded, so an importer writing them in this order breaks ties on
/// `updated_at` (`get_pn_mapping`) as this file does.
fn sort_by_write_order(txn: &View<'_>, rows: &mut Vec<(i32, Row)>) -> Result<()> {
    let index = txn.open_table(tables::PN_INDEX)?;
    let mut seqs = Vec::with_capacity(rows.len());
    for (device_id, row) in rows.iter() {
        let seq = match row {
            Row::LidMapping {
                lid, phone_number, ..
            } => {
                let key = Key::account(*device_id).scoped(phone_number, lid);
                match index.get(key.as_slice())? {
                    Some(v) => PnIndexRecord::decode(v.value())?.write_seq,
                    None => 0,
                }
            }
            _ => 0,
        };
        seqs.push(seq);
    }
    let mut keyed: Vec<(u64, (i32, Row))> = seqs.into_iter().zip(rows.drain(..)).collect();
    keyed.sort_by_key(|(seq, (device_id, _))| (*device_id, *seq));
    rows.extend(keyed.into_iter().map(|(_, row)| row));
    Ok(())
}

/// A device row from wacore's device, in the engine's device record.
pub fn device_row(device: &Device) -> Row {
    Row::Device {
        record: Hex(DeviceRecord::encode_device(device)),
    }
}

/// Decodes the device of a [`Row::Device`] record.
pub fn device_of(record: &Hex) -> Result<Device, Error> {
    DeviceRecord::decode_device(&record.0)
}

/// A few fields of a device record, for people reading a dump.
pub fn device_summary(record: &Hex) -> Result<DeviceSummary, Error> {
    let d = device_of(record)?;
    Ok(DeviceSummary {
        pn: d.pn.map(|j| j.to_string()),
        lid: d.lid.map(|j| j.to_string()),
        push_name: d.push_name,
        registration_id: d.registration_id,
    })
}
