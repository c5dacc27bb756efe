//! Thousands of concurrent invocations: the real binary with valid and malformed events, and the
//! in-process server with business logic that fails on request. Every answer matches its event,
//! no connection fails, and the binary's memory does not grow from round to round.

#![allow(clippy::expect_used, clippy::unwrap_used)]

mod support;

use std::{
    collections::HashMap,
    io::BufReader,
    sync::{Arc, Mutex},
    thread,
    time::{Duration, Instant},
};

use amh::{
    business_logic::{BusinessLogic, EventContext, LogicError},
    events::{DeliveryStatusUpdated, MessageReceived},
};
use serde_json::{Value, json};
use support::{
    Framing, Handler, HttpAnswer, child::run_in_child, connect, fixture, fixtures, host_body,
    host_headers, in_process::InProcess, read_answer, write_post,
};

/// Invocations per round against the real binary.
const PER_ROUND: usize = 800;

/// Rounds against the real binary; memory is compared between the first and the last.
const ROUNDS: usize = 5;

/// Concurrent connections against the real binary.
const CONNECTIONS: usize = 96;

/// How much the binary's memory may grow from the end of round 1 to the end of the last round.
const RSS_TOLERANCE_KIB: u64 = 4096;

/// Bytes of padding in each event's data, so that a leak of the request shows up in memory.
const PADDING: usize = 4096;

/// One invocation and the answer it must get.
#[derive(Debug, Clone)]
struct Request {
    /// The invocation id.
    invocation_id: String,
    /// The event.
    event: Value,
    /// The event's id, when its envelope is readable.
    event_id: Option<String>,
    /// `handled`, `ignored`, `poison`, or `failed` for a 500.
    outcome: &'static str,
}

/// The outcome a fixture's event gets from business logic that accepts what it can decode.
fn outcome_of(name: &str) -> &'static str {
    if name.contains("-malformed-") {
        "poison"
    } else if name.starts_with("other-") {
        "ignored"
    } else {
        "handled"
    }
}

/// The request for fixture event `event` of `name`, numbered `n`, with an event id of its own
/// unless its id is the fault; the id is reported only when the whole envelope is readable.
fn request(name: &str, event: &Value, n: &str) -> Request {
    let mut event = event.clone();
    let mut event_id = None;
    if event["id"].is_string() {
        event["id"] = json!(format!("evt-{n}"));
        event_id = Some(format!("evt-{n}")).filter(|_| !name.starts_with("other-malformed-"));
    }
    if let Some(data) = event["data"].as_object_mut() {
        data.insert("loadPadding".into(), json!("p".repeat(PADDING)));
    }
    Request {
        invocation_id: format!("10ad0000-0000-4000-8000-{n:0>12}"),
        event,
        event_id,
        outcome: outcome_of(name),
    }
}

/// Sends `requests` one after another on one connection, alternating the framings, and returns
/// each with its answer; the first connection error ends the batch.
fn send_all(port: u16, requests: Vec<Request>) -> Result<Vec<(Request, HttpAnswer)>, String> {
    let mut stream = connect(port).map_err(|err| format!("connect: {err}"))?;
    let mut answered = Vec::with_capacity(requests.len());
    for (n, request) in requests.into_iter().enumerate() {
        let framing = if n % 2 == 0 {
            Framing::Chunked
        } else {
            Framing::ContentLength
        };
        let headers = host_headers(&request.invocation_id);
        let body = host_body(&request.event);
        write_post(
            &mut stream,
            port,
            "/EventGridTrigger",
            &headers,
            &body,
            framing,
        )
        .map_err(|err| format!("send {}: {err}", request.invocation_id))?;
        let answer = read_answer(&mut BufReader::new(&mut stream))
            .map_err(|err| format!("answer to {}: {err}", request.invocation_id))?;
        answered.push((request, answer));
    }
    Ok(answered)
}

/// Sends `requests` over `connections` connections at once; every answer, or every error.
fn send_concurrently(
    port: u16,
    requests: Vec<Request>,
    connections: usize,
) -> (Vec<(Request, HttpAnswer)>, Vec<String>) {
    let mut batches = vec![Vec::new(); connections];
    for (n, request) in requests.into_iter().enumerate() {
        batches[n % connections].push(request);
    }
    let threads: Vec<_> = batches
        .into_iter()
        .map(|batch| thread::spawn(move || send_all(port, batch)))
        .collect();
    let mut answered = Vec::new();
    let mut errors = Vec::new();
    for thread in threads {
        match thread.join().expect("client thread") {
            Ok(batch) => answered.extend(batch),
            Err(err) => errors.push(err),
        }
    }
    (answered, errors)
}

