//! The runtime checks, one file per concern (tasks, timers, blocking work,
//! yielding), each listing its checks once with [`register!`].

mod blocking;
mod tasks;
mod timers;
mod yielding;

use std::future::Future;
use std::time::Duration;

use wacore::runtime::{AbortHandle, Runtime};

use super::Check;
use crate::Failure;

/// Every runtime check, in report order.
pub fn all_checks() -> Vec<Check> {
    [
        tasks::checks(),
        timers::checks(),
        blocking::checks(),
        yielding::checks(),
    ]
    .concat()
}

/// How long a check waits for something the runtime should do promptly
/// (a cancellation, a wake-up): generous for a loaded CI machine, short
/// beside the time a real bug takes (forever).
pub(crate) const BOUND: Duration = Duration::from_secs(3);

/// Declares a check: `fn $name() -> Check` (private, so one left out of its
/// file's [`register!`] list is dead code). Arguments: name, verdict, the
/// rule and where it comes from, the body over `(runtime, capabilities)`.
macro_rules! check {
    ($name:ident, $verdict:ident, $rule:literal, |$rt:ident, $caps:ident| $body:block) => {
        fn $name() -> $crate::runtime::Check {
            #[allow(unused_variables)]
            async fn body(
                $rt: std::sync::Arc<dyn wacore::runtime::Runtime>,
                $caps: $crate::runtime::Capabilities,
            ) -> $crate::CheckResult $body
            $crate::runtime::Check {
                name: "",
                verdict: $crate::Verdict::$verdict,
                rule: $rule,
                run: |rt, caps| Box::pin(body(rt, caps)),
            }
        }
    };
}
pub(crate) use check;

/// A file's checks, in report order, named `runtime::check`.
macro_rules! register {
    ($($name:ident),* $(,)?) => {
        /// This file's checks, in report order.
        pub(crate) fn checks() -> Vec<$crate::runtime::Check> {
            vec![$(
                $crate::runtime::Check {
                    name: concat!("runtime::", stringify!($name)),
                    ..$name()
                }
            ),*]
        }
    };
}
pub(crate) use register;

/// `future`'s output, or a failure saying `what` did not happen within [`BOUND`].
pub(crate) async fn promptly<T>(what: &str, future: impl Future<Output = T>) -> Result<T, Failure> {
    crate::limit::within(BOUND, future)
        .await
        .ok_or_else(|| Failure(format!("{what} did not happen within {BOUND:?}")))
}

/// Sends on its channel when dropped: shows that a task's future was dropped.
pub(crate) struct DropSignal(Option<futures::channel::oneshot::Sender<()>>);

impl Drop for DropSignal {
    fn drop(&mut self) {
        if let Some(tx) = self.0.take() {
            let _ = tx.send(());
        }
    }
}

/// Spawns a task that parks forever on a future that never wakes, and waits
/// until it has been polled. Returns its handle and a receiver that resolves
/// when the task's future is dropped.
pub(crate) async fn spawn_parked(
    rt: &dyn Runtime,
) -> Result<(AbortHandle, futures::channel::oneshot::Receiver<()>), Failure> {
    let (dropped_tx, dropped) = futures::channel::oneshot::channel();
    let (started_tx, started) = futures::channel::oneshot::channel();
    let signal = DropSignal(Some(dropped_tx));
    let handle = rt.spawn(Box::pin(async move {
        let _signal = signal;
        let _ = started_tx.send(());
        std::future::pending::<()>().await;
    }));
    promptly("the spawned task's first poll", started)
        .await?
        .map_err(|_| Failure("the spawned task was dropped before it ran".into()))?;
    Ok((handle, dropped))
}
