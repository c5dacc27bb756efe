//! The measurements, in the order they run.
//!
//! 1. size of the two binaries;
//! 2. both servers started side by side, and their idle memory read;
//! 3. closed-loop rounds at each connection count, alternating handler and floor (which of the
//!    two goes first alternates too, so a slow drift of the machine hits both alike);
//! 4. open-loop rounds at half the handler's rate, alternating the same way;
//! 5. memory after the load, then both servers stopped;
//! 6. start-up times of many fresh processes, alternating.

use std::{fs, path::Path, time::Duration};

use anyhow::{Context, Result};
use tokio::time::sleep;

use crate::{
    args::Args,
    cpu::Sample,
    loadgen::{self, Load, Pace},
    machine::Machine,
    payload::{Body, Request},
    process::{Memory, READY_POLL, Server},
    report::{HalfLoad, Pair, Round, Summary, Throughput},
};

/// How long a fresh server idles before its resident memory is read.
const SETTLE: Duration = Duration::from_millis(200);

/// Runs every measurement and gathers the summary.
///
/// # Errors
///
/// Fails when a binary is missing, a server does not start or dies, or a run cannot connect.
pub async fn run(args: &Args) -> Result<Summary> {
    let machine = Machine::describe();
    let body = Body::load(args.payload.as_deref())?;

    // Size.
    let size = Pair {
        handler: file_size(&args.handler)?,
        floor: file_size(&args.floor)?,
    };

    // Both servers, idle.
    eprintln!(
        "starting {} and {}",
        args.handler.display(),
        args.floor.display()
    );
    let mut bench = Bench::start(args, body).await?;
    sleep(SETTLE).await;
    let idle_memory = bench.memory()?;

    // Under load.
    let throughput = bench.closed_loop().await?;
    let half_load = bench
        .half_load(Summary::handler_rate(&throughput) / 2.0)
        .await?;
    let loaded_memory = bench.memory()?;
    let payload_bytes = bench.body.json.len();
    drop(bench);

    // Start-up, with no other server running.
    let startup = startup(args).await?;

    Ok(Summary {
        machine,
        plan: args.plan.clone(),
        client_threads: args.client_threads,
        function: args.function.clone(),
        payload_bytes,
        binaries: Pair {
            handler: args.handler.display().to_string(),
            floor: args.floor.display().to_string(),
        },
        size,
        throughput,
        half_load,
        startup,
        idle_memory,
        loaded_memory,
    })
}

/// The two servers, running, and what to send them. Dropping it stops them.
struct Bench<'a> {
    /// The command line.
    args: &'a Args,
    /// The request body.
    body: Body,
    /// The servers.
    servers: Pair<Server>,
}

