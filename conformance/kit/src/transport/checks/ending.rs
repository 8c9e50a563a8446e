//! How a connection ends: the server's close frame (1000, 1001, 4xxx) and
//! its reason, EOF without a close frame, a reset mid-frame, and our own
//! `disconnect` (code 1000, idempotent, `send` after it fails). Each ends
//! with exactly one `Disconnected`, then the channel's close.

use futures::future::join;
use wacore::net::DisconnectReason;

use super::{Connection, check, connect, register, serve, within_bound};
use crate::net::Session;
use crate::{CheckResult, Failure, ensure, ensure_eq};

register!(
    server_close_1000_is_clean,
    server_close_1001_is_clean,
    server_close_4xxx_keeps_code_and_reason,
    eof_without_close_is_stream_ended,
    reset_mid_frame_is_read_error,
    disconnect_sends_close_1000,
    disconnect_is_idempotent,
    send_after_disconnect_fails,
    disconnect_returns_while_a_send_is_stalled,
);

/// The server sends "bye" then ends as `end` does; the subject must deliver
/// the data, then one `Disconnected` whose reason passes `expect`, then close.
async fn server_ends(
    subject: &crate::transport::TransportUnderTest,
    end: impl FnOnce(&mut Session) -> Result<String, String> + Send + 'static,
    expect: impl FnOnce(&DisconnectReason) -> Result<(), String>,
) -> CheckResult {
    let server = serve(move |s| {
        s.send(b"bye".to_vec())?;
        end(s)
    })?;
    let conn = connect(subject, &server.url, None).await?;
    conn.connected().await?;
    let (data, reason) = conn.read_to_end().await?;
    ensure_eq!(data, b"bye".to_vec(), "the data sent before the end");
    expect(&reason).map_err(|e| Failure(format!("Disconnected({reason:?}): {e}")))?;
    conn.transport.disconnect().await;
    Ok(None)
}

fn server_close(
    code: u16,
    reason: &str,
    clean: bool,
) -> impl FnOnce(&DisconnectReason) -> Result<(), String> {
    let wanted = reason.to_owned();
    move |got| {
        match got {
            DisconnectReason::ServerClose {
                code: Some(c),
                reason,
            } if *c == code && *reason == wanted => {}
            _ => {
                return Err(format!(
                    "expected ServerClose {{ code: Some({code}), reason: {wanted:?} }}"
                ));
            }
        }
        if got.is_clean_shutdown() != clean {
            return Err(format!("is_clean_shutdown() must be {clean}"));
        }
        Ok(())
    }
}

check!(
    server_close_1000_is_clean,
    Contract,
    "a close frame 1000 with a reason ends as ServerClose { code: Some(1000), reason }, a clean \
     shutdown (wacore net.rs DisconnectReason)",
    |subject| {
        server_ends(
            &subject,
            |s| s.close(1000, "recycle"),
            server_close(1000, "recycle", true),
        )
        .await
    }
);

check!(
    server_close_1001_is_clean,
    Contract,
    "a close frame 1001 (going away) ends as ServerClose { code: Some(1001), .. }, a clean shutdown",
    |subject| {
        server_ends(
            &subject,
            |s| s.close(1001, "going away"),
            server_close(1001, "going away", true),
        )
        .await
    }
);

check!(
    server_close_4xxx_keeps_code_and_reason,
    Contract,
    "an application close code (4xxx) and its reason reach the client unchanged, and are not a \
     clean shutdown (they stay loud in the client's logs)",
    |subject| {
        server_ends(
            &subject,
            |s| s.close(4008, "stream replaced"),
            server_close(4008, "stream replaced", false),
        )
        .await
    }
);

check!(
    eof_without_close_is_stream_ended,
    Contract,
    "the stream ending without a close frame (how WhatsApp's servers recycle a connection) ends \
     as StreamEnded, a clean shutdown",
    |subject| {
        server_ends(
            &subject,
            |s| s.end_stream(),
            |r| match r {
                DisconnectReason::StreamEnded => Ok(()),
                _ => Err("expected StreamEnded".into()),
            },
        )
        .await
    }
);

