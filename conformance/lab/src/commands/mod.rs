//! The lab's own commands, beside the kit's: the fault campaign on a
//! simulated disk and the side-by-side benchmark with raw redb.

pub mod bench;
pub mod faults;

/// The runtime the commands run on: two workers, like the machines we test on.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("the OS refused a tokio runtime")
}
