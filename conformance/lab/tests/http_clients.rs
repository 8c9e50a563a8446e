//! The http family on every HTTP client of the lab, one test per client
//! and check, named `<client>/<check>`.

use whatsapp_rust_conformance::http;
use whatsapp_rust_conformance_lab::network;

fn main() {
    http::test_main_each(network::http_clients())
}
