//! The results: what was measured, the table printed for people and the JSON kept for tools.

use std::{fmt, fs, path::Path, time::Duration};

use anyhow::{Context, Result};
use serde_json::{Value, json};

use crate::{
    args::Plan,
    cpu::Usage,
    loadgen::RunResult,
    machine::Machine,
    process::Memory,
    stats::{median, percentile},
};

/// The p99 the handler must stay under at half load.
pub const HALF_LOAD_P99_TARGET: Duration = Duration::from_millis(5);

/// Above this share of the CPU (in percent) taken by other processes, the table warns.
const NOISY_PCT: f64 = 10.0;

/// Everything one run of the tool measured.
#[derive(Debug, Clone)]
pub struct Summary {
    /// Where and when.
    pub machine: Machine,
    /// How long and how often.
    pub plan: Plan,
    /// Threads of the load generator.
    pub client_threads: usize,
    /// The function invoked.
    pub function: String,
    /// Size of the request body sent, in bytes.
    pub payload_bytes: usize,
    /// The two binaries, as given.
    pub binaries: Pair<String>,
    /// Size of the two binaries, in bytes.
    pub size: Pair<u64>,
    /// Closed-loop results, one entry per connection count.
    pub throughput: Vec<Throughput>,
    /// Open-loop results at half the handler's throughput.
    pub half_load: HalfLoad,
    /// Times from spawn to the first answer.
    pub startup: Pair<Vec<Duration>>,
    /// Memory idle after start.
    pub idle_memory: Pair<Memory>,
    /// Memory after all the load (`peak_kib` is the peak of the whole life).
    pub loaded_memory: Pair<Memory>,
}

/// The same measurement of the handler and of the floor.
#[derive(Debug, Clone, Default)]
pub struct Pair<T> {
    /// The server under test.
    pub handler: T,
    /// The floor server.
    pub floor: T,
}

/// The closed-loop rounds at one connection count.
#[derive(Debug, Clone, Default)]
pub struct Throughput {
    /// Connections, each with one request in flight.
    pub connections: usize,
    /// Each round's results.
    pub rounds: Pair<Vec<Round>>,
}

/// The open-loop rounds at half load.
#[derive(Debug, Clone, Default)]
pub struct HalfLoad {
    /// Connections the requests are spread over.
    pub connections: usize,
    /// The rate asked for: half the handler's median rate at the first connection count.
    pub target_rate: f64,
    /// Each round's results.
    pub rounds: Pair<Vec<Round>>,
}

/// What one run of the load generator gives, reduced to numbers.
#[derive(Debug, Clone, Default)]
pub struct Round {
    /// Answered requests per second.
    pub rate: f64,
    /// Answered requests.
    pub answered: usize,
    /// Median latency.
    pub p50: Duration,
    /// 90th percentile latency.
    pub p90: Duration,
    /// 99th percentile latency.
    pub p99: Duration,
    /// Slowest answer.
    pub max: Duration,
    /// CPU time the server spent per answered request, in microseconds.
    pub server_cpu_us: f64,
    /// Share of the machine's CPU that other processes took during the run, 0 to 1.
    pub others_share: f64,
    /// Share of its threads' time the load generator was busy, 0 to 1: near 1, it, not the
    /// server, limited the rate.
    pub client_busy: f64,
    /// Answers with a status other than 200.
    pub non_200: u64,
    /// 200 answers that were not a JSON object.
    pub not_json: u64,
    /// Connection errors and timeouts.
    pub conn_errors: u64,
    /// Connections the server closed.
    pub reconnects: u64,
    /// Open loop only: requests due but never sent, all connections being busy.
    pub missed: u64,
    /// The first failure seen, if any.
    pub first_failure: Option<String>,
}

