//! The primitive encoding every on-disk record is built from.
//!
//! Format of a record: one version byte, then the record's fields in the order
//! its "Format:" comment gives, each as:
//! ```text
//! u8 / bool     1 byte (bool: 0 or 1, anything else is an error)
//! u32, u64      LEB128 varint (at most 5 / 10 bytes)
//! i64           8 bytes little-endian (timestamps are often negative or huge; no zigzag games)
//! bytes, str    varint length, then the bytes (str must be UTF-8)
//! [u8; N]       N bytes, no length
//! Option<T>     1 byte tag (0 = None, 1 = Some) then T
//! rest          the remaining bytes of the record, no length (only as the last field)
//! ```
//! Decoding is strict: truncation, a bad tag, invalid UTF-8, an unknown version
//! or trailing bytes are errors, never panics and never guesses.

use crate::error::Error;

/// Appends fields to a record.
pub(crate) struct Encoder {
    buf: Vec<u8>,
}

impl Encoder {
    pub(crate) fn new(version: u8, capacity: usize) -> Self {
        let mut buf = Vec::with_capacity(capacity + 1);
        buf.push(version);
        Encoder { buf }
    }

    pub(crate) fn u8(mut self, v: u8) -> Self {
        self.buf.push(v);
        self
    }

    pub(crate) fn bool(self, v: bool) -> Self {
        self.u8(v as u8)
    }

    pub(crate) fn u64(mut self, mut v: u64) -> Self {
        while v >= 0x80 {
            self.buf.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.buf.push(v as u8);
        self
    }

    pub(crate) fn u32(self, v: u32) -> Self {
        self.u64(v as u64)
    }

    pub(crate) fn i64(mut self, v: i64) -> Self {
        self.buf.extend_from_slice(&v.to_le_bytes());
        self
    }

    pub(crate) fn bytes(self, v: &[u8]) -> Self {
        let mut s = self.u64(v.len() as u64);
        s.buf.extend_from_slice(v);
        s
    }

    pub(crate) fn str(self, v: &str) -> Self {
        self.bytes(v.as_bytes())
    }

    pub(crate) fn array(mut self, v: &[u8]) -> Self {
        self.buf.extend_from_slice(v);
        self
    }

    pub(crate) fn opt<T>(self, v: Option<T>, f: impl FnOnce(Self, T) -> Self) -> Self {
        match v {
            None => self.u8(0),
            Some(v) => f(self.u8(1), v),
        }
    }

    /// Appends the final, unprefixed field.
    pub(crate) fn rest(mut self, v: &[u8]) -> Vec<u8> {
        self.buf.extend_from_slice(v);
        self.buf
    }

    pub(crate) fn finish(self) -> Vec<u8> {
        self.buf
    }
}

/// Reads fields of one record back, in the order they were written.
pub(crate) struct Decoder<'a> {
    record: &'static str,
    buf: &'a [u8],
}

impl<'a> Decoder<'a> {
    /// Starts decoding; fails unless the version byte is `expected`.
    pub(crate) fn new(record: &'static str, bytes: &'a [u8], expected: u8) -> Result<Self, Error> {
        let (&version, buf) = bytes
            .split_first()
            .ok_or_else(|| Error::decode(record, "empty record"))?;
        if version != expected {
            return Err(Error::decode(
                record,
                format!("record version {version}, this build reads version {expected}"),
            ));
        }
        Ok(Decoder { record, buf })
    }

