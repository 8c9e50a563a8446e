//! The kit's loopback HTTP/1.1 server with the routes the `http` family needs, and
//! a record of every request it read (method, path, headers, how the body
//! was framed and how long it was).
//!
//! Routes: `GET|POST /status/{code}` answers `code` with body `status {code}`
//! (none for 204); `POST /echo` answers the body back; `GET /headers` lists
//! the request's headers as `name: value` lines; `GET /bytes/{n}` streams
//! `n` bytes, byte `i` being `i % 251`; `POST /upload` answers `got {n}`;
//! `GET /stall` reads the request and never answers.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use super::SOCKET_DEADLINE;

/// What the server saw of one request.
#[derive(Debug, Clone, Default)]
pub(crate) struct Seen {
    pub(crate) method: String,
    pub(crate) path: String,
    /// Names lower-cased, in order.
    pub(crate) headers: Vec<(String, String)>,
    /// The body came with `Transfer-Encoding: chunked`.
    pub(crate) chunked: bool,
    /// Bytes of body read.
    pub(crate) body_len: u64,
}

impl Seen {
    /// The first value of header `name` (lower-case).
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// The byte at offset `i` of `/bytes/{n}`.
pub(crate) fn pattern_byte(i: u64) -> u8 {
    (i % 251) as u8
}

/// The kit's HTTP/1.1 server on 127.0.0.1 (routes in the module docs), for
/// the http family and for benchmarks; it runs until dropped.
pub struct HttpServer {
    pub(crate) base: String,
    port: u16,
    seen: Arc<Mutex<Vec<Seen>>>,
    streamed: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
}

impl HttpServer {
    /// Starts the server.
    pub fn start() -> io::Result<HttpServer> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
        let port = listener.local_addr()?.port();
        let server = HttpServer {
            base: format!("http://127.0.0.1:{port}"),
            port,
            seen: Arc::default(),
            streamed: Arc::default(),
            stop: Arc::default(),
        };
        let (seen, streamed, stop) = (
            server.seen.clone(),
            server.streamed.clone(),
            server.stop.clone(),
        );
        thread::spawn(move || {
            for conn in listener.incoming() {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(conn) = conn {
                    let (seen, streamed) = (seen.clone(), streamed.clone());
                    thread::spawn(move || {
                        let _ = serve_connection(conn, &seen, &streamed);
                    });
                }
            }
        });
        Ok(server)
    }

