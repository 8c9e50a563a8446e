//! Loopback proxies: HTTP `CONNECT` and SOCKS5 (RFC 1928, RFC 1929
//! username/password), each counting the tunnels it opened so a check can
//! tell traffic went through it.

use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, Ipv6Addr, Shutdown, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;

use super::SOCKET_DEADLINE;

/// Which protocol a [`LoopbackProxy`] speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProxyProtocol {
    /// HTTP `CONNECT host:port`, `Proxy-Authorization: Basic` when it has credentials.
    HttpConnect,
    /// SOCKS5 `CONNECT`, username/password when it has credentials.
    Socks5,
}

/// A proxy on 127.0.0.1 that runs until dropped.
pub struct LoopbackProxy {
    protocol: ProxyProtocol,
    port: u16,
    credentials: Option<(String, String)>,
    tunnels: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
}

impl LoopbackProxy {
    /// Starts a proxy; with `credentials`, it refuses clients without them.
    pub fn start(
        protocol: ProxyProtocol,
        credentials: Option<(&str, &str)>,
    ) -> io::Result<LoopbackProxy> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
        let port = listener.local_addr()?.port();
        let credentials = credentials.map(|(u, p)| (u.to_owned(), p.to_owned()));
        let proxy = LoopbackProxy {
            protocol,
            port,
            credentials: credentials.clone(),
            tunnels: Arc::default(),
            stop: Arc::default(),
        };
        let (tunnels, stop) = (proxy.tunnels.clone(), proxy.stop.clone());
        thread::spawn(move || {
            for client in listener.incoming() {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(client) = client else { continue };
                let (credentials, tunnels) = (credentials.clone(), tunnels.clone());
                thread::spawn(move || {
                    let _ = client.set_read_timeout(Some(SOCKET_DEADLINE));
                    let opened = match protocol {
                        ProxyProtocol::HttpConnect => http_connect(&client, credentials.as_ref()),
                        ProxyProtocol::Socks5 => socks5(&client, credentials.as_ref()),
                    };
                    if let Ok(Some(target)) = opened {
                        tunnels.fetch_add(1, Ordering::SeqCst);
                        pipe(client, target);
                    }
                });
            }
        });
        Ok(proxy)
    }

    /// Its URL with the credentials it was started with (`http://u:p@127.0.0.1:port`).
    pub fn url(&self) -> String {
        match &self.credentials {
            Some((user, pass)) => self.url_with(user, pass),
            None => format!("{}://127.0.0.1:{}", self.scheme(), self.port),
        }
    }

    /// Its URL with other credentials (to try wrong ones).
    pub fn url_with(&self, user: &str, pass: &str) -> String {
        format!("{}://{user}:{pass}@127.0.0.1:{}", self.scheme(), self.port)
    }

    /// Its URL with no credentials at all.
    pub fn url_without_credentials(&self) -> String {
        format!("{}://127.0.0.1:{}", self.scheme(), self.port)
    }

    /// How many tunnels it has opened so far.
    pub fn tunnels(&self) -> usize {
        self.tunnels.load(Ordering::SeqCst)
    }

    fn scheme(&self) -> &'static str {
        match self.protocol {
            ProxyProtocol::HttpConnect => "http",
            ProxyProtocol::Socks5 => "socks5",
        }
    }
}

impl Drop for LoopbackProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect((Ipv4Addr::LOCALHOST, self.port));
    }
}

impl std::fmt::Debug for LoopbackProxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "LoopbackProxy({:?} on {})", self.protocol, self.port)
    }
}

/// Copies both ways until either side ends, then ends the other.
fn pipe(client: TcpStream, target: TcpStream) {
    let (Ok(client2), Ok(target2)) = (client.try_clone(), target.try_clone()) else {
        return;
    };
    // The tunnel may idle as long as its ends do.
    let _ = client.set_read_timeout(None);
    let up = thread::spawn(move || copy_then_shutdown(client, target));
    copy_then_shutdown(target2, client2);
    let _ = up.join();
}

fn copy_then_shutdown(mut from: TcpStream, mut to: TcpStream) {
    let _ = io::copy(&mut from, &mut to);
    let _ = to.shutdown(Shutdown::Write);
}

