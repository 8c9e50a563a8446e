//! Loopback servers the `transport` and `http` families run against: a CA
//! made per run ([`TestPki`]), a scripted TLS WebSocket server, an HTTP
//! server, and HTTP CONNECT and SOCKS5 proxies. Each runs on threads of its
//! own with blocking sockets, so it works beside any executor, and every
//! socket has a deadline, so a client that stops talking cannot hang it.

mod family;
mod http_server;
mod pki;
mod proxy;
mod shared_checks;
mod ws_server;

use std::time::Duration;

pub use family::{
    Capabilities, Check, Subject, run_check, run_check_within, run_suite, test_main, test_main_each,
};
pub(crate) use family::{net_check, net_register};
pub use http_server::HttpServer;
pub(crate) use http_server::{Seen, pattern_byte};

pub use pki::TestPki;
pub use proxy::{LoopbackProxy, ProxyProtocol};
pub(crate) use shared_checks::{closed_port, refused_for_credentials, start_proxy};
pub use ws_server::EchoServer;
pub(crate) use ws_server::{Session, WsServer};

/// How long a kit server waits on a silent peer before giving up.
pub(crate) const SOCKET_DEADLINE: Duration = Duration::from_secs(20);

/// Runs `work` on a thread of its own and awaits its result without
/// blocking the executor (for the trait's blocking methods and for waiting
/// on servers).
pub(crate) async fn on_thread<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Option<T> {
    let (done, result) = futures::channel::oneshot::channel();
    std::thread::spawn(move || {
        let _ = done.send(work());
    });
    result.await.ok()
}
