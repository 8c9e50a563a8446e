//! The database servers of `ci/servers.sh` as tests see them.

/// `POSTGRES_URL` (set by `eval "$(bash ci/servers.sh start)"`), or `None`
/// with a message saying the test is skipped; with
/// `CONFORMANCE_REQUIRE_SERVERS` set (CI sets it) a missing URL panics
/// instead, so a server-backed test never skips in CI.
pub fn postgres_url_or_skip() -> Option<String> {
    match std::env::var("POSTGRES_URL") {
        Ok(url) => Some(url),
        Err(_) if std::env::var_os("CONFORMANCE_REQUIRE_SERVERS").is_some() => {
            panic!("CONFORMANCE_REQUIRE_SERVERS is set but POSTGRES_URL is not")
        }
        Err(_) => {
            eprintln!("skipped: POSTGRES_URL is not set (eval \"$(bash ci/servers.sh start)\")");
            None
        }
    }
}
