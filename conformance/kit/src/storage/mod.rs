//! The storage family: checks of `wacore::store::traits::Backend`.
//!
//! Hand the kit a [`Factory`] that makes fresh, empty stores, with the
//! [`Capabilities`] it claims, and it checks every method of the five store
//! traits against the documented contract:
//!
//! - [`all_checks`]: contract, implementation-defined and defect checks, each
//!   naming the trait methods it calls ([`checks_covering`]);
//! - [`test_main`]: the same as a `cargo test` target, one test per check;
//! - [`model`]: random operation sequences against a model of the contract;
//! - [`crash`]: SIGKILL a writer child, verify the reopened store;
//! - [`faults`]: a numbered workload over every table, for fault campaigns;
//! - [`bench`]: the storage paths a real client drives, as benchmarks.
//!
//! [`Method`] lists the trait methods once; [`Layer`] and [`Layered`] build
//! wrappers from it ([`recording::Recording`]; deliberately broken stores in
//! the kit's own tests).

mod check;
mod checks;
mod factory;
mod methods;
mod registry;
mod runner;
mod test_harness;
mod watch;
mod wrapped;

pub mod bench;
pub mod crash;
pub mod faults;
pub mod in_memory;
pub mod model;
pub mod recording;

mod flaws;

pub use crate::limit::default_limit;
pub use check::{Check, CheckFn, Ctx, Needs};
pub use factory::{
    Capabilities, Choices, Factory, Instance, MessageTs, PrekeyBatchOrder, SetupError,
    SimpleFactory,
};
pub use methods::{Layer, Layered, Method, UnknownMethod};
pub use registry::{all_checks, checks_covering, find_check};
pub use runner::{run_check, run_check_within, run_checks, run_suite};
pub use test_harness::{test_main, test_main_each};
pub use wrapped::WrappedFactory;
