//! The kit's runtime family on `SmolRuntime::single_threaded()`, one test per check.

use std::sync::Arc;

use whatsapp_rust_conformance::Expectations;
use whatsapp_rust_conformance::runtime::{Capabilities, RuntimeUnderTest, test_main};
use whatsapp_rust_smol_runtime::SmolRuntime;

fn main() {
    let subject = RuntimeUnderTest::new(
        "smol-single",
        Arc::new(SmolRuntime::single_threaded()),
        Capabilities::single_threaded(),
    );
    test_main(subject, Expectations::none())
}
