//! Proxies: an HTTP `CONNECT` tunnel or a SOCKS5 connection (RFC 1928, with
//! RFC 1929 username/password), opened on a TCP stream to the proxy before
//! TLS and the WebSocket upgrade run inside it.
//!
//! Both are a few dozen lines over `AsyncRead`/`AsyncWrite`: the proxy
//! crates we looked at are tied to tokio, and this crate must not be.

use std::fmt;

use anyhow::{Context, bail, ensure};
use base64::Engine;
use futures_util::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use percent_encoding::percent_decode_str;

/// The kind of proxy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProxyKind {
    /// An HTTP proxy that opens a tunnel on `CONNECT host:port`.
    HttpConnect,
    /// A SOCKS5 proxy; the target's host name is resolved by the proxy.
    Socks5,
}

/// A proxy to reach the server through, with optional credentials.
#[derive(Clone, PartialEq, Eq)]
pub struct Proxy {
    kind: ProxyKind,
    host: String,
    port: u16,
    credentials: Option<(String, String)>,
}

impl Proxy {
    /// A proxy of `kind` at `host:port`, without credentials.
    pub fn new(kind: ProxyKind, host: impl Into<String>, port: u16) -> Proxy {
        Proxy {
            kind,
            host: host.into(),
            port,
            credentials: None,
        }
    }

    /// The same proxy, authenticating with `username` and `password`
    /// (`Proxy-Authorization: Basic` for HTTP, RFC 1929 for SOCKS5).
    pub fn with_credentials(
        mut self,
        username: impl Into<String>,
        password: impl Into<String>,
    ) -> Proxy {
        self.credentials = Some((username.into(), password.into()));
        self
    }

    /// Parses `socks5://[user:pass@]host:port` or `http://[user:pass@]host:port`
    /// (`socks5h://` is taken as `socks5://`: names are always resolved by the
    /// proxy). The user name and password may be percent-encoded.
    pub fn parse(url: &str) -> anyhow::Result<Proxy> {
        let (scheme, rest) = url
            .split_once("://")
            .with_context(|| format!("proxy {url:?}: expected scheme://host:port"))?;
        let kind = match scheme.to_ascii_lowercase().as_str() {
            "http" => ProxyKind::HttpConnect,
            "socks5" | "socks5h" => ProxyKind::Socks5,
            other => bail!("proxy {url:?}: unsupported scheme {other:?} (use http or socks5)"),
        };
        let authority = rest.trim_end_matches('/');
        ensure!(
            !authority.contains('/'),
            "proxy {url:?}: a proxy URL has no path"
        );
        let (userinfo, hostport) = match authority.rsplit_once('@') {
            Some((userinfo, hostport)) => (Some(userinfo), hostport),
            None => (None, authority),
        };
        let (host, port) = hostport
            .rsplit_once(':')
            .with_context(|| format!("proxy {url:?}: the port is missing"))?;
        let port: u16 = port
            .parse()
            .with_context(|| format!("proxy {url:?}: bad port {port:?}"))?;
        let host = host.trim_start_matches('[').trim_end_matches(']');
        ensure!(!host.is_empty(), "proxy {url:?}: the host is missing");
        let mut proxy = Proxy::new(kind, host, port);
        if let Some(userinfo) = userinfo {
            let (user, pass) = userinfo.split_once(':').unwrap_or((userinfo, ""));
            let decode = |s: &str| {
                percent_decode_str(s)
                    .decode_utf8()
                    .map(|s| s.into_owned())
                    .with_context(|| format!("proxy {url:?}: credentials are not UTF-8"))
            };
            proxy = proxy.with_credentials(decode(user)?, decode(pass)?);
        }
        Ok(proxy)
    }

    /// The kind of proxy.
    pub fn kind(&self) -> ProxyKind {
        self.kind
    }

    /// `host:port` of the proxy, to open the TCP connection to.
    pub fn address(&self) -> (&str, u16) {
        (&self.host, self.port)
    }

