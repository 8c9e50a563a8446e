//! Records of the Signal domain: identities, opaque blobs, prekeys.

use super::Record;
use super::codec::{Decoder, Encoder};
use crate::error::Error;

/// An opaque byte string: sessions, sender keys, signed prekeys, base keys,
/// group metadata.
///
/// Format (v1): `version=1, rest: bytes`
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Blob(pub Vec<u8>);

impl Blob {
    pub(crate) fn encode_slice(bytes: &[u8]) -> Vec<u8> {
        Encoder::new(1, bytes.len()).rest(bytes)
    }
}

impl Record for Blob {
    const NAME: &'static str = "blob";
    fn encode(&self) -> Vec<u8> {
        Blob::encode_slice(&self.0)
    }
    fn decode(bytes: &[u8]) -> Result<Self, Error> {
        Ok(Blob(Decoder::new(Self::NAME, bytes, 1)?.rest().to_vec()))
    }
}

/// A remote identity key.
///
/// Format (v1): `version=1, key: [u8; 32]`
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Identity(pub [u8; 32]);

impl Record for Identity {
    const NAME: &'static str = "identity";
    fn encode(&self) -> Vec<u8> {
        Encoder::new(1, 32).array(&self.0).finish()
    }
    fn decode(bytes: &[u8]) -> Result<Self, Error> {
        let mut d = Decoder::new(Self::NAME, bytes, 1)?;
        let key = d.array::<32>()?;
        d.finish()?;
        Ok(Identity(key))
    }
}

/// A one-time prekey and whether the server has it.
///
/// Format (v1): `version=1, uploaded: bool, record: rest`
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PreKeyRecord {
    pub uploaded: bool,
    pub record: Vec<u8>,
}

impl PreKeyRecord {
    pub(crate) fn encode_parts(uploaded: bool, record: &[u8]) -> Vec<u8> {
        Encoder::new(1, record.len() + 1)
            .bool(uploaded)
            .rest(record)
    }
}

impl Record for PreKeyRecord {
    const NAME: &'static str = "prekey";
    fn encode(&self) -> Vec<u8> {
        PreKeyRecord::encode_parts(self.uploaded, &self.record)
    }
    fn decode(bytes: &[u8]) -> Result<Self, Error> {
        let mut d = Decoder::new(Self::NAME, bytes, 1)?;
        let uploaded = d.bool()?;
        Ok(PreKeyRecord {
            uploaded,
            record: d.rest().to_vec(),
        })
    }
}