check!(
    reset_mid_frame_is_read_error,
    Contract,
    "a connection reset in the middle of a frame ends as ReadError, never a clean shutdown; the \
     half frame is not delivered",
    |subject| {
        server_ends(
            &subject,
            |s| s.reset_mid_frame(),
            |r| match r {
                DisconnectReason::ReadError(_) if !r.is_clean_shutdown() => Ok(()),
                _ => Err("expected ReadError".into()),
            },
        )
        .await
    }
);

/// Connects to a server that reports the close code the client sends.
async fn connected_to_close_watcher(
    subject: &crate::transport::TransportUnderTest,
) -> Result<(Connection, crate::net::WsServer), Failure> {
    let server = serve(|s| match s.await_close() {
        Some((code, _)) => Ok(code.to_string()),
        None => Ok("no close frame".to_owned()),
    })?;
    let conn = connect(subject, &server.url, None).await?;
    conn.connected().await?;
    Ok((conn, server))
}

check!(
    disconnect_sends_close_1000,
    Contract,
    "disconnect sends a close frame with code 1000 (normal closure), then the events end with one \
     Disconnected and the channel closes",
    |subject| {
        let (conn, server) = connected_to_close_watcher(&subject).await?;
        within_bound("disconnect", conn.transport.disconnect()).await?;
        conn.read_to_end().await?;
        let code = server.outcome(super::BOUND).await?;
        ensure_eq!(code.as_str(), "1000", "the close code the server received");
        Ok(None)
    }
);

check!(
    disconnect_is_idempotent,
    Contract,
    "disconnect may be called again and concurrently (the client calls it on several paths): \
     each call returns, one close frame goes out, one Disconnected comes",
    |subject| {
        let (conn, server) = connected_to_close_watcher(&subject).await?;
        let both = join(conn.transport.disconnect(), conn.transport.disconnect());
        within_bound("two concurrent disconnects", both).await?;
        within_bound("a third disconnect", conn.transport.disconnect()).await?;
        conn.read_to_end().await?;
        let code = server.outcome(super::BOUND).await?;
        ensure_eq!(code.as_str(), "1000", "the close code the server received");
        Ok(None)
    }
);

check!(
    send_after_disconnect_fails,
    Contract,
    "send after disconnect returns Err (the client must learn the socket is gone, not lose frames)",
    |subject| {
        let (conn, _server) = connected_to_close_watcher(&subject).await?;
        conn.transport.disconnect().await;
        let result = within_bound(
            "send after disconnect",
            conn.transport.send(b"late".to_vec().into()),
        )
        .await?;
        ensure!(result.is_err(), "send after disconnect returned Ok");
        Ok(None)
    }
);

check!(
    disconnect_returns_while_a_send_is_stalled,
    Contract,
    "disconnect returns within 10 s even while a send is stalled on a server that reads nothing \
     (the client disconnects a dead connection after its keepalive fails, often with a send \
     still pending)",
    |subject| {
        let (done, server_done) = std::sync::mpsc::channel::<()>();
        let server = serve(move |_| {
            // Read nothing until the check is over.
            let _ = server_done.recv_timeout(std::time::Duration::from_secs(30));
            Ok(String::new())
        })?;
        let conn = connect(&subject, &server.url, None).await?;
        conn.connected().await?;
        let frame = bytes::Bytes::from(vec![0x33u8; 64 * 1024]);
        let mut stalled = None;
        // Up to 256 MiB: far more than socket buffers hold.
        for _ in 0..4096 {
            let mut send = Box::pin(conn.transport.send(frame.clone()));
            match crate::limit::within(std::time::Duration::from_secs(1), &mut send).await {
                Some(Ok(())) => continue,
                Some(Err(e)) => return Err(Failure(format!("send failed before stalling: {e:#}"))),
                None => {
                    stalled = Some(send);
                    break;
                }
            }
        }
        ensure!(
            stalled.is_some(),
            "256 MiB went to a server that reads nothing: no send ever stalled"
        );
        let returned = within_bound(
            "disconnect while a send is stalled",
            conn.transport.disconnect(),
        )
        .await;
        let _ = done.send(());
        drop(stalled);
        returned?;
        Ok(None)
    }
);