impl<'a> Bench<'a> {
    /// Starts both servers and waits until they answer.
    async fn start(args: &'a Args, body: Body) -> Result<Bench<'a>> {
        let mut servers = Pair {
            handler: Server::start("handler", &args.handler, &args.logs.join("handler.log"))?,
            floor: Server::start("floor", &args.floor, &args.logs.join("floor.log"))?,
        };
        servers.handler.wait_ready(READY_POLL).await?;
        servers.floor.wait_ready(READY_POLL).await?;
        Ok(Bench {
            args,
            body,
            servers,
        })
    }

    /// Both servers' memory now.
    fn memory(&self) -> Result<Pair<Memory>> {
        Ok(Pair {
            handler: self.servers.handler.memory()?,
            floor: self.servers.floor.memory()?,
        })
    }

    /// A warm-up, then the closed-loop rounds at each connection count.
    async fn closed_loop(&mut self) -> Result<Vec<Throughput>> {
        let plan = &self.args.plan;
        let mut throughput: Vec<Throughput> = plan
            .connections
            .iter()
            .map(|&connections| Throughput {
                connections,
                ..Throughput::default()
            })
            .collect();

        // Warm both up; the results are dropped.
        let warmup_connections = throughput.first().map_or(64, |t| t.connections);
        for side in Side::order(0) {
            self.measure(side, warmup_connections, plan.warmup, Pace::Closed)
                .await?;
        }

        for round in 0..plan.rounds {
            for t in &mut throughput {
                for side in Side::order(round) {
                    let run = self
                        .measure(side, t.connections, plan.round, Pace::Closed)
                        .await?;
                    progress("closed loop", round, plan.rounds, side, t.connections, &run);
                    side.of(&mut t.rounds).push(run);
                }
            }
        }
        Ok(throughput)
    }

    /// The open-loop rounds at `rate`, on as many connections as the first closed-loop count.
    async fn half_load(&mut self, rate: f64) -> Result<HalfLoad> {
        let plan = &self.args.plan;
        let connections = plan.connections.first().copied().unwrap_or(64);
        let mut half_load = HalfLoad {
            connections,
            target_rate: rate.max(1.0),
            ..HalfLoad::default()
        };

        let pace = Pace::Open {
            rate: half_load.target_rate,
        };
        for round in 0..plan.half_load_rounds {
            for side in Side::order(round) {
                let run = self
                    .measure(side, connections, plan.half_load_round, pace)
                    .await?;
                progress(
                    "half load",
                    round,
                    plan.half_load_rounds,
                    side,
                    connections,
                    &run,
                );
                side.of(&mut half_load.rounds).push(run);
            }
        }
        Ok(half_load)
    }

    /// Runs one load against one server, and checks the server survived it.
    async fn measure(
        &mut self,
        side: Side,
        connections: usize,
        duration: Duration,
        pace: Pace,
    ) -> Result<Round> {
        let ours = [self.servers.handler.pid(), self.servers.floor.pid()];
        let server = side.of(&mut self.servers);
        let load = Load {
            addr: server.addr(),
            request: Request::invocation(&self.args.function, server.addr().port(), &self.body),
            connections,
            duration,
            pace,
        };

        let before = Sample::take(server.pid(), &ours)?;
        let run = loadgen::run(&load).await?;
        let cpu = Sample::take(server.pid(), &ours)?.since(&before);
        server.check_alive()?;
        Ok(Round::new(&run, cpu, self.args.client_threads))
    }
}

/// Times many starts of each server, from spawn to the first answer, alternating.
async fn startup(args: &Args) -> Result<Pair<Vec<Duration>>> {
    let mut startup = Pair::<Vec<Duration>>::default();
    for round in 0..args.plan.starts {
        for side in Side::order(round) {
            let binary = match side {
                Side::Handler => &args.handler,
                Side::Floor => &args.floor,
            };
            let log = args.logs.join(format!("{}-start.log", side.name()));
            let mut server = Server::start(side.name(), binary, &log)?;
            let took = server.wait_ready(Duration::ZERO).await?;
            side.of(&mut startup).push(took);
        }
    }
    eprintln!("timed {} starts of each server", args.plan.starts);
    Ok(startup)
}

/// The two servers, in the order of a round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    /// The server under test.
    Handler,
    /// The floor server.
    Floor,
}

impl Side {
    /// Both sides, the handler first in even rounds and the floor first in odd ones.
    fn order(round: usize) -> [Side; 2] {
        if round.is_multiple_of(2) {
            [Side::Handler, Side::Floor]
        } else {
            [Side::Floor, Side::Handler]
        }
    }

    /// The side's name.
    fn name(self) -> &'static str {
        match self {
            Side::Handler => "handler",
            Side::Floor => "floor",
        }
    }

    /// This side's part of `pair`.
    fn of<T>(self, pair: &mut Pair<T>) -> &mut T {
        match self {
            Side::Handler => &mut pair.handler,
            Side::Floor => &mut pair.floor,
        }
    }
}

/// Prints one line per measured run, so a long run shows it is alive.
fn progress(what: &str, round: usize, rounds: usize, side: Side, conns: usize, run: &Round) {
    eprintln!(
        "{what} {}/{rounds} {:<7} {conns:>3} conns: {:>7.0} inv/s  p50 {:.3} ms  p99 {:.3} ms  \
         cpu {:.1} us/inv  others {:.0}%  failures {}",
        round + 1,
        side.name(),
        run.rate,
        run.p50.as_secs_f64() * 1e3,
        run.p99.as_secs_f64() * 1e3,
        run.server_cpu_us,
        run.others_share * 100.0,
        run.failures(),
    );
}

/// The size of a file, in bytes.
fn file_size(path: &Path) -> Result<u64> {
    let meta = fs::metadata(path)
        .with_context(|| format!("{} is missing: build it (bench/run does)", path.display()))?;
    Ok(meta.len())
}
