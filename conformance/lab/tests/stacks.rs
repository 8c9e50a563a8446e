//! The stack family on the lab's two stacks, one test per stack and check,
//! named `<stack>/<check>`.

use whatsapp_rust_conformance::stack;
use whatsapp_rust_conformance_lab::network;

fn main() {
    stack::test_main_each(network::stacks())
}
