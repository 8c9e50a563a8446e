//! What goes out: headers verbatim, GET and POST with and without a body.

use wacore::net::HttpRequest;

use super::{check, client, execute, register, server};
use crate::{Failure, ensure, ensure_eq};

register!(
    headers_go_out_verbatim,
    post_sends_its_body,
    post_without_body,
    other_methods_are_err
);

check!(
    headers_go_out_verbatim,
    Contract,
    "every request header reaches the server with its value unchanged (media requests carry \
     auth and range headers; wacore net.rs HttpRequest::with_header)",
    |subject| {
        let server = server()?;
        let client = client(&subject, None)?;
        let headers = [
            ("X-Kit-Token", "a b=c;d"),
            ("Authorization", "Bearer 0123456789abcdef"),
            ("Range", "bytes=0-1023"),
        ];
        let mut request = HttpRequest::get(format!("{}/headers", server.base));
        for (name, value) in headers {
            request = request.with_header(name, value);
        }
        let response = execute(&client, request).await?;
        ensure_eq!(response.status_code, 200, "status");
        let seen = server
            .last("/headers")
            .ok_or_else(|| Failure("the server saw no request".into()))?;
        for (name, value) in headers {
            ensure_eq!(
                seen.header(&name.to_ascii_lowercase()),
                Some(value),
                "header {name}"
            );
        }
        Ok(None)
    }
);

check!(
    post_sends_its_body,
    Contract,
    "a POST sends its body whole with its headers, and the response body comes back whole \
     (128 KiB each way)",
    |subject| {
        let server = server()?;
        let client = client(&subject, None)?;
        let body: Vec<u8> = (0..128 * 1024).map(|i| (i % 253) as u8).collect();
        let request = HttpRequest::post(format!("{}/echo", server.base))
            .with_header("Content-Type", "application/x-protobuf")
            .with_body(body.clone());
        let response = execute(&client, request).await?;
        ensure_eq!(response.status_code, 200, "status");
        ensure!(
            response.body == body,
            "the echoed body differs ({} bytes back)",
            response.body.len()
        );
        let seen = server
            .last("/echo")
            .ok_or_else(|| Failure("the server saw no request".into()))?;
        ensure_eq!(seen.method.as_str(), "POST", "method");
        ensure_eq!(
            seen.header("content-type"),
            Some("application/x-protobuf"),
            "content-type"
        );
        Ok(None)
    }
);

check!(
    post_without_body,
    Contract,
    "a POST with no body is sent (as an empty body) and answered",
    |subject| {
        let server = server()?;
        let client = client(&subject, None)?;
        let response = execute(&client, HttpRequest::post(format!("{}/echo", server.base))).await?;
        ensure_eq!(response.status_code, 200, "status");
        ensure!(
            response.body.is_empty(),
            "an empty POST echoed {} bytes",
            response.body.len()
        );
        Ok(None)
    }
);

check!(
    other_methods_are_err,
    ImplementationDefined,
    "the client sends GET and POST only; the kit reports what another method does",
    |subject| {
        let server = server()?;
        let client = client(&subject, None)?;
        let mut request = HttpRequest::get(format!("{}/status/200", server.base));
        request.method = "PUT".into();
        Ok(Some(match super::try_execute(&client, request).await? {
            Ok(r) => format!("PUT is sent (status {})", r.status_code),
            Err(e) => format!("PUT is refused: {e:#}"),
        }))
    }
);
