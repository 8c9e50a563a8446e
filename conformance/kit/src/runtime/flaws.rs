//! Deliberately broken runtimes, for the kit's own tests: each overrides one
//! method of a passing smol runtime (multi- or single-threaded) and must
//! fail the check named by its `caught_by`.

use std::sync::Arc;

use wacore::runtime::Runtime;
use whatsapp_rust_smol_runtime::SmolRuntime;

use super::{Capabilities, LayeredRuntime, RuntimeLayer, RuntimeUnderTest, all_checks, run_check};
use crate::{Expectations, Outcome};

/// The passing runtime a flaw wraps.
#[derive(Clone, Copy)]
enum On {
    Multi,
    Single,
}

fn reference(on: On) -> (Arc<dyn Runtime>, Capabilities) {
    match on {
        On::Multi => (
            Arc::new(SmolRuntime::with_workers(2)),
            Capabilities::multi_threaded(),
        ),
        On::Single => (
            Arc::new(SmolRuntime::single_threaded()),
            Capabilities::single_threaded(),
        ),
    }
}

fn assert_caught(check: &str, on: On, wrap: impl FnOnce(Arc<dyn Runtime>) -> Arc<dyn Runtime>) {
    let name = format!("runtime::{check}");
    let check = all_checks()
        .into_iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no check {name}"));
    let (inner, caps) = reference(on);
    let subject = RuntimeUnderTest::new("flawed", wrap(inner), caps);
    let report = futures::executor::block_on(run_check(&check, &subject, &Expectations::none()));
    match report.outcome {
        Outcome::Failed { message } => eprintln!("caught by {}: {message}", report.check),
        other => panic!("{} missed the flaw: {other:?}", report.check),
    }
}