    fn err(&self, reason: &str) -> Error {
        Error::decode(self.record, reason)
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], Error> {
        if self.buf.len() < n {
            return Err(self.err("truncated"));
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Ok(head)
    }

    pub(crate) fn u8(&mut self) -> Result<u8, Error> {
        Ok(self.take(1)?[0])
    }

    pub(crate) fn bool(&mut self) -> Result<bool, Error> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(self.err("invalid bool")),
        }
    }

    pub(crate) fn u64(&mut self) -> Result<u64, Error> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = self.u8()?;
            let bits = (byte & 0x7F) as u64;
            if shift == 63 && bits > 1 {
                return Err(self.err("varint overflows u64"));
            }
            value |= bits << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(self.err("varint too long"))
    }

    pub(crate) fn u32(&mut self) -> Result<u32, Error> {
        u32::try_from(self.u64()?).map_err(|_| self.err("varint overflows u32"))
    }

    pub(crate) fn i64(&mut self) -> Result<i64, Error> {
        let b = self.take(8)?;
        Ok(i64::from_le_bytes(b.try_into().expect("took 8 bytes")))
    }

    pub(crate) fn bytes(&mut self) -> Result<&'a [u8], Error> {
        let len = self.u64()?;
        let len = usize::try_from(len).map_err(|_| self.err("length overflows usize"))?;
        self.take(len)
    }

    pub(crate) fn str(&mut self) -> Result<&'a str, Error> {
        let b = self.bytes()?;
        std::str::from_utf8(b).map_err(|_| self.err("invalid UTF-8"))
    }

    pub(crate) fn array<const N: usize>(&mut self) -> Result<[u8; N], Error> {
        Ok(self.take(N)?.try_into().expect("took N bytes"))
    }

    pub(crate) fn opt<T>(
        &mut self,
        f: impl FnOnce(&mut Self) -> Result<T, Error>,
    ) -> Result<Option<T>, Error> {
        match self.u8()? {
            0 => Ok(None),
            1 => f(self).map(Some),
            _ => Err(self.err("invalid option tag")),
        }
    }

    /// Takes the final, unprefixed field.
    pub(crate) fn rest(self) -> &'a [u8] {
        self.buf
    }

    /// Ends decoding; fails if bytes are left over.
    pub(crate) fn finish(self) -> Result<(), Error> {
        if self.buf.is_empty() {
            Ok(())
        } else {
            Err(self.err("trailing bytes"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_kind_round_trips() {
        let bytes = Encoder::new(1, 0)
            .bool(true)
            .u64(u64::MAX)
            .u32(u32::MAX)
            .i64(i64::MIN)
            .str("héllo")
            .array(&[9; 4])
            .opt(Some(7i64), Encoder::i64)
            .opt(None::<i64>, Encoder::i64)
            .rest(b"tail");
        let mut d = Decoder::new("test", &bytes, 1).unwrap();
        assert!(d.bool().unwrap());
        assert_eq!(d.u64().unwrap(), u64::MAX);
        assert_eq!(d.u32().unwrap(), u32::MAX);
        assert_eq!(d.i64().unwrap(), i64::MIN);
        assert_eq!(d.str().unwrap(), "héllo");
        assert_eq!(d.array::<4>().unwrap(), [9; 4]);
        assert_eq!(d.opt(Decoder::i64).unwrap(), Some(7));
        assert_eq!(d.opt(Decoder::i64).unwrap(), None);
        assert_eq!(d.rest(), b"tail");
    }

    #[test]
    fn bad_input_is_an_error() {
        assert!(Decoder::new("t", &[], 1).is_err());
        assert!(Decoder::new("t", &[2], 1).is_err());
        let mut d = Decoder::new("t", &[1, 0xFF, 0xFF], 1).unwrap();
        assert!(d.u64().is_err());
        let mut d = Decoder::new("t", &[1, 5, b'a'], 1).unwrap();
        assert!(d.bytes().is_err());
        let mut d = Decoder::new("t", &[1, 2], 1).unwrap();
        assert!(d.bool().is_err());
        let d = Decoder::new("t", &[1, 2], 1).unwrap();
        assert!(d.finish().is_err());
        let mut d = Decoder::new("t", &[1, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F], 1).unwrap();
        assert!(d.u32().is_err());
        let mut too_long = vec![1u8];
        too_long.extend([0x81; 11]);
        let mut d = Decoder::new("t", &too_long, 1).unwrap();
        assert!(d.u64().is_err());
        // Ten bytes: the last may carry only bit 63 (u64::MAX ends in 0x01).
        let mut max = vec![1u8];
        max.extend([0xFF; 9]);
        max.push(0x01);
        assert_eq!(Decoder::new("t", &max, 1).unwrap().u64().unwrap(), u64::MAX);
        let overflow = [&max[..10], &[0x02]].concat();
        assert!(
            Decoder::new("t", &overflow, 1).unwrap().u64().is_err(),
            "a varint past u64::MAX"
        );
    }
}
