//! `spawn_blocking`: off the executor thread, awaited until it returns, a
//! panic inside it contained.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::Duration;

use futures::FutureExt;

use super::{check, promptly, register};
use crate::{Failure, ensure};

register!(
    spawn_blocking_runs_off_the_executor_thread,
    spawn_blocking_resolves_after_the_closure_returns,
    a_panic_in_spawn_blocking_is_contained,
);

check!(
    spawn_blocking_runs_off_the_executor_thread,
    Contract,
    "spawn_blocking runs the closure on a thread where blocking is acceptable, not on the \
     thread of the task awaiting it, and other tasks keep running meanwhile (Runtime::spawn_blocking; \
     the client runs file and database I/O there)",
    |rt, caps| {
        let here = std::thread::current().id();
        let there = Arc::new(std::sync::Mutex::new(None));
        let ticks = Arc::new(AtomicU32::new(0));
        let (ticker_rt, ticker_ticks) = (rt.clone(), ticks.clone());
        let ticker = rt.spawn(Box::pin(async move {
            loop {
                ticker_rt.sleep(Duration::from_millis(5)).await;
                ticker_ticks.fetch_add(1, Ordering::SeqCst);
            }
        }));
        let (seen, ticks_seen) = (there.clone(), ticks.clone());
        let before = ticks.load(Ordering::SeqCst);
        promptly(
            "spawn_blocking(a 300 ms closure) resolving",
            rt.spawn_blocking(Box::new(move || {
                *seen.lock().unwrap_or_else(|e| e.into_inner()) = Some(std::thread::current().id());
                std::thread::sleep(Duration::from_millis(300));
                let _ = ticks_seen;
            })),
        )
        .await?;
        let during = ticks.load(Ordering::SeqCst) - before;
        drop(ticker);
        let ran_on = there.lock().unwrap_or_else(|e| e.into_inner()).take();
        ensure!(ran_on.is_some(), "the closure never ran");
        ensure!(
            ran_on != Some(here),
            "the closure ran on the thread of the task awaiting it"
        );
        ensure!(
            during >= 3,
            "a 5 ms ticker task ticked {during} times while a blocking closure slept 300 ms"
        );
        Ok(None)
    }
);

check!(
    spawn_blocking_resolves_after_the_closure_returns,
    Contract,
    "the future of spawn_blocking resolves only after the closure has returned \
     (wacore's runtime::blocking reads the closure's result right after it)",
    |rt, caps| {
        for _ in 0..5 {
            let finished = Arc::new(AtomicBool::new(false));
            let flag = finished.clone();
            promptly(
                "spawn_blocking(a 50 ms closure) resolving",
                rt.spawn_blocking(Box::new(move || {
                    std::thread::sleep(Duration::from_millis(50));
                    flag.store(true, Ordering::SeqCst);
                })),
            )
            .await?;
            ensure!(
                finished.load(Ordering::SeqCst),
                "spawn_blocking resolved before its closure returned"
            );
        }
        Ok(None)
    }
);

check!(
    a_panic_in_spawn_blocking_is_contained,
    Contract,
    "a panic inside a spawn_blocking closure neither crosses into the awaiting task nor takes \
     the runtime down: the future resolves and later tasks and blocking work still run",
    |rt, caps| {
        let awaited = std::panic::AssertUnwindSafe(rt.spawn_blocking(Box::new(|| {
            panic!("a deliberate panic inside spawn_blocking (the conformance kit's check)")
        })))
        .catch_unwind();
        promptly("spawn_blocking(a panicking closure) resolving", awaited)
            .await?
            .map_err(|_| {
                Failure("the closure's panic crossed into the task awaiting spawn_blocking".into())
            })?;
        let (tx, rx) = futures::channel::oneshot::channel();
        rt.spawn_detached(Box::pin(async move {
            let _ = tx.send(());
        }));
        promptly("a task spawned after the panic finishing", rx)
            .await?
            .map_err(|_| Failure("the runtime dropped a task spawned after the panic".into()))?;
        let ran = Arc::new(AtomicBool::new(false));
        let flag = ran.clone();
        promptly(
            "spawn_blocking after the panic resolving",
            rt.spawn_blocking(Box::new(move || flag.store(true, Ordering::SeqCst))),
        )
        .await?;
        ensure!(
            ran.load(Ordering::SeqCst),
            "a closure given to spawn_blocking after the panic never ran"
        );
        Ok(None)
    }
);
