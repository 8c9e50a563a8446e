use whatsapp_rust_conformance::{Expectations, storage::*};

fn main() {
    let factory = SimpleFactory::of("btree", btree_store::BTreeStore::new);
    test_main(factory, Expectations::none());
}
