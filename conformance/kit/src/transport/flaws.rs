//! Deliberately broken transports, for the kit's own tests: each wraps the
//! passing reference (this workspace's `WsTransportFactory` on a smol
//! runtime) with one flaw and must fail the check its test names.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use async_channel::Receiver;
use async_trait::async_trait;
use bytes::Bytes;
use wacore::net::{DisconnectReason, Transport, TransportEvent, TransportFactory};
use wacore::runtime::Runtime;
use whatsapp_rust_smol_runtime::SmolRuntime;
use whatsapp_rust_ws_transport::{Proxy, TlsOptions, WsTransportFactory};

use super::{Capabilities, Target, TransportUnderTest, all_checks, run_check};
use crate::{Executor, Expectations, Outcome};

fn runtime() -> Arc<dyn Runtime> {
    static RUNTIME: OnceLock<Arc<dyn Runtime>> = OnceLock::new();
    RUNTIME
        .get_or_init(|| Arc::new(SmolRuntime::with_workers(2)))
        .clone()
}

/// The passing reference for `target`, after `tune` adjusts its builder.
fn reference(
    target: &Target,
    tune: fn(WsTransportFactory, &Target) -> WsTransportFactory,
) -> anyhow::Result<WsTransportFactory> {
    let mut factory = WsTransportFactory::new(runtime())
        .with_url(target.url.clone())
        .with_tls(
            TlsOptions::default()
                .without_webpki_roots()
                .add_root_certificate(target.ca.clone()),
        );
    if let Some(proxy) = &target.proxy {
        factory = factory.with_proxy(Proxy::parse(proxy)?);
    }
    Ok(tune(factory, target))
}

/// What a flaw changes; every field defaults to "nothing".
#[derive(Clone, Copy)]
struct Flaw {
    /// Builder changes (origin, proxy).
    tune: fn(WsTransportFactory, &Target) -> WsTransportFactory,
    /// Rewrites each event into zero or more (given the count so far).
    events: fn(usize, TransportEvent) -> Vec<TransportEvent>,
    /// Forwards into an unbounded channel, reading the real one eagerly.
    unbounded: bool,
    /// Keeps reading the real channel after the receiver is dropped.
    drain_after_drop: bool,
    /// A connect error becomes a transport that is already gone.
    swallow_connect_errors: bool,
    /// What the transport's methods do instead.
    transport: TransportFlaw,
}

#[derive(Clone, Copy, PartialEq)]
enum TransportFlaw {
    None,
    TruncateLargeSends,
    DisconnectDoesNothing,
    LaterDisconnectsHang,
    SendAfterDisconnectIsOk,
    DisconnectWaitsForSends,
}

impl Default for Flaw {
    fn default() -> Self {
        Flaw {
            tune: |f, _| f,
            events: |_, e| vec![e],
            unbounded: false,
            drain_after_drop: false,
            swallow_connect_errors: false,
            transport: TransportFlaw::None,
        }
    }
}

struct FlawedFactory {
    inner: WsTransportFactory,
    flaw: Flaw,
}

#[async_trait]
impl TransportFactory for FlawedFactory {
    async fn create_transport(
        &self,
    ) -> anyhow::Result<(Arc<dyn Transport>, Receiver<TransportEvent>)> {
        let (transport, events) = match self.inner.create_transport().await {
            Ok(pair) => pair,
            Err(_) if self.flaw.swallow_connect_errors => {
                let (tx, rx) = async_channel::bounded(4);
                let _ = tx.try_send(TransportEvent::Connected);
                let _ = tx.try_send(TransportEvent::Disconnected(DisconnectReason::Unknown));
                let dead: Arc<dyn Transport> = Arc::new(FlawedTransport {
                    inner: None,
                    flaw: TransportFlaw::None,
                    disconnects: AtomicUsize::new(0),
                    disconnected: AtomicBool::new(true),
                    in_send: Default::default(),
                });
                return Ok((dead, rx));
            }
            Err(e) => return Err(e),
        };
        let transport: Arc<dyn Transport> = Arc::new(FlawedTransport {
            inner: Some(transport),
            flaw: self.flaw.transport,
            disconnects: AtomicUsize::new(0),
            disconnected: AtomicBool::new(false),
            in_send: Default::default(),
        });
        Ok((transport, forward(events, self.flaw)))
    }
}

/// A thread that moves events from the real channel to the one returned,
/// rewriting them as the flaw says.
fn forward(real: Receiver<TransportEvent>, flaw: Flaw) -> Receiver<TransportEvent> {
    let (tx, rx) = if flaw.unbounded {
        async_channel::unbounded()
    } else {
        async_channel::bounded(64)
    };
    std::thread::spawn(move || {
        futures::executor::block_on(async move {
            let mut count = 0;
            while let Ok(event) = real.recv().await {
                for event in (flaw.events)(count, event) {
                    count += 1;
                    if tx.send(event).await.is_err() && !flaw.drain_after_drop {
                        return;
                    }
                }
            }
        })
    });
    rx
}

