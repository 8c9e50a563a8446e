//! A store wrapper that knows which calls are in flight, so a check that runs out of time is
//! reported with the call it is stuck in.

use std::sync::{Arc, Mutex};

use wacore::store::traits::Backend;

use super::methods::{Layer, Layered, Method};

/// The store calls started and not yet returned, across every handle of one
/// check's store.
#[derive(Debug, Default)]
pub(crate) struct InFlight {
    calls: Mutex<(Vec<Method>, Option<Method>)>,
}

impl InFlight {
    /// Wraps `store` so its calls are tracked here.
    pub(crate) fn watch(self: &Arc<Self>, store: Arc<dyn Backend>) -> Arc<dyn Backend> {
        Arc::new(Layered(Watched {
            inner: store,
            in_flight: self.clone(),
        }))
    }

    /// `get_session, put_session x2`, or the last call when none is in flight.
    pub(crate) fn describe(&self) -> String {
        let calls = self.calls.lock().unwrap_or_else(|e| e.into_inner());
        let (running, last) = &*calls;
        if running.is_empty() {
            return match last {
                Some(m) => format!("no store call in flight (the last one was {m})"),
                None => "no store call was made".into(),
            };
        }
        let mut names: Vec<String> = Vec::new();
        let mut seen: Vec<Method> = Vec::new();
        for m in running {
            if !seen.contains(m) {
                seen.push(*m);
                let n = running.iter().filter(|x| *x == m).count();
                names.push(if n > 1 {
                    format!("{m} x{n}")
                } else {
                    m.to_string()
                });
            }
        }
        format!("store calls in flight: {}", names.join(", "))
    }
}

struct Watched {
    inner: Arc<dyn Backend>,
    in_flight: Arc<InFlight>,
}

impl Layer for Watched {
    fn inner(&self) -> &dyn Backend {
        &*self.inner
    }

    fn before(&self, method: Method) {
        let mut calls = self
            .in_flight
            .calls
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        calls.0.push(method);
        calls.1 = Some(method);
    }

    fn after(&self, method: Method) {
        let mut calls = self
            .in_flight
            .calls
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(i) = calls.0.iter().position(|m| *m == method) {
            calls.0.remove(i);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use async_trait::async_trait;
    use bytes::Bytes;
    use wacore::appstate::processor::AppStateMutationMAC;
    use wacore::store::error::Result;
    use wacore::store::traits::{Backend, MsgSecretEntry};

    use crate::storage::flaws::flawed_factory;
    use crate::storage::{
        Layer, Layered, Method, find_check, in_memory, run_check_within, run_suite,
    };
    use crate::{Executor, Expectations, Outcome};

    /// A store whose `get_session` never returns.
    struct Hangs(Arc<dyn Backend>);

    #[async_trait]
    impl Layer for Hangs {
        fn inner(&self) -> &dyn Backend {
            &*self.0
        }
        async fn get_session(&self, _address: &str) -> Result<Option<Bytes>> {
            std::future::pending().await
        }
    }

    #[test]
    fn a_call_that_never_returns_fails_its_check_by_the_limit_naming_the_call() {
        let factory = flawed_factory(|inner| Arc::new(Layered(Hangs(inner))));
        let check = find_check("signal::missing_signal_rows_read_as_none").unwrap();
        let started = Instant::now();
        let report = Executor::DEFAULT.block_on(run_check_within(
            &check,
            &factory,
            &Expectations::none(),
            Duration::from_millis(500),
        ));
        assert!(started.elapsed() < Duration::from_secs(5));
        match report.outcome {
            Outcome::Failed { message } => {
                assert!(message.contains("timed out"), "{message}");
                assert!(message.contains("in flight: get_session"), "{message}");
            }
            other => panic!("{other:?}"),
        }
    }

    /// Slow but correct: 1 ms for every call, and 1 ms more per 100 rows
    /// of the batches that carry the most rows.
    struct Slow(Arc<dyn Backend>);

    fn pause(rows: usize) {
        std::thread::sleep(Duration::from_millis(rows.div_ceil(100) as u64));
    }

    #[async_trait]
    impl Layer for Slow {
        fn inner(&self) -> &dyn Backend {
            &*self.0
        }
        fn before(&self, _method: Method) {
            pause(1);
        }
        async fn put_sessions_batch(&self, sessions: &[(Arc<str>, Bytes)]) -> Result<()> {
            pause(sessions.len());
            self.0.put_sessions_batch(sessions).await
        }
        async fn put_mutation_macs(
            &self,
            name: &str,
            version: u64,
            mutations: &[AppStateMutationMAC],
        ) -> Result<()> {
            pause(mutations.len());
            self.0.put_mutation_macs(name, version, mutations).await
        }
        async fn put_msg_secrets(&self, entries: Vec<MsgSecretEntry>) -> Result<usize> {
            pause(entries.len());
            self.0.put_msg_secrets(entries).await
        }
    }

    /// The suite's size is part of its design: a slow-but-correct store
    /// passes it well inside the limits (about 17 s here).
    #[test]
    fn a_slow_but_correct_store_passes_the_suite_in_under_three_minutes() {
        let factory = flawed_factory(|inner| Arc::new(Layered(Slow(inner))));
        let started = Instant::now();
        let report = Executor::DEFAULT
            .block_on(run_suite(
                &factory,
                // Its 1 ms pauses sleep on the caller's thread: slow, and
                // blocking too, which this check is there to see.
                &in_memory::expectations().expect_failure(
                    "executor::writes_leave_the_executor_thread_free",
                    "this test store sleeps on the caller's thread",
                ),
                |_, _, r| {
                    if r.elapsed > Duration::from_secs(5) {
                        eprintln!("{} took {:?}", r.check, r.elapsed);
                    }
                },
            ))
            .unwrap();
        let took = started.elapsed();
        eprintln!("the suite took {took:?} on the slow store");
        assert!(report.is_ok(), "{:#?}", report.to_json());
        assert!(took < Duration::from_secs(180), "{took:?}");
    }
}
