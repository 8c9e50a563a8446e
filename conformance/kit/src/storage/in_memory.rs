//! wacore's own `InMemoryBackend` as a subject of the kit: its factory and its
//! declared deviations. Useful as a known-good baseline beside your store,
//! and what the kit's own tests run on.

use std::sync::Arc;

use wacore::store::InMemoryBackend;
use wacore::store::traits::Backend;

use super::factory::{Capabilities, MessageTs, PrekeyBatchOrder, SimpleFactory};
use crate::Expectations;

/// `InMemoryBackend`: one account, not persistent, with the pending-inbound
/// buffer and group metadata.
pub fn factory() -> SimpleFactory {
    SimpleFactory::new("memory", capabilities(), || async {
        Ok(Arc::new(InMemoryBackend::new()) as Arc<dyn Backend>)
    })
}

/// What `InMemoryBackend` claims, with the choices it makes where the trait
/// leaves them open.
pub const fn capabilities() -> Capabilities {
    Capabilities::none()
        .pending_inbound(true)
        .group_metadata(true)
        .message_ts(MessageTs::Stored)
        .prekey_batch_order(PrekeyBatchOrder::RequestOrderRepeated)
}

/// Deviations of `InMemoryBackend` 0.7.0.
pub fn expectations() -> Expectations {
    Expectations::none()
        .expect_failure(
            "protocol::pn_mapping_after_a_remap",
            "InMemoryBackend 0.7.0 keeps one reverse entry per phone and deletes it when a LID of that phone is remapped, so the phone's other LIDs are no longer found (found by the model-based tests)",
        )
        .expect_failure(
            "protocol::lid_mapping_keeps_the_first_created_at",
            "InMemoryBackend 0.7.0 replaces the whole entry on a re-put, created_at included, though the trait documents it as when the mapping was first learned",
        )
}