struct FlawedTransport {
    inner: Option<Arc<dyn Transport>>,
    flaw: TransportFlaw,
    disconnects: AtomicUsize,
    disconnected: AtomicBool,
    // Held across each send, taken by disconnect (DisconnectWaitsForSends).
    in_send: futures::lock::Mutex<()>,
}

#[async_trait]
impl Transport for FlawedTransport {
    async fn send(&self, mut data: Bytes) -> anyhow::Result<()> {
        let Some(inner) = &self.inner else {
            anyhow::bail!("gone")
        };
        if self.flaw == TransportFlaw::SendAfterDisconnectIsOk
            && self.disconnected.load(Ordering::SeqCst)
        {
            return Ok(());
        }
        if self.flaw == TransportFlaw::TruncateLargeSends && data.len() > 1 << 20 {
            data.truncate(1 << 20);
        }
        let _sending = self.in_send.lock().await;
        inner.send(data).await
    }

    async fn disconnect(&self) {
        self.disconnected.store(true, Ordering::SeqCst);
        let Some(inner) = &self.inner else { return };
        let call = self.disconnects.fetch_add(1, Ordering::SeqCst);
        let _no_send = match self.flaw {
            TransportFlaw::DisconnectWaitsForSends => Some(self.in_send.lock().await),
            _ => None,
        };
        match self.flaw {
            TransportFlaw::DisconnectDoesNothing => {}
            TransportFlaw::LaterDisconnectsHang if call > 0 => std::future::pending().await,
            _ => inner.disconnect().await,
        }
    }
}

fn assert_caught(check: &str, flaw: Flaw) {
    let name = format!("transport::{check}");
    let check = all_checks()
        .into_iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no check {name}"));
    let subject = TransportUnderTest::new(
        "flawed",
        Capabilities::with_proxies(),
        Executor::Plain,
        move |target| {
            let inner = reference(target, flaw.tune)?;
            Ok(Arc::new(FlawedFactory { inner, flaw }) as Arc<dyn TransportFactory>)
        },
    );
    let report = Executor::Plain.block_on(run_check(&check, &subject, &Expectations::none()));
    match report.outcome {
        Outcome::Failed { message } => eprintln!("caught by {}: {message}", report.check),
        other => panic!("{} missed the flaw: {other:?}", report.check),
    }
}

