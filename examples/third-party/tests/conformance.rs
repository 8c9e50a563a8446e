use std::sync::Arc;

use btree_store::BTreeStore;
use whatsapp_rust_conformance::{Expectations, storage::*};

fn main() {
    let factory = SimpleFactory::new("btree", Capabilities::none(), || async {
        Ok(Arc::new(BTreeStore::new()) as _)
    });
    test_main(factory, Expectations::none());
}
