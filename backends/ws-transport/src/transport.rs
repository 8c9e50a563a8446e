//! An open connection: the `Transport` half the client sends on, and the
//! read pump that turns frames into `TransportEvent`s.

use std::io;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use async_net::TcpStream;
use async_trait::async_trait;
use async_tungstenite::tungstenite::protocol::CloseFrame;
use async_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use async_tungstenite::tungstenite::{Error as WsError, Message, error::ProtocolError};
use async_tungstenite::{WebSocketReceiver, WebSocketSender, WebSocketStream};
use bytes::Bytes;
use futures_util::future::{Either, select};
use futures_util::lock::Mutex;
use futures_util::{AsyncRead, AsyncWrite, StreamExt};
use wacore::net::{DisconnectReason, Transport, TransportEvent};
use wacore::runtime::Runtime;
use wacore::stats::TransportResourceReport;

/// The byte stream under the WebSocket: plain TCP (`ws://`) or TLS over TCP
/// (`wss://`), either possibly tunnelled through a proxy.
pub(crate) enum Stream {
    Plain(TcpStream),
    Tls(Box<futures_rustls::client::TlsStream<TcpStream>>),
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tls(s) => Pin::new(s).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Tls(s) => Pin::new(s).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_flush(cx),
            Stream::Tls(s) => Pin::new(s).poll_flush(cx),
        }
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_close(cx),
            Stream::Tls(s) => Pin::new(s).poll_close(cx),
        }
    }
}

// Static estimates, as whatsapp-rust's tokio transport reports: tungstenite
// and rustls expose no live buffer sizes. Read buffer: tungstenite's
// default 128 KiB; write buffer: its 128 KiB default; TLS: two 16 KiB
// records plus the key schedule.
const READ_BUFFER_BYTES: u64 = 128 * 1024;
const WRITE_BUFFER_BYTES: u64 = 128 * 1024;
const TLS_STATE_BYTES: u64 = 36 * 1024;

/// The sending half. `disconnect` takes the sink, so a second call and any
/// later `send` find it gone.
pub(crate) struct WsTransport {
    sink: Mutex<Option<WebSocketSender<Stream>>>,
    // Closed (by dropping it) on a local disconnect: wakes the read pump.
    shutdown: std::sync::Mutex<Option<async_channel::Sender<()>>>,
    // Set first thing by `disconnect`, so a `send` waiting for the sink
    // behind a stalled one fails instead of going out after the close.
    closed: AtomicBool,
    runtime: Arc<dyn Runtime>,
    tls: bool,
}

/// How long `disconnect` waits to send its close frame (behind a `send`
/// stalled on a server that stopped reading, or on a full socket) before it
/// gives up on the frame; the connection is dropped either way.
const CLOSE_FRAME_WAIT: Duration = Duration::from_secs(2);

#[async_trait]
impl Transport for WsTransport {
    async fn send(&self, data: Bytes) -> anyhow::Result<()> {
        anyhow::ensure!(
            !self.closed.load(Ordering::SeqCst),
            "the transport is disconnected"
        );
        let mut sink = self.sink.lock().await;
        let sink = sink
            .as_mut()
            .ok_or_else(|| anyhow::anyhow!("the transport is disconnected"))?;
        sink.send(Message::Binary(data))
            .await
            .map_err(|e| anyhow::anyhow!("WebSocket send failed: {e}"))
    }

    async fn disconnect(&self) {
        self.closed.store(true, Ordering::SeqCst);
        // Wake the pump first: it then reports the local close, whatever the
        // server answers to our close frame.
        if let Ok(mut shutdown) = self.shutdown.lock() {
            shutdown.take();
        }
        let close = async {
            let Some(mut sink) = self.sink.lock().await.take() else {
                return;
            };
            let frame = CloseFrame {
                code: CloseCode::Normal,
                reason: "".into(),
            };
            // Best effort: the connection may already be gone.
            let _ = sink.send(Message::Close(Some(frame))).await;
        };
        let _ = select(pin!(close), self.runtime.sleep(CLOSE_FRAME_WAIT)).await;
    }

