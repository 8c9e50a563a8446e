//! `yield_now` and `yield_frequency`: a tight loop that follows the
//! contract does not starve the runtime.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use super::{check, promptly, register};
use crate::{ensure, ensure_eq};

register!(
    yield_now_is_pending_once_then_ready,
    yield_frequency_fits_the_threading,
    a_loop_that_yields_as_told_lets_a_timer_run,
);

check!(
    yield_now_is_pending_once_then_ready,
    Contract,
    "yield_now() is None (no yield needed) or a future that is pending once, wakes its task, \
     then is ready (Runtime::yield_now)",
    |rt, caps| {
        let Some(mut yielding) = rt.yield_now() else {
            return Ok(Some("yield_now() is None".into()));
        };
        let woken = Arc::new(AtomicBool::new(false));
        let waker = futures::task::waker(Arc::new(Flag(woken.clone())));
        ensure!(
            poll_once(&mut yielding, &waker).is_pending(),
            "yield_now()'s future was ready at its first poll: it does not yield"
        );
        // The wake may come from the runtime a moment later.
        promptly("yield_now() waking its task", async {
            while !woken.load(Ordering::SeqCst) {
                crate::yield_now().await;
            }
        })
        .await?;
        ensure!(
            poll_once(&mut yielding, &waker).is_ready(),
            "yield_now()'s future was still pending at its second poll"
        );
        Ok(Some("yield_now() is Some".into()))
    }
);

/// One poll with `waker` (a `Context` is not `Send`, so it never lives across an await).
fn poll_once(future: &mut crate::runtime::layer::Waiting, waker: &std::task::Waker) -> Poll<()> {
    future.as_mut().poll(&mut Context::from_waker(waker))
}

struct Flag(Arc<AtomicBool>);

impl futures::task::ArcWake for Flag {
    fn wake_by_ref(arc_self: &Arc<Self>) {
        arc_self.0.store(true, Ordering::SeqCst);
    }
}

check!(
    yield_frequency_fits_the_threading,
    Contract,
    "yield_frequency() >= 1 (the read loop computes frames % frequency); a single-threaded \
     runtime returns 1 and Some from yield_now() (Runtime::yield_frequency)",
    |rt, caps| {
        let frequency = rt.yield_frequency();
        ensure!(frequency >= 1, "yield_frequency() is {frequency}");
        if caps.single_threaded {
            ensure_eq!(
                frequency,
                1,
                "yield_frequency() of a runtime declared single-threaded"
            );
            ensure!(
                rt.yield_now().is_some(),
                "yield_now() of a runtime declared single-threaded is None"
            );
        }
        Ok(Some(format!("yield_frequency() = {frequency}")))
    }
);

check!(
    a_loop_that_yields_as_told_lets_a_timer_run,
    Contract,
    "a tight loop that awaits yield_now() every yield_frequency() items lets a timer task of the \
     same runtime run before the loop ends (the client's read loop; a single-threaded runtime \
     that never yields starves its timers)",
    |rt, caps| {
        let fired = Arc::new(AtomicBool::new(false));
        let (timer_rt, flag) = (rt.clone(), fired.clone());
        let (started_tx, started) = futures::channel::oneshot::channel();
        let timer = rt.spawn(Box::pin(async move {
            let _ = started_tx.send(());
            timer_rt.sleep(Duration::from_millis(5)).await;
            flag.store(true, Ordering::SeqCst);
        }));
        // The timer is armed before the loop starts: what is checked is that
        // its wake-up gets to run, not where a fresh task is queued (tokio
        // keeps a task spawned by a busy worker in that worker's unstealable
        // LIFO slot until the worker yields).
        promptly("the timer task's first poll", started)
            .await?
            .map_err(|_| crate::Failure("the timer task was dropped".into()))?;
        let frequency = rt.yield_frequency().max(1);
        let start = Instant::now();
        let mut items = 0u32;
        while !fired.load(Ordering::SeqCst) && start.elapsed() < Duration::from_millis(1500) {
            // One item of busy work: the thread is not free meanwhile.
            std::thread::sleep(Duration::from_millis(1));
            items += 1;
            if items.is_multiple_of(frequency)
                && let Some(yielding) = rt.yield_now()
            {
                yielding.await;
            }
        }
        drop(timer);
        ensure!(
            fired.load(Ordering::SeqCst),
            "a 5 ms timer task did not run during {items} items ({:?}) of a loop yielding every {frequency} items",
            start.elapsed()
        );
        Ok(Some(format!("the timer ran after {items} items")))
    }
);
