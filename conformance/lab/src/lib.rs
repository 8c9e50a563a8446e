//! Our lab around the conformance kit: what we run the kit with, kept out of
//! the kit so that a backend author's dependency tree holds none of it.
//!
//! - [`references`]: factories for our redb engine, `SqliteStore` and
//!   `InMemoryBackend`, with their declared deviations;
//! - [`fault_campaign`]: the kit's fault workload on a simulated disk, with an
//!   I/O error or a power cut at every write, sync and resize;
//! - [`raw_redb`]: the raw-redb baseline of the benchmarks;
//! - [`report`]: benchmark ratio tables, JSON and SVG charts.
//!
//! The CLI (`whatsapp-rust-conformance`) is this crate's binary.

#![warn(missing_docs)]

pub mod families;
pub mod fault_campaign;
pub mod network;
pub mod raw_redb;
pub mod references;
pub mod report;
pub mod servers;
pub mod sqlite_source;
pub mod transfer;