fn http_connect(
    mut client: &TcpStream,
    credentials: Option<&(String, String)>,
) -> io::Result<Option<TcpStream>> {
    let head = read_head(client)?;
    let text = String::from_utf8_lossy(&head);
    let mut lines = text.lines();
    let request_line = lines.next().unwrap_or_default();
    let mut parts = request_line.split_whitespace();
    let (Some("CONNECT"), Some(target)) = (parts.next(), parts.next()) else {
        client.write_all(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")?;
        return Ok(None);
    };
    if let Some((user, pass)) = credentials {
        let expected = format!("basic {}", base64(format!("{user}:{pass}").as_bytes()));
        let given = lines
            .filter_map(|l| l.split_once(':'))
            .find(|(name, _)| name.trim().eq_ignore_ascii_case("proxy-authorization"))
            .map(|(_, value)| value.trim().to_owned());
        // The scheme is case-insensitive, the token is not.
        let matches = given.is_some_and(|g| {
            g.len() == expected.len()
                && g[..6].eq_ignore_ascii_case("basic ")
                && g[6..] == expected[6..]
        });
        if !matches {
            client.write_all(
                b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"kit\"\r\nContent-Length: 0\r\n\r\n",
            )?;
            return Ok(None);
        }
    }
    match TcpStream::connect(target) {
        Ok(upstream) => {
            client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")?;
            Ok(Some(upstream))
        }
        Err(_) => {
            client.write_all(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")?;
            Ok(None)
        }
    }
}

fn socks5(
    mut client: &TcpStream,
    credentials: Option<&(String, String)>,
) -> io::Result<Option<TcpStream>> {
    let mut greeting = [0u8; 2];
    client.read_exact(&mut greeting)?;
    if greeting[0] != 5 {
        return Ok(None);
    }
    let mut methods = vec![0u8; usize::from(greeting[1])];
    client.read_exact(&mut methods)?;
    let wanted = if credentials.is_some() { 2 } else { 0 };
    if !methods.contains(&wanted) {
        client.write_all(&[5, 0xFF])?;
        return Ok(None);
    }
    client.write_all(&[5, wanted])?;
    if let Some((user, pass)) = credentials {
        let mut version_and_len = [0u8; 2];
        client.read_exact(&mut version_and_len)?;
        let mut given_user = vec![0u8; usize::from(version_and_len[1])];
        client.read_exact(&mut given_user)?;
        let mut len = [0u8];
        client.read_exact(&mut len)?;
        let mut given_pass = vec![0u8; usize::from(len[0])];
        client.read_exact(&mut given_pass)?;
        if given_user != user.as_bytes() || given_pass != pass.as_bytes() {
            client.write_all(&[1, 1])?;
            return Ok(None);
        }
        client.write_all(&[1, 0])?;
    }
    let mut request = [0u8; 4];
    client.read_exact(&mut request)?;
    let host = match request[3] {
        1 => {
            let mut ip = [0u8; 4];
            client.read_exact(&mut ip)?;
            Ipv4Addr::from(ip).to_string()
        }
        4 => {
            let mut ip = [0u8; 16];
            client.read_exact(&mut ip)?;
            Ipv6Addr::from(ip).to_string()
        }
        3 => {
            let mut len = [0u8];
            client.read_exact(&mut len)?;
            let mut name = vec![0u8; usize::from(len[0])];
            client.read_exact(&mut name)?;
            String::from_utf8_lossy(&name).into_owned()
        }
        _ => return Ok(None),
    };
    let mut port = [0u8; 2];
    client.read_exact(&mut port)?;
    let port = u16::from_be_bytes(port);
    if request[1] != 1 {
        client.write_all(&[5, 7, 0, 1, 0, 0, 0, 0, 0, 0])?;
        return Ok(None);
    }
    match TcpStream::connect((host.as_str(), port)) {
        Ok(upstream) => {
            client.write_all(&[5, 0, 0, 1, 127, 0, 0, 1, 0, 0])?;
            Ok(Some(upstream))
        }
        Err(_) => {
            client.write_all(&[5, 5, 0, 1, 0, 0, 0, 0, 0, 0])?;
            Ok(None)
        }
    }
}

/// Reads an HTTP head byte by byte (the tunnel's first bytes must stay unread).
pub(crate) fn read_head(mut stream: &TcpStream) -> io::Result<Vec<u8>> {
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() > 64 * 1024 {
            return Err(io::Error::other("request head over 64 KiB"));
        }
        let mut byte = [0u8];
        if stream.read(&mut byte)? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        head.push(byte[0]);
    }
    Ok(head)
}

/// Standard base64 with padding (the one use here is a Basic token: a
/// dependency for it would weigh more than these lines).
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i)) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn base64_matches_rfc_4648_vectors() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(super::base64(plain.as_bytes()), encoded);
        }
    }
}