impl Round {
    /// Reduces a run, and the CPU it took, to numbers.
    pub fn new(run: &RunResult, cpu: Usage, client_threads: usize) -> Round {
        let answered = run.latencies.count();
        let thread_seconds = run.elapsed.as_secs_f64() * client_threads.max(1) as f64;
        Round {
            rate: run.rate(),
            answered,
            p50: run.latencies.percentile(50.0),
            p90: run.latencies.percentile(90.0),
            p99: run.latencies.percentile(99.0),
            max: run.latencies.max(),
            server_cpu_us: cpu.server_seconds * 1e6 / answered.max(1) as f64,
            others_share: cpu.others_share,
            client_busy: ratio(cpu.client_seconds, thread_seconds),
            non_200: run.non_200,
            not_json: run.not_json,
            conn_errors: run.conn_errors,
            reconnects: run.reconnects,
            missed: run.missed,
            first_failure: run.first_failure.clone(),
        }
    }

    /// Failures of every kind; zero for a valid run.
    pub fn failures(&self) -> u64 {
        self.non_200 + self.not_json + self.conn_errors
    }
}

/// Medians over rounds.
#[derive(Debug, Clone, Copy, Default)]
struct Medians {
    /// Median of the rates.
    rate: f64,
    /// Median of the p50s, in milliseconds.
    p50_ms: f64,
    /// Median of the p99s, in milliseconds.
    p99_ms: f64,
    /// Worst p99, in milliseconds.
    worst_p99_ms: f64,
    /// Median of the server's CPU time per request, in microseconds.
    cpu_us: f64,
    /// Median share of the machine other processes took, in percent.
    others_pct: f64,
    /// Failures of all rounds.
    failures: u64,
    /// Requests missed in all rounds.
    missed: u64,
}

/// Column titles of [`Medians::row`].
const LOAD_HEADER: &str = "    inv/s   p50 ms   p99 ms  cpu us/inv  others %  failures";

impl Medians {
    /// The medians as a table row under [`LOAD_HEADER`].
    fn row(&self) -> String {
        format!(
            "{:>9} {:>8.3} {:>8.3} {:>11.1} {:>9.0} {:>9}",
            thousands(self.rate),
            self.p50_ms,
            self.p99_ms,
            self.cpu_us,
            self.others_pct,
            self.failures
        )
    }

    /// Reduces rounds to their medians.
    fn of(rounds: &[Round]) -> Medians {
        let of = |f: fn(&Round) -> f64| median(&rounds.iter().map(f).collect::<Vec<_>>());
        Medians {
            rate: of(|r| r.rate),
            p50_ms: of(|r| ms(r.p50)),
            p99_ms: of(|r| ms(r.p99)),
            cpu_us: of(|r| r.server_cpu_us),
            others_pct: of(|r| r.others_share * 100.0),
            worst_p99_ms: rounds.iter().map(|r| ms(r.p99)).fold(0.0, f64::max),
            failures: rounds.iter().map(Round::failures).sum(),
            missed: rounds.iter().map(|r| r.missed).sum(),
        }
    }
}

impl Summary {
    /// The handler's median closed-loop rate at the first connection count measured.
    pub fn handler_rate(throughput: &[Throughput]) -> f64 {
        throughput
            .first()
            .map_or(0.0, |t| Medians::of(&t.rounds.handler).rate)
    }

    /// Every round of every load measurement, with the server it was against.
    fn all_rounds(&self) -> impl Iterator<Item = (&'static str, &Round)> {
        let pairs = self
            .throughput
            .iter()
            .map(|t| &t.rounds)
            .chain([&self.half_load.rounds]);
        pairs.flat_map(|pair| {
            let handler = pair.handler.iter().map(|r| ("handler", r));
            handler.chain(pair.floor.iter().map(|r| ("floor", r)))
        })
    }

    /// Failures of every kind in every load measurement; zero for a valid run.
    pub fn failures(&self) -> u64 {
        self.all_rounds().map(|(_, r)| r.failures()).sum()
    }

    /// The median over all load runs of the CPU share other processes took, in percent.
    pub fn others_pct(&self) -> f64 {
        median(
            &self
                .all_rounds()
                .map(|(_, r)| r.others_share * 100.0)
                .collect::<Vec<_>>(),
        )
    }

    /// Whether the handler's median p99 at half load is under [`HALF_LOAD_P99_TARGET`].
    pub fn half_load_passes(&self) -> bool {
        Medians::of(&self.half_load.rounds.handler).p99_ms < ms(HALF_LOAD_P99_TARGET)
    }
}

