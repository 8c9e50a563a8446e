//! The blocking streaming methods: `supports_*` say what the client does;
//! a download is read as it arrives (bounded memory) and keeps its status;
//! an upload carries an exact `Content-Length`, never chunked, and sends
//! exactly that many bytes (WhatsApp's CDN refuses chunked uploads; wacore
//! net.rs `execute_upload`).

use std::io::Read;
use std::time::Duration;

use wacore::net::{HttpRequest, HttpResponse};

use super::{blocking, check, client, register, server};
use crate::net::{Seen, pattern_byte};
use crate::{Failure, ensure, ensure_eq};

register!(
    streaming_flag_matches_behaviour,
    streaming_keeps_error_statuses,
    streaming_download_in_bounded_memory,
    upload_flag_matches_behaviour,
    upload_has_exact_content_length,
    upload_never_exceeds_content_length,
    short_upload_is_err,
);

const SLOW: Duration = Duration::from_secs(60);

/// How far ahead of the reader the server may be without the client
/// buffering: the socket buffers of both ends at their largest (on Linux
/// the receive buffer autotunes up to `tcp_rmem`'s maximum, 32 MiB on some
/// machines, which a fixed 24 MiB allowance failed on) plus 8 MiB for the
/// client's own buffers; and the download, twice that plus 16 MiB (at
/// least 64 MiB), so a client that buffers it whole is well past the
/// allowance.
fn download_and_allowance() -> (u64, u64) {
    let max_of = |path: &str| -> Option<u64> {
        let text = std::fs::read_to_string(path).ok()?;
        text.split_whitespace().last()?.parse().ok()
    };
    let socket_buffers = match (
        max_of("/proc/sys/net/ipv4/tcp_rmem"),
        max_of("/proc/sys/net/ipv4/tcp_wmem"),
    ) {
        (Some(receive), Some(send)) => receive + send,
        _ => 16 << 20,
    };
    let allowance = socket_buffers + (8 << 20);
    let download = (2 * allowance + (16 << 20)).max(64 << 20);
    (download, allowance)
}

check!(
    streaming_flag_matches_behaviour,
    Contract,
    "supports_streaming() is true exactly when execute_streaming works (the client picks the \
     download path by it)",
    |subject| {
        let server = server()?;
        let client = client(&subject, None)?;
        let claims = client.supports_streaming();
        let url = format!("{}/bytes/100000", server.base);
        let result = blocking(super::BOUND, move || {
            client
                .execute_streaming(HttpRequest::get(url))
                .and_then(|mut r| {
                    let mut body = Vec::new();
                    r.body.read_to_end(&mut body)?;
                    Ok((r.status_code, body))
                })
        })
        .await?;
        match (claims, result) {
            (true, Ok((status, body))) => {
                ensure_eq!(status, 200, "status");
                ensure_eq!(body.len(), 100_000, "bytes streamed");
                ensure!(
                    body.iter()
                        .enumerate()
                        .all(|(i, b)| *b == pattern_byte(i as u64)),
                    "the streamed bytes differ"
                );
                Ok(None)
            }
            (false, Err(_)) => Ok(Some("does not stream, and says so".into())),
            (true, Err(e)) => Err(Failure(format!(
                "supports_streaming() is true but execute_streaming failed: {e:#}"
            ))),
            (false, Ok(_)) => Err(Failure(
                "supports_streaming() is false but execute_streaming works".into(),
            )),
        }
    }
);

check!(
    streaming_keeps_error_statuses,
    Contract,
    "execute_streaming answers 404 and 410 with Ok and their status, as execute does",
    |subject| {
        let server = server()?;
        let client = client(&subject, None)?;
        if !client.supports_streaming() {
            return Ok(Some("does not stream".into()));
        }
        for code in [404u16, 410] {
            let url = format!("{}/status/{code}", server.base);
            let client = client.clone();
            let status = blocking(super::BOUND, move || {
                client
                    .execute_streaming(HttpRequest::get(url))
                    .map(|r| r.status_code)
            })
            .await?
            .map_err(|e| {
                Failure(format!(
                    "status {code}: execute_streaming returned Err: {e:#}"
                ))
            })?;
            ensure_eq!(status, code, "status");
        }
        Ok(None)
    }
);

check!(
    streaming_download_in_bounded_memory,
    Contract,
    "a download of at least 64 MiB through execute_streaming is read as it arrives: the server is \
     never further ahead of the reader than the socket buffers' maximum plus 8 MiB, and every \
     byte arrives in order",
    |subject| {
        let server = std::sync::Arc::new(server()?);
        let client = client(&subject, None)?;
        if !client.supports_streaming() {
            return Ok(Some(
                "does not stream: media downloads go through execute".into(),
            ));
        }
        let (download, max_ahead) = download_and_allowance();
        let url = format!("{}/bytes/{download}", server.base);
        let watch = server.clone();
        blocking(SLOW, move || -> Result<(), Failure> {
            let response = client
                .execute_streaming(HttpRequest::get(url))
                .map_err(|e| Failure(format!("execute_streaming returned Err: {e:#}")))?;
            ensure_eq!(response.status_code, 200, "status");
            let mut body = response.body;
            let (mut read, mut buf) = (0u64, vec![0u8; 64 * 1024]);
            loop {
                // Pause now and then, so a client that buffers runs ahead.
                if read % (8 << 20) == 0 {
                    std::thread::sleep(Duration::from_millis(200));
                    let ahead = watch.streamed().saturating_sub(read);
                    ensure!(
                        ahead <= max_ahead,
                        "after {} MiB read the server had sent {} MiB (at most {} MiB of socket \
                         and client buffers allowed): the client buffers the body",
                        read >> 20,
                        watch.streamed() >> 20,
                        max_ahead >> 20
                    );
                }
                let n = body
                    .read(&mut buf)
                    .map_err(|e| Failure(format!("reading the body after {read} bytes: {e}")))?;
                if n == 0 {
                    break;
                }
                for (i, b) in buf[..n].iter().enumerate() {
                    if *b != pattern_byte(read + i as u64) {
                        return Err(Failure(format!("byte {} differs", read + i as u64)));
                    }
                }
                read += n as u64;
            }
            ensure_eq!(read, download, "bytes read");
            Ok(())
        })
        .await??;
        Ok(None)
    }
);

