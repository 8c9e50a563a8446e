//! The export stream: JSON lines.
//!
//! ```text
//! {"format":"whatsapp-rust-store-export","version":1}      header
//! {"account":1,"table":"session","address":"...","record":"0a1b..."}
//! ...                                                       one row per line
//! {"end":{"rows":1234}}                                     trailer
//! ```
//! A reader refuses a stream of another format or of a newer version, and a
//! stream without its trailer (cut short) or whose row count disagrees.
//! Bytes are lowercase hex; everything else is plain JSON.

use std::io::{BufRead, Write};

use serde::{Deserialize, Serialize};

use super::AccountRow;

/// The `format` of the header line.
pub const FORMAT_NAME: &str = "whatsapp-rust-store-export";
/// The version this build writes and the newest it reads.
pub const FORMAT_VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
struct Header {
    format: String,
    version: u32,
}

#[derive(Serialize, Deserialize)]
struct Trailer {
    end: End,
}

#[derive(Serialize, Deserialize)]
struct End {
    rows: u64,
}

/// Why a stream could not be read or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StreamError {
    /// Reading or writing the underlying file failed.
    #[error("I/O error on the export stream: {0}")]
    Io(#[from] std::io::Error),
    /// A line is not what the format says (its number, 1-based, and why).
    #[error("line {line} of the export stream: {reason}")]
    Malformed {
        /// 1-based line number.
        line: u64,
        /// What is wrong with it.
        reason: String,
    },
    /// The stream is of a newer format version than this build reads.
    #[error(
        "the export stream is version {found}; this build reads up to {FORMAT_VERSION}: import it with a newer release"
    )]
    NewerVersion {
        /// The version in the header.
        found: u32,
    },
    /// The stream ended before its trailer: it was cut short.
    #[error("the export stream ends after {rows} rows without its trailer: it was cut short")]
    Truncated {
        /// Rows read before the end.
        rows: u64,
    },
}

/// Writes a stream: the header at creation, [`StreamWriter::write`] per
/// row, the trailer at [`StreamWriter::finish`] (a stream never finished is
/// refused by readers).
pub struct StreamWriter<W: Write> {
    out: W,
    rows: u64,
}

impl<W: Write> StreamWriter<W> {
    /// Starts a stream on `out` (writes the header).
    pub fn new(mut out: W) -> Result<Self, StreamError> {
        let header = Header {
            format: FORMAT_NAME.to_owned(),
            version: FORMAT_VERSION,
        };
        serde_json::to_writer(&mut out, &header).map_err(std::io::Error::from)?;
        out.write_all(b"\n")?;
        Ok(StreamWriter { out, rows: 0 })
    }

    /// Writes one row.
    pub fn write(&mut self, row: &AccountRow) -> std::io::Result<()> {
        serde_json::to_writer(&mut self.out, row)?;
        self.out.write_all(b"\n")?;
        self.rows += 1;
        Ok(())
    }

    /// Rows written so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Writes the trailer, flushes, and returns the writer.
    pub fn finish(mut self) -> Result<W, StreamError> {
        let trailer = Trailer {
            end: End { rows: self.rows },
        };
        serde_json::to_writer(&mut self.out, &trailer).map_err(std::io::Error::from)?;
        self.out.write_all(b"\n")?;
        self.out.flush()?;
        Ok(self.out)
    }
}

/// Reads a stream: checks the header at creation, then yields rows; the
/// last item is an error unless the trailer closed the stream with the
/// right count.
pub struct StreamReader<R: BufRead> {
    input: R,
    line: u64,
    rows: u64,
    done: bool,
    buf: String,
}

impl<R: BufRead> StreamReader<R> {
    /// Opens a stream on `input` (reads and checks the header).
    pub fn new(mut input: R) -> Result<Self, StreamError> {
        let mut buf = String::new();
        input.read_line(&mut buf)?;
        let malformed = |reason: String| StreamError::Malformed { line: 1, reason };
        let header: Header = serde_json::from_str(&buf)
            .map_err(|e| malformed(format!("not an export header ({e})")))?;
        if header.format != FORMAT_NAME {
            return Err(malformed(format!(
                "format {:?}, expected {FORMAT_NAME:?}",
                header.format
            )));
        }
        if header.version > FORMAT_VERSION {
            return Err(StreamError::NewerVersion {
                found: header.version,
            });
        }
        Ok(StreamReader {
            input,
            line: 1,
            rows: 0,
            done: false,
            buf,
        })
    }

    fn next_row(&mut self) -> Result<Option<AccountRow>, StreamError> {
        self.buf.clear();
        if self.input.read_line(&mut self.buf)? == 0 {
            return Err(StreamError::Truncated { rows: self.rows });
        }
        self.line += 1;
        let malformed = |line, reason| StreamError::Malformed { line, reason };
        if self.buf.starts_with("{\"end\"") {
            let trailer: Trailer = serde_json::from_str(&self.buf)
                .map_err(|e| malformed(self.line, format!("bad trailer ({e})")))?;
            if trailer.end.rows != self.rows {
                return Err(malformed(
                    self.line,
                    format!(
                        "trailer counts {} rows, read {}",
                        trailer.end.rows, self.rows
                    ),
                ));
            }
            return Ok(None);
        }
        let row = serde_json::from_str(&self.buf)
            .map_err(|e| malformed(self.line, format!("not a row ({e})")))?;
        self.rows += 1;
        Ok(Some(row))
    }
}

impl<R: BufRead> Iterator for StreamReader<R> {
    type Item = Result<AccountRow, StreamError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.next_row() {
            Ok(Some(row)) => Some(Ok(row)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::portable::{Hex, Row};

    fn row(n: u8) -> AccountRow {
        AccountRow {
            account: 1,
            row: Row::Session {
                address: format!("u{n}.0"),
                record: Hex(vec![n; 3]),
            },
        }
    }

    fn written(rows: &[AccountRow]) -> Vec<u8> {
        let mut w = StreamWriter::new(Vec::new()).unwrap();
        for r in rows {
            w.write(r).unwrap();
        }
        w.finish().unwrap()
    }

    #[test]
    fn round_trips_rows() {
        let rows = vec![row(1), row(2)];
        let bytes = written(&rows);
        let read: Vec<_> = StreamReader::new(&bytes[..])
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(read, rows);
    }

    #[test]
    fn refuses_a_cut_stream_a_newer_version_and_another_format() {
        let bytes = written(&[row(1), row(2)]);
        let text = String::from_utf8(bytes).unwrap();
        let cut: String = text.lines().take(2).map(|l| format!("{l}\n")).collect();
        let result: Result<Vec<_>, _> = StreamReader::new(cut.as_bytes()).unwrap().collect();
        assert!(matches!(result, Err(StreamError::Truncated { rows: 1 })));

        let newer = text.replace("\"version\":1", "\"version\":2");
        assert!(matches!(
            StreamReader::new(newer.as_bytes()),
            Err(StreamError::NewerVersion { found: 2 })
        ));
        assert!(matches!(
            StreamReader::new(&b"{\"format\":\"other\",\"version\":1}\n"[..]),
            Err(StreamError::Malformed { line: 1, .. })
        ));
        let dropped: String = text
            .lines()
            .enumerate()
            .filter(|(i, _)| *i != 1)
            .map(|(_, l)| format!("{l}\n"))
            .collect();
        let result: Result<Vec<_>, _> = StreamReader::new(dropped.as_bytes()).unwrap().collect();
        assert!(matches!(
            result,
            Err(StreamError::Malformed { line: 3, .. })
        ));
    }
}
