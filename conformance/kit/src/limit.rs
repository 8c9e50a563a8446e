//! Time limits for checks of every family: a runtime-neutral timer.

use std::future::Future;
use std::pin::pin;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Duration;

use futures::future::{Either, select};

/// The time limit of one check (a storage check's teardown has the same limit again):
/// `CONFORMANCE_CHECK_TIMEOUT` seconds, else 120 s.
pub fn default_limit() -> Duration {
    std::env::var("CONFORMANCE_CHECK_TIMEOUT")
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s > 0.0)
        .map_or(Duration::from_secs(120), Duration::from_secs_f64)
}

/// `future`'s output, or `None` if `limit` passed first (the future is then
/// dropped). The timer is a thread that ends as soon as either happens; no
/// runtime is needed.
pub(crate) async fn within<T>(limit: Duration, future: impl Future<Output = T>) -> Option<T> {
    let (done, done_rx) = mpsc::channel::<()>();
    let (fire, fired) = futures::channel::oneshot::channel::<()>();
    std::thread::spawn(move || {
        if let Err(RecvTimeoutError::Timeout) = done_rx.recv_timeout(limit) {
            let _ = fire.send(());
        }
    });
    let result = match select(pin!(future), fired).await {
        Either::Left((value, _)) => Some(value),
        Either::Right(_) => None,
    };
    drop(done);
    result
}

/// Resolves after `duration`, on any executor (a timer thread; checks that
/// wait for an expiry must not depend on a runtime's own timers).
pub(crate) async fn pause(duration: Duration) {
    let (fire, fired) = futures::channel::oneshot::channel::<()>();
    std::thread::spawn(move || {
        std::thread::sleep(duration);
        let _ = fire.send(());
    });
    let _ = fired.await;
}
