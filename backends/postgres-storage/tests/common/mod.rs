//! A throwaway PostgreSQL server for the tests: `initdb` into a temporary
//! directory, `postgres` on a free loopback port (trust auth, default
//! durability settings), stopped and removed on drop. As root the server
//! runs as the `postgres` user (it refuses to run as root). Without the
//! binaries the tests skip with a message, unless `CONFORMANCE_REQUIRE_SERVERS`
//! is set (CI sets it), where they fail.

#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub struct PgServer {
    bin: PathBuf,
    dir: PathBuf,
    pub port: u16,
    as_postgres_user: bool,
    extra_options: String,
}

/// A server certificate and key (PEM) for a server that speaks TLS only.
pub struct ServerTls {
    pub cert_pem: String,
    pub key_pem: String,
}

fn required() -> bool {
    std::env::var_os("CONFORMANCE_REQUIRE_SERVERS").is_some()
}

fn skip(why: String) -> Option<PgServer> {
    if required() {
        panic!("CONFORMANCE_REQUIRE_SERVERS is set but PostgreSQL cannot start: {why}");
    }
    eprintln!("skipped: PostgreSQL cannot start ({why}); run `bash ci/servers.sh install`");
    None
}

/// The newest `/usr/lib/postgresql/<v>/bin`, or the directory of `initdb` on PATH.
fn bin_dir() -> Option<PathBuf> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("postgres").exists().then_some((v, bin))
        })
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return Some(bin);
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .find(|p| p.join("initdb").exists() && p.join("pg_ctl").exists())
    })
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

impl PgServer {
    /// A running server, or `None` (with a message) when PostgreSQL is not
    /// installed and servers are not required.
    pub fn start() -> Option<PgServer> {
        PgServer::start_with(None)
    }

    /// A server that accepts TLS connections only (`hostssl` in pg_hba.conf).
    pub fn start_tls_only(tls: &ServerTls) -> Option<PgServer> {
        PgServer::start_with(Some(tls))
    }

    fn start_with(tls: Option<&ServerTls>) -> Option<PgServer> {
        let Some(bin) = bin_dir() else {
            return skip("no initdb/pg_ctl found".into());
        };
        let port = TcpListener::bind("127.0.0.1:0")
            .ok()?
            .local_addr()
            .ok()?
            .port();
        let dir = std::env::temp_dir().join(format!("pg-test-{}-{port}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create the server's directory");
        let mut server = PgServer {
            bin,
            dir,
            port,
            as_postgres_user: is_root(),
            extra_options: String::new(),
        };
        if server.as_postgres_user {
            let ok = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(&server.dir)
                .status()
                .is_ok_and(|s| s.success());
            if !ok {
                return skip("cannot hand the data directory to the postgres user".into());
            }
        }
        let data = server.data_dir();
        if let Err(e) = server.run("initdb", |c| {
            c.arg("-D").arg(&data).args([
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ]);
        }) {
            return skip(e);
        }
        if let Some(tls) = tls {
            server.only_tls(tls);
        }
        server.pg_start();
        Some(server)
    }

    /// Installs the certificate, turns TLS on and refuses plain connections.
    fn only_tls(&mut self, tls: &ServerTls) {
        use std::os::unix::fs::PermissionsExt;
        let data = self.data_dir();
        std::fs::write(data.join("server.crt"), &tls.cert_pem).unwrap();
        std::fs::write(data.join("server.key"), &tls.key_pem).unwrap();
        std::fs::set_permissions(
            data.join("server.key"),
            std::fs::Permissions::from_mode(0o600),
        )
        .unwrap();
        std::fs::write(
            data.join("pg_hba.conf"),
            "local all all trust\nhostssl all all 127.0.0.1/32 trust\n",
        )
        .unwrap();
        if self.as_postgres_user {
            let _ = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(&data)
                .status();
        }
        self.extra_options = " -c ssl=on".into();
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.join("data")
    }

    /// Runs one of the server's programs (as `postgres` when we are root).
    fn run(&self, program: &str, args: impl FnOnce(&mut Command)) -> Result<(), String> {
        let path = self.bin.join(program);
        let mut command = if self.as_postgres_user {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&path);
            c
        } else {
            Command::new(&path)
        };
        args(&mut command);
        let out = command
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("{}: {e}", path.display()))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "{program} failed: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    }

    fn pg_start(&self) {
        let data = self.data_dir();
        let log = self.dir.join("server.log");
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {} -c max_connections=200{}",
            self.port,
            self.dir.display(),
            self.extra_options
        );
        self.run("pg_ctl", |c| {
            c.arg("-D")
                .arg(&data)
                .arg("-l")
                .arg(&log)
                .args(["-w", "-t", "60", "-o", &options, "start"]);
        })
        .unwrap_or_else(|e| panic!("{e}\nserver log: {}", read(&log)));
    }

    /// Stops the server at once, as a crash would (`-m immediate`: no
    /// checkpoint; the next start replays the WAL).
    pub fn crash(&self) {
        let data = self.data_dir();
        self.run("pg_ctl", |c| {
            c.arg("-D")
                .arg(&data)
                .args(["-m", "immediate", "-w", "stop"]);
        })
        .expect("stop the server");
    }

    /// Starts the server again on the same port and data.
    pub fn start_again(&self) {
        self.pg_start();
    }

    /// A connection string for the `postgres` database as the superuser.
    pub fn url(&self) -> String {
        format!(
            "host=127.0.0.1 port={} user=postgres dbname=postgres",
            self.port
        )
    }
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

impl Drop for PgServer {
    fn drop(&mut self) {
        let data = self.data_dir();
        let _ = self.run("pg_ctl", |c| {
            c.arg("-D")
                .arg(&data)
                .args(["-m", "immediate", "-w", "stop"]);
        });
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