/// Checks that `answer` is the one `request` must get, by invocation id, event id and outcome.
fn check(request: &Request, answer: &HttpAnswer) {
    let id = &request.invocation_id;
    let body = answer.assert_json_object();
    if request.outcome == "failed" {
        assert_eq!(answer.status, 500, "{id}: {body}");
        assert_eq!(body["error"]["code"], "transient_failure", "{id}: {body}");
        assert_eq!(body["invocationId"], json!(id), "{body}");
        return;
    }
    assert_eq!(answer.status, 200, "{id}: {body}");

    // The summary in Logs names the invocation, the event and the outcome.
    let logs: Vec<&str> = body["Logs"]
        .as_array()
        .expect("Logs")
        .iter()
        .map(|line| line.as_str().expect("a log line"))
        .collect();
    let summary = logs
        .iter()
        .find(|line| line.contains("outcome="))
        .unwrap_or_else(|| panic!("{id}: no summary in {logs:?}"));
    assert!(summary.contains(&format!("[{id}]")), "{summary}");
    assert!(
        summary.contains(&format!("outcome={}", request.outcome)),
        "{summary}"
    );
    if let Some(event_id) = &request.event_id {
        assert!(summary.contains(&format!(" id={event_id} ")), "{summary}");
    }

    // Poison carries the event, exactly as sent, with its ids.
    let poison = &body["Outputs"]["poison"];
    if request.outcome == "poison" {
        assert_eq!(poison["invocationId"], json!(id));
        assert_eq!(poison["event"], request.event, "{id}");
        if let Some(event_id) = &request.event_id {
            assert_eq!(poison["eventId"], json!(event_id));
        }
    } else {
        assert!(poison.is_null(), "{id}: {body}");
    }
}

/// 4,000 invocations of every fixture, valid and malformed, in five rounds over 96 connections:
/// each answer matches its event, no connection fails, and the binary's memory after the last
/// round is within 4 MiB of its memory after the first. Rounds 2 to 5 carry 3,200 bodies of about
/// 9.5 KB, some 30 MB, so keeping even a seventh of each would show; the message store and the
/// dedup memory are bounded to 200 entries, which round 1 fills.
#[test]
fn real_binary_under_load_keeps_its_memory() {
    let handler = Handler::start(&[("DEDUP_CAPACITY", "200"), ("MESSAGE_STORE_CAPACITY", "200")]);
    let all: Vec<(String, Value)> = fixtures()
        .into_iter()
        .flat_map(|(name, events)| events.into_iter().map(move |event| (name.clone(), event)))
        .collect();
    let start = Instant::now();
    let mut rss = Vec::new();

    for round in 0..ROUNDS {
        // Send a round of every fixture in turn, each event with an id of its own.
        let requests: Vec<Request> = (0..PER_ROUND)
            .map(|n| {
                let (name, event) = &all[n % all.len()];
                request(name, event, &format!("{round}{n:06}"))
            })
            .collect();
        let (answered, errors) = send_concurrently(handler.port, requests, CONNECTIONS);
        assert!(errors.is_empty(), "round {round}: {errors:?}");
        assert_eq!(answered.len(), PER_ROUND);
        for (request, answer) in &answered {
            check(request, answer);
        }

        // Note the memory once the round has settled.
        thread::sleep(Duration::from_millis(200));
        rss.push(handler.rss_kib());
    }

    let growth = rss[ROUNDS - 1].saturating_sub(rss[0]);
    println!(
        "{} invocations in {:?}; RSS by round (KiB): {rss:?}",
        PER_ROUND * ROUNDS,
        start.elapsed()
    );
    assert!(
        growth <= RSS_TOLERANCE_KIB,
        "memory grew by {growth} KiB from round 1 to round {ROUNDS}: {rss:?}"
    );
}

/// Business logic that fails as each message asks, and records which event it saw in which
/// invocation.
#[derive(Default)]
struct Faulty {
    /// The event id of each invocation it ran.
    seen: Mutex<HashMap<String, String>>,
}

impl BusinessLogic for Faulty {
    async fn on_message_received(
        &self,
        ctx: &EventContext,
        message: MessageReceived,
    ) -> Result<(), LogicError> {
        self.seen
            .lock()
            .unwrap()
            .insert(ctx.invocation_id.clone(), ctx.event_id.clone());
        match message.content.as_deref() {
            Some("panic") => panic!("failing on purpose"),
            Some("transient") => Err(LogicError::Transient(format!("down for {}", ctx.event_id))),
            Some("permanent") => Err(LogicError::Permanent(format!("refused {}", ctx.event_id))),
            Some("hang") => {
                tokio::time::sleep(Duration::from_secs(3600)).await;
                Ok(())
            }
            Some("slow") => {
                tokio::time::sleep(Duration::from_millis(20)).await;
                Ok(())
            }
            _ => Ok(()),
        }
    }

