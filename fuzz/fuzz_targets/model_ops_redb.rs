#![no_main]

use libfuzzer_sys::fuzz_target;
use whatsapp_rust_conformance::storage::model::Op;

fuzz_target!(|ops: Vec<Op>| whatsapp_rust_storage_fuzz::model_ops_redb(&ops));
