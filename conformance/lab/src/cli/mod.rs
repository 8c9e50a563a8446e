//! Commands of the CLI beyond `check` and `crash`, and the helpers they share.

pub mod bench;
pub mod faults;

/// The value after `--name`, if given.
pub fn flag<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(String::as_str)
}

/// A number from `--name`, else the environment variable `env`, else `default`.
pub fn number(args: &[String], name: &str, env: &str, default: u64) -> Result<u64, String> {
    match flag(args, name)
        .map(str::to_owned)
        .or_else(|| std::env::var(env).ok())
    {
        None => Ok(default),
        Some(v) => v
            .parse()
            .map_err(|_| format!("{name}: {v:?} is not a number")),
    }
}

/// The runtime the commands run on: two workers, like the machines we test on.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
}
