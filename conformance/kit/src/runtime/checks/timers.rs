//! `sleep`: never early, wakes its task, safe to drop half-way.

use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use wacore::runtime::{Elapsed, timeout};

use super::{BOUND, check, promptly, register};
use crate::{Failure, ensure, ensure_eq};

register!(
    sleep_never_resolves_early,
    sleep_wakes_its_task,
    a_sleep_dropped_half_way_is_harmless,
);

check!(
    sleep_never_resolves_early,
    Contract,
    "sleep(d) resolves no sooner than d after it was created, sub-millisecond and sub-second \
     durations included (wacore's runtime::timeout relies on it)",
    |rt, caps| {
        for d in [
            Duration::from_micros(500),
            Duration::from_millis(15),
            Duration::from_millis(120),
            Duration::from_millis(1100),
        ] {
            let start = Instant::now();
            promptly(&format!("sleep({d:?}) resolving"), async {
                rt.sleep(d).await
            })
            .await?;
            let slept = start.elapsed();
            ensure!(slept >= d, "sleep({d:?}) resolved after {slept:?}");
        }
        Ok(None)
    }
);

check!(
    sleep_wakes_its_task,
    Contract,
    "a task awaiting sleep(d) is woken when d has passed, with nothing else to poll it \
     (a sleep that only resolves when polled again parks its task forever)",
    |rt, caps| {
        let (tx, rx) = futures::channel::oneshot::channel();
        let sleeper = rt.clone();
        let start = Instant::now();
        rt.spawn_detached(Box::pin(async move {
            sleeper.sleep(Duration::from_millis(20)).await;
            let _ = tx.send(());
        }));
        promptly("a task sleeping 20 ms being woken", rx)
            .await?
            .map_err(|_| Failure("the sleeping task was dropped".into()))?;
        Ok(Some(format!("woke after {:?}", start.elapsed())))
    }
);

check!(
    a_sleep_dropped_half_way_is_harmless,
    Contract,
    "a sleep polled once and dropped before its deadline goes away at once, and timeout() \
     built on it returns as soon as the raced future does (runtime::timeout drops the losing sleep)",
    |rt, caps| {
        let mut long = rt.sleep(Duration::from_secs(30));
        let waker = futures::task::noop_waker();
        ensure!(
            std::future::Future::poll(long.as_mut(), &mut Context::from_waker(&waker))
                == Poll::Pending,
            "sleep(30 s) was ready at its first poll"
        );
        let start = Instant::now();
        drop(long);
        let dropping = start.elapsed();
        ensure!(
            dropping < Duration::from_millis(200),
            "dropping a half-way sleep took {dropping:?}"
        );

        let start = Instant::now();
        let won = promptly(
            "timeout(60 s, ready) returning",
            timeout(&*rt, Duration::from_secs(60), async { 42 }),
        )
        .await?;
        ensure_eq!(won, Ok(42), "timeout of a ready future");
        let lost = promptly(
            "timeout(20 ms, pending) returning",
            timeout(
                &*rt,
                Duration::from_millis(20),
                std::future::pending::<()>(),
            ),
        )
        .await?;
        ensure_eq!(
            lost,
            Err(Elapsed),
            "timeout of a future that never resolves"
        );
        let took = start.elapsed();
        ensure!(took < BOUND, "two timeouts took {took:?}");
        Ok(None)
    }
);
