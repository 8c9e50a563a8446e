use whatsapp_rust_conformance::{Expectations, cli, storage::SimpleFactory};

fn main() -> std::process::ExitCode {
    let factory = SimpleFactory::of("btree", btree_store::BTreeStore::new);
    cli::main(factory, Expectations::none())
}
