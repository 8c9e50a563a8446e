//! A scripted TLS WebSocket server for one connection: the check gives the
//! script (echo, close with a code, end the stream, reset mid-frame, push
//! until the client stops reading) and awaits what the server saw.

use std::io::{self, Write};
use std::net::{Ipv4Addr, Shutdown, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use futures::channel::oneshot;
use rustls::{ServerConfig, ServerConnection, StreamOwned};
use tungstenite::protocol::CloseFrame;
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::{Message, WebSocket};

use super::SOCKET_DEADLINE;
use crate::Failure;

type Conn = StreamOwned<ServerConnection, TcpStream>;

/// One accepted, upgraded connection, as a script sees it.
pub(crate) struct Session {
    pub(crate) ws: WebSocket<Conn>,
    /// The upgrade request's headers, names lower-cased.
    pub(crate) headers: Vec<(String, String)>,
}

/// A server that accepts one connection and runs its script on it.
pub(crate) struct WsServer {
    /// `wss://127.0.0.1:port/ws/chat`.
    pub(crate) url: String,
    outcome: oneshot::Receiver<Result<String, String>>,
}

impl WsServer {
    /// Listens on 127.0.0.1 with `tls`, and runs `script` on the first
    /// connection. The script's `Ok` text (or error) is [`outcome`](Self::outcome).
    pub(crate) fn start(
        tls: Arc<ServerConfig>,
        script: impl FnOnce(&mut Session) -> Result<String, String> + Send + 'static,
    ) -> io::Result<WsServer> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
        let url = format!("wss://127.0.0.1:{}/ws/chat", listener.local_addr()?.port());
        let (done, outcome) = oneshot::channel();
        thread::spawn(move || {
            let _ = done.send(serve(listener, tls, script));
        });
        Ok(WsServer { url, outcome })
    }

    /// What the script reported, once it has finished (within `bound`).
    pub(crate) async fn outcome(self, bound: Duration) -> Result<String, Failure> {
        match crate::limit::within(bound, self.outcome).await {
            Some(Ok(Ok(text))) => Ok(text),
            Some(Ok(Err(error))) => Err(Failure(format!("the kit's server: {error}"))),
            Some(Err(_)) => Err(Failure("the kit's server thread died".into())),
            None => Err(Failure(format!(
                "the kit's server did not finish within {bound:?}"
            ))),
        }
    }
}

