#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| whatsapp_rust_storage_fuzz::open_file(data));
