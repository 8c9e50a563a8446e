//! On the redb engine, which claims every capability, every check calls
//! exactly the trait methods it declares (the kit's own test can only run
//! the checks the in-memory reference supports), and together the checks
//! call every method of the five traits.

use std::collections::BTreeSet;

use whatsapp_rust_conformance::Executor;
use whatsapp_rust_conformance::storage::recording::methods_called;
use whatsapp_rust_conformance::storage::{Method, all_checks};
use whatsapp_rust_conformance_lab::references::RedbFactory;

#[test]
fn every_check_calls_exactly_its_declared_methods_and_all_methods_are_called() {
    let mut wrong = Vec::new();
    let mut all_called = BTreeSet::new();
    for check in all_checks() {
        let called = Executor::TokioMultiThread.block_on(methods_called(&check, &RedbFactory));
        let declared: BTreeSet<Method> = check.methods.iter().copied().collect();
        if called != declared {
            let names: Vec<_> = called.iter().map(|m| m.name()).collect();
            wrong.push(format!("{} calls [{}]", check.name, names.join(", ")));
        }
        all_called.extend(called);
    }
    assert!(
        wrong.is_empty(),
        "declared methods differ:\n{}",
        wrong.join("\n")
    );
    let never: Vec<_> = Method::ALL
        .iter()
        .filter(|m| !all_called.contains(m))
        .collect();
    assert!(never.is_empty(), "methods no check calls: {never:?}");
}