impl fmt::Display for Summary {
    /// The table for people.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (m, p) = (&self.machine, &self.plan);
        let quick = if p.quick {
            " (quick: not for the record)"
        } else {
            ""
        };
        writeln!(f, "bench {}{quick}", m.date)?;
        writeln!(
            f,
            "machine: {} x {}, kernel {}, loadavg {}",
            m.nproc, m.cpu, m.kernel, m.loadavg
        )?;
        writeln!(
            f,
            "load: POST /{}, {}-byte body, {} client thread(s), 127.0.0.1",
            self.function, self.payload_bytes, self.client_threads
        )?;

        // Throughput and latency.
        writeln!(
            f,
            "\nThroughput and latency: closed loop, medians of {} rounds x {:.1} s, alternating",
            p.rounds,
            p.round.as_secs_f64()
        )?;
        writeln!(f, "conns  server   {LOAD_HEADER}")?;
        for t in &self.throughput {
            let (h, fl) = (Medians::of(&t.rounds.handler), Medians::of(&t.rounds.floor));
            writeln!(f, "{:>5}  handler  {}", t.connections, h.row())?;
            writeln!(f, "{:>5}  floor    {}", t.connections, fl.row())?;
            writeln!(
                f,
                "{:>5}  h/floor  {:>9.3} {:>8.2} {:>8.2} {:>10.2}",
                t.connections,
                ratio(h.rate, fl.rate),
                ratio(h.p50_ms, fl.p50_ms),
                ratio(h.p99_ms, fl.p99_ms),
                ratio(h.cpu_us, fl.cpu_us)
            )?;
        }

        let busiest = self
            .all_rounds()
            .map(|(_, r)| r.client_busy)
            .fold(0.0, f64::max);
        writeln!(
            f,
            "load generator: at most {:.0}% busy{}",
            busiest * 100.0,
            if busiest > 0.9 {
                ": it may have limited the rates"
            } else {
                ""
            }
        )?;

        // Half load.
        let hl = &self.half_load;
        let (h, fl) = (
            Medians::of(&hl.rounds.handler),
            Medians::of(&hl.rounds.floor),
        );
        writeln!(
            f,
            "\nHalf load: open loop at {} inv/s on {} connections, medians of {} rounds x {:.1} s",
            thousands(hl.target_rate),
            hl.connections,
            p.half_load_rounds,
            p.half_load_round.as_secs_f64()
        )?;
        writeln!(f, "server   {LOAD_HEADER}  worst p99  missed")?;
        writeln!(
            f,
            "handler  {}  {:>9.3} {:>7}",
            h.row(),
            h.worst_p99_ms,
            h.missed
        )?;
        writeln!(
            f,
            "floor    {}  {:>9.3} {:>7}",
            fl.row(),
            fl.worst_p99_ms,
            fl.missed
        )?;
        let verdict = if self.half_load_passes() { "yes" } else { "NO" };
        writeln!(
            f,
            "handler p99 under {} ms: {verdict}",
            ms(HALF_LOAD_P99_TARGET)
        )?;

        // Start-up.
        writeln!(
            f,
            "\nStart-up: spawn to first answered GET /, {} starts each",
            p.starts
        )?;
        writeln!(f, "server   median ms   p90 ms   min ms   max ms")?;
        for (name, samples) in [
            ("handler", &self.startup.handler),
            ("floor", &self.startup.floor),
        ] {
            let s = StartupStats::of(samples);
            writeln!(
                f,
                "{name:<7}  {:>9.2} {:>8.2} {:>8.2} {:>8.2}",
                s.median_ms, s.p90_ms, s.min_ms, s.max_ms
            )?;
        }

