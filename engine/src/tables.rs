//! Every table of the file, with what its keys and values mean.
//!
//! All data tables map `&[u8]` keys (built by [`crate::keys::Key`], account
//! first) to `&[u8]` values (records from [`crate::records`]). Each table
//! uses one of the key layouts of `keys.rs` (account, named, numbered,
//! scoped, message), built and decoded there only. Key notation below: `a` =
//! account prefix, `part(x)` = length-prefixed, `last(x)` = unprefixed tail,
//! `id(n)` = u32 big-endian.

use redb::TableDefinition;

/// Raw table type shared by all data tables.
pub(crate) type Table = TableDefinition<'static, &'static [u8], &'static [u8]>;

/// File-level metadata. Key: a name below. Value: u64.
pub(crate) const META: TableDefinition<'static, &'static str, u64> = TableDefinition::new("meta");
/// META key: the on-disk format version of the whole file.
pub(crate) const META_FORMAT_VERSION: &str = "format_version";
/// META key: a random number naming this incarnation of the file; its
/// commit log carries it, so a log left beside a restored backup or a copy
/// is never replayed into it. A backup gets a new one.
pub(crate) const META_LOG_EPOCH: &str = "log_epoch";
/// META key: the LSN of the last commit-log record a checkpoint covers.
pub(crate) const META_LOG_LSN: &str = "log_lsn";
/// META key: where in the commit log the records after `log_lsn` start
/// (log format 3; absent before: from the start).
pub(crate) const META_LOG_POS: &str = "log_pos";
/// META key: the last write sequence number handed out (orders LID mappings).
pub(crate) const META_WRITE_SEQ: &str = "write_seq";

/// The on-disk format this build writes and the newest it reads.
pub(crate) const FORMAT_VERSION: u64 = 1;

/// `a` -> DeviceRecord: the account's device (identity keys, pairing state).
pub(crate) const DEVICES: Table = TableDefinition::new("device");
/// `a, last(address)` -> Identity: remote identity keys.
pub(crate) const IDENTITIES: Table = TableDefinition::new("identity");
/// `a, last(address)` -> Blob: Signal sessions.
pub(crate) const SESSIONS: Table = TableDefinition::new("session");
/// `a, id(prekey_id)` -> PreKeyRecord: one-time prekeys.
pub(crate) const PREKEYS: Table = TableDefinition::new("prekey");
/// `a, id(signed_prekey_id)` -> Blob: signed prekeys.
pub(crate) const SIGNED_PREKEYS: Table = TableDefinition::new("signed_prekey");
/// `a, last(address)` -> Blob: group sender keys.
pub(crate) const SENDER_KEYS: Table = TableDefinition::new("sender_key");
/// `a, last(key_id)` -> AppStateSyncKey: app-state sync keys.
pub(crate) const SYNC_KEYS: Table = TableDefinition::new("sync_key");
/// `a` -> Blob(key_id): the key id most recently passed to `set_sync_key`.
pub(crate) const LATEST_SYNC_KEY: Table = TableDefinition::new("latest_sync_key");
/// `a, last(collection)` -> HashState: app-state collection versions.
pub(crate) const APP_STATE_VERSIONS: Table = TableDefinition::new("app_state_version");
/// `a, part(collection), last(index_mac)` -> MutationMacRecord.
pub(crate) const MUTATION_MACS: Table = TableDefinition::new("mutation_mac");
/// `a, part(group), last(device_jid)` -> SenderKeyStatus.
pub(crate) const SENDER_KEY_DEVICES: Table = TableDefinition::new("sender_key_device");
/// `a, last(lid)` -> LidPnMappingEntry.
pub(crate) const LID_MAPPINGS: Table = TableDefinition::new("lid_mapping");
/// `a, part(phone_number), last(lid)` -> PnIndexRecord: every LID mapped to a phone number.
pub(crate) const PN_INDEX: Table = TableDefinition::new("pn_index");
/// `a, part(address), last(message_id)` -> Blob: saved base keys.
pub(crate) const BASE_KEYS: Table = TableDefinition::new("base_key");
/// `a, last(user)` -> DeviceListRecord.
pub(crate) const DEVICE_LISTS: Table = TableDefinition::new("device_list");
/// `a, last(group_jid)` -> Blob: opaque group metadata.
pub(crate) const GROUP_METADATA: Table = TableDefinition::new("group_metadata");
/// `a, last(jid)` -> TcTokenEntry.
pub(crate) const TC_TOKENS: Table = TableDefinition::new("tc_token");
/// `a, part(chat), last(message_id)` -> StampedBlob: sent messages kept for retries.
pub(crate) const SENT_MESSAGES: Table = TableDefinition::new("sent_message");
/// `a, part(chat), part(sender), last(id)` -> StampedBlob: the pending-inbound buffer.
pub(crate) const PENDING_INBOUND: Table = TableDefinition::new("pending_inbound");
/// `a, part(chat), part(sender), last(msg_id)` -> MsgSecretRecord.
pub(crate) const MSG_SECRETS: Table = TableDefinition::new("msg_secret");
/// `a, part(namespace), last(key)` -> CacheEntryRecord: the cache store's entries.
pub(crate) const CACHE_ENTRIES: Table = TableDefinition::new("cache_entry");
/// `a, seq(n)` -> Blob(entry key): the cache entries in write order, oldest first (eviction).
pub(crate) const CACHE_ORDER: Table = TableDefinition::new("cache_order");
/// `a` -> CacheUsageRecord: the account's cache entries and bytes.
pub(crate) const CACHE_USAGE: Table = TableDefinition::new("cache_usage");

/// Every data table, for creation at open and for snapshots. (The cache
/// tables were added without a format change: a build that does not know
/// them ignores them.)
pub(crate) const DATA_TABLES: &[Table] = &[
    DEVICES,
    IDENTITIES,
    SESSIONS,
    PREKEYS,
    SIGNED_PREKEYS,
    SENDER_KEYS,
    SYNC_KEYS,
    LATEST_SYNC_KEY,
    APP_STATE_VERSIONS,
    MUTATION_MACS,
    SENDER_KEY_DEVICES,
    LID_MAPPINGS,
    PN_INDEX,
    BASE_KEYS,
    DEVICE_LISTS,
    GROUP_METADATA,
    TC_TOKENS,
    SENT_MESSAGES,
    PENDING_INBOUND,
    MSG_SECRETS,
    CACHE_ENTRIES,
    CACHE_ORDER,
    CACHE_USAGE,
];