// tungstenite's upgrade callback returns its own large error type.
#[allow(clippy::result_large_err)]
fn serve(
    listener: TcpListener,
    tls: Arc<ServerConfig>,
    script: impl FnOnce(&mut Session) -> Result<String, String>,
) -> Result<String, String> {
    let tcp =
        accept_within(&listener, SOCKET_DEADLINE).map_err(|e| format!("no connection: {e}"))?;
    tcp.set_read_timeout(Some(SOCKET_DEADLINE))
        .map_err(|e| e.to_string())?;
    tcp.set_write_timeout(Some(SOCKET_DEADLINE))
        .map_err(|e| e.to_string())?;
    let _ = tcp.set_nodelay(true);
    let conn = ServerConnection::new(tls).map_err(|e| e.to_string())?;
    let mut stream = StreamOwned::new(conn, tcp);
    // Finish the TLS handshake first, so a refused certificate shows here.
    while stream.conn.is_handshaking() {
        stream
            .conn
            .complete_io(&mut stream.sock)
            .map_err(|e| format!("TLS handshake failed: {e}"))?;
    }
    let mut headers = Vec::new();
    let ws = tungstenite::accept_hdr(
        stream,
        |request: &tungstenite::handshake::server::Request, response| {
            headers = request
                .headers()
                .iter()
                .map(|(k, v)| {
                    (
                        k.as_str().to_ascii_lowercase(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect();
            Ok(response)
        },
    )
    .map_err(|e| format!("WebSocket upgrade failed: {e}"))?;
    script(&mut Session { ws, headers })
}

fn accept_within(listener: &TcpListener, deadline: Duration) -> io::Result<TcpStream> {
    listener.set_nonblocking(true)?;
    let start = Instant::now();
    loop {
        match listener.accept() {
            Ok((tcp, _)) => {
                tcp.set_nonblocking(false)?;
                return Ok(tcp);
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock && start.elapsed() < deadline => {
                thread::sleep(Duration::from_millis(2));
            }
            Err(e) => return Err(e),
        }
    }
}

impl Session {
    /// Sends `data` as one binary frame.
    pub(crate) fn send(&mut self, data: Vec<u8>) -> Result<(), String> {
        self.ws
            .send(Message::Binary(data.into()))
            .map_err(|e| format!("sending a frame: {e}"))
    }

    /// Echoes every payload back until the client closes; reports how many.
    pub(crate) fn echo_until_close(&mut self) -> Result<String, String> {
        let mut frames = 0u64;
        loop {
            match self.ws.read() {
                Ok(Message::Binary(data)) => {
                    frames += 1;
                    self.send(data.to_vec())?;
                }
                Ok(Message::Close(_)) | Err(tungstenite::Error::ConnectionClosed) => {
                    return Ok(format!("echoed {frames} frames"));
                }
                Ok(_) => continue,
                Err(e) => return Ok(format!("echoed {frames} frames, then {e}")),
            }
        }
    }

    /// Sends a close frame with `code` and `reason`, then waits for the
    /// client's answer or EOF.
    pub(crate) fn close(&mut self, code: u16, reason: &str) -> Result<String, String> {
        let frame = CloseFrame {
            code: CloseCode::from(code),
            reason: reason.to_owned().into(),
        };
        self.ws
            .close(Some(frame))
            .map_err(|e| format!("sending close: {e}"))?;
        self.drain();
        Ok(format!("closed with {code}"))
    }

    /// Ends the stream without a close frame: TLS close_notify, then FIN.
    pub(crate) fn end_stream(&mut self) -> Result<String, String> {
        let stream = self.ws.get_mut();
        stream.conn.send_close_notify();
        stream.flush().map_err(|e| e.to_string())?;
        let _ = stream.sock.shutdown(Shutdown::Write);
        self.drain();
        Ok("ended the stream without a close frame".into())
    }

    /// Writes the head and part of a binary frame, then resets the TCP
    /// connection (RST, not FIN).
    pub(crate) fn reset_mid_frame(&mut self) -> Result<String, String> {
        let stream = self.ws.get_mut();
        // FIN + binary, 16-bit length 1000, then 10 of those bytes.
        let mut partial = vec![0x82, 126, 0x03, 0xE8];
        partial.extend_from_slice(&[0xAB; 10]);
        stream.write_all(&partial).map_err(|e| e.to_string())?;
        stream.flush().map_err(|e| e.to_string())?;
        thread::sleep(Duration::from_millis(50));
        socket2::SockRef::from(&stream.sock)
            .set_linger(Some(Duration::ZERO))
            .map_err(|e| e.to_string())?;
        Ok("reset the connection mid-frame".into())
    }

    /// Reads until the client closes: its close frame's code and reason, or
    /// `None` for a connection that ended without one.
    pub(crate) fn await_close(&mut self) -> Option<(u16, String)> {
        loop {
            match self.ws.read() {
                Ok(Message::Close(Some(frame))) => {
                    return Some((u16::from(frame.code), frame.reason.to_string()));
                }
                Ok(Message::Close(None)) => return Some((0, String::new())),
                Ok(_) => continue,
                Err(_) => return None,
            }
        }
    }

    /// Sends `frames` frames of `size` bytes, each starting with its index
    /// (u32, big-endian). A watchdog calls `on_stall` with the bytes sent so
    /// far once no frame has gone out for `STALL`: the client has stopped
    /// reading. Returns whether it stalled.
    pub(crate) fn push(
        &mut self,
        frames: u32,
        size: usize,
        on_stall: impl FnOnce(u64) + Send + 'static,
    ) -> Result<bool, String> {
        const STALL: Duration = Duration::from_secs(1);
        let sent = Arc::new(AtomicU64::new(0));
        let finished = Arc::new(AtomicBool::new(false));
        let stalled = Arc::new(AtomicBool::new(false));
        let watchdog = {
            let (sent, finished, stalled) = (sent.clone(), finished.clone(), stalled.clone());
            thread::spawn(move || {
                let (mut last, mut since) = (0, Instant::now());
                while !finished.load(Ordering::SeqCst) {
                    thread::sleep(Duration::from_millis(20));
                    let now = sent.load(Ordering::SeqCst);
                    if now != last {
                        (last, since) = (now, Instant::now());
                    } else if since.elapsed() >= STALL {
                        stalled.store(true, Ordering::SeqCst);
                        on_stall(now);
                        return;
                    }
                }
            })
        };
        // A blocked write may wait for the client as long as the check does.
        let _ = self
            .ws
            .get_ref()
            .sock
            .set_write_timeout(Some(Duration::from_secs(60)));
        let mut result = Ok(());
        for index in 0..frames {
            let mut frame = vec![0x5A; size.max(4)];
            frame[..4].copy_from_slice(&index.to_be_bytes());
            if let Err(e) = self.send(frame) {
                result = Err(e);
                break;
            }
            sent.fetch_add(size as u64, Ordering::SeqCst);
        }
        finished.store(true, Ordering::SeqCst);
        let _ = watchdog.join();
        result.map(|()| stalled.load(Ordering::SeqCst))
    }

    /// Reads and discards until the peer closes or goes quiet, so our end
    /// closes cleanly (unread data would turn our close into a reset).
    fn drain(&mut self) {
        let _ = self
            .ws
            .get_ref()
            .sock
            .set_read_timeout(Some(Duration::from_secs(3)));
        while self.ws.read().is_ok() {}
    }
}

/// A TLS WebSocket server on 127.0.0.1 that echoes every frame of one
/// connection until the client closes: for benchmarks of a transport.
pub struct EchoServer {
    server: WsServer,
}

impl EchoServer {
    /// Starts it with `pki`'s certificate (trust [`TestPki::ca`](super::TestPki::ca)).
    pub fn start(pki: &super::TestPki) -> io::Result<EchoServer> {
        let server = WsServer::start(pki.server_config(), |s| s.echo_until_close())?;
        Ok(EchoServer { server })
    }

    /// `wss://127.0.0.1:port/ws/chat`.
    pub fn url(&self) -> &str {
        &self.server.url
    }
}