/// `flaw! { /// what is broken
///     name, caught_by: check, on: Multi|Single;
///     fn overridden(&self, ...) { ... } }`
macro_rules! flaw {
    ($(#[$doc:meta])* $name:ident, caught_by: $check:ident, on: $on:ident; $($body:tt)*) => {
        mod $name {
            #[allow(unused_imports)]
            use std::{future::Future, pin::Pin, sync::Arc, sync::atomic::{AtomicBool, Ordering}, task::Poll, time::{Duration, Instant}};
            #[allow(unused_imports)]
            use wacore::runtime::{AbortHandle, Runtime};
            #[allow(unused_imports)]
            use crate::runtime::layer::{Task, Waiting};
            use crate::runtime::{LayeredRuntime, RuntimeLayer};
            #[allow(unused_imports)]
            use super::{IN_TASK, marked};

            $(#[$doc])*
            struct Flawed(Arc<dyn Runtime>);

            impl RuntimeLayer for Flawed {
                fn inner(&self) -> &dyn Runtime {
                    &*self.0
                }
                $($body)*
            }

            #[test]
            fn is_caught() {
                super::assert_caught(stringify!($check), super::On::$on, |inner| Arc::new(LayeredRuntime(Flawed(inner))));
            }
        }
    };
}

flaw! {
    /// A lossy task queue: every eighth task spawned is dropped unrun (a
    /// counter rather than a bound on live tasks, so the loss does not
    /// depend on how fast tasks finish).
    spawn_drops_every_eighth_task, caught_by: spawned_tasks_run, on: Multi;
    fn spawn(&self, future: Task) -> AbortHandle {
        static SPAWNED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        if SPAWNED.fetch_add(1, Ordering::SeqCst) % 8 == 7 {
            return AbortHandle::noop();
        }
        self.0.spawn(future)
    }
}

flaw! {
    /// Abort only sets a flag the task checks at its next poll: a task parked
    /// on a future that never wakes is never dropped (seen in public code).
    abort_only_at_the_next_poll, caught_by: dropping_the_handle_cancels_a_parked_task, on: Multi;
    fn spawn(&self, future: Task) -> AbortHandle {
        let stop = Arc::new(AtomicBool::new(false));
        let seen = stop.clone();
        let mut future = future;
        self.0.spawn(Box::pin(std::future::poll_fn(move |cx| {
            if seen.load(Ordering::SeqCst) {
                return Poll::Ready(());
            }
            future.as_mut().poll(cx)
        }))).detach();
        AbortHandle::new(move || stop.store(true, Ordering::SeqCst))
    }
}

flaw! {
    /// spawn hands back a no-op handle: nothing can cancel the task.
    spawn_returns_a_noop_handle, caught_by: abort_cancels_a_parked_task, on: Multi;
    fn spawn(&self, future: Task) -> AbortHandle {
        self.0.spawn(future).detach();
        AbortHandle::noop()
    }
}

flaw! {
    /// The abort callback insists the task is still running.
    abort_panics_after_the_end, caught_by: aborting_a_finished_task_is_harmless, on: Multi;
    fn spawn(&self, future: Task) -> AbortHandle {
        let done = Arc::new(AtomicBool::new(false));
        let finished = done.clone();
        let handle = self.0.spawn(Box::pin(async move {
            future.await;
            finished.store(true, Ordering::SeqCst);
        }));
        AbortHandle::new(move || {
            assert!(!done.load(Ordering::SeqCst), "abort of a task that already finished");
            drop(handle);
        })
    }
}

flaw! {
    /// The abort callback owns a cancel-on-drop task handle (a smol `Task`),
    /// so `detach()`, which drops the callback, cancels the task.
    detach_cancels_the_task, caught_by: detached_tasks_finish, on: Multi;
    fn spawn(&self, future: Task) -> AbortHandle {
        let cancel_on_drop = self.0.spawn(future);
        AbortHandle::new(move || drop(cancel_on_drop))
    }
}

flaw! {
    /// spawn_detached drops the handle it gets, cancelling the task.
    spawn_detached_drops_the_handle, caught_by: spawn_detached_runs_to_completion, on: Multi;
    fn spawn_detached(&self, future: Task) {
        drop(self.0.spawn(future));
    }
}

flaw! {
    /// Spawns from inside a task land in a queue nobody drives.
    nested_spawns_are_lost, caught_by: tasks_spawn_tasks, on: Multi;
    fn spawn(&self, future: Task) -> AbortHandle {
        if IN_TASK.with(|t| t.get()) {
            return AbortHandle::noop();
        }
        self.0.spawn(marked(future))
    }
    fn spawn_detached(&self, future: Task) {
        if !IN_TASK.with(|t| t.get()) {
            self.0.spawn_detached(marked(future));
        }
    }
}

flaw! {
    /// sleep counts whole seconds: every sub-second sleep returns at once.
    sleep_in_whole_seconds, caught_by: sleep_never_resolves_early, on: Multi;
    fn sleep(&self, duration: Duration) -> Waiting {
        self.0.sleep(Duration::from_secs(duration.as_secs()))
    }
}

flaw! {
    /// sleep checks the clock when polled but never arranges a wake-up.
    sleep_never_wakes, caught_by: sleep_wakes_its_task, on: Multi;
    fn sleep(&self, duration: Duration) -> Waiting {
        let deadline = Instant::now() + duration;
        Box::pin(std::future::poll_fn(move |_| {
            if Instant::now() >= deadline { Poll::Ready(()) } else { Poll::Pending }
        }))
    }
}

flaw! {
    /// Dropping a sleep blocks until its deadline (up to a second): a timer
    /// thread joined on drop.
    dropping_a_sleep_waits_for_it, caught_by: a_sleep_dropped_half_way_is_harmless, on: Multi;
    fn sleep(&self, duration: Duration) -> Waiting {
        struct JoinsOnDrop(Waiting, Instant);
        impl Future for JoinsOnDrop {
            type Output = ();
            fn poll(mut self: Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> Poll<()> {
                self.0.as_mut().poll(cx)
            }
        }
        impl Drop for JoinsOnDrop {
            fn drop(&mut self) {
                let left = self.1.saturating_duration_since(Instant::now());
                std::thread::sleep(left.min(Duration::from_secs(1)));
            }
        }
        Box::pin(JoinsOnDrop(self.0.sleep(duration), Instant::now() + duration))
    }
}

flaw! {
    /// spawn_blocking runs the closure right there, on the executor thread.
    spawn_blocking_inline, caught_by: spawn_blocking_runs_off_the_executor_thread, on: Multi;
    fn spawn_blocking(&self, f: Box<dyn FnOnce() + Send + 'static>) -> Waiting {
        f();
        Box::pin(async {})
    }
}

flaw! {
    /// spawn_blocking starts a thread and resolves at once.
    spawn_blocking_does_not_wait, caught_by: spawn_blocking_resolves_after_the_closure_returns, on: Multi;
    fn spawn_blocking(&self, f: Box<dyn FnOnce() + Send + 'static>) -> Waiting {
        std::thread::spawn(f);
        Box::pin(async {})
    }
}

flaw! {
    /// spawn_blocking re-raises the closure's panic in the awaiting task.
    spawn_blocking_rethrows_panics, caught_by: a_panic_in_spawn_blocking_is_contained, on: Multi;
    fn spawn_blocking(&self, f: Box<dyn FnOnce() + Send + 'static>) -> Waiting {
        let (tx, rx) = futures::channel::oneshot::channel();
        std::thread::spawn(move || {
            let _ = tx.send(std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)));
        });
        Box::pin(async move {
            if let Ok(Err(panic)) = rx.await {
                std::panic::resume_unwind(panic);
            }
        })
    }
}

flaw! {
    /// yield_now hands back a future that is ready at once: no yield.
    yield_never_pends, caught_by: yield_now_is_pending_once_then_ready, on: Multi;
    fn yield_now(&self) -> Option<Waiting> {
        Some(Box::pin(async {}))
    }
}

flaw! {
    /// yield_frequency is 0 (the client's `frames % 0` panics).
    yield_frequency_zero, caught_by: yield_frequency_fits_the_threading, on: Multi;
    fn yield_frequency(&self) -> u32 {
        0
    }
}

flaw! {
    /// A single-threaded runtime that says no yield is needed.
    one_thread_that_never_yields, caught_by: a_loop_that_yields_as_told_lets_a_timer_run, on: Single;
    fn yield_now(&self) -> Option<Waiting> {
        None
    }
}

flaw! {
    /// A single-threaded runtime that asks for a yield every 10 items.
    one_thread_yielding_every_ten, caught_by: yield_frequency_fits_the_threading, on: Single;
    fn yield_frequency(&self) -> u32 {
        10
    }
}

thread_local! {
    static IN_TASK: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// `future`, flagged as "inside a task" on its thread while it is polled.
fn marked(mut future: super::layer::Task) -> super::layer::Task {
    Box::pin(std::future::poll_fn(move |cx| {
        IN_TASK.with(|t| t.set(true));
        let poll = future.as_mut().poll(cx);
        IN_TASK.with(|t| t.set(false));
        poll
    }))
}

/// Forwards everything.
struct Unflawed(Arc<dyn Runtime>);

impl RuntimeLayer for Unflawed {
    fn inner(&self) -> &dyn Runtime {
        &*self.0
    }
}

#[test]
fn the_unflawed_wrapper_passes_every_check_on_both_references() {
    for on in [On::Multi, On::Single] {
        let (inner, caps) = reference(on);
        let subject =
            RuntimeUnderTest::new("unflawed", Arc::new(LayeredRuntime(Unflawed(inner))), caps);
        let report = futures::executor::block_on(super::run_suite(
            &subject,
            &Expectations::none(),
            |_, _, _| {},
        ))
        .expect("no expectations");
        assert!(report.is_ok(), "{:#?}", report.to_json());
    }
}

/// Every check of the family has at least one flaw here that it must catch.
#[test]
fn every_check_has_a_flaw() {
    let source = include_str!("flaws.rs");
    for check in super::all_checks() {
        let short = check.name.trim_start_matches("runtime::");
        assert!(
            source.contains(&format!("caught_by: {short}")),
            "{} has no broken wrapper proving it live",
            check.name
        );
    }
}
