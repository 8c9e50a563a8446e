//! Proxies: through the kit's HTTP CONNECT and SOCKS5 proxies, with and
//! without credentials, the same echo works and goes through the proxy;
//! wrong credentials are a clear `Err`.

use super::{check, connect, payload, register, serve, try_connect};
use crate::net::{LoopbackProxy, ProxyProtocol, refused_for_credentials, start_proxy};
use crate::{CheckResult, Failure, ensure, ensure_eq};

register!(
    through_http_connect,
    through_http_connect_with_credentials,
    http_connect_wrong_credentials_are_err,
    through_socks5,
    through_socks5_with_credentials,
    socks5_wrong_credentials_are_err,
);

/// Echoes 20 frames through the proxy and checks one tunnel was opened.
async fn echo_through(
    subject: &crate::transport::TransportUnderTest,
    proxy: &LoopbackProxy,
) -> CheckResult {
    let server = serve(|s| s.echo_until_close())?;
    let conn = connect(subject, &server.url, Some(proxy.url())).await?;
    conn.connected().await?;
    let frames: Vec<Vec<u8>> = (0..20).map(|i| payload(i, 100 + i * 50)).collect();
    for frame in &frames {
        conn.send(frame.clone()).await?;
    }
    let received = conn.read_bytes(frames.concat().len()).await?;
    ensure!(
        received == frames.concat(),
        "the echo through the proxy differs"
    );
    conn.transport.disconnect().await;
    ensure_eq!(
        proxy.tunnels(),
        1,
        "tunnels the proxy opened (did the transport go around it?)"
    );
    Ok(None)
}

/// Wrong credentials: `Err` within the bound, whose message says why.
async fn refused(
    subject: &crate::transport::TransportUnderTest,
    proxy: &LoopbackProxy,
) -> CheckResult {
    let server = serve(|_| Ok(String::new()))?;
    let result = try_connect(
        subject,
        &server.url,
        Some(proxy.url_with("mallory", "guess")),
    )
    .await?;
    let error = match result {
        Ok(_) => {
            return Err(Failure(
                "connected through the proxy with wrong credentials".into(),
            ));
        }
        Err(e) => format!("{e:#}"),
    };
    refused_for_credentials(proxy, error)
}

check!(
    through_http_connect,
    Contract,
    "a transport that claims proxies connects through an HTTP CONNECT proxy (custom-backends \
     guide; whatsapp-rust issues #535/#536)",
    needs_proxies: true,
    |subject| { echo_through(&subject, &start_proxy(ProxyProtocol::HttpConnect, None)?).await }
);

check!(
    through_http_connect_with_credentials,
    Contract,
    "through an HTTP CONNECT proxy that requires Basic credentials, given in the proxy URL",
    needs_proxies: true,
    |subject| { echo_through(&subject, &start_proxy(ProxyProtocol::HttpConnect, Some(("alice", "s3cret")))?).await }
);

check!(
    http_connect_wrong_credentials_are_err,
    Contract,
    "wrong credentials for an HTTP CONNECT proxy are an Err within 10 s that says so",
    needs_proxies: true,
    |subject| { refused(&subject, &start_proxy(ProxyProtocol::HttpConnect, Some(("alice", "s3cret")))?).await }
);

check!(
    through_socks5,
    Contract,
    "a transport that claims proxies connects through a SOCKS5 proxy",
    needs_proxies: true,
    |subject| { echo_through(&subject, &start_proxy(ProxyProtocol::Socks5, None)?).await }
);

check!(
    through_socks5_with_credentials,
    Contract,
    "through a SOCKS5 proxy that requires username/password (RFC 1929), given in the proxy URL",
    needs_proxies: true,
    |subject| { echo_through(&subject, &start_proxy(ProxyProtocol::Socks5, Some(("alice", "s3cret")))?).await }
);

check!(
    socks5_wrong_credentials_are_err,
    Contract,
    "wrong credentials for a SOCKS5 proxy are an Err within 10 s that says so",
    needs_proxies: true,
    |subject| { refused(&subject, &start_proxy(ProxyProtocol::Socks5, Some(("alice", "s3cret")))?).await }
);
