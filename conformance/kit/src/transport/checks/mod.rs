//! The transport checks, one file per concern (events and data, how a
//! connection ends, flow control, failing to connect, proxies), each
//! listing its checks once with [`register!`].

mod connect;
mod ending;
mod events;
mod flow;
mod proxies;

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use async_channel::Receiver;
use wacore::net::{DisconnectReason, Transport, TransportEvent};

use super::{Check, Target, TransportUnderTest};
use crate::Failure;
use crate::net::{Session, TestPki, WsServer};

/// Every transport check, in report order.
pub fn all_checks() -> Vec<Check> {
    [
        events::checks(),
        ending::checks(),
        flow::checks(),
        connect::checks(),
        proxies::checks(),
    ]
    .concat()
}

/// How long a check waits for something a transport should do promptly (an
/// event, a close, a refusal): generous for a loaded CI machine.
pub(crate) const BOUND: Duration = Duration::from_secs(10);

/// Declares a transport check (see [`net_check`](crate::net::net_check)).
macro_rules! check {
    ($($args:tt)*) => {
        $crate::net::net_check!($crate::transport::TransportUnderTest, $($args)*);
    };
}
pub(crate) use check;

/// A file's transport checks, in report order, named `transport::check`.
macro_rules! register {
    ($($name:ident),* $(,)?) => {
        $crate::net::net_register!("transport", $crate::transport::TransportUnderTest; $($name),*);
    };
}
pub(crate) use register;

/// The CA the subject is told to trust, made once per process.
pub(crate) fn trusted() -> Result<&'static TestPki, Failure> {
    static PKI: OnceLock<Result<TestPki, String>> = OnceLock::new();
    PKI.get_or_init(|| TestPki::new("conformance kit CA").map_err(|e| format!("{e:#}")))
        .as_ref()
        .map_err(|e| Failure(format!("the kit could not make its CA: {e}")))
}

/// A CA the subject does not trust.
pub(crate) fn untrusted() -> Result<&'static TestPki, Failure> {
    static PKI: OnceLock<Result<TestPki, String>> = OnceLock::new();
    PKI.get_or_init(|| TestPki::new("stranger CA").map_err(|e| format!("{e:#}")))
        .as_ref()
        .map_err(|e| Failure(format!("the kit could not make its second CA: {e}")))
}

/// Starts a server (trusted certificate) running `script`.
pub(crate) fn serve(
    script: impl FnOnce(&mut Session) -> Result<String, String> + Send + 'static,
) -> Result<WsServer, Failure> {
    WsServer::start(trusted()?.server_config(), script)
        .map_err(|e| Failure(format!("the kit could not listen: {e}")))
}

/// A connection the subject made, and its events.
pub(crate) struct Connection {
    pub(crate) transport: Arc<dyn Transport>,
    pub(crate) events: Receiver<TransportEvent>,
}

/// Connects the subject to `url` (optionally through `proxy`); an `Err` or
/// a connect that takes longer than [`BOUND`] fails the check.
pub(crate) async fn connect(
    subject: &TransportUnderTest,
    url: &str,
    proxy: Option<String>,
) -> Result<Connection, Failure> {
    let (transport, events) = try_connect(subject, url, proxy)
        .await?
        .map_err(|e| Failure(format!("create_transport failed: {e:#}")))?;
    Ok(Connection { transport, events })
}

/// `create_transport`'s own result, or a failure if it took longer than [`BOUND`].
pub(crate) async fn try_connect(
    subject: &TransportUnderTest,
    url: &str,
    proxy: Option<String>,
) -> Result<anyhow::Result<(Arc<dyn Transport>, Receiver<TransportEvent>)>, Failure> {
    let target = Target {
        url: url.to_owned(),
        ca: trusted()?.ca(),
        proxy,
    };
    let factory = subject
        .factory(&target)
        .map_err(|e| Failure(format!("the subject could not build a factory: {e:#}")))?;
    crate::limit::within(BOUND, factory.create_transport())
        .await
        .ok_or_else(|| Failure(format!("create_transport did not return within {BOUND:?}")))
}

