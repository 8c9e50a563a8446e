//! The conformance kit's whole storage suite on the engine, one test per
//! check: part of the engine's own tests, so a change (or a mutant) the
//! kit would catch fails `cargo test -p whatsapp-rust-redb-storage`.

use whatsapp_rust_conformance::Expectations;
use whatsapp_rust_redb_storage::conformance::RedbFactory;

fn main() {
    whatsapp_rust_conformance::storage::test_main(RedbFactory, Expectations::none())
}
