//! The load generator: many kept-alive connections, one request in flight on each.
//!
//! Two ways to drive them:
//!
//! - **closed loop** ([`Pace::Closed`]): each connection sends its next request as soon as the
//!   answer to the last one is read. This measures the most the server can do.
//! - **open loop** ([`Pace::Open`]): a pacer thread releases requests at a fixed rate, evenly
//!   spaced to within [`PACER_STEP`], into a queue that the connections take from, as a host's
//!   connection pool would. A request that waits in the queue because every connection is still
//!   waiting for an answer counts that wait in its latency, so a stalled server cannot hide its
//!   stall (no coordinated omission).
//!
//! Every run is bounded: by its duration, by [`MAX_REQUESTS_PER_RUN`], and by
//! [`REQUEST_TIMEOUT`] for an answer that never comes.

use std::{
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicU16, Ordering},
    },
    thread,
    time::Duration,
};

use anyhow::{Context, Result};
use tokio::{
    sync::{
        Mutex,
        mpsc::{self, UnboundedReceiver, UnboundedSender},
    },
    time::{Instant, timeout},
};

use crate::{http1::Connection, payload::Request, stats::Latencies};

/// The most requests one run sends, over all its connections.
pub const MAX_REQUESTS_PER_RUN: u64 = 10_000_000;

/// How long a request may wait for its answer before it counts as a connection error.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// The pacer's shortest sleep. Waking for every request costs the load generator about a
/// third more CPU per request, taken from the server it shares the machine with; waking at
/// most every 200 us releases requests in groups of a few (7 at 35,000 a second).
const PACER_STEP: Duration = Duration::from_micros(200);

/// Numbers every run with a value of its own, written into the ids it sends.
static RUN_NUMBER: AtomicU16 = AtomicU16::new(0);

/// How requests are paced.
#[derive(Debug, Clone, Copy)]
pub enum Pace {
    /// Each connection sends again as soon as it has its answer.
    Closed,
    /// Requests are released at `rate` per second, whatever the answers do.
    Open {
        /// Requests per second.
        rate: f64,
    },
}

/// What to run: where, with what, how hard and for how long.
#[derive(Debug, Clone)]
pub struct Load {
    /// The server's address.
    pub addr: SocketAddr,
    /// The request to send, stamped with fresh ids each time.
    pub request: Request,
    /// How many connections to open.
    pub connections: usize,
    /// How long to send.
    pub duration: Duration,
    /// How to pace the requests.
    pub pace: Pace,
}

/// The outcome of one run.
#[derive(Debug, Clone, Default)]
pub struct RunResult {
    /// From the start of the run to the last answer read.
    pub elapsed: Duration,
    /// Latency of every answered request, whatever its status.
    pub latencies: Latencies,
    /// Answers whose status was not 200.
    pub non_200: u64,
    /// 200 answers that were not a JSON object with a JSON content type.
    pub not_json: u64,
    /// Failed connects, socket errors, malformed answers and timeouts.
    pub conn_errors: u64,
    /// Connections reopened because the server or an error closed them.
    pub reconnects: u64,
    /// Open loop only: requests released but never sent, because every connection was busy
    /// until the end of the run. Non-zero means the server could not keep up with the rate.
    pub missed: u64,
    /// A description of the first failure, to show the user.
    pub first_failure: Option<String>,
}

impl RunResult {
    /// Answered requests per second.
    pub fn rate(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 {
            self.latencies.count() as f64 / secs
        } else {
            0.0
        }
    }
}

/// Runs `load` and gathers every connection's results.
///
/// # Errors
///
/// Fails when a connection cannot be opened before the run starts.
pub async fn run(load: &Load) -> Result<RunResult> {
    let run = RUN_NUMBER.fetch_add(1, Ordering::Relaxed);
    let connections = load.connections.max(1);

    // Open every connection first, so that connecting is not measured.
    let mut opened = Vec::with_capacity(connections);
    for _ in 0..connections {
        let conn = Connection::open(load.addr)
            .await
            .with_context(|| format!("connecting to {}", load.addr))?;
        opened.push(conn);
    }

    // Start the pacer, if any, and the connections together.
    let start = Instant::now();
    let deadline = start + load.duration;
    let source = match load.pace {
        Pace::Closed => Source::Closed {
            budget: MAX_REQUESTS_PER_RUN / connections as u64,
        },
        Pace::Open { rate } => {
            let (slots, queue) = mpsc::unbounded_channel();
            let rate = rate.max(1.0);
            thread::Builder::new()
                .name("pacer".to_owned())
                .spawn(move || pace(&slots, start, deadline, rate))
                .context("starting the pacer thread")?;
            Source::Open {
                queue: Arc::new(Mutex::new(queue)),
            }
        }
    };
    let mut tasks = Vec::with_capacity(connections);
    for (index, conn) in opened.into_iter().enumerate() {
        let worker = Worker {
            addr: load.addr,
            request: load.request.clone(),
            source: source.clone(),
            conn_id: u32::try_from(index).unwrap_or(u32::MAX),
            run,
            deadline,
        };
        tasks.push(tokio::spawn(worker.drive(conn)));
    }

    // Merge the results.
    let mut result = RunResult::default();
    let mut nanos = Vec::new();
    for task in tasks {
        let part = task.await.context("a load generator task failed")?;
        nanos.extend(part.nanos);
        result.non_200 += part.non_200;
        result.not_json += part.not_json;
        result.conn_errors += part.conn_errors;
        result.reconnects += part.reconnects;
        result.first_failure = result.first_failure.or(part.first_failure);
    }
    result.elapsed = start.elapsed();
    result.latencies = Latencies::new(nanos);

    // Requests still queued were never sent.
    if let Source::Open { queue } = source {
        let mut queue = queue.lock().await;
        while queue.try_recv().is_ok() {
            result.missed += 1;
        }
    }
    Ok(result)
}