        // Memory and size.
        writeln!(f, "\nMemory and size")?;
        writeln!(
            f,
            "server   idle RSS MiB  peak RSS MiB  binary MiB  binary bytes"
        )?;
        for (name, idle, loaded, size) in [
            (
                "handler",
                self.idle_memory.handler,
                self.loaded_memory.handler,
                self.size.handler,
            ),
            (
                "floor",
                self.idle_memory.floor,
                self.loaded_memory.floor,
                self.size.floor,
            ),
        ] {
            writeln!(
                f,
                "{name:<7}  {:>12.2} {:>13.2} {:>11.2} {:>13}",
                kib_to_mib(idle.rss_kib),
                kib_to_mib(loaded.peak_kib),
                bytes_to_mib(size),
                size
            )?;
        }

        // Neighbours.
        let others = self.others_pct();
        if others > NOISY_PCT {
            writeln!(
                f,
                "\nWarning: other processes took {others:.0}% of the CPU during a median run.\n\
                 Rates and latencies are unreliable; cpu us/inv holds up best."
            )?;
        }

        // Failures.
        match self.failures() {
            0 => writeln!(
                f,
                "\nFailures: none (non-200 answers, non-JSON answers, connection errors)"
            ),
            failures => {
                writeln!(
                    f,
                    "\nFailures: {failures}; they must be zero. First of each run:"
                )?;
                for (name, failure) in self.all_rounds().filter_map(|(name, round)| {
                    round.first_failure.as_ref().map(|failure| (name, failure))
                }) {
                    writeln!(f, "  {name}: {failure}")?;
                }
                Ok(())
            }
        }
    }
}

impl Summary {
    /// The summary as JSON.
    pub fn to_json(&self) -> Value {
        let p = &self.plan;
        let throughput: Vec<Value> = self
            .throughput
            .iter()
            .map(|t| {
                let (h, f) = (Medians::of(&t.rounds.handler), Medians::of(&t.rounds.floor));
                json!({
                    "connections": t.connections,
                    "handler": side_json(&t.rounds.handler),
                    "floor": side_json(&t.rounds.floor),
                    "ratio": {
                        "rate": ratio(h.rate, f.rate),
                        "p50": ratio(h.p50_ms, f.p50_ms),
                        "p99": ratio(h.p99_ms, f.p99_ms),
                    },
                })
            })
            .collect();

        json!({
            "date": self.machine.date,
            "machine": self.machine.to_json(),
            "settings": {
                "quick": p.quick,
                "warmup_s": p.warmup.as_secs_f64(),
                "rounds": p.rounds,
                "round_s": p.round.as_secs_f64(),
                "connections": p.connections,
                "half_load_rounds": p.half_load_rounds,
                "half_load_round_s": p.half_load_round.as_secs_f64(),
                "starts": p.starts,
                "client_threads": self.client_threads,
                "function": self.function,
                "payload_bytes": self.payload_bytes,
                "handler": self.binaries.handler,
                "floor": self.binaries.floor,
            },
            "throughput": throughput,
            "half_load": {
                "connections": self.half_load.connections,
                "target_rate": round2(self.half_load.target_rate),
                "p99_target_ms": ms(HALF_LOAD_P99_TARGET),
                "pass": self.half_load_passes(),
                "handler": side_json(&self.half_load.rounds.handler),
                "floor": side_json(&self.half_load.rounds.floor),
            },
            "startup": {
                "handler": StartupStats::of(&self.startup.handler).to_json(),
                "floor": StartupStats::of(&self.startup.floor).to_json(),
            },
            "memory": {
                "handler": memory_json(self.idle_memory.handler, self.loaded_memory.handler),
                "floor": memory_json(self.idle_memory.floor, self.loaded_memory.floor),
            },
            "size": {
                "handler_bytes": self.size.handler,
                "handler_mib": round2(bytes_to_mib(self.size.handler)),
                "floor_bytes": self.size.floor,
                "floor_mib": round2(bytes_to_mib(self.size.floor)),
            },
            "others_cpu_median_pct": round2(self.others_pct()),
            "noisy": self.others_pct() > NOISY_PCT,
            "failures": self.failures(),
        })
    }

    /// Writes the JSON summary to `path`, creating its folder.
    ///
    /// # Errors
    ///
    /// Fails when the file cannot be written.
    pub fn write_json(&self, path: &Path) -> Result<()> {
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        let text = serde_json::to_string_pretty(&self.to_json()).context("encoding the summary")?;
        fs::write(path, text + "\n").with_context(|| format!("writing {}", path.display()))
    }
}

