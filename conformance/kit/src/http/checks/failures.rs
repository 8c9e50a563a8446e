//! When the exchange never happens: a refused connection and a server that
//! never answers are `Err`, promptly (`Err` is for DNS, connect, TLS,
//! timeout; wacore net.rs).

use wacore::net::HttpRequest;

use super::{TIMEOUT, check, client, register, server, try_execute};
use crate::Failure;
use crate::net::closed_port;

register!(refused_connection_is_err, stalled_server_times_out);

check!(
    refused_connection_is_err,
    Contract,
    "a request to a port nobody listens on is Err within 10 s",
    |subject| {
        let port = closed_port()?;
        let client = client(&subject, None)?;
        match try_execute(
            &client,
            HttpRequest::get(format!("http://127.0.0.1:{port}/")),
        )
        .await?
        {
            Ok(r) => Err(Failure(format!(
                "a refused connection returned Ok (status {})",
                r.status_code
            ))),
            Err(e) => Ok(Some(format!("Err: {e:#}"))),
        }
    }
);

check!(
    stalled_server_times_out,
    Contract,
    "a server that accepts and never answers fails the request with Err once the client's \
     timeout (the target's 2 s) has passed, within 10 s",
    |subject| {
        let server = server()?;
        let client = client(&subject, None)?;
        let start = std::time::Instant::now();
        match try_execute(&client, HttpRequest::get(format!("{}/stall", server.base))).await? {
            Ok(r) => Err(Failure(format!(
                "a stalled server returned Ok (status {})",
                r.status_code
            ))),
            Err(e) => Ok(Some(format!(
                "Err after {:.1} s (asked for {TIMEOUT:?}): {e:#}",
                start.elapsed().as_secs_f64()
            ))),
        }
    }
);
