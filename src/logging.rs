//! Logging that fits the Functions host: filtered by `RUST_LOG`, split by level between stdout and
//! stderr, and gathered per invocation into the answer's `Logs`.
//!
//! The host turns each stdout line into a log at Information level and each stderr line into one
//! at Error (or Warning, when the line says "warn"); neither is tied to an invocation. Only the
//! `Logs` of a 2xx answer are tied to one, and the host drops them on any other answer. So:
//!
//! | where the record is made | info | warn, error | debug, trace |
//! | --- | --- | --- | --- |
//! | outside an invocation | stdout | stderr | stdout |
//! | in an invocation answered 2xx | `Logs` | `Logs` and stderr | stdout |
//! | in an invocation answered otherwise | stdout, when it ends | stderr | stdout |
//!
//! Warnings and errors go to stderr at once as well as into `Logs`, so that alerts on the host's
//! Error and Warning levels still fire. Every line made in an invocation carries its id.
//!
//! Commands whose stdout is their output, such as `handler invoke`, use
//! [`HandlerLogger::to_stderr`] instead: every record goes to stderr at once, with the invocation
//! id when it has one, and nothing is gathered.
//!
//! A record belongs to an invocation when it is made by the invocation's own task, from any
//! module. Work that business logic spawns onto other tasks or threads is not tied to the
//! invocation unless it is wrapped with [`within_current_invocation`].

use std::{
    fmt::Write as _,
    future::Future,
    io::Write as _,
    sync::{Arc, Mutex, PoisonError},
};

use log::{Level, Log, Metadata, Record};

tokio::task_local! {
    static CURRENT: Arc<Capture>;
}

/// The records one invocation has made so far.
#[derive(Debug)]
pub struct Capture {
    /// The host's invocation id, shown on every line of the invocation.
    invocation_id: Box<str>,
    /// Info-and-above lines waiting for the answer's `Logs`.
    lines: Mutex<Vec<String>>,
}

/// The lines an invocation made at info and above, handed back when it ends.
#[derive(Debug, Default)]
pub struct CapturedLogs {
    /// Each line, with its level and the invocation id.
    lines: Vec<String>,
}

impl CapturedLogs {
    /// The lines for the `Logs` of a 2xx answer.
    pub fn into_lines(self) -> Vec<String> {
        self.lines
    }

    /// Writes to stdout the info lines that a non-2xx answer would lose; warnings and errors were
    /// already written to stderr when they were made.
    pub fn release(self) {
        let mut out = std::io::stdout().lock();
        for line in self.lines.iter().filter(|line| line.starts_with("INFO ")) {
            let _ = writeln!(out, "{line}");
        }
    }
}

/// Runs `work` as the invocation `invocation_id`: every record its task makes is tied to it.
pub async fn capture<F: Future>(invocation_id: &str, work: F) -> (F::Output, CapturedLogs) {
    let capture = Arc::new(Capture {
        invocation_id: invocation_id.into(),
        lines: Mutex::new(Vec::new()),
    });
    let output = CURRENT.scope(Arc::clone(&capture), work).await;
    let lines = std::mem::take(&mut *capture.lines.lock().unwrap_or_else(PoisonError::into_inner));
    (output, CapturedLogs { lines })
}

/// Ties `work`, typically a task the business logic spawns, to the current invocation, so that
/// what it logs lands in that invocation's `Logs`. Outside an invocation it runs `work` as is.
///
/// Lines made after the invocation has answered are written to stdout or stderr instead.
pub fn within_current_invocation<F: Future>(work: F) -> impl Future<Output = F::Output> {
    let current = CURRENT.try_with(Arc::clone).ok();
    async move {
        match current {
            Some(capture) => CURRENT.scope(capture, work).await,
            None => work.await,
        }
    }
}

/// The invocation id of the current task, if it is handling an invocation.
pub fn current_invocation_id() -> Option<String> {
    CURRENT
        .try_with(|capture| capture.invocation_id.to_string())
        .ok()
}

/// The process's logger.
#[derive(Debug)]
pub struct HandlerLogger {
    /// The `RUST_LOG` filter.
    filter: env_logger::Logger,
    /// Whether every record goes to stderr, leaving stdout to the command's output.
    stderr_only: bool,
}

impl HandlerLogger {
    /// A logger filtered by `RUST_LOG`, `info` when unset.
    pub fn from_env() -> Self {
        let env = env_logger::Env::default().default_filter_or("info");
        Self {
            filter: env_logger::Builder::from_env(env).build(),
            stderr_only: false,
        }
    }

    /// Sends every record to stderr as it is made, with its invocation id, and gathers nothing
    /// for `Logs`: for commands whose stdout is their output.
    pub fn to_stderr(mut self) -> Self {
        self.stderr_only = true;
        self
    }

    /// Installs this logger for the process.
    ///
    /// # Errors
    ///
    /// Fails when a logger is already installed.
    pub fn install(self) -> Result<(), log::SetLoggerError> {
        let max = self.filter.filter();
        log::set_boxed_logger(Box::new(self))?;
        log::set_max_level(max);
        Ok(())
    }
}

impl Log for HandlerLogger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        self.filter.enabled(metadata)
    }

    fn log(&self, record: &Record<'_>) {
        if !self.filter.matches(record) {
            return;
        }

        // Format the line, with the invocation id when the record belongs to one.
        let current = CURRENT.try_with(Arc::clone).ok();
        let mut line = String::with_capacity(192);
        line.push_str(record.level().as_str());
        line.push(' ');
        if let Some(capture) = &current {
            line.push('[');
            line.push_str(&capture.invocation_id);
            line.push_str("] ");
        }
        line.push_str(record.target());
        line.push_str(": ");
        let _ = line.write_fmt(*record.args());

        // Route it by level and by whether an invocation will carry it in its Logs.
        let level = record.level();
        if self.stderr_only {
            let _ = writeln!(std::io::stderr().lock(), "{line}");
            return;
        }
        if level <= Level::Warn {
            let _ = writeln!(std::io::stderr().lock(), "{line}");
        }
        match current {
            Some(capture) if level <= Level::Info => {
                capture
                    .lines
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(line);
            }
            None if level <= Level::Warn => {}
            _ => {
                let _ = writeln!(std::io::stdout().lock(), "{line}");
            }
        }
    }

    fn flush(&self) {
        let _ = std::io::stdout().flush();
        let _ = std::io::stderr().flush();
    }
}