/// Start-up times reduced to numbers.
#[derive(Debug, Clone, Copy, Default)]
struct StartupStats {
    /// Median, in milliseconds.
    median_ms: f64,
    /// 90th percentile (nearest rank), in milliseconds.
    p90_ms: f64,
    /// Fastest, in milliseconds.
    min_ms: f64,
    /// Slowest, in milliseconds.
    max_ms: f64,
    /// How many starts.
    count: usize,
}

impl StartupStats {
    /// Reduces start-up samples.
    fn of(samples: &[Duration]) -> StartupStats {
        let mut nanos: Vec<u64> = samples
            .iter()
            .map(|d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
            .collect();
        nanos.sort_unstable();
        let millis: Vec<f64> = samples.iter().map(|d| ms(*d)).collect();
        StartupStats {
            median_ms: median(&millis),
            p90_ms: ms(Duration::from_nanos(percentile(&nanos, 90.0))),
            min_ms: ms(Duration::from_nanos(nanos.first().copied().unwrap_or(0))),
            max_ms: ms(Duration::from_nanos(nanos.last().copied().unwrap_or(0))),
            count: samples.len(),
        }
    }

    /// As JSON.
    fn to_json(self) -> Value {
        json!({
            "starts": self.count,
            "median_ms": round3(self.median_ms),
            "p90_ms": round3(self.p90_ms),
            "min_ms": round3(self.min_ms),
            "max_ms": round3(self.max_ms),
        })
    }
}

/// One server's rounds as JSON: their medians and each round.
fn side_json(rounds: &[Round]) -> Value {
    let m = Medians::of(rounds);
    let each: Vec<Value> = rounds
        .iter()
        .map(|r| {
            json!({
                "rate": round2(r.rate),
                "answered": r.answered,
                "p50_ms": round3(ms(r.p50)),
                "p90_ms": round3(ms(r.p90)),
                "p99_ms": round3(ms(r.p99)),
                "max_ms": round3(ms(r.max)),
                "server_cpu_us_per_request": round2(r.server_cpu_us),
                "others_cpu_share": round3(r.others_share),
                "client_busy_share": round3(r.client_busy),
                "non_200": r.non_200,
                "not_json": r.not_json,
                "conn_errors": r.conn_errors,
                "reconnects": r.reconnects,
                "missed": r.missed,
                "first_failure": r.first_failure,
            })
        })
        .collect();
    json!({
        "median_rate": round2(m.rate),
        "median_p50_ms": round3(m.p50_ms),
        "median_p99_ms": round3(m.p99_ms),
        "worst_p99_ms": round3(m.worst_p99_ms),
        "median_server_cpu_us_per_request": round2(m.cpu_us),
        "median_others_cpu_pct": round2(m.others_pct),
        "failures": m.failures,
        "missed": m.missed,
        "rounds": each,
    })
}

/// Memory as JSON.
fn memory_json(idle: Memory, loaded: Memory) -> Value {
    json!({
        "idle_rss_kib": idle.rss_kib,
        "after_load_rss_kib": loaded.rss_kib,
        "peak_rss_kib": loaded.peak_kib,
    })
}

/// A duration in milliseconds.
fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// `a / b`, or zero when `b` is zero.
fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 { a / b } else { 0.0 }
}

/// KiB to MiB.
fn kib_to_mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// Bytes to MiB.
fn bytes_to_mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// Rounded to two decimals, for JSON.
fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// Rounded to three decimals, for JSON.
fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// A whole number with thousands separators: `41,234`.
fn thousands(x: f64) -> String {
    let digits = format!("{:.0}", x.max(0.0));
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Thousands separators land every three digits from the right.
    #[test]
    fn thousands_groups_digits() {
        assert_eq!(thousands(0.4), "0");
        assert_eq!(thousands(999.0), "999");
        assert_eq!(thousands(1000.0), "1,000");
        assert_eq!(thousands(1234567.0), "1,234,567");
    }
}
