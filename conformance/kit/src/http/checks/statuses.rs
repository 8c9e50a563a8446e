//! A completed exchange is `Ok` whatever its status, with its body: media
//! download and upload read 401/403 (refresh the media auth), 404/410
//! (re-derive the URL) and 5xx (next host) from `status_code` (wacore
//! net.rs HttpClient; whatsapp-rust PR #1188).

use wacore::net::HttpRequest;

use super::{check, client, execute, register, server};
use crate::{CheckResult, ensure_eq};

register!(
    success_statuses_with_bodies,
    client_error_statuses_are_ok,
    server_error_status_is_ok
);

/// GET and POST `/status/{code}` for each code: `Ok`, that code, that body.
async fn statuses(subject: &super::HttpUnderTest, codes: &[u16]) -> CheckResult {
    let server = server()?;
    let client = client(subject, None)?;
    for &code in codes {
        let url = format!("{}/status/{code}", server.base);
        for request in [
            HttpRequest::get(url.clone()),
            HttpRequest::post(url.clone()).with_body(b"x".to_vec()),
        ] {
            let method = request.method.clone();
            let response = execute(&client, request).await?;
            ensure_eq!(response.status_code, code, "{method} {url}: status");
            let body = if code == 204 {
                String::new()
            } else {
                format!("status {code}")
            };
            ensure_eq!(
                String::from_utf8_lossy(&response.body),
                body,
                "{method} {url}: body"
            );
        }
    }
    Ok(None)
}

check!(
    success_statuses_with_bodies,
    Contract,
    "200 and 204 are Ok with their status and body (none for 204)",
    |subject| { statuses(&subject, &[200, 204]).await }
);

check!(
    client_error_statuses_are_ok,
    Contract,
    "401, 403, 404 and 410 are Ok with their status and body, never Err: the media paths refresh \
     the auth token on 401/403 and re-derive the URL on 404/410 from status_code (wacore net.rs)",
    |subject| { statuses(&subject, &[401, 403, 404, 410]).await }
);

check!(
    server_error_status_is_ok,
    Contract,
    "500 is Ok with its status and body (the media paths move to the next host on 5xx)",
    |subject| { statuses(&subject, &[500]).await }
);
