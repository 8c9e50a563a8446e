//! Proxies: through the kit's HTTP CONNECT and SOCKS5 proxies, with and
//! without credentials, requests reach the server; wrong credentials are a
//! clear `Err`.

use wacore::net::HttpRequest;

use super::{check, client, execute, register, server, try_execute};
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

/// A POST through the proxy reaches the server, through a tunnel.
async fn through(subject: &super::HttpUnderTest, proxy: &LoopbackProxy) -> CheckResult {
    let server = server()?;
    let client = client(subject, Some(proxy.url()))?;
    let response = execute(
        &client,
        HttpRequest::post(format!("{}/echo", server.base)).with_body(b"via".to_vec()),
    )
    .await?;
    ensure_eq!(response.status_code, 200, "status");
    ensure_eq!(response.body, b"via".to_vec(), "body");
    ensure!(
        proxy.tunnels() >= 1,
        "the proxy opened no tunnel: the client went around it"
    );
    Ok(None)
}

/// Wrong credentials: `Err` within the bound, whose message says why.
async fn refused(subject: &super::HttpUnderTest, proxy: &LoopbackProxy) -> CheckResult {
    let server = server()?;
    let client = client(subject, Some(proxy.url_with("mallory", "guess")))?;
    let error = match try_execute(
        &client,
        HttpRequest::get(format!("{}/status/200", server.base)),
    )
    .await?
    {
        Ok(r) => {
            return Err(Failure(format!(
                "wrong proxy credentials returned Ok (status {})",
                r.status_code
            )));
        }
        Err(e) => format!("{e:#}"),
    };
    refused_for_credentials(proxy, error)
}

check!(
    through_http_connect,
    Contract,
    "a client that claims proxies goes through an HTTP CONNECT proxy (whatsapp-rust #535/#536)",
    needs_proxies: true,
    |subject| { through(&subject, &start_proxy(ProxyProtocol::HttpConnect, None)?).await }
);

check!(
    through_http_connect_with_credentials,
    Contract,
    "through an HTTP CONNECT proxy that requires Basic credentials, given in the proxy URL",
    needs_proxies: true,
    |subject| { through(&subject, &start_proxy(ProxyProtocol::HttpConnect, Some(("alice", "s3cret")))?).await }
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
    "a client that claims proxies goes through a SOCKS5 proxy",
    needs_proxies: true,
    |subject| { through(&subject, &start_proxy(ProxyProtocol::Socks5, None)?).await }
);

check!(
    through_socks5_with_credentials,
    Contract,
    "through a SOCKS5 proxy that requires username/password (RFC 1929), given in the proxy URL",
    needs_proxies: true,
    |subject| { through(&subject, &start_proxy(ProxyProtocol::Socks5, Some(("alice", "s3cret")))?).await }
);

check!(
    socks5_wrong_credentials_are_err,
    Contract,
    "wrong credentials for a SOCKS5 proxy are an Err within 10 s that says so",
    needs_proxies: true,
    |subject| { refused(&subject, &start_proxy(ProxyProtocol::Socks5, Some(("alice", "s3cret")))?).await }
);
