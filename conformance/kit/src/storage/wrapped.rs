//! [`WrappedFactory`]: a factory whose every store handle (the store, other
//! accounts, second handles) goes through a wrapper, such as
//! [`Recording`](super::recording::Recording).

use std::sync::Arc;

use async_trait::async_trait;
use wacore::store::traits::Backend;

use super::{Capabilities, Factory, Instance, SetupError};

type Wrap = dyn Fn(Arc<dyn Backend>) -> Arc<dyn Backend> + Send + Sync;

/// `inner`'s stores, each handle passed through `wrap`.
pub struct WrappedFactory<F> {
    inner: F,
    wrap: Arc<Wrap>,
}

impl<F: Factory> WrappedFactory<F> {
    /// Wraps every store handle `inner` gives out.
    pub fn new(
        inner: F,
        wrap: impl Fn(Arc<dyn Backend>) -> Arc<dyn Backend> + Send + Sync + 'static,
    ) -> Self {
        WrappedFactory {
            inner,
            wrap: Arc::new(wrap),
        }
    }
}

struct WrappedInstance {
    inner: Box<dyn Instance>,
    wrap: Arc<Wrap>,
}

#[async_trait]
impl<F: Factory> Factory for WrappedFactory<F> {
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }
    async fn open(&self) -> Result<Box<dyn Instance>, SetupError> {
        Ok(Box::new(WrappedInstance {
            inner: self.inner.open().await?,
            wrap: self.wrap.clone(),
        }))
    }
}

#[async_trait]
impl Instance for WrappedInstance {
    fn store(&self) -> Arc<dyn Backend> {
        (self.wrap)(self.inner.store())
    }
    async fn reopen(&mut self) -> Result<(), SetupError> {
        self.inner.reopen().await
    }
    async fn account(&self, device_id: i32) -> Result<Arc<dyn Backend>, SetupError> {
        Ok((self.wrap)(self.inner.account(device_id).await?))
    }
    async fn second_handle(&self) -> Result<Arc<dyn Backend>, SetupError> {
        Ok((self.wrap)(self.inner.second_handle().await?))
    }
    async fn teardown(self: Box<Self>) -> Result<(), SetupError> {
        self.inner.teardown().await
    }
}

/// A borrowed factory as a `Factory`, so a wrapper needs no ownership.
pub(crate) struct FactoryRef<'a>(pub(crate) &'a dyn Factory);

#[async_trait]
impl Factory for FactoryRef<'_> {
    fn name(&self) -> &str {
        self.0.name()
    }
    fn capabilities(&self) -> Capabilities {
        self.0.capabilities()
    }
    async fn open(&self) -> Result<Box<dyn Instance>, SetupError> {
        self.0.open().await
    }
}
