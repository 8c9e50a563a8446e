//! The commands, one module each, and what they share.

pub mod bench;
pub mod check;
pub mod checks;
pub mod crash;
pub mod faults;

use std::process::ExitCode;

/// The runtime the commands run on: two workers, like the machines we test on.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("the OS refused a tokio runtime")
}

/// Exit status 2 with `message` on stderr: a usage error found after parsing.
pub fn usage_error(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(2)
}

/// Exit status 0 when nothing failed, 1 otherwise.
pub fn status(failed: usize) -> ExitCode {
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Prints a JSON document on stdout, pretty.
pub fn print_json(value: &serde_json::Value) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).expect("a JSON value always serialises")
    );
}

/// `h:mm:ss`-free estimate of the time left after `done` of `total` items
/// took `elapsed`: `~12 s left`.
pub fn time_left(elapsed: std::time::Duration, done: usize, total: usize) -> String {
    if done == 0 {
        return "estimating".into();
    }
    let left = elapsed.as_secs_f64() / done as f64 * total.saturating_sub(done) as f64;
    format!("~{left:.0} s left")
}
