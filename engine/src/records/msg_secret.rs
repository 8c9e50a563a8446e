//! The message-secret record.

use wacore::store::traits::MessageSecret;

use super::Record;
use super::codec::{Decoder, Encoder};
use crate::error::Error;

/// The secret of one outbound or inbound message, with its retention deadline.
///
/// Format (v1): `version=1, secret: [u8; 32], expires_at: i64, message_ts: i64`
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct MsgSecretRecord {
    pub secret: MessageSecret,
    /// Unix seconds after which the row may be pruned; 0 = never.
    pub expires_at: i64,
    /// The parent message's time in unix seconds; 0 = unknown.
    pub message_ts: i64,
}

impl Record for MsgSecretRecord {
    const NAME: &'static str = "msg_secret";
    fn encode(&self) -> Vec<u8> {
        Encoder::new(1, 48)
            .array(&self.secret)
            .i64(self.expires_at)
            .i64(self.message_ts)
            .finish()
    }
    fn decode(bytes: &[u8]) -> Result<Self, Error> {
        let mut d = Decoder::new(Self::NAME, bytes, 1)?;
        let rec = MsgSecretRecord {
            secret: d.array()?,
            expires_at: d.i64()?,
            message_ts: d.i64()?,
        };
        d.finish()?;
        Ok(rec)
    }
}
