//! Bytes written as lowercase hex in the stream (readable, diffable, and a
//! JSON string rather than an array of numbers).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Bytes that serialize as a lowercase hex string.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Hex(pub Vec<u8>);

impl Hex {
    /// Parses lowercase or uppercase hex.
    pub fn parse(text: &str) -> Option<Hex> {
        if !text.len().is_multiple_of(2) {
            return None;
        }
        let digit = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
        text.as_bytes()
            .chunks(2)
            .map(|pair| Some(digit(pair[0])? << 4 | digit(pair[1])?))
            .collect::<Option<Vec<u8>>>()
            .map(Hex)
    }
}

impl From<&[u8]> for Hex {
    fn from(bytes: &[u8]) -> Hex {
        Hex(bytes.to_vec())
    }
}

impl fmt::Display for Hex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

impl fmt::Debug for Hex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hex({self})")
    }
}

impl Serialize for Hex {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Hex {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Hex, D::Error> {
        let text = String::deserialize(deserializer)?;
        Hex::parse(&text).ok_or_else(|| serde::de::Error::custom("not an even-length hex string"))
    }
}

#[cfg(test)]
mod tests {
    use super::Hex;

    #[test]
    fn round_trips_and_rejects_bad_digits() {
        let bytes = Hex(vec![0, 1, 0xab, 0xff]);
        assert_eq!(bytes.to_string(), "0001abff");
        assert_eq!(Hex::parse("0001ABff"), Some(bytes));
        assert_eq!(Hex::parse("0g"), None);
        assert_eq!(Hex::parse("abc"), None);
        assert_eq!(Hex::parse(""), Some(Hex(vec![])));
    }
}