/// `flaw!(name, caught_by: check, Flaw { .. })`: a test that the check fails.
macro_rules! flaw {
    ($(#[$doc:meta])* $name:ident, caught_by: $check:ident, $flaw:expr) => {
        $(#[$doc])*
        #[test]
        fn $name() {
            assert_caught(stringify!($check), $flaw);
        }
    };
}

flaw!(
    /// The `Connected` event is never sent.
    no_connected_event,
    caught_by: connected_comes_first,
    Flaw { events: |_, e| if matches!(e, TransportEvent::Connected) { vec![] } else { vec![e] }, ..Flaw::default() }
);

flaw!(
    /// Pairs of data events are delivered swapped.
    reorders_data,
    caught_by: data_arrives_in_order_and_whole,
    Flaw {
        events: |n, e| match e {
            // Hold nothing back: swap the bytes within each chunk instead,
            // which breaks order without changing counts.
            TransportEvent::DataReceived(d) if n % 2 == 1 && d.len() > 1 => {
                let mut v = d.to_vec();
                let half = v.len() / 2;
                v.rotate_left(half);
                vec![TransportEvent::DataReceived(v.into())]
            }
            other => vec![other],
        },
        ..Flaw::default()
    }
);

flaw!(
    /// Sends over 1 MiB are cut to 1 MiB.
    truncates_large_sends,
    caught_by: large_frames_pass_whole,
    Flaw { transport: TransportFlaw::TruncateLargeSends, ..Flaw::default() }
);

flaw!(
    /// The upgrade carries another Origin.
    wrong_origin,
    caught_by: upgrade_sends_the_web_origin,
    Flaw { tune: |f, _| f.with_origin("https://example.com"), ..Flaw::default() }
);

flaw!(
    /// A close frame's code is lost.
    drops_close_code,
    caught_by: server_close_4xxx_keeps_code_and_reason,
    Flaw {
        events: |_, e| match e {
            TransportEvent::Disconnected(DisconnectReason::ServerClose { reason, .. }) => {
                vec![TransportEvent::Disconnected(DisconnectReason::ServerClose { code: None, reason })]
            }
            other => vec![other],
        },
        ..Flaw::default()
    }
);

flaw!(
    /// A going-away close (1001) is reported as a normal one (1000).
    going_away_as_normal,
    caught_by: server_close_1001_is_clean,
    Flaw {
        events: |_, e| match e {
            TransportEvent::Disconnected(DisconnectReason::ServerClose { code: Some(1001), reason }) => {
                vec![TransportEvent::Disconnected(DisconnectReason::ServerClose { code: Some(1000), reason })]
            }
            other => vec![other],
        },
        ..Flaw::default()
    }
);

flaw!(
    /// EOF is reported as a read error.
    eof_as_read_error,
    caught_by: eof_without_close_is_stream_ended,
    Flaw {
        events: |_, e| match e {
            TransportEvent::Disconnected(DisconnectReason::StreamEnded) => {
                vec![TransportEvent::Disconnected(DisconnectReason::ReadError("eof".into()))]
            }
            other => vec![other],
        },
        ..Flaw::default()
    }
);

flaw!(
    /// A read error is reported as a clean EOF.
    read_error_as_eof,
    caught_by: reset_mid_frame_is_read_error,
    Flaw {
        events: |_, e| match e {
            TransportEvent::Disconnected(DisconnectReason::ReadError(_)) => {
                vec![TransportEvent::Disconnected(DisconnectReason::StreamEnded)]
            }
            other => vec![other],
        },
        ..Flaw::default()
    }
);

flaw!(
    /// `Disconnected` is delivered twice.
    disconnected_twice,
    caught_by: server_close_1000_is_clean,
    Flaw {
        events: |_, e| match e {
            TransportEvent::Disconnected(r) => vec![TransportEvent::Disconnected(r.clone()), TransportEvent::Disconnected(r)],
            other => vec![other],
        },
        ..Flaw::default()
    }
);

flaw!(
    /// `disconnect` does nothing: no close frame, no `Disconnected`.
    disconnect_does_nothing,
    caught_by: disconnect_sends_close_1000,
    Flaw { transport: TransportFlaw::DisconnectDoesNothing, ..Flaw::default() }
);

flaw!(
    /// Every `disconnect` after the first never returns.
    second_disconnect_hangs,
    caught_by: disconnect_is_idempotent,
    Flaw { transport: TransportFlaw::LaterDisconnectsHang, ..Flaw::default() }
);

flaw!(
    /// `send` after `disconnect` pretends to succeed.
    send_after_disconnect_is_ok,
    caught_by: send_after_disconnect_fails,
    Flaw { transport: TransportFlaw::SendAfterDisconnectIsOk, ..Flaw::default() }
);

flaw!(
    /// `disconnect` waits for a pending `send` to finish first.
    disconnect_waits_for_sends,
    caught_by: disconnect_returns_while_a_send_is_stalled,
    Flaw { transport: TransportFlaw::DisconnectWaitsForSends, ..Flaw::default() }
);

flaw!(
    /// Events pile up in an unbounded channel, the socket read eagerly.
    unbounded_events,
    caught_by: slow_reader_gets_backpressure,
    Flaw { unbounded: true, ..Flaw::default() }
);

flaw!(
    /// The pump keeps reading after the receiver is dropped.
    reads_after_receiver_dropped,
    caught_by: dropped_receiver_stops_reading,
    Flaw { drain_after_drop: true, unbounded: true, ..Flaw::default() }
);

flaw!(
    /// A failed connect is hidden behind a transport that is already gone.
    connect_error_as_ok,
    caught_by: refused_connection_is_err,
    Flaw { swallow_connect_errors: true, ..Flaw::default() }
);

flaw!(
    /// The same, seen through a certificate no trusted root signed.
    certificate_error_as_ok,
    caught_by: untrusted_certificate_is_err,
    Flaw { swallow_connect_errors: true, ..Flaw::default() }
);

flaw!(
    /// The proxy setting is ignored: it connects directly.
    ignores_the_proxy,
    caught_by: through_http_connect,
    Flaw {
        tune: |_, t| WsTransportFactory::new(runtime())
            .with_url(t.url.clone())
            .with_tls(TlsOptions::default().without_webpki_roots().add_root_certificate(t.ca.clone())),
        ..Flaw::default()
    }
);

flaw!(
    /// The proxy's credentials are dropped.
    drops_proxy_credentials,
    caught_by: through_socks5_with_credentials,
    Flaw {
        tune: |f, t| {
            let bare = t.proxy.as_deref().map(|p| {
                let (scheme, rest) = p.split_once("://").unwrap_or(("socks5", p));
                format!("{scheme}://{}", rest.rsplit_once('@').map_or(rest, |(_, host)| host))
            });
            match bare {
                Some(url) => f.with_proxy(Proxy::parse(&url).expect("a proxy URL")),
                None => f,
            }
        },
        ..Flaw::default()
    }
);
