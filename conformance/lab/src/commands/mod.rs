//! The lab's own commands, beside the kit's: the fault campaign on a
//! simulated disk and the side-by-side benchmark with raw redb. Both run on
//! `Executor::TokioMultiThread` (two workers, like the machines we test on;
//! SqliteStore needs tokio).

pub mod bench;
pub mod faults;
