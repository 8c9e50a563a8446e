//! Pieces the transport and http checks share: the proxies they start, what
//! a refusal of wrong proxy credentials must say, a port nobody listens on.

use std::net::{Ipv4Addr, TcpListener};

use super::{LoopbackProxy, ProxyProtocol};
use crate::{CheckResult, Failure, ensure, ensure_eq};

/// A loopback proxy, or a failure saying the kit could not start it.
pub(crate) fn start_proxy(
    protocol: ProxyProtocol,
    credentials: Option<(&str, &str)>,
) -> Result<LoopbackProxy, Failure> {
    LoopbackProxy::start(protocol, credentials)
        .map_err(|e| Failure(format!("the kit could not start its proxy: {e}")))
}

/// A connection with wrong credentials failed with `error`: it must say the
/// credentials were refused, and `proxy` must have opened no tunnel.
pub(crate) fn refused_for_credentials(proxy: &LoopbackProxy, error: String) -> CheckResult {
    let lower = error.to_ascii_lowercase();
    ensure!(
        ["credential", "auth", "407", "password"]
            .iter()
            .any(|w| lower.contains(w)),
        "the error does not say the credentials were refused: {error}"
    );
    ensure_eq!(proxy.tunnels(), 0, "tunnels opened with wrong credentials");
    Ok(Some(format!("Err: {error}")))
}

/// A loopback port nobody listens on (bound, then let go).
pub(crate) fn closed_port() -> Result<u16, Failure> {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| Failure(format!("the kit could not find a free port: {e}")))
}
