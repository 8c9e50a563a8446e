//! The transport family on every transport of the lab, one test per
//! transport and check, named `<transport>/<check>`.

use whatsapp_rust_conformance::transport;
use whatsapp_rust_conformance_lab::network;

fn main() {
    transport::test_main_each(network::transports())
}
