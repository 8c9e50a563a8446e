//! Events and data: `Connected` first, data in order and whole, large
//! frames, the `Origin` header, the resource report.

use futures::future::join;
use wacore::net::WHATSAPP_WEB_ORIGIN;

use super::{check, connect, payload, register, serve};
use crate::{Failure, ensure, ensure_eq};

register!(
    connected_comes_first,
    data_arrives_in_order_and_whole,
    large_frames_pass_whole,
    upgrade_sends_the_web_origin,
    resource_report,
);

check!(
    connected_comes_first,
    Contract,
    "create_transport returns a connected transport whose first event is Connected, before any \
     data (wacore net.rs TransportEvent; the client waits for it before the handshake)",
    |subject| {
        let server = serve(|s| {
            s.send(b"hello".to_vec())?;
            Ok(s.await_close()
                .map_or("no close".into(), |(c, _)| format!("close {c}")))
        })?;
        let conn = connect(&subject, &server.url, None).await?;
        conn.connected().await?;
        let data = conn.read_bytes(5).await?;
        ensure_eq!(data, b"hello".to_vec(), "the server's first frame");
        conn.transport.disconnect().await;
        Ok(None)
    }
);

check!(
    data_arrives_in_order_and_whole,
    Contract,
    "every byte sent arrives, in order, and every byte received is the server's, in order: 300 \
     frames of 1 B to 16 KiB echoed while more are sent (DataReceived may chunk as it likes; \
     the client's frame decoder reassembles)",
    |subject| {
        let server = serve(|s| s.echo_until_close())?;
        let conn = connect(&subject, &server.url, None).await?;
        conn.connected().await?;
        let frames: Vec<Vec<u8>> = (0..300)
            .map(|i| payload(i, 1 + (i * 7919) % 16384))
            .collect();
        let sent: Vec<u8> = frames.concat();
        let sending = async {
            for frame in &frames {
                conn.send(frame.clone()).await?;
            }
            Ok::<_, Failure>(())
        };
        let (sending, received) = join(sending, conn.read_bytes(sent.len())).await;
        sending?;
        let received = received?;
        if let Some(at) = received.iter().zip(&sent).position(|(a, b)| a != b) {
            return Err(Failure(format!(
                "the echoed stream differs from what was sent at byte {at}"
            )));
        }
        conn.transport.disconnect().await;
        Ok(None)
    }
);

check!(
    large_frames_pass_whole,
    Contract,
    "a 4 MiB frame goes out and comes back whole (media and history-sync payloads are large)",
    |subject| {
        let server = serve(|s| s.echo_until_close())?;
        let conn = connect(&subject, &server.url, None).await?;
        conn.connected().await?;
        let frame = payload(1, 4 << 20);
        conn.send(frame.clone()).await?;
        let received = conn.read_bytes(frame.len()).await?;
        ensure!(received == frame, "the 4 MiB frame came back changed");
        conn.transport.disconnect().await;
        Ok(None)
    }
);

check!(
    upgrade_sends_the_web_origin,
    Contract,
    "the upgrade request carries `Origin: https://web.whatsapp.com` (wacore net.rs \
     WHATSAPP_WEB_ORIGIN: sent to every WhatsApp Web endpoint, relays included)",
    |subject| {
        let server = serve(|s| {
            let origin = s
                .headers
                .iter()
                .find(|(name, _)| name == "origin")
                .map(|(_, value)| value.clone());
            s.await_close();
            Ok(origin.unwrap_or_default())
        })?;
        let conn = connect(&subject, &server.url, None).await?;
        conn.connected().await?;
        conn.transport.disconnect().await;
        let origin = server.outcome(super::BOUND).await?;
        ensure_eq!(
            origin.as_str(),
            WHATSAPP_WEB_ORIGIN,
            "the Origin header the server saw"
        );
        Ok(None)
    }
);

check!(
    resource_report,
    ImplementationDefined,
    "resource_report is a best-effort footprint of one connection (wacore stats.rs); the kit \
     reports what it says",
    |subject| {
        let server = serve(|s| {
            Ok(s.await_close()
                .map_or(String::new(), |(c, _)| c.to_string()))
        })?;
        let conn = connect(&subject, &server.url, None).await?;
        conn.connected().await?;
        let report = conn.transport.resource_report();
        conn.transport.disconnect().await;
        Ok(Some(match report {
            Some(r) => format!(
                "reports {} bytes (read {:?}, write {:?}, TLS {:?})",
                r.total_bytes(),
                r.read_buffer_bytes,
                r.write_buffer_bytes,
                r.tls_state_bytes
            ),
            None => "reports nothing".to_owned(),
        }))
    }
);
