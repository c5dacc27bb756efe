//! The servers under test as child processes: start, readiness, memory, stop.
//!
//! A [`Server`] is started the way the Functions host starts a custom handler: with the port in
//! `FUNCTIONS_CUSTOMHANDLER_PORT` (and the host's other variables), the rest of the environment
//! inherited. Its stdout and stderr go to a log file under `target/bench-logs/`, which the host
//! would read from pipes; the file keeps them for a look after a failed run. Dropping a `Server`
//! kills the process and reaps it, so every way out of the tool, an error, a panic or Ctrl-C
//! included, leaves no server behind.

use std::{
    fs::{self, File},
    net::{Ipv4Addr, SocketAddr, TcpListener},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::Duration,
};

use anyhow::{Context, Result, bail};
use tokio::time::{Instant, sleep, timeout};

use crate::{http1::Connection, payload::Request};

/// How long a server may take to answer its first `GET /` (the host allows 30 s).
pub const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// How often the readiness ping is tried before the benchmark runs.
pub const READY_POLL: Duration = Duration::from_millis(1);

/// A server started for the benchmark, killed when dropped.
pub struct Server {
    /// A short name for messages: `handler` or `floor`.
    name: &'static str,
    /// The running process.
    child: Child,
    /// Where it listens.
    addr: SocketAddr,
    /// Where its stdout and stderr go.
    log: PathBuf,
    /// Just before the process was spawned.
    spawned_at: Instant,
}

/// Resident memory of a process, from `/proc/<pid>/status`, in KiB.
#[derive(Debug, Clone, Copy, Default)]
pub struct Memory {
    /// `VmRSS`: resident now.
    pub rss_kib: u64,
    /// `VmHWM`: the most ever resident.
    pub peak_kib: u64,
}

impl Server {
    /// Starts `binary` on a free port, its output going to `log`.
    ///
    /// # Errors
    ///
    /// Fails when no port is free, the log cannot be created or the binary cannot be run.
    pub fn start(name: &'static str, binary: &Path, log: &Path) -> Result<Server> {
        let port = free_port()?;
        if let Some(dir) = log.parent() {
            fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        let out = File::create(log).with_context(|| format!("creating {}", log.display()))?;
        let err = out.try_clone().context("sharing the log file")?;
        let app_root = binary.parent().unwrap_or(Path::new("."));

        let spawned_at = Instant::now();
        let child = Command::new(binary)
            .env("FUNCTIONS_CUSTOMHANDLER_PORT", port.to_string())
            .env("FUNCTIONS_HTTPWORKER_PORT", port.to_string())
            .env("FUNCTIONS_CUSTOMHANDLER_WORKER_ID", "bench")
            .env("FUNCTIONS_HTTPWORKER_ID", "bench")
            .env("FUNCTIONS_APP_ROOT_PATH", app_root)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;

        Ok(Server {
            name,
            child,
            addr: SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
            log: log.to_owned(),
            spawned_at,
        })
    }

    /// Where the server listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Pings `GET /` every `every` (back to back when zero) until the server answers.
    ///
    /// Each ping uses a fresh connection, like the host's. Any HTTP answer means ready. Returns
    /// the time from spawning the process to reading that answer.
    ///
    /// # Errors
    ///
    /// Fails when the process exits, or gives no answer within [`READY_TIMEOUT`].
    pub async fn wait_ready(&mut self, every: Duration) -> Result<Duration> {
        let ping = Request::ping(self.addr.port());
        let give_up = Instant::now() + READY_TIMEOUT;
        loop {
            if answers(self.addr, &ping).await {
                return Ok(self.spawned_at.elapsed());
            }
            if let Some(status) = self.child.try_wait().context("checking the server")? {
                bail!(
                    "{} exited with {status} before it was ready{}",
                    self.name,
                    self.log_tail()
                );
            }
            if Instant::now() >= give_up {
                bail!(
                    "{} gave no answer within {READY_TIMEOUT:?}{}",
                    self.name,
                    self.log_tail()
                );
            }
            if every.is_zero() {
                tokio::task::yield_now().await;
            } else {
                sleep(every).await;
            }
        }
    }

    /// Reads the server's resident memory.
    ///
    /// # Errors
    ///
    /// Fails when `/proc/<pid>/status` cannot be read or lacks the fields.
    pub fn memory(&self) -> Result<Memory> {
        let path = format!("/proc/{}/status", self.pid());
        let status = fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
        let field = |name: &str| -> Result<u64> {
            status
                .lines()
                .find_map(|line| line.strip_prefix(name))
                .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
                .with_context(|| format!("no {name} in {path}"))
        };
        Ok(Memory {
            rss_kib: field("VmRSS:")?,
            peak_kib: field("VmHWM:")?,
        })
    }

    /// Fails if the server has exited, which a server under load must not do.
    ///
    /// # Errors
    ///
    /// Fails when the process is gone, saying how it ended.
    pub fn check_alive(&mut self) -> Result<()> {
        match self.child.try_wait().context("checking the server")? {
            None => Ok(()),
            Some(status) => bail!("{} exited with {status}{}", self.name, self.log_tail()),
        }
    }

    /// The last lines of the server's log, for an error message.
    fn log_tail(&self) -> String {
        let text = fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let tail = lines[lines.len().saturating_sub(10)..].join("\n");
        if tail.is_empty() {
            String::new()
        } else {
            format!("; the end of {}:\n{tail}", self.log.display())
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // SIGKILL, as the host may do; then reap the process.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Asks the OS for a port that is free on 127.0.0.1 now.
///
/// # Errors
///
/// Fails when no port can be bound.
pub fn free_port() -> Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).context("finding a free port")?;
    Ok(listener.local_addr().context("finding a free port")?.port())
}

/// Whether a `GET /` on a fresh connection to `addr` gets any HTTP answer soon.
async fn answers(addr: SocketAddr, ping: &[u8]) -> bool {
    let exchange = async {
        let mut conn = Connection::open(addr).await.ok()?;
        conn.exchange(ping).await.ok()
    };
    matches!(timeout(Duration::from_secs(1), exchange).await, Ok(Some(_)))
}
