//! Deliberately broken stores, for the kit's own tests: a check that no
//! broken store fails proves nothing.
//!
//! Each flaw is written with [`flaw!`] right after the check that must catch
//! it: one [`Layer`] override on top of `InMemoryBackend` (which passes the
//! suite), and a test that runs that check on it and requires it to fail.

/// What a flaw's body can name without imports.
#[cfg(test)]
pub(crate) mod prelude {
    pub(crate) use std::sync::Arc;

    pub(crate) use async_trait::async_trait;
    pub(crate) use bytes::Bytes;
    pub(crate) use wacore::appstate::hash::HashState;
    pub(crate) use wacore::store::error::{Result, StoreError};
    pub(crate) use wacore::store::traits::{
        Backend, DeviceListRecord, LidPnMappingEntry, MsgSecretEntry, TcTokenEntry,
    };

    pub(crate) use crate::storage::{Layer, Layered};

    /// The tc-token merges done as read, `yields` yields, write: correct
    /// alone, not atomic (a write in the window is lost).
    pub(crate) async fn touch_non_atomically(
        store: &dyn Backend,
        jid: &str,
        sender_timestamp: i64,
        yields: u32,
    ) -> Result<()> {
        let existing = store.get_tc_token(jid).await?;
        for _ in 0..yields {
            crate::yield_now().await;
        }
        let mut e = existing.unwrap_or(TcTokenEntry {
            token: vec![],
            token_timestamp: sender_timestamp,
            sender_timestamp: None,
        });
        e.sender_timestamp = Some(
            e.sender_timestamp
                .map_or(sender_timestamp, |s| s.max(sender_timestamp)),
        );
        store.put_tc_token(jid, &e).await
    }

    /// Marks by reading each record, yielding, then writing it back with
    /// the flag set: a write to the prekey in that window is undone.
    pub(crate) async fn mark_uploaded_non_atomically(
        store: &dyn Backend,
        ids: &[u32],
    ) -> Result<()> {
        for &id in ids {
            if let Some(record) = store.load_prekey(id).await? {
                crate::yield_now().await;
                store.store_prekey(id, &record, true).await?;
            }
        }
        Ok(())
    }

    /// Takes, puts the row back for a yield, then deletes it: a store or a
    /// sweep in that window acts on a row already taken.
    pub(crate) async fn take_non_atomically(
        store: &dyn Backend,
        chat_jid: &str,
        message_id: &str,
    ) -> Result<Option<Vec<u8>>> {
        let taken = store.take_sent_message(chat_jid, message_id).await?;
        if let Some(payload) = &taken {
            store
                .store_sent_message(chat_jid, message_id, payload)
                .await?;
            crate::yield_now().await;
            store.take_sent_message(chat_jid, message_id).await?;
        }
        Ok(taken)
    }

    /// See [`touch_non_atomically`].
    pub(crate) async fn receive_non_atomically(
        store: &dyn Backend,
        jid: &str,
        token: &[u8],
        token_timestamp: i64,
        yields: u32,
    ) -> Result<()> {
        let existing = store.get_tc_token(jid).await?;
        for _ in 0..yields {
            crate::yield_now().await;
        }
        if let Some(e) = &existing
            && !e.token.is_empty()
            && token_timestamp < e.token_timestamp
        {
            return Ok(());
        }
        let sender_timestamp = existing.and_then(|e| e.sender_timestamp);
        let entry = TcTokenEntry {
            token: token.to_vec(),
            token_timestamp,
            sender_timestamp,
        };
        store.put_tc_token(jid, &entry).await
    }
}

/// `flaw! { /// what is broken
///     name, caught_by: check_fn { extra_field: Type, ... };
///     async fn overridden_method(&self, ...) -> ... { ... } }`
///
/// Expands (in test builds) to `mod name` holding the broken store and the
/// test `name::is_caught`. Extra fields start at `Default::default()`.
macro_rules! flaw {
    (
        $(#[$doc:meta])*
        $name:ident, caught_by: $check:ident $({ $($field:ident: $fty:ty),* $(,)? })?;
        $($body:tt)*
    ) => {
        #[cfg(test)]
        mod $name {
            #[allow(unused_imports)]
            use $crate::storage::flaws::prelude::*;

            $(#[$doc])*
            struct Flawed {
                inner: Arc<dyn Backend>,
                $($($field: $fty,)*)?
            }

            #[async_trait]
            impl Layer for Flawed {
                fn inner(&self) -> &dyn Backend {
                    &*self.inner
                }
                $($body)*
            }

            #[test]
            fn is_caught() {
                $crate::storage::flaws::assert_caught(stringify!($check), |inner| {
                    Arc::new(Layered(Flawed {
                        inner,
                        $($($field: Default::default(),)*)?
                    }))
                });
            }
        }
    };
}
pub(crate) use flaw;

#[cfg(test)]
pub(crate) use testing::*;

#[cfg(test)]
mod testing {
    use std::sync::Arc;

    use wacore::store::InMemoryBackend;
    use wacore::store::traits::Backend;

    use crate::storage::{
        Layer, Layered, SimpleFactory, all_checks, in_memory, run_check, run_suite,
    };
    use crate::{Executor, Expectations, Outcome};

    type Wrap = dyn Fn(Arc<dyn Backend>) -> Arc<dyn Backend> + Send + Sync;

    /// A factory of `InMemoryBackend`s wrapped by `wrap`.
    pub(crate) fn flawed_factory(
        wrap: impl Fn(Arc<dyn Backend>) -> Arc<dyn Backend> + Send + Sync + 'static,
    ) -> SimpleFactory {
        let wrap: Arc<Wrap> = Arc::new(wrap);
        SimpleFactory::new("flawed", in_memory::capabilities(), move || {
            let store = wrap(Arc::new(InMemoryBackend::new()));
            async move { Ok(store) }
        })
    }

    /// Runs the check named `area::check` on the flawed store and requires a failure.
    pub(crate) fn assert_caught(
        check: &str,
        wrap: impl Fn(Arc<dyn Backend>) -> Arc<dyn Backend> + Send + Sync + 'static,
    ) {
        let suffix = format!("::{check}");
        let matching: Vec<_> = all_checks()
            .into_iter()
            .filter(|c| c.name.ends_with(&suffix))
            .collect();
        assert_eq!(matching.len(), 1, "no single check is named *{suffix}");
        let factory = flawed_factory(wrap);
        let report =
            Executor::DEFAULT.block_on(run_check(&matching[0], &factory, &Expectations::none()));
        match report.outcome {
            Outcome::Failed { message } => eprintln!("caught by {}: {message}", report.check),
            other => panic!("{} missed the flaw: {other:?}", report.check),
        }
    }

    /// Forwards everything: the wrapper itself changes nothing.
    struct Unflawed(Arc<dyn Backend>);

    impl Layer for Unflawed {
        fn inner(&self) -> &dyn Backend {
            &*self.0
        }
    }

    #[test]
    fn the_unflawed_wrapper_passes_the_whole_suite() {
        let factory = flawed_factory(|inner| Arc::new(Layered(Unflawed(inner))));
        let report = Executor::DEFAULT
            .block_on(run_suite(
                &factory,
                &in_memory::expectations(),
                |_, _, _| {},
            ))
            .expect("the declared deviations name real checks");
        assert!(report.is_ok(), "{:#?}", report.to_json());
    }
}
