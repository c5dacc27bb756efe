//! Benchmarks of the handler against the floor: throughput, latency, start-up, memory, size.
//!
//! `bench/run` builds the release handler and these tools, then runs `bench`, which starts the
//! handler and the floor server (`src/bin/floor.rs`, actix-web answering `{}`) as the Functions
//! host would, loads them alternately from an in-process load generator on 127.0.0.1, prints a
//! table and writes `target/bench-summary.json`. It exits non-zero when any request failed.
//!
//! # Layout
//!
//! - `args.rs`: the command line and the plan of measurements.
//! - `suite.rs`: the measurements, in the order they run.
//! - `loadgen.rs`: closed- and open-loop load over kept-alive connections.
//! - `http1.rs`: the HTTP/1.1 client, written by hand.
//! - `payload.rs`: the host's invocation request, stamped with fresh ids.
//! - `process.rs`: the servers as child processes: start, readiness, memory, stop.
//! - `stats.rs`: exact percentiles and medians.
//! - `cpu.rs`: CPU time per request, and how much of the machine others took.
//! - `machine.rs`: the machine and the date.
//! - `report.rs`: the table and the JSON summary.
//!
//! # Known limits
//!
//! The load generator shares the machine's cores with the server it loads, so absolute numbers
//! depend on the machine; the ratio to the floor is the number to compare across machines. A
//! `SIGKILL` of this tool cannot be caught: its servers then outlive it.

mod args;
mod cpu;
mod http1;
mod loadgen;
mod machine;
mod payload;
mod process;
mod report;
mod stats;
mod suite;

use std::process::ExitCode;

use anyhow::{Context, Result, anyhow};
use tokio::{
    runtime::Builder,
    signal::unix::{SignalKind, signal},
};

use crate::{
    args::{Args, Command, USAGE},
    report::Summary,
};

fn main() -> ExitCode {
    // Read the command line.
    let args = match Command::parse(std::env::args().skip(1)) {
        Ok(Command::Run(args)) => args,
        Ok(Command::Help) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(err) => {
            eprintln!("bench: {err:#}");
            return ExitCode::from(2);
        }
    };

    // Measure, print and save.
    match measure_and_report(&args) {
        Ok(summary) if summary.failures() == 0 => ExitCode::SUCCESS,
        Ok(_) => ExitCode::FAILURE,
        Err(err) => {
            eprintln!("bench: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// Runs the suite, stopping early on SIGINT, SIGTERM or SIGHUP; prints and saves the summary.
fn measure_and_report(args: &Args) -> Result<Summary> {
    let runtime = Builder::new_multi_thread()
        .worker_threads(args.client_threads)
        .enable_all()
        .build()
        .context("starting the load generator's runtime")?;

    // Dropping the suite's future on a signal drops its servers, which kills them.
    let summary = runtime.block_on(async {
        tokio::select! {
            summary = suite::run(args) => summary,
            err = interrupted() => Err(err),
        }
    })?;

    println!("{summary}");
    summary.write_json(&args.out)?;
    println!("summary written to {}", args.out.display());
    Ok(summary)
}

/// Waits for a signal that asks the tool to stop, and says which one came.
async fn interrupted() -> anyhow::Error {
    let streams = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
        signal(SignalKind::hangup()),
    );
    let (mut int, mut term, mut hup) = match streams {
        (Ok(int), Ok(term), Ok(hup)) => (int, term, hup),
        (Err(err), _, _) | (_, Err(err), _) | (_, _, Err(err)) => {
            return anyhow::Error::new(err).context("listening for signals");
        }
    };
    let name = tokio::select! {
        _ = int.recv() => "SIGINT",
        _ = term.recv() => "SIGTERM",
        _ = hup.recv() => "SIGHUP",
    };
    anyhow!("stopped by {name}")
}
