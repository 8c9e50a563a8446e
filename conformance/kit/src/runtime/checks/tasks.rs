//! Spawning, cancelling and detaching tasks.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use super::{check, promptly, register, spawn_parked};
use crate::{Failure, ensure, ensure_eq};

register!(
    spawned_tasks_run,
    dropping_the_handle_cancels_a_parked_task,
    abort_cancels_a_parked_task,
    aborting_a_finished_task_is_harmless,
    detached_tasks_finish,
    spawn_detached_runs_to_completion,
    tasks_spawn_tasks,
);

check!(
    spawned_tasks_run,
    Contract,
    "spawn runs the future to completion while its handle is kept (Runtime::spawn)",
    |rt, caps| {
        let (tx, rx) = futures::channel::mpsc::unbounded();
        let handles: Vec<_> = (0..64u32)
            .map(|i| {
                let tx = tx.clone();
                rt.spawn(Box::pin(async move {
                    let _ = tx.unbounded_send(i);
                }))
            })
            .collect();
        drop(tx);
        let mut seen: Vec<u32> = promptly(
            "64 spawned tasks finishing",
            futures::StreamExt::collect(rx),
        )
        .await?;
        seen.sort_unstable();
        ensure_eq!(
            seen,
            (0..64).collect::<Vec<_>>(),
            "values sent by 64 spawned tasks"
        );
        drop(handles);
        Ok(None)
    }
);

check!(
    dropping_the_handle_cancels_a_parked_task,
    Contract,
    "dropping an AbortHandle aborts the task, and its future is dropped even while parked on a \
     future that never wakes (AbortHandle docs; wacore's dropping_the_handle_cancels_a_spawned_task)",
    |rt, caps| {
        let (handle, dropped) = spawn_parked(&*rt).await?;
        drop(handle);
        promptly(
            "dropping the parked task's future after its handle was dropped",
            dropped,
        )
        .await?
        .map_err(|_| Failure("the drop signal was lost".into()))?;
        Ok(None)
    }
);

check!(
    abort_cancels_a_parked_task,
    Contract,
    "AbortHandle::abort cancels the task without waiting for the handle's drop \
     (AbortHandle::abort; wacore's abort_cancels_a_spawned_task)",
    |rt, caps| {
        let (handle, dropped) = spawn_parked(&*rt).await?;
        handle.abort();
        promptly("dropping the parked task's future after abort()", dropped)
            .await?
            .map_err(|_| Failure("the drop signal was lost".into()))?;
        handle.abort();
        drop(handle);
        Ok(None)
    }
);

check!(
    aborting_a_finished_task_is_harmless,
    Contract,
    "abort() may come after the task finished, twice, and be followed by the handle's drop: \
     nothing happens and the runtime keeps running tasks (the client drops handles of tasks \
     that ended long ago)",
    |rt, caps| {
        let (tx, rx) = futures::channel::oneshot::channel();
        let handle = rt.spawn(Box::pin(async move {
            let _ = tx.send(());
        }));
        promptly("a spawned task finishing", rx)
            .await?
            .map_err(|_| Failure("the task was dropped".into()))?;
        // Let the task be fully retired before aborting it.
        std::thread::sleep(Duration::from_millis(20));
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            handle.abort();
            handle.abort();
            drop(handle);
        }))
        .map_err(|_| Failure("aborting a finished task panicked".into()))?;
        let (tx, rx) = futures::channel::oneshot::channel();
        rt.spawn_detached(Box::pin(async move {
            let _ = tx.send(());
        }));
        promptly("a task spawned after the abort finishing", rx)
            .await?
            .map_err(|_| Failure("the runtime dropped a task spawned after the abort".into()))?;
        Ok(None)
    }
);

check!(
    detached_tasks_finish,
    Contract,
    "AbortHandle::detach lets the task run to completion after the handle is gone \
     (AbortHandle::detach: \"the spawned task will run until completion\")",
    |rt, caps| {
        let (tx, rx) = futures::channel::oneshot::channel();
        let sleeper = rt.clone();
        rt.spawn(Box::pin(async move {
            sleeper.sleep(Duration::from_millis(30)).await;
            let _ = tx.send(7u32);
        }))
        .detach();
        let value = promptly("a detached task finishing", rx)
            .await?
            .map_err(|_| Failure("the detached task was cancelled".into()))?;
        ensure_eq!(value, 7, "the detached task's value");
        Ok(None)
    }
);

check!(
    spawn_detached_runs_to_completion,
    Contract,
    "spawn_detached runs a task nobody will cancel to completion (Runtime::spawn_detached)",
    |rt, caps| {
        let (tx, rx) = futures::channel::oneshot::channel();
        let sleeper = rt.clone();
        rt.spawn_detached(Box::pin(async move {
            sleeper.sleep(Duration::from_millis(30)).await;
            let _ = tx.send(());
        }));
        promptly("a task of spawn_detached finishing", rx)
            .await?
            .map_err(|_| Failure("the task of spawn_detached was cancelled".into()))?;
        Ok(None)
    }
);

check!(
    tasks_spawn_tasks,
    Contract,
    "a task can spawn tasks, which run (the client spawns from inside its own tasks all the time)",
    |rt, caps| {
        let done = Arc::new(AtomicUsize::new(0));
        let (tx, rx) = futures::channel::mpsc::unbounded::<()>();
        fn spawn_tree(
            rt: Arc<dyn wacore::runtime::Runtime>,
            depth: u32,
            done: Arc<AtomicUsize>,
            tx: futures::channel::mpsc::UnboundedSender<()>,
        ) {
            let inner = rt.clone();
            rt.spawn_detached(Box::pin(async move {
                if depth > 0 {
                    for _ in 0..3 {
                        spawn_tree(inner.clone(), depth - 1, done.clone(), tx.clone());
                    }
                }
                done.fetch_add(1, Ordering::SeqCst);
                drop(tx);
            }));
        }
        spawn_tree(rt.clone(), 3, done.clone(), tx);
        // The channel closes when the last task of the tree is gone.
        let _: Vec<()> = promptly(
            "a tree of 40 tasks spawned by tasks finishing",
            futures::StreamExt::collect(rx),
        )
        .await?;
        let ran = done.load(Ordering::SeqCst);
        ensure!(
            ran == 40,
            "{ran} of the 40 tasks of a spawn tree (1 + 3 + 9 + 27) ran"
        );
        Ok(None)
    }
);