/// Releases one request every `1 / rate` seconds from `start` until `deadline`.
///
/// Runs on a thread of its own: the OS sleeps it far more precisely than tokio's millisecond
/// timer would, which would release the requests in bursts of a millisecond's worth. Each
/// request carries the time it was released, which its latency counts from.
fn pace(slots: &UnboundedSender<Instant>, start: Instant, deadline: Instant, rate: f64) {
    let mut released = 0u64;
    loop {
        let now = Instant::now();
        if now >= deadline || released >= MAX_REQUESTS_PER_RUN {
            return;
        }

        // Release every request due by now.
        let due = ((now - start).as_secs_f64() * rate) as u64 + 1;
        while released < due.min(MAX_REQUESTS_PER_RUN) {
            if slots.send(now).is_err() {
                return;
            }
            released += 1;
        }

        // Sleep until the next one is due, and for one step at least.
        let next = start + Duration::from_secs_f64(released as f64 / rate);
        thread::sleep(
            next.max(now + PACER_STEP)
                .saturating_duration_since(Instant::now()),
        );
    }
}

/// Where a connection's next request comes from.
#[derive(Clone)]
enum Source {
    /// Closed loop: at once, up to `budget` requests, until the deadline.
    Closed {
        /// The most requests this connection may send.
        budget: u64,
    },
    /// Open loop: from the pacer's queue, shared by all connections.
    Open {
        /// Release times of the requests due and not yet taken.
        queue: Arc<Mutex<UnboundedReceiver<Instant>>>,
    },
}

/// One connection's share of a run.
struct Worker {
    /// The server's address, to reconnect.
    addr: SocketAddr,
    /// This connection's copy of the request, stamped before each send.
    request: Request,
    /// Where the next request comes from.
    source: Source,
    /// This connection's number, written into the ids.
    conn_id: u32,
    /// The run's number, written into the ids.
    run: u16,
    /// When the run stops sending.
    deadline: Instant,
}

/// One connection's results.
#[derive(Default)]
struct Tally {
    /// Latency of each answer, in nanoseconds.
    nanos: Vec<u64>,
    /// See [`RunResult::non_200`].
    non_200: u64,
    /// See [`RunResult::not_json`].
    not_json: u64,
    /// See [`RunResult::conn_errors`].
    conn_errors: u64,
    /// See [`RunResult::reconnects`].
    reconnects: u64,
    /// See [`RunResult::first_failure`].
    first_failure: Option<String>,
}

impl Tally {
    /// Remembers the first failure's description.
    fn note(&mut self, failure: impl FnOnce() -> String) {
        if self.first_failure.is_none() {
            self.first_failure = Some(failure());
        }
    }
}

impl Worker {
    /// Sends requests on `conn` until the source runs dry or the deadline passes.
    async fn drive(mut self, mut conn: Connection) -> Tally {
        let mut tally = Tally::default();
        let mut seq = 0;

        while let Some(since) = self.next(seq).await {
            // Send the request and time the answer.
            self.request.stamp(self.conn_id, self.run, seq);
            seq += 1;
            let outcome = timeout(REQUEST_TIMEOUT, conn.exchange(&self.request.bytes)).await;
            let latency = since.elapsed();

            // Count the outcome.
            let keep_alive = match outcome {
                Ok(Ok(answer)) => {
                    tally
                        .nanos
                        .push(u64::try_from(latency.as_nanos()).unwrap_or(u64::MAX));
                    if answer.status != 200 {
                        tally.non_200 += 1;
                        tally.note(|| {
                            let body = String::from_utf8_lossy(conn.body());
                            format!("status {}: {}", answer.status, truncate(&body, 200))
                        });
                    } else if !answer.json_object {
                        tally.not_json += 1;
                        tally.note(|| "a 200 answer that is not a JSON object".to_owned());
                    }
                    answer.keep_alive
                }
                Ok(Err(err)) => {
                    tally.conn_errors += 1;
                    tally.note(|| err.to_string());
                    false
                }
                Err(_) => {
                    tally.conn_errors += 1;
                    tally.note(|| format!("no answer within {REQUEST_TIMEOUT:?}"));
                    false
                }
            };

            // Reopen the connection if it is gone; give up on this one if that fails.
            if !keep_alive {
                tally.reconnects += 1;
                match Connection::open(self.addr).await {
                    Ok(fresh) => conn = fresh,
                    Err(err) => {
                        tally.conn_errors += 1;
                        tally.note(|| format!("reconnecting: {err}"));
                        break;
                    }
                }
            }
        }
        tally
    }

    /// Waits for request `seq` to be due; returns the time its latency counts from.
    async fn next(&self, seq: u64) -> Option<Instant> {
        match &self.source {
            Source::Closed { budget } => {
                let now = Instant::now();
                (seq < *budget && now < self.deadline).then_some(now)
            }
            // A request taken from the queue is sent even if the deadline passed meanwhile:
            // it was released before the deadline.
            Source::Open { queue } if Instant::now() < self.deadline => {
                queue.lock().await.recv().await
            }
            Source::Open { .. } => None,
        }
    }
}

/// The first `max` characters of `text`.
fn truncate(text: &str, max: usize) -> &str {
    text.char_indices()
        .nth(max)
        .map_or(text, |(at, _)| &text[..at])
}