    /// `http://127.0.0.1:port`; `{base}/bytes/{n}` streams `n` bytes.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// Every request read so far, in order.
    pub(crate) fn seen(&self) -> Vec<Seen> {
        self.seen.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Bytes of `/bytes/{n}` bodies written to sockets so far.
    pub(crate) fn streamed(&self) -> u64 {
        self.streamed.load(Ordering::SeqCst)
    }

    /// The last request read to `path`.
    pub(crate) fn last(&self, path: &str) -> Option<Seen> {
        self.seen().into_iter().rev().find(|s| s.path == path)
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect((Ipv4Addr::LOCALHOST, self.port));
    }
}

fn serve_connection(
    conn: TcpStream,
    seen: &Mutex<Vec<Seen>>,
    streamed: &AtomicU64,
) -> io::Result<()> {
    conn.set_read_timeout(Some(SOCKET_DEADLINE))?;
    conn.set_write_timeout(Some(SOCKET_DEADLINE))?;
    let mut writer = conn.try_clone()?;
    let mut reader = BufReader::new(conn);
    loop {
        let Some(mut request) = read_head(&mut reader)? else {
            return Ok(());
        };
        let body = read_body(&mut reader, &mut request)?;
        if let Ok(mut all) = seen.lock() {
            all.push(request.clone());
        }
        if !respond(&mut writer, &request, &body, streamed)? {
            return Ok(());
        }
    }
}

fn read_head(reader: &mut BufReader<TcpStream>) -> io::Result<Option<Seen>> {
    let mut head = Vec::new();
    loop {
        let before = head.len();
        reader.read_until(b'\n', &mut head)?;
        if head.len() == before {
            return Ok(None); // the client closed between requests
        }
        if head.ends_with(b"\r\n\r\n") || head == b"\r\n" {
            break;
        }
        if head.len() > 64 * 1024 {
            return Err(io::Error::other("request head over 64 KiB"));
        }
    }
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut parsed = httparse::Request::new(&mut headers);
    parsed.parse(&head).map_err(io::Error::other)?;
    Ok(Some(Seen {
        method: parsed.method.unwrap_or_default().to_owned(),
        path: parsed.path.unwrap_or_default().to_owned(),
        headers: parsed
            .headers
            .iter()
            .map(|h| {
                (
                    h.name.to_ascii_lowercase(),
                    String::from_utf8_lossy(h.value).into_owned(),
                )
            })
            .collect(),
        ..Seen::default()
    }))
}

/// Reads the body as framed; `/upload` bodies are counted, not kept.
fn read_body(reader: &mut BufReader<TcpStream>, request: &mut Seen) -> io::Result<Vec<u8>> {
    let keep = request.path != "/upload";
    let mut body = Vec::new();
    let mut sink = |chunk: &[u8], request: &mut Seen| {
        request.body_len += chunk.len() as u64;
        if keep {
            body.extend_from_slice(chunk);
        }
    };
    if request
        .header("transfer-encoding")
        .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"))
    {
        request.chunked = true;
        loop {
            let mut line = String::new();
            reader.read_line(&mut line)?;
            let size = usize::from_str_radix(line.trim().split(';').next().unwrap_or("0"), 16)
                .map_err(io::Error::other)?;
            let mut chunk = vec![0u8; size];
            reader.read_exact(&mut chunk)?;
            let mut crlf = [0u8; 2];
            reader.read_exact(&mut crlf)?;
            if size == 0 {
                return Ok(body);
            }
            sink(&chunk, request);
        }
    }
    let mut left: u64 = request
        .header("content-length")
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    let mut buf = vec![0u8; 64 * 1024];
    while left > 0 {
        let n = reader.read(&mut buf[..left.min(64 * 1024) as usize])?;
        if n == 0 {
            break;
        }
        sink(&buf[..n], request);
        left -= n as u64;
    }
    Ok(body)
}

/// Writes the route's answer; `false` when the connection must end.
fn respond(
    out: &mut TcpStream,
    request: &Seen,
    body: &[u8],
    streamed: &AtomicU64,
) -> io::Result<bool> {
    let path = request.path.as_str();
    if let Some(code) = path
        .strip_prefix("/status/")
        .and_then(|c| c.parse::<u16>().ok())
    {
        let text = if code == 204 {
            String::new()
        } else {
            format!("status {code}")
        };
        write_response(out, code, text.as_bytes())?;
    } else if path == "/echo" {
        write_response(out, 200, body)?;
    } else if path == "/headers" {
        let list: String = request
            .headers
            .iter()
            .map(|(n, v)| format!("{n}: {v}\n"))
            .collect();
        write_response(out, 200, list.as_bytes())?;
    } else if let Some(n) = path
        .strip_prefix("/bytes/")
        .and_then(|n| n.parse::<u64>().ok())
    {
        write!(out, "HTTP/1.1 200 OK\r\nContent-Length: {n}\r\n\r\n")?;
        let mut offset = 0u64;
        let mut chunk = vec![0u8; 64 * 1024];
        while offset < n {
            let len = (n - offset).min(chunk.len() as u64) as usize;
            for (i, b) in chunk[..len].iter_mut().enumerate() {
                *b = pattern_byte(offset + i as u64);
            }
            out.write_all(&chunk[..len])?;
            streamed.fetch_add(len as u64, Ordering::SeqCst);
            offset += len as u64;
        }
    } else if path == "/upload" {
        write_response(out, 200, format!("got {}", request.body_len).as_bytes())?;
    } else if path == "/stall" {
        thread::sleep(Duration::from_secs(30));
        return Ok(false);
    } else {
        write_response(out, 404, b"no such route")?;
    }
    Ok(true)
}

fn write_response(out: &mut TcpStream, code: u16, body: &[u8]) -> io::Result<()> {
    let reason = match code {
        200 => "OK",
        204 => "No Content",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        410 => "Gone",
        500 => "Internal Server Error",
        _ => "Status",
    };
    let head = if code == 204 {
        format!("HTTP/1.1 {code} {reason}\r\n\r\n")
    } else {
        format!(
            "HTTP/1.1 {code} {reason}\r\nContent-Length: {}\r\nContent-Type: application/octet-stream\r\n\r\n",
            body.len()
        )
    };
    out.write_all(head.as_bytes())?;
    out.write_all(body)?;
    out.flush()
}
