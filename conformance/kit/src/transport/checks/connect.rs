//! Failing to connect: a refused connection and an untrusted certificate
//! are `Err` from `create_transport`, promptly (the client gives a connect
//! 20 s and then retries; a hang or an `Ok` would hide the failure).

use super::{check, register, try_connect, untrusted};
use crate::net::{WsServer, closed_port};
use crate::{Failure, ensure};

register!(refused_connection_is_err, untrusted_certificate_is_err);

check!(
    refused_connection_is_err,
    Contract,
    "create_transport to a port nobody listens on returns Err within 10 s",
    |subject| {
        let port = closed_port()?;
        let url = format!("wss://127.0.0.1:{port}/ws/chat");
        match try_connect(&subject, &url, None).await? {
            Ok(_) => Err(Failure(format!(
                "create_transport to {url} (nobody listening) returned Ok"
            ))),
            Err(e) => Ok(Some(format!("Err: {e:#}"))),
        }
    }
);

check!(
    untrusted_certificate_is_err,
    Contract,
    "create_transport to a server whose certificate no trusted root signed returns Err within \
     10 s, and no event is ever delivered",
    |subject| {
        let server = WsServer::start(untrusted()?.server_config(), |_| Ok(String::new()))
            .map_err(|e| Failure(format!("the kit could not listen: {e}")))?;
        let result = try_connect(&subject, &server.url, None).await?;
        ensure!(
            result.is_err(),
            "create_transport accepted a certificate from an untrusted CA"
        );
        Ok(result.err().map(|e| format!("Err: {e:#}")))
    }
);
