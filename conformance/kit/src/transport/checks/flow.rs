//! Flow control: a bounded event channel whose fullness stops reading the
//! socket (so a slow client slows the server through TCP instead of
//! buffering without limit), and a dropped receiver that stops the read pump.

use futures::channel::oneshot;

use super::{check, connect, register, serve, within_bound};
use crate::{Failure, ensure};

register!(
    slow_reader_gets_backpressure,
    dropped_receiver_stops_reading
);

/// Frames the server pushes: 1,024 of 64 KiB, 64 MiB in all.
const FRAMES: u32 = 1024;
const FRAME: usize = 64 * 1024;
/// The most that may be in flight when the server stalls: socket buffers,
/// the library's buffers and a bounded channel fit well under it.
const MAX_BUFFERED: u64 = 32 << 20;
/// How long the server may take to stall (it must go quiet for 1 s first).
const STALL_WITHIN: std::time::Duration = std::time::Duration::from_secs(30);

check!(
    slow_reader_gets_backpressure,
    Contract,
    "while nobody reads the events, the transport stops reading the socket once its bounded \
     channel is full: the server stalls with at most 32 MiB of 64 MiB sent; read later, every \
     frame arrives in order (the client reads events in one loop and must not be outrun into \
     unbounded memory)",
    |subject| {
        let (stalled_tx, stalled) = oneshot::channel();
        let server = serve(move |s| {
            let stalled = s.push(FRAMES, FRAME, move |sent| {
                let _ = stalled_tx.send(sent);
            })?;
            s.close(1000, "done")?;
            Ok(format!("stalled: {stalled}"))
        })?;
        let conn = connect(&subject, &server.url, None).await?;
        conn.connected().await?;
        let sent = crate::limit::within(STALL_WITHIN, stalled).await;
        let sent = match sent {
            Some(Ok(sent)) => sent,
            _ => {
                return Err(Failure(format!(
                    "the server never stalled: the transport kept reading with nobody taking events \
                     (all {} MiB sent within {STALL_WITHIN:?})",
                    (u64::from(FRAMES) * FRAME as u64) >> 20
                )));
            }
        };
        ensure!(
            sent <= MAX_BUFFERED,
            "the server stalled only after {} MiB: the transport buffers without a bound",
            sent >> 20
        );
        let total = FRAMES as usize * FRAME;
        let data = conn.read_bytes(total).await?;
        for (index, frame) in data.chunks(FRAME).enumerate() {
            let got = u32::from_be_bytes([frame[0], frame[1], frame[2], frame[3]]);
            ensure!(got as usize == index, "frame {index} came as frame {got}");
        }
        conn.transport.disconnect().await;
        Ok(Some(format!(
            "the server stalled after {:.1} MiB",
            sent as f64 / 1048576.0
        )))
    }
);

check!(
    dropped_receiver_stops_reading,
    Contract,
    "once the event receiver is dropped the read pump stops reading (nobody will take its \
     events): a server pushing 64 MiB stalls",
    |subject| {
        let (stalled_tx, stalled) = oneshot::channel();
        let server = serve(move |s| {
            let stalled = s.push(FRAMES, FRAME, move |sent| {
                let _ = stalled_tx.send(sent);
            });
            Ok(format!("stalled: {stalled:?}"))
        })?;
        let conn = connect(&subject, &server.url, None).await?;
        conn.connected().await?;
        let transport = conn.transport.clone();
        drop(conn);
        let sent = crate::limit::within(STALL_WITHIN, stalled).await;
        // Let go of the connection either way, so the server's thread ends.
        within_bound("disconnect", transport.disconnect()).await?;
        drop(transport);
        match sent {
            Some(Ok(sent)) => Ok(Some(format!("the server stalled after {:.1} MiB", sent as f64 / 1048576.0))),
            _ => Err(Failure(
                "the server never stalled: the read pump kept reading after the receiver was dropped".into(),
            )),
        }
    }
);