    /// Asks the proxy, over `stream` (a connection to it), for a tunnel to
    /// `host:port`; on `Ok` the stream carries bytes to and from the target.
    pub async fn open_tunnel<S>(&self, stream: &mut S, host: &str, port: u16) -> anyhow::Result<()>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        match self.kind {
            ProxyKind::HttpConnect => self.http_connect(stream, host, port).await,
            ProxyKind::Socks5 => self.socks5_connect(stream, host, port).await,
        }
        .with_context(|| format!("through the proxy {self}"))
    }

    async fn http_connect<S>(&self, stream: &mut S, host: &str, port: u16) -> anyhow::Result<()>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let target = authority(host, port);
        let mut request = format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n");
        if let Some((user, pass)) = &self.credentials {
            let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
            request.push_str(&format!("Proxy-Authorization: Basic {token}\r\n"));
        }
        request.push_str("\r\n");
        stream.write_all(request.as_bytes()).await?;
        stream.flush().await?;

        // Byte by byte up to the blank line: nothing of the tunnel's own
        // traffic may be consumed here.
        const LIMIT: usize = 16 * 1024;
        let mut head = Vec::with_capacity(256);
        while !head.ends_with(b"\r\n\r\n") {
            ensure!(
                head.len() < LIMIT,
                "the proxy's reply head exceeds {LIMIT} bytes"
            );
            let mut byte = [0u8];
            let n = stream.read(&mut byte).await?;
            ensure!(
                n == 1,
                "the proxy closed the connection before replying to CONNECT"
            );
            head.push(byte[0]);
        }
        let status_line = String::from_utf8_lossy(&head);
        let status_line = status_line.lines().next().unwrap_or_default();
        let code: u16 = status_line
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .with_context(|| format!("not an HTTP reply to CONNECT: {status_line:?}"))?;
        match code {
            200..=299 => Ok(()),
            407 if self.credentials.is_some() => {
                bail!("the proxy refused the credentials ({status_line})")
            }
            407 => bail!("the proxy requires credentials ({status_line})"),
            _ => bail!("the proxy refused CONNECT {target}: {status_line}"),
        }
    }

    async fn socks5_connect<S>(&self, stream: &mut S, host: &str, port: u16) -> anyhow::Result<()>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        const NO_AUTH: u8 = 0x00;
        const USER_PASS: u8 = 0x02;
        let offered: &[u8] = match self.credentials {
            Some(_) => &[USER_PASS, NO_AUTH],
            None => &[NO_AUTH],
        };
        let mut greeting = vec![5, offered.len() as u8];
        greeting.extend_from_slice(offered);
        stream.write_all(&greeting).await?;
        stream.flush().await?;
        let mut choice = [0u8; 2];
        stream.read_exact(&mut choice).await?;
        ensure!(
            choice[0] == 5,
            "not a SOCKS5 proxy (version byte {})",
            choice[0]
        );
        match (choice[1], &self.credentials) {
            (NO_AUTH, _) => {}
            (USER_PASS, Some((user, pass))) => {
                ensure!(
                    user.len() <= 255 && pass.len() <= 255,
                    "SOCKS5 user names and passwords are at most 255 bytes"
                );
                let mut auth = vec![1, user.len() as u8];
                auth.extend_from_slice(user.as_bytes());
                auth.push(pass.len() as u8);
                auth.extend_from_slice(pass.as_bytes());
                stream.write_all(&auth).await?;
                stream.flush().await?;
                let mut status = [0u8; 2];
                stream.read_exact(&mut status).await?;
                ensure!(status[1] == 0, "the SOCKS5 proxy refused the credentials");
            }
            (0xFF, None) => bail!("the SOCKS5 proxy requires credentials"),
            (method, _) => {
                bail!("the SOCKS5 proxy chose an authentication method not offered ({method:#04x})")
            }
        }

        ensure!(
            host.len() <= 255,
            "host name {host:?} is longer than SOCKS5 allows"
        );
        let mut request = vec![5, 1, 0];
        match host.parse::<std::net::IpAddr>() {
            Ok(std::net::IpAddr::V4(ip)) => {
                request.push(1);
                request.extend_from_slice(&ip.octets());
            }
            Ok(std::net::IpAddr::V6(ip)) => {
                request.push(4);
                request.extend_from_slice(&ip.octets());
            }
            Err(_) => {
                request.extend_from_slice(&[3, host.len() as u8]);
                request.extend_from_slice(host.as_bytes());
            }
        }
        request.extend_from_slice(&port.to_be_bytes());
        stream.write_all(&request).await?;
        stream.flush().await?;

        let mut reply = [0u8; 4];
        stream.read_exact(&mut reply).await?;
        if reply[1] != 0 {
            bail!(
                "the SOCKS5 proxy could not connect to {}: {}",
                authority(host, port),
                socks5_reply(reply[1])
            );
        }
        // The bound address, unused: skip it by its type.
        let skip = match reply[3] {
            1 => 4,
            4 => 16,
            3 => {
                let mut len = [0u8];
                stream.read_exact(&mut len).await?;
                usize::from(len[0])
            }
            other => bail!("the SOCKS5 proxy replied with address type {other}"),
        };
        let mut rest = vec![0u8; skip + 2];
        stream.read_exact(&mut rest).await?;
        Ok(())
    }
}

impl fmt::Display for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = match self.kind {
            ProxyKind::HttpConnect => "http",
            ProxyKind::Socks5 => "socks5",
        };
        // The password never reaches a log or an error message.
        match &self.credentials {
            Some((user, _)) => write!(
                f,
                "{scheme}://{user}:***@{}",
                authority(&self.host, self.port)
            ),
            None => write!(f, "{scheme}://{}", authority(&self.host, self.port)),
        }
    }
}

impl fmt::Debug for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Proxy({self})")
    }
}

/// `host:port`, with an IPv6 host in brackets.
fn authority(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

fn socks5_reply(code: u8) -> &'static str {
    match code {
        1 => "general failure",
        2 => "connection not allowed by ruleset",
        3 => "network unreachable",
        4 => "host unreachable",
        5 => "connection refused",
        6 => "TTL expired",
        7 => "command not supported",
        8 => "address type not supported",
        _ => "unknown error",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_kinds_with_and_without_credentials() {
        let p = Proxy::parse("socks5://alice:p%40ss@127.0.0.1:1080").unwrap();
        assert_eq!(p.kind(), ProxyKind::Socks5);
        assert_eq!(p.address(), ("127.0.0.1", 1080));
        assert_eq!(p.credentials, Some(("alice".into(), "p@ss".into())));
        assert_eq!(p.to_string(), "socks5://alice:***@127.0.0.1:1080");

        let p = Proxy::parse("http://[::1]:3128/").unwrap();
        assert_eq!(p.kind(), ProxyKind::HttpConnect);
        assert_eq!(p.address(), ("::1", 3128));
        assert_eq!(p.credentials, None);
    }

    #[test]
    fn refuses_what_it_cannot_use() {
        for bad in [
            "ftp://h:1",
            "socks5://h",
            "http://h:notaport",
            "h:1",
            "http://:1",
            "http://h:1/x",
        ] {
            assert!(Proxy::parse(bad).is_err(), "{bad} was accepted");
        }
    }
}
