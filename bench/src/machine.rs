//! Facts about the machine and the moment, recorded with every summary.

use std::{fs, thread};

use serde_json::{Value, json};
use time::{OffsetDateTime, format_description::well_known::Rfc3339};

/// The machine the numbers were taken on.
#[derive(Debug, Clone)]
pub struct Machine {
    /// Logical CPUs available to this process.
    pub nproc: usize,
    /// The first `model name` of `/proc/cpuinfo`.
    pub cpu: String,
    /// The kernel release.
    pub kernel: String,
    /// `/proc/loadavg` when the run started: a busy neighbour shows here.
    pub loadavg: String,
    /// UTC time when the run started, RFC 3339.
    pub date: String,
}

impl Machine {
    /// Reads what the OS says; a fact it does not give reads as `unknown`.
    pub fn describe() -> Machine {
        let cpuinfo = fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu = cpuinfo
            .lines()
            .find_map(|line| line.strip_prefix("model name"))
            .and_then(|rest| rest.split_once(':'))
            .map(|(_, model)| model.trim().to_owned());

        Machine {
            nproc: thread::available_parallelism().map_or(0, |n| n.get()),
            cpu: cpu.unwrap_or_else(unknown),
            kernel: read_trimmed("/proc/sys/kernel/osrelease"),
            loadavg: read_trimmed("/proc/loadavg"),
            date: OffsetDateTime::now_utc()
                .format(&Rfc3339)
                .unwrap_or_else(|_| unknown()),
        }
    }

    /// The facts as JSON.
    pub fn to_json(&self) -> Value {
        json!({
            "nproc": self.nproc,
            "cpu": self.cpu,
            "kernel": self.kernel,
            "loadavg": self.loadavg,
        })
    }
}

/// A file's text without its trailing newline, or `unknown`.
fn read_trimmed(path: &str) -> String {
    fs::read_to_string(path).map_or_else(|_| unknown(), |text| text.trim().to_owned())
}

/// What a missing fact reads as.
fn unknown() -> String {
    "unknown".to_owned()
}