impl Connection {
    /// The next event; `None` once the channel is closed.
    pub(crate) async fn next(&self) -> Result<Option<TransportEvent>, Failure> {
        crate::limit::within(BOUND, self.events.recv())
            .await
            .map(Result::ok)
            .ok_or_else(|| {
                Failure(format!(
                    "no event and no close of the channel within {BOUND:?}"
                ))
            })
    }

    /// Takes the first event, which must be `Connected`.
    pub(crate) async fn connected(&self) -> Result<(), Failure> {
        match self.next().await? {
            Some(TransportEvent::Connected) => Ok(()),
            other => Err(Failure(format!(
                "the first event was {}, not Connected",
                describe(&other)
            ))),
        }
    }

    /// Sends `data`, failing the check on an `Err` or a send slower than [`BOUND`].
    pub(crate) async fn send(&self, data: Vec<u8>) -> Result<(), Failure> {
        crate::limit::within(BOUND, self.transport.send(data.into()))
            .await
            .ok_or_else(|| Failure(format!("send did not return within {BOUND:?}")))?
            .map_err(|e| Failure(format!("send failed: {e:#}")))
    }

    /// Reads `DataReceived` events until `len` bytes came (any chunking).
    pub(crate) async fn read_bytes(&self, len: usize) -> Result<Vec<u8>, Failure> {
        let mut data = Vec::with_capacity(len);
        while data.len() < len {
            match self.next().await? {
                Some(TransportEvent::DataReceived(chunk)) => data.extend_from_slice(&chunk),
                other => {
                    return Err(Failure(format!(
                        "after {} of {len} bytes came {}",
                        data.len(),
                        describe(&other)
                    )));
                }
            }
        }
        crate::ensure!(
            data.len() == len,
            "{} bytes came where {len} were sent",
            data.len()
        );
        Ok(data)
    }

    /// Reads to the end: data until one `Disconnected`, then the channel
    /// must close with no event after it. Returns the data and the reason.
    pub(crate) async fn read_to_end(&self) -> Result<(Vec<u8>, DisconnectReason), Failure> {
        let mut data = Vec::new();
        let reason = loop {
            match self.next().await? {
                Some(TransportEvent::DataReceived(chunk)) => data.extend_from_slice(&chunk),
                Some(TransportEvent::Disconnected(reason)) => break reason,
                other => {
                    return Err(Failure(format!(
                        "before Disconnected came {}",
                        describe(&other)
                    )));
                }
            }
        };
        match self.next().await? {
            None => Ok((data, reason)),
            Some(event) => Err(Failure(format!(
                "after Disconnected({reason:?}) came {}; the channel must close",
                describe(&Some(event))
            ))),
        }
    }
}

/// An event for a message: `Connected`, `DataReceived(n bytes)`, ...
pub(crate) fn describe(event: &Option<TransportEvent>) -> String {
    match event {
        None => "the channel's close".to_owned(),
        Some(TransportEvent::Connected) => "Connected".to_owned(),
        Some(TransportEvent::DataReceived(data)) => format!("DataReceived({} bytes)", data.len()),
        Some(TransportEvent::Disconnected(reason)) => format!("Disconnected({reason:?})"),
    }
}

/// Deterministic bytes: frame `index` of `len` bytes.
pub(crate) fn payload(index: usize, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i.wrapping_mul(31) ^ index.wrapping_mul(7)) as u8)
        .collect()
}

/// `future`'s output, or a failure saying `what` did not return within [`BOUND`].
pub(crate) async fn within_bound<T>(
    what: &str,
    future: impl std::future::Future<Output = T>,
) -> Result<T, Failure> {
    crate::limit::within(BOUND, future)
        .await
        .ok_or_else(|| Failure(format!("{what} did not return within {BOUND:?}")))
}
