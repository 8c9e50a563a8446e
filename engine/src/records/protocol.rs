//! Records of the protocol domain: sender-key status, LID/PN mappings, device
//! lists, tc tokens, sent messages and the pending-inbound buffer.

use wacore::store::traits::{DeviceInfo, DeviceListRecord, LidPnMappingEntry, TcTokenEntry};

use super::Record;
use super::codec::{Decoder, Encoder};
use crate::error::Error;

/// Whether a group member device holds our current sender key.
///
/// Format (v1): `version=1, has_key: bool`
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SenderKeyStatus(pub bool);

impl Record for SenderKeyStatus {
    const NAME: &'static str = "sender_key_status";
    fn encode(&self) -> Vec<u8> {
        Encoder::new(1, 1).bool(self.0).finish()
    }
    fn decode(bytes: &[u8]) -> Result<Self, Error> {
        let mut d = Decoder::new(Self::NAME, bytes, 1)?;
        let has_key = d.bool()?;
        d.finish()?;
        Ok(SenderKeyStatus(has_key))
    }
}

/// Format (v1): `version=1, lid: str, phone_number: str, created_at: i64,
/// updated_at: i64, learning_source: str`
impl Record for LidPnMappingEntry {
    const NAME: &'static str = "lid_mapping";
    fn encode(&self) -> Vec<u8> {
        Encoder::new(1, self.lid.len() + self.phone_number.len() + 40)
            .str(&self.lid)
            .str(&self.phone_number)
            .i64(self.created_at)
            .i64(self.updated_at)
            .str(&self.learning_source)
            .finish()
    }
    fn decode(bytes: &[u8]) -> Result<Self, Error> {
        let mut d = Decoder::new(Self::NAME, bytes, 1)?;
        let entry = LidPnMappingEntry {
            lid: d.str()?.to_owned(),
            phone_number: d.str()?.to_owned(),
            created_at: d.i64()?,
            updated_at: d.i64()?,
            learning_source: d.str()?.to_owned(),
        };
        d.finish()?;
        Ok(entry)
    }
}

/// One entry of the phone-number index: a LID known for a phone number.
///
/// Format (v1): `version=1, updated_at: i64, write_seq: u64`. `write_seq`
/// orders mappings with equal `updated_at` by the order they were written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct PnIndexRecord {
    pub updated_at: i64,
    pub write_seq: u64,
}

impl Record for PnIndexRecord {
    const NAME: &'static str = "pn_index";
    fn encode(&self) -> Vec<u8> {
        Encoder::new(1, 18)
            .i64(self.updated_at)
            .u64(self.write_seq)
            .finish()
    }
    fn decode(bytes: &[u8]) -> Result<Self, Error> {
        let mut d = Decoder::new(Self::NAME, bytes, 1)?;
        let rec = PnIndexRecord {
            updated_at: d.i64()?,
            write_seq: d.u64()?,
        };
        d.finish()?;
        Ok(rec)
    }
}

/// Format (v1): `version=1, user: str, timestamp: i64, phash: Option<str>,
/// raw_id: Option<u32>, devices: u64 count, then count x (device_id: u32,
/// key_index: Option<u32>, is_hosted: bool)`
impl Record for DeviceListRecord {
    const NAME: &'static str = "device_list";
    fn encode(&self) -> Vec<u8> {
        let mut e = Encoder::new(1, self.user.len() + 32 + self.devices.len() * 8)
            .str(&self.user)
            .i64(self.timestamp)
            .opt(self.phash.as_deref(), Encoder::str)
            .opt(self.raw_id, Encoder::u32)
            .u64(self.devices.len() as u64);
        for device in &self.devices {
            e = e
                .u32(device.device_id)
                .opt(device.key_index, Encoder::u32)
                .bool(device.is_hosted);
        }
        e.finish()
    }
    fn decode(bytes: &[u8]) -> Result<Self, Error> {
        let mut d = Decoder::new(Self::NAME, bytes, 1)?;
        let user = d.str()?.to_owned();
        let timestamp = d.i64()?;
        let phash = d.opt(|d| d.str().map(str::to_owned))?;
        let raw_id = d.opt(Decoder::u32)?;
        let count = d.u64()?;
        // Each device takes at least three bytes; never trust a count for allocation.
        let mut devices = Vec::with_capacity((count as usize).min(bytes.len() / 3));
        for _ in 0..count {
            let device_id = d.u32()?;
            let key_index = d.opt(Decoder::u32)?;
            let is_hosted = d.bool()?;
            devices.push(DeviceInfo::new(device_id, key_index).with_hosting(is_hosted));
        }
        d.finish()?;
        Ok(DeviceListRecord {
            user,
            devices,
            timestamp,
            phash,
            raw_id,
        })
    }
}

/// Format (v1): `version=1, token: bytes, token_timestamp: i64, sender_timestamp: Option<i64>`
impl Record for TcTokenEntry {
    const NAME: &'static str = "tc_token";
    fn encode(&self) -> Vec<u8> {
        Encoder::new(1, self.token.len() + 20)
            .bytes(&self.token)
            .i64(self.token_timestamp)
            .opt(self.sender_timestamp, Encoder::i64)
            .finish()
    }
    fn decode(bytes: &[u8]) -> Result<Self, Error> {
        let mut d = Decoder::new(Self::NAME, bytes, 1)?;
        let entry = TcTokenEntry {
            token: d.bytes()?.to_vec(),
            token_timestamp: d.i64()?,
            sender_timestamp: d.opt(Decoder::i64)?,
        };
        d.finish()?;
        Ok(entry)
    }
}

/// A payload with the unix second it was stored: sent messages kept for
/// retries, and buffered pending-inbound messages.
///
/// Format (v1): `version=1, stored_at: i64, payload: rest`
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StampedBlob {
    pub stored_at: i64,
    pub payload: Vec<u8>,
}

impl StampedBlob {
    pub(crate) fn encode_parts(stored_at: i64, payload: &[u8]) -> Vec<u8> {
        Encoder::new(1, payload.len() + 8)
            .i64(stored_at)
            .rest(payload)
    }

    /// Reads only the timestamp, for expiry scans.
    pub(crate) fn stored_at(bytes: &[u8]) -> Result<i64, Error> {
        Decoder::new(Self::NAME, bytes, 1)?.i64()
    }
}

impl Record for StampedBlob {
    const NAME: &'static str = "stamped_blob";
    fn encode(&self) -> Vec<u8> {
        StampedBlob::encode_parts(self.stored_at, &self.payload)
    }
    fn decode(bytes: &[u8]) -> Result<Self, Error> {
        let mut d = Decoder::new(Self::NAME, bytes, 1)?;
        let stored_at = d.i64()?;
        Ok(StampedBlob {
            stored_at,
            payload: d.rest().to_vec(),
        })
    }
}
