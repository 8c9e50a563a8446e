//! The suite as tests, one per check and reference backend, named
//! `<backend>/<check>`: run one with
//! `cargo test -p whatsapp-rust-conformance-lab --test references -- redb/protocol::base_keys`.

use whatsapp_rust_conformance::storage::test_main_each;
use whatsapp_rust_conformance_lab::references::Reference;

fn main() {
    test_main_each(
        Reference::ALL
            .into_iter()
            .map(|r| (r.factory(), r.expectations()))
            .collect(),
    )
}
