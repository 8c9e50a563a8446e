//! Whether a store's calls leave the async executor's thread free: a
//! heartbeat beside durable writes of every kind.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use futures::future::{Either, select};

use super::{CHAT, SENDER, check, mac, register};
use crate::storage::flaws::flaw;
use crate::{Failure, ensure};

register! {executor: writes_leave_the_executor_thread_free}

/// Rounds of the workload: 15 durable writes each.
const ROUNDS: u32 = 40;
/// A heartbeat gap longer than this means the thread was held.
const HELD: Duration = Duration::from_millis(20);

check!(
    writes_leave_the_executor_thread_free,
    "Backend",
    Defect,
    Nothing,
    [
        put_identity,
        put_session,
        put_sessions_batch,
        delete_session,
        store_prekey,
        store_prekeys_batch,
        store_signed_prekey,
        put_sender_key,
        put_mutation_macs,
        save_base_key,
        put_group_metadata,
        touch_tc_token_sender_timestamp,
        store_sent_message,
        put_msg_secret,
        update_device_list
    ],
    "an async store call must not hold the executor's thread while it waits for the disk (an \
     fsync or a synchronous database call inside an async fn stalls every task on that thread): \
     a heartbeat joined with 600 durable writes on one task must not be held for most of them",
    |ctx| {
        let s = ctx.store();
        let writes = async {
            for r in 0..ROUNDS {
                let addr = format!("{r}@s.whatsapp.net.0");
                s.put_identity(&addr, [r as u8; 32]).await?;
                s.put_session(&addr, &[r as u8; 256]).await?;
                let batch: Vec<(Arc<str>, bytes::Bytes)> = (0..4)
                    .map(|i| {
                        (
                            Arc::from(format!("{r}-{i}@lid.0")),
                            bytes::Bytes::from(vec![i as u8; 128]),
                        )
                    })
                    .collect();
                s.put_sessions_batch(&batch).await?;
                s.delete_session(&format!("{r}-0@lid.0")).await?;
                s.store_prekey(r * 10 + 1, &[1; 64], false).await?;
                let prekeys: Vec<(u32, bytes::Bytes)> = (2..6)
                    .map(|i| (r * 10 + i, bytes::Bytes::from(vec![2; 64])))
                    .collect();
                s.store_prekeys_batch(&prekeys, false).await?;
                s.store_signed_prekey(r, &[3; 96]).await?;
                s.put_sender_key(&format!("{CHAT}::{addr}"), &[4; 128])
                    .await?;
                s.put_mutation_macs("regular", u64::from(r) + 1, &[mac(u64::from(r), 5)])
                    .await?;
                s.save_base_key(&addr, &format!("m{r}"), &[6; 33]).await?;
                s.put_group_metadata(CHAT, &[7; 512]).await?;
                s.touch_tc_token_sender_timestamp(&addr, i64::from(r))
                    .await?;
                s.store_sent_message(CHAT, &format!("sent-{r}"), &[8; 200])
                    .await?;
                s.put_msg_secret(CHAT, SENDER, &format!("secret-{r}"), &[9; 32])
                    .await?;
                s.update_device_list(wacore::store::traits::DeviceListRecord {
                    user: addr.clone(),
                    devices: Vec::new(),
                    timestamp: i64::from(r),
                    phash: None,
                    raw_id: None,
                })
                .await?;
            }
            Ok::<(), Failure>(())
        };
        let beat = Heartbeat::start();
        let started = Instant::now();
        let beating = beat.clone().run();
        futures::pin_mut!(writes, beating);
        match select(writes, beating).await {
            Either::Left((result, _)) => result?,
            Either::Right(_) => unreachable!("the heartbeat runs until stopped"),
        }
        let took = started.elapsed();
        let held = beat.stop();
        ensure!(
            held * 2 < took || took < HELD,
            "the executor's thread was held for {held:?} of the {took:?} that 600 durable writes took \
             (heartbeat gaps over {HELD:?}): the store blocks its caller's thread while it writes"
        );
        Ok(Some(format!("thread held {held:?} of {took:?}")))
    }
);

/// Ticks from a timer thread every millisecond; the task that polls
/// [`Heartbeat::run`] records how long it was kept from seeing them.
#[derive(Clone)]
struct Heartbeat {
    state: Arc<Mutex<Beats>>,
    ticking: Arc<AtomicBool>,
    ticks: Arc<Mutex<Option<futures::channel::mpsc::UnboundedReceiver<()>>>>,
}

struct Beats {
    last: Instant,
    /// Sum of the gaps over [`HELD`].
    held: Duration,
}

impl Beats {
    fn beat(&mut self) {
        let now = Instant::now();
        let gap = now - self.last;
        if gap > HELD {
            self.held += gap;
        }
        self.last = now;
    }
}

impl Heartbeat {
    fn start() -> Heartbeat {
        let (tx, rx) = futures::channel::mpsc::unbounded();
        let ticking = Arc::new(AtomicBool::new(true));
        let running = ticking.clone();
        std::thread::spawn(move || {
            while running.load(Ordering::SeqCst) && tx.unbounded_send(()).is_ok() {
                std::thread::sleep(Duration::from_millis(1));
            }
        });
        Heartbeat {
            state: Arc::new(Mutex::new(Beats {
                last: Instant::now(),
                held: Duration::ZERO,
            })),
            ticking,
            ticks: Arc::new(Mutex::new(Some(rx))),
        }
    }

    async fn run(self) {
        let Some(mut ticks) = self.ticks.lock().unwrap_or_else(|e| e.into_inner()).take() else {
            return;
        };
        while ticks.next().await.is_some() {
            self.state.lock().unwrap_or_else(|e| e.into_inner()).beat();
        }
        std::future::pending::<()>().await
    }

    /// Stops the ticks; the time held, counting the gap since the last beat.
    fn stop(&self) -> Duration {
        self.ticking.store(false, Ordering::SeqCst);
        let mut beats = self.state.lock().unwrap_or_else(|e| e.into_inner());
        beats.beat();
        beats.held
    }
}

flaw! {
    /// Makes every write durable with a real fsync of a file, inline, on the
    /// caller's thread (a store on a synchronous database driver).
    fsyncs_inline, caught_by: writes_leave_the_executor_thread_free { disk: super::InlineDisk };
    fn after(&self, _method: crate::storage::Method) {
        self.disk.sync();
    }
}

/// A scratch file written and fsynced on the calling thread.
#[cfg(test)]
pub(crate) struct InlineDisk(Mutex<std::fs::File>);

#[cfg(test)]
impl Default for InlineDisk {
    fn default() -> Self {
        let path = std::env::temp_dir().join(format!(
            "kit-inline-disk-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(true)
            .read(true)
            .write(true)
            .open(&path)
            .expect("a scratch file");
        let _ = std::fs::remove_file(&path);
        InlineDisk(Mutex::new(file))
    }
}

#[cfg(test)]
impl InlineDisk {
    fn sync(&self) {
        use std::io::{Seek, Write};
        let mut file = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let _ = file.seek(std::io::SeekFrom::Start(0));
        let _ = file.write_all(&[0x5a; 64 << 10]);
        let _ = file.sync_all();
    }
}
