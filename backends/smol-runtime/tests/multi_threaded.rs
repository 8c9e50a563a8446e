//! The kit's runtime family on `SmolRuntime::new()`, one test per check.

use std::sync::Arc;

use whatsapp_rust_conformance::Expectations;
use whatsapp_rust_conformance::runtime::{Capabilities, RuntimeUnderTest, test_main};
use whatsapp_rust_smol_runtime::SmolRuntime;

fn main() {
    let subject = RuntimeUnderTest::new(
        "smol",
        Arc::new(SmolRuntime::new()),
        Capabilities::multi_threaded(),
    );
    test_main(subject, Expectations::none())
}
