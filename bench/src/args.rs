//! The command line, and the plan of measurements it selects.

use std::{env, path::PathBuf, time::Duration};

use anyhow::{Context, Result, bail};

/// What `--help` prints.
pub const USAGE: &str = "\
Benchmarks the release handler against the floor server (actix-web answering `{}`).

Usage: bench [--quick] [options]

Options:
  --quick               shorter rounds and fewer starts: a smoke run, not for numbers
  --handler <path>      the server under test [default: target/release/handler]
  --floor <path>        the floor server [default: target/release/floor]
  --payload <file>      a host request body (JSON with \"Data\" and \"Metadata\")
                        [default: the seed's text message event]
  --function <name>     the function to invoke [default: EventGridTrigger]
  --out <file>          the JSON summary [default: target/bench-summary.json]
  --client-threads <n>  threads of the load generator [default: 1]
  -h, --help            print this

Build first with bench/run, which builds both servers and then runs this.";

/// What the user asked for.
#[derive(Debug, Clone)]
pub struct Args {
    /// The server under test.
    pub handler: PathBuf,
    /// The floor server to compare it with.
    pub floor: PathBuf,
    /// A host request body to send instead of the default one.
    pub payload: Option<PathBuf>,
    /// The function name in the request path.
    pub function: String,
    /// Where the JSON summary goes.
    pub out: PathBuf,
    /// Where the servers' logs go.
    pub logs: PathBuf,
    /// Worker threads of the load generator's runtime.
    pub client_threads: usize,
    /// How long and how often to measure.
    pub plan: Plan,
}

/// How long and how often each measurement runs.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Whether this is the shortened `--quick` plan.
    pub quick: bool,
    /// Unmeasured load on each server before the rounds.
    pub warmup: Duration,
    /// How many times each closed-loop measurement is repeated, alternating the servers.
    pub rounds: usize,
    /// The length of one closed-loop measurement.
    pub round: Duration,
    /// The connection counts measured.
    pub connections: Vec<usize>,
    /// How many times the half-load measurement is repeated.
    pub half_load_rounds: usize,
    /// The length of one half-load measurement.
    pub half_load_round: Duration,
    /// How many starts are timed per server.
    pub starts: usize,
}

impl Plan {
    /// The full plan: about two minutes.
    pub fn full() -> Plan {
        Plan {
            quick: false,
            warmup: Duration::from_secs(1),
            rounds: 5,
            round: Duration::from_secs(3),
            connections: vec![64, 32],
            half_load_rounds: 3,
            half_load_round: Duration::from_secs(3),
            starts: 50,
        }
    }

    /// The quick plan: about fifteen seconds.
    pub fn quick() -> Plan {
        Plan {
            quick: true,
            warmup: Duration::from_millis(500),
            rounds: 2,
            round: Duration::from_secs(1),
            half_load_rounds: 1,
            half_load_round: Duration::from_secs(2),
            starts: 10,
            ..Plan::full()
        }
    }
}

/// What the command line asks for.
#[derive(Debug)]
pub enum Command {
    /// Print the usage.
    Help,
    /// Run the benchmark.
    Run(Box<Args>),
}

impl Command {
    /// Parses the arguments after the program name.
    ///
    /// Default paths sit beside this binary, in the cargo target directory.
    ///
    /// # Errors
    ///
    /// Fails on an unknown option or a missing or bad value.
    pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Command> {
        let exe = env::current_exe().context("locating this binary")?;
        let bin_dir = exe.parent().map(PathBuf::from).unwrap_or_default();
        let target_dir = bin_dir.parent().map(PathBuf::from).unwrap_or_default();

        let mut parsed = Args {
            handler: bin_dir.join("handler"),
            floor: bin_dir.join("floor"),
            payload: None,
            function: "EventGridTrigger".to_owned(),
            out: target_dir.join("bench-summary.json"),
            logs: target_dir.join("bench-logs"),
            client_threads: 1,
            plan: Plan::full(),
        };

        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            let mut value = || args.next().with_context(|| format!("{arg} needs a value"));
            match arg.as_str() {
                "-h" | "--help" => return Ok(Command::Help),
                "--quick" => parsed.plan = Plan::quick(),
                "--handler" => parsed.handler = value()?.into(),
                "--floor" => parsed.floor = value()?.into(),
                "--payload" => parsed.payload = Some(value()?.into()),
                "--function" => parsed.function = value()?,
                "--out" => parsed.out = value()?.into(),
                "--client-threads" => {
                    parsed.client_threads = match value()?.parse() {
                        Ok(n @ 1..=64) => n,
                        _ => bail!("--client-threads needs a number from 1 to 64"),
                    }
                }
                other => bail!("unknown argument {other:?}; see --help"),
            }
        }
        Ok(Command::Run(Box::new(parsed)))
    }
}