    async fn on_delivery_status_updated(
        &self,
        ctx: &EventContext,
        _update: DeliveryStatusUpdated,
    ) -> Result<(), LogicError> {
        self.seen
            .lock()
            .unwrap()
            .insert(ctx.invocation_id.clone(), ctx.event_id.clone());
        Ok(())
    }
}

/// 2,000 invocations over 64 connections to the in-process server, mixing valid and malformed
/// events with business logic that panics, fails, refuses, hangs past its deadline or is slow:
/// each answer matches its event and fault, no connection fails, and each failure is reported on
/// stderr. The server runs in a child process, whose output the test reads.
#[test]
fn faults_under_load_in_process() {
    let Some(output) = run_in_child("faults_under_load_in_process") else {
        return faults_under_load();
    };
    let failed: usize = output
        .stdout
        .lines()
        .find_map(|line| line.strip_prefix("failed invocations: "))
        .and_then(|count| count.trim().parse().ok())
        .expect("the child's count of failures");
    let reported = output
        .stderr
        .lines()
        .filter(|line| line.contains("outcome=failed"))
        .count();
    assert_eq!(reported, failed, "each failure has its line on stderr");
}

/// The body of [`faults_under_load_in_process`], run in the child.
fn faults_under_load() {
    let logic = Arc::new(Faulty::default());
    let server = InProcess::start(Shared(Arc::clone(&logic)), Duration::from_millis(500));
    let text = fixture("received-text");
    let malformed: Vec<(String, Value)> = fixtures()
        .into_iter()
        .filter(|(name, _)| name.contains("-malformed-"))
        .map(|(name, events)| (name, events[0].clone()))
        .collect();
    let faults = [
        "ok",
        "panic",
        "transient",
        "permanent",
        "slow",
        "ok",
        "ok",
        "ok",
    ];

    // Every fourth request is a malformed event; the rest ask for a fault, or for none.
    let requests: Vec<Request> = (0..2000)
        .map(|n| {
            let number = format!("9{n:06}");
            if n % 4 == 3 {
                let (name, event) = &malformed[n % malformed.len()];
                return request(name, event, &number);
            }
            let fault = if n % 97 == 0 {
                "hang"
            } else {
                faults[n % faults.len()]
            };
            let mut request = request("received-text", &text, &number);
            request.event["data"]["content"] = json!(fault);
            request.outcome = match fault {
                "panic" | "transient" | "hang" => "failed",
                "permanent" => "poison",
                _ => "handled",
            };
            request
        })
        .collect();
    let start = Instant::now();
    let (answered, errors) = send_concurrently(server.port, requests, 64);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(answered.len(), 2000);

    // Each answer matches its event, and business logic saw that event in that invocation.
    let seen = logic.seen.lock().unwrap();
    let mut failed = 0;
    for (request, answer) in &answered {
        check(request, answer);
        let body = answer.json();
        if request.outcome == "failed" {
            failed += 1;
        }
        let fault = request.event["data"]["content"]
            .as_str()
            .unwrap_or_default();
        if let Some(event_id) = &request.event_id
            && ["ok", "panic", "transient", "permanent", "slow", "hang"].contains(&fault)
        {
            assert_eq!(seen.get(&request.invocation_id), Some(event_id), "{body}");
        }
        if fault == "transient" {
            let message = body["error"]["message"].as_str().unwrap_or_default();
            assert!(
                message.contains(request.event_id.as_deref().unwrap()),
                "{body}"
            );
        }
        if fault == "permanent" {
            let reason = body["Outputs"]["poison"]["reason"]
                .as_str()
                .unwrap_or_default();
            assert!(
                reason.contains(request.event_id.as_deref().unwrap()),
                "{body}"
            );
        }
    }
    println!("2000 invocations with faults in {:?}", start.elapsed());
    println!("failed invocations: {failed}");
}

/// Business logic shared with the test, which reads what it saw.
struct Shared(Arc<Faulty>);

impl BusinessLogic for Shared {
    async fn on_message_received(
        &self,
        ctx: &EventContext,
        message: MessageReceived,
    ) -> Result<(), LogicError> {
        self.0.on_message_received(ctx, message).await
    }

    async fn on_delivery_status_updated(
        &self,
        ctx: &EventContext,
        update: DeliveryStatusUpdated,
    ) -> Result<(), LogicError> {
        self.0.on_delivery_status_updated(ctx, update).await
    }
}
