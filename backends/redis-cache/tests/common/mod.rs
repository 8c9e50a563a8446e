//! A throwaway Redis server for the tests: `redis-server` on a free loopback
//! port, no persistence, in a temporary directory, killed on drop. Without
//! the binary the tests skip with a message, unless
//! `CONFORMANCE_REQUIRE_SERVERS` is set (CI sets it), where they fail.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct RedisServer {
    child: Child,
    pub port: u16,
    _dir: std::path::PathBuf,
}

impl RedisServer {
    /// A running server, or `None` (with a message) when `redis-server` is
    /// not installed and servers are not required.
    pub fn start() -> Option<RedisServer> {
        let port = TcpListener::bind("127.0.0.1:0")
            .ok()?
            .local_addr()
            .ok()?
            .port();
        RedisServer::start_on(port)
    }

    /// A server on `port` (a restart reuses its port).
    pub fn start_on(port: u16) -> Option<RedisServer> {
        let dir = std::env::temp_dir().join(format!("redis-test-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).ok()?;
        let spawned = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .arg("--dir")
            .arg(&dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        let child = match spawned {
            Ok(child) => child,
            Err(e) if std::env::var_os("CONFORMANCE_REQUIRE_SERVERS").is_some() => {
                panic!("CONFORMANCE_REQUIRE_SERVERS is set but redis-server cannot start: {e}")
            }
            Err(e) => {
                eprintln!(
                    "skipped: redis-server cannot start ({e}); install redis-server or run `bash ci/servers.sh`"
                );
                return None;
            }
        };
        let server = RedisServer {
            child,
            port,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "redis-server did not listen on {port} within 10 s"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Some(server)
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
