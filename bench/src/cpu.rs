//! CPU time: what the server spends per invocation, and how much of the machine others took.
//!
//! On a shared machine the rate a server reaches depends on its neighbours; the CPU time it
//! spends per invocation depends far less on them. Both come from `/proc`, in clock ticks:
//! `/proc/stat` for the machine, `/proc/<pid>/stat` for a process (all its threads).

use std::fs;

use anyhow::{Context, Result};

/// Clock ticks per second of `/proc` times (`USER_HZ`, 100 on every Linux architecture).
const TICKS_PER_SECOND: f64 = 100.0;

/// CPU times at one moment, in clock ticks.
#[derive(Debug, Clone, Copy, Default)]
pub struct Sample {
    /// The machine's ticks spent busy, all CPUs, stolen time included, softirq time left out.
    machine_busy: u64,
    /// The machine's ticks, busy or idle, all CPUs.
    machine_total: u64,
    /// Ticks of this process and of the servers it started.
    ours: u64,
    /// Ticks of the server being measured.
    server: u64,
    /// Ticks of this process: the load generator.
    client: u64,
}

/// CPU use between two samples.
#[derive(Debug, Clone, Copy, Default)]
pub struct Usage {
    /// Seconds of CPU the measured server used.
    pub server_seconds: f64,
    /// Seconds of CPU this process, the load generator, used.
    pub client_seconds: f64,
    /// Share of the machine's CPU time that other processes (or the hypervisor) took, 0 to 1.
    pub others_share: f64,
}

impl Sample {
    /// Reads the machine's times, the server's and those of all of `ours` (this process
    /// included).
    ///
    /// # Errors
    ///
    /// Fails when `/proc` cannot be read or parsed.
    pub fn take(server: u32, ours: &[u32]) -> Result<Sample> {
        let (machine_busy, machine_total) = machine_ticks()?;
        let client = process_ticks("self")?;
        let mut ours_ticks = client;
        for pid in ours {
            ours_ticks += process_ticks(&pid.to_string())?;
        }
        Ok(Sample {
            machine_busy,
            machine_total,
            ours: ours_ticks,
            server: process_ticks(&server.to_string())?,
            client,
        })
    }

    /// The CPU use from `earlier` to this sample.
    pub fn since(&self, earlier: &Sample) -> Usage {
        let total = self.machine_total.saturating_sub(earlier.machine_total);
        let busy = self.machine_busy.saturating_sub(earlier.machine_busy);
        let ours = self.ours.saturating_sub(earlier.ours);
        let others = busy.saturating_sub(ours);
        Usage {
            server_seconds: seconds(self.server.saturating_sub(earlier.server)),
            client_seconds: seconds(self.client.saturating_sub(earlier.client)),
            others_share: if total > 0 {
                others as f64 / total as f64
            } else {
                0.0
            },
        }
    }
}

/// Clock ticks in seconds.
fn seconds(ticks: u64) -> f64 {
    ticks as f64 / TICKS_PER_SECOND
}

/// Busy and total ticks of all CPUs, from the `cpu` line of `/proc/stat`.
fn machine_ticks() -> Result<(u64, u64)> {
    let stat = fs::read_to_string("/proc/stat").context("reading /proc/stat")?;
    let fields: Vec<u64> = stat
        .lines()
        .find_map(|line| line.strip_prefix("cpu "))
        .context("no cpu line in /proc/stat")?
        .split_whitespace()
        .map_while(|field| field.parse().ok())
        .collect();

    // user nice system idle iowait irq softirq steal (guest time is already in user).
    // Softirq time is left out of busy: under load it is mostly the loopback's packet work for
    // our own connections, which the kernel may not charge to our processes.
    let [user, nice, system, idle, iowait, irq, softirq, steal, ..] = fields[..] else {
        anyhow::bail!("short cpu line in /proc/stat");
    };
    let busy = user + nice + system + irq + steal;
    Ok((busy, busy + softirq + idle + iowait))
}

/// User plus system ticks of process `pid` (`self` for this one), all threads.
fn process_ticks(pid: &str) -> Result<u64> {
    let path = format!("/proc/{pid}/stat");
    let stat = fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;

    // Fields after the command name, which is in parentheses and may hold spaces:
    // state is field 3, utime 14 and stime 15.
    let after_name = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .unwrap_or_default();
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let field = |n: usize| -> Result<u64> {
        fields
            .get(n - 3)
            .and_then(|f| f.parse().ok())
            .with_context(|| format!("field {n} of {path}"))
    };
    Ok(field(14)? + field(15)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// This process's own times and the machine's can be read and are consistent.
    #[test]
    fn reads_proc() -> Result<()> {
        let (busy, total) = machine_ticks()?;
        assert!(busy <= total && total > 0);
        process_ticks("self")?;
        let sample = Sample::take(std::process::id(), &[])?;
        let usage = sample.since(&Sample::default());
        assert!((0.0..=1.0).contains(&usage.others_share));
        Ok(())
    }
}