check!(
    upload_flag_matches_behaviour,
    Contract,
    "supports_upload_streaming() is true exactly when execute_upload works",
    |subject| {
        let server = server()?;
        let client = client(&subject, None)?;
        let claims = client.supports_upload_streaming();
        let url = format!("{}/upload", server.base);
        let result = blocking(super::BOUND, move || {
            client.execute_upload(
                HttpRequest::post(url),
                Box::new(std::io::Cursor::new(vec![7u8; 1000])),
                1000,
            )
        })
        .await?;
        match (claims, result) {
            (true, Ok(r)) => {
                ensure_eq!(r.status_code, 200, "status");
                Ok(None)
            }
            (false, Err(_)) => Ok(Some("does not stream uploads, and says so".into())),
            (true, Err(e)) => Err(Failure(format!(
                "supports_upload_streaming() is true but execute_upload failed: {e:#}"
            ))),
            (false, Ok(_)) => Err(Failure(
                "supports_upload_streaming() is false but execute_upload works".into(),
            )),
        }
    }
);

/// Uploads `sent` bytes from a reader declared as `declared` long: the
/// client's result, and what the server saw. `None` if uploads are not streamed.
async fn upload(
    subject: &super::HttpUnderTest,
    sent: usize,
    declared: u64,
) -> Result<Option<(anyhow::Result<HttpResponse>, Option<Seen>)>, Failure> {
    let server = server()?;
    let client = client(subject, None)?;
    if !client.supports_upload_streaming() {
        return Ok(None);
    }
    let url = format!("{}/upload", server.base);
    // A body on the request must be ignored (wacore net.rs).
    let request = HttpRequest::post(url).with_body(b"IGNORED".to_vec());
    let result = blocking(SLOW, move || {
        client.execute_upload(
            request,
            Box::new(std::io::Cursor::new(vec![0x42u8; sent])),
            declared,
        )
    })
    .await?;
    Ok(Some((result, server.last("/upload"))))
}

check!(
    upload_has_exact_content_length,
    Contract,
    "execute_upload of 5 MiB sends `Content-Length: 5242880` and no chunked encoding, the body \
     from the reader (a body on the request is ignored)",
    |subject| {
        let Some((result, seen)) = upload(&subject, 5 << 20, 5 << 20).await? else {
            return Ok(Some("does not stream uploads".into()));
        };
        let response =
            result.map_err(|e| Failure(format!("execute_upload returned Err: {e:#}")))?;
        ensure_eq!(response.status_code, 200, "status");
        let seen = seen.ok_or_else(|| Failure("the server saw no upload".into()))?;
        ensure!(!seen.chunked, "the upload was sent chunked");
        ensure_eq!(
            seen.header("content-length"),
            Some("5242880"),
            "Content-Length"
        );
        ensure_eq!(seen.body_len, 5 << 20, "body bytes the server read");
        ensure_eq!(
            String::from_utf8_lossy(&response.body),
            "got 5242880",
            "the server's answer"
        );
        Ok(None)
    }
);

check!(
    upload_never_exceeds_content_length,
    Contract,
    "execute_upload never sends more than content_length bytes: with a reader holding 3,000 \
     bytes and content_length 1,000, the server reads exactly 1,000 (or the call is Err and \
     nothing past them is sent)",
    |subject| {
        let Some((result, seen)) = upload(&subject, 3000, 1000).await? else {
            return Ok(Some("does not stream uploads".into()));
        };
        if let Some(seen) = &seen {
            ensure_eq!(
                seen.header("content-length"),
                Some("1000"),
                "Content-Length"
            );
            ensure!(
                seen.body_len <= 1000,
                "the server read {} body bytes",
                seen.body_len
            );
        }
        Ok(Some(match result {
            Ok(_) => "sends the first content_length bytes".into(),
            Err(e) => format!("refuses the longer reader: {e:#}"),
        }))
    }
);

check!(
    short_upload_is_err,
    Contract,
    "execute_upload whose reader ends before content_length bytes returns Err (the request \
     cannot be completed as declared), within 60 s",
    |subject| {
        let Some((result, _)) = upload(&subject, 500, 1000).await? else {
            return Ok(Some("does not stream uploads".into()));
        };
        match result {
            Ok(r) => Err(Failure(format!(
                "a 500-byte body declared as 1,000 returned Ok (status {})",
                r.status_code
            ))),
            Err(e) => Ok(Some(format!("Err: {e:#}"))),
        }
    }
);
