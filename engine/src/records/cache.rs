//! Records of the cache store: one entry, and an account's usage.

use super::Record;
use super::codec::{Decoder, Encoder};
use crate::error::Error;

/// One cache entry.
///
/// Format (v1): `version=1, expires_at_ms: u64, seq: u64, value: rest`
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CacheEntryRecord {
    /// Unix milliseconds at which the entry expires; 0 = never.
    pub expires_at_ms: u64,
    /// Its write sequence number: its row in `CACHE_ORDER`.
    pub seq: u64,
    pub value: Vec<u8>,
}

impl CacheEntryRecord {
    pub(crate) fn encode_parts(expires_at_ms: u64, seq: u64, value: &[u8]) -> Vec<u8> {
        Encoder::new(1, value.len() + 20)
            .u64(expires_at_ms)
            .u64(seq)
            .rest(value)
    }

    /// Whether it is still live at `now_ms`.
    pub(crate) fn live_at(&self, now_ms: u64) -> bool {
        self.expires_at_ms == 0 || self.expires_at_ms > now_ms
    }
}

impl Record for CacheEntryRecord {
    const NAME: &'static str = "cache_entry";
    fn encode(&self) -> Vec<u8> {
        CacheEntryRecord::encode_parts(self.expires_at_ms, self.seq, &self.value)
    }
    fn decode(bytes: &[u8]) -> Result<Self, Error> {
        let mut d = Decoder::new(Self::NAME, bytes, 1)?;
        let expires_at_ms = d.u64()?;
        let seq = d.u64()?;
        Ok(CacheEntryRecord {
            expires_at_ms,
            seq,
            value: d.rest().to_vec(),
        })
    }
}

/// An account's cache usage: what the size bound is checked against.
///
/// Format (v1): `version=1, entries: u64, bytes: u64`
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct CacheUsageRecord {
    pub entries: u64,
    /// Key and value bytes of every entry.
    pub bytes: u64,
}

impl Record for CacheUsageRecord {
    const NAME: &'static str = "cache_usage";
    fn encode(&self) -> Vec<u8> {
        Encoder::new(1, 20)
            .u64(self.entries)
            .u64(self.bytes)
            .finish()
    }
    fn decode(bytes: &[u8]) -> Result<Self, Error> {
        let mut d = Decoder::new(Self::NAME, bytes, 1)?;
        let rec = CacheUsageRecord {
            entries: d.u64()?,
            bytes: d.u64()?,
        };
        d.finish()?;
        Ok(rec)
    }
}
