//! The third-party way in: one `#[test]` per check of the kit.

use std::sync::Arc;

use whatsapp_rust_conformance::{Capabilities, SimpleFactory};
use whatsapp_rust_storage_examples::btree_store::BTreeStore;

fn factory() -> SimpleFactory {
    SimpleFactory::new("btree", Capabilities::none(), || async {
        Ok(Arc::new(BTreeStore::new()) as _)
    })
}

whatsapp_rust_conformance::conformance_tests!(factory());
