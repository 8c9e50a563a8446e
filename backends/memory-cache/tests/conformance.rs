//! The kit's cache family on `MemoryCacheStore`, one test per check.

use std::sync::Arc;

use whatsapp_rust_conformance::Expectations;
use whatsapp_rust_conformance::cache::{Capabilities, EntryCount, SimpleFactory, test_main};
use whatsapp_rust_memory_cache::MemoryCacheStore;

fn main() {
    let caps = Capabilities::default().with_entry_count(EntryCount::Exact);
    let factory = SimpleFactory::new("memory-cache", caps, || async {
        Ok(Arc::new(MemoryCacheStore::new()))
    });
    test_main(factory, Expectations::none())
}