    fn resource_report(&self) -> Option<TransportResourceReport> {
        Some(TransportResourceReport {
            read_buffer_bytes: Some(READ_BUFFER_BYTES),
            write_buffer_bytes: Some(WRITE_BUFFER_BYTES),
            tls_state_bytes: self.tls.then_some(TLS_STATE_BYTES),
        })
    }
}

/// Splits an upgraded WebSocket into the transport and its event channel,
/// and spawns the read pump on `runtime`. `Connected` is queued before the
/// pump starts, so it precedes every other event.
pub(crate) fn start(
    ws: WebSocketStream<Stream>,
    tls: bool,
    runtime: &Arc<dyn Runtime>,
    capacity: usize,
) -> (Arc<dyn Transport>, async_channel::Receiver<TransportEvent>) {
    let (sink, stream) = ws.split();
    let (events, receiver) = async_channel::bounded(capacity.max(1));
    let (shutdown, shutdown_rx) = async_channel::bounded(1);
    let _ = events.try_send(TransportEvent::Connected);
    runtime.spawn_detached(Box::pin(read_pump(stream, events, shutdown_rx)));
    let transport = WsTransport {
        sink: Mutex::new(Some(sink)),
        shutdown: std::sync::Mutex::new(Some(shutdown)),
        closed: AtomicBool::new(false),
        runtime: runtime.clone(),
        tls,
    };
    (Arc::new(transport), receiver)
}

/// Forwards frames as events until the connection ends, the transport is
/// disconnected, or the receiver is dropped; then sends one `Disconnected`
/// (unless nobody is listening) and drops the sender, closing the channel.
/// Waiting on a full channel stops reading the socket: backpressure reaches
/// the server through TCP.
async fn read_pump(
    mut stream: WebSocketReceiver<Stream>,
    events: async_channel::Sender<TransportEvent>,
    shutdown: async_channel::Receiver<()>,
) {
    let reason = loop {
        let next = match select(pin!(shutdown.recv()), stream.next()).await {
            Either::Left(_) => break DisconnectReason::Unknown,
            Either::Right((next, _)) => next,
        };
        let data = match next {
            Some(Ok(Message::Binary(data))) => data,
            // A dumb pipe loses nothing: text payloads are bytes too.
            Some(Ok(Message::Text(text))) => Bytes::from(text),
            Some(Ok(Message::Close(frame))) => break close_reason(frame),
            // Pings are answered by tungstenite; pongs and raw frames carry nothing.
            Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => continue,
            Some(Err(error)) => break error_reason(error),
            None => break DisconnectReason::StreamEnded,
        };
        match select(
            pin!(shutdown.recv()),
            pin!(events.send(TransportEvent::DataReceived(data))),
        )
        .await
        {
            Either::Left(_) => break DisconnectReason::Unknown,
            Either::Right((Ok(()), _)) => {}
            // The receiver is gone: nobody to tell.
            Either::Right((Err(_), _)) => return,
        }
    };
    let _ = events.send(TransportEvent::Disconnected(reason)).await;
}

fn close_reason(frame: Option<CloseFrame>) -> DisconnectReason {
    match frame {
        Some(frame) => DisconnectReason::ServerClose {
            code: Some(u16::from(frame.code)),
            reason: frame.reason.to_string(),
        },
        None => DisconnectReason::ServerClose {
            code: None,
            reason: String::new(),
        },
    }
}

fn error_reason(error: WsError) -> DisconnectReason {
    match &error {
        // EOF without a close frame (the way WhatsApp's servers recycle a
        // connection), whether or not TLS said close_notify first.
        WsError::Protocol(ProtocolError::ResetWithoutClosingHandshake)
        | WsError::ConnectionClosed
        | WsError::AlreadyClosed => DisconnectReason::StreamEnded,
        WsError::Io(io) if io.kind() == io::ErrorKind::UnexpectedEof => {
            DisconnectReason::StreamEnded
        }
        _ => DisconnectReason::ReadError(error.to_string()),
    }
}
