//! Every fixture mutated thousands of times in all, wrapped as a host invocation and handled
//! in-process: whatever arrives, the answer is one of the defined outcomes, the event reaches
//! business logic or the poison output and is never lost, and no log line quotes its personal data.
//!
//! Cases come from a seeded generator, so a run repeats exactly: `MUTATION_SEED` picks another
//! run and `MUTATION_CASES` the cases per fixture event; a failure names its run, fixture and case.

#![allow(clippy::expect_used, clippy::unwrap_used)]

mod support;

use std::{
    collections::BTreeMap,
    sync::atomic::{AtomicUsize, Ordering},
    time::{Duration, Instant},
};

use amh::{
    business_logic::{BusinessLogic, EventContext, LogicError, OtherEvent},
    dispatch::{DispatchSettings, Dispatcher},
    envelope::Envelope,
    events::{DeliveryStatusUpdated, MessageReceived},
    invocation::{self, Answer},
    logging::HandlerLogger,
};
use serde::Deserialize;
use serde_json::value::RawValue;
use support::{
    child::run_in_child,
    fixtures,
    mutate::{Rng, host_body_around, mutate_body, mutate_event},
    personal_data::{found_in, is_seed, markers},
};

/// The seed used unless `MUTATION_SEED` says otherwise.
const DEFAULT_SEED: u64 = 0x5eed_2026_1203;

/// Cases per fixture event unless `MUTATION_CASES` says otherwise.
const DEFAULT_CASES: usize = 80;

/// Business logic that accepts every event and counts its calls.
#[derive(Default)]
struct Counting {
    /// Calls of any method so far.
    calls: AtomicUsize,
}

impl BusinessLogic for Counting {
    async fn on_message_received(
        &self,
        _ctx: &EventContext,
        _message: MessageReceived,
    ) -> Result<(), LogicError> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    async fn on_delivery_status_updated(
        &self,
        _ctx: &EventContext,
        _update: DeliveryStatusUpdated,
    ) -> Result<(), LogicError> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    async fn on_other_event(
        &self,
        _ctx: &EventContext,
        _event: &Envelope<'_>,
    ) -> Result<OtherEvent, LogicError> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        Ok(OtherEvent::Ignored)
    }
}

/// An answer body, read without a depth limit since the poison output holds the event as sent.
#[derive(Deserialize)]
struct AnswerBody<'a> {
    #[serde(rename = "Logs")]
    logs: Option<Vec<String>>,
    #[serde(rename = "Outputs", borrow)]
    outputs: Option<BTreeMap<String, &'a RawValue>>,
    error: Option<ErrorDetail>,
    #[serde(rename = "invocationId")]
    invocation_id: Option<String>,
}

/// The error of an error answer.
#[derive(Deserialize)]
struct ErrorDetail {
    code: String,
    message: String,
}

/// The poison output.
#[derive(Deserialize)]
struct Poison<'a> {
    reason: String,
    #[serde(rename = "invocationId")]
    invocation_id: String,
    #[serde(borrow)]
    event: Option<&'a RawValue>,
}

/// One case: what was sent, and what is known about it.
struct Case<'a> {
    /// Names the case in failures: fixture, number and seed.
    name: String,
    /// The invocation id it runs as.
    invocation_id: String,
    /// The event's text as placed in the body, when the body itself was not mutated.
    event_text: Option<Vec<u8>>,
    /// The personal data of the fixture it came from.
    markers: &'a [String],
}

/// Runs every case in the child and checks, there too, that nothing it printed quotes personal
/// data.
#[test]
fn mutated_fixtures_get_defined_answers() {
    let Some(output) = run_in_child("mutated_fixtures_get_defined_answers") else {
        return run_cases();
    };
    let all: Vec<String> = fixtures()
        .iter()
        .filter(|(name, _)| !is_seed(name))
        .flat_map(|(_, events)| events.iter().flat_map(markers))
        .collect();
    let printed = format!("{}{}", output.stdout, output.stderr);
    let leaked = found_in(&all, &printed);
    assert!(leaked.is_empty(), "printed personal data: {leaked:?}");
    assert!(output.stderr.contains("outcome=poison"), "poison is logged");
}

/// Mutates every fixture event `MUTATION_CASES` times and checks each answer.
fn run_cases() {
    // Handle invocations as the binary does, with dispatch remembering no event ids.
    let _ = HandlerLogger::from_env().install();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let settings = DispatchSettings {
        dedup_window: Duration::ZERO,
        ..DispatchSettings::default()
    };
    let dispatcher = Dispatcher::new(Counting::default(), settings);
    let seed = env_number("MUTATION_SEED").unwrap_or(DEFAULT_SEED);
    let cases = env_number("MUTATION_CASES").map_or(DEFAULT_CASES, |n| n as usize);
    let start = Instant::now();
    let mut total = 0;
    println!("MUTATION_SEED={seed:#x} MUTATION_CASES={cases}");

    for (name, events) in fixtures() {
        for (index, event) in events.iter().enumerate() {
            let markers = if is_seed(&name) {
                Vec::new()
            } else {
                markers(event)
            };
            for number in 0..cases {
                // Mutate the event, wrap it, and sometimes mutate the body too.
                let case_seed = seed ^ hash(&format!("{name}/{index}/{number}"));
                let mut rng = Rng::new(case_seed);
                let event_text = mutate_event(&mut rng, event);
                let as_string = rng.one_in(6);
                let mut body = host_body_around(&event_text, as_string);
                let body_mutated = rng.one_in(4);
                if body_mutated {
                    body = mutate_body(&mut rng, &body);
                }
                let placed = if as_string {
                    serde_json::to_vec(&String::from_utf8_lossy(&event_text)).unwrap()
                } else {
                    event_text
                };
                let case = Case {
                    name: format!("MUTATION_SEED={seed:#x}: {name} event {index} case {number}"),
                    invocation_id: format!("prop-{case_seed:016x}"),
                    event_text: (!body_mutated).then_some(placed),
                    markers: &markers,
                };

                // Handle it, counting the calls of business logic it makes.
                let before = dispatcher.logic().calls.load(Ordering::Relaxed);
                let answer =
                    runtime.block_on(invocation::handle(&dispatcher, &case.invocation_id, &body));
                let calls = dispatcher.logic().calls.load(Ordering::Relaxed) - before;
                check(&case, &answer, calls);
                total += 1;
            }
        }
    }
    println!(
        "{total} mutated invocations, all answered as defined, in {:?}",
        start.elapsed()
    );
    assert!(total >= 3000, "only {total} cases");
}

/// Checks one answer: a defined outcome, the event kept or handled, no personal data in logs.
fn check(case: &Case<'_>, answer: &Answer, calls: usize) {
    let name = &case.name;
    let body: AnswerBody<'_> = serde_json::from_slice(&answer.body).unwrap_or_else(|err| {
        panic!(
            "{name}: answer {} is not a JSON object ({err})",
            answer.status
        )
    });
    match answer.status {
        200 => {
            // The logs: every line tied to the invocation, one summary, no personal data.
            let logs = body
                .logs
                .unwrap_or_else(|| panic!("{name}: 200 without Logs"));
            let tag = format!("[{}]", case.invocation_id);
            assert!(
                logs.iter().all(|line| line.contains(&tag)),
                "{name}: {logs:?}"
            );
            let summaries = logs.iter().filter(|line| line.contains("outcome=")).count();
            assert_eq!(summaries, 1, "{name}: {logs:?}");
            for line in &logs {
                let leaked = found_in(case.markers, line);
                assert!(leaked.is_empty(), "{name}: {leaked:?} logged in {line}");
            }

            // The outputs: nothing, or the poison output with the event exactly as it came.
            let outputs = body.outputs.unwrap_or_else(|| panic!("{name}: no Outputs"));
            assert!(outputs.keys().all(|key| key == "poison"), "{name}");
            let Some(poison) = outputs.get("poison") else {
                assert_eq!(calls, 1, "{name}: acknowledged without business logic");
                return;
            };
            let poison: Poison<'_> = serde_json::from_str(poison.get()).unwrap();
            assert!(!poison.reason.is_empty(), "{name}: poison without a reason");
            assert_eq!(poison.invocation_id, case.invocation_id, "{name}");
            assert_eq!(calls, 0, "{name}: business logic saw a poison event");
            if poison.event.is_none() {
                assert_eq!(poison.reason, "Data holds no event", "{name}: event lost");
            }
            if let Some(sent) = &case.event_text {
                let kept = poison.event.map_or("null", |event| event.get());
                assert_eq!(kept.as_bytes(), sent.trim_ascii(), "{name}: event not kept");
            }
        }
        400 | 413 => {
            let error = body
                .error
                .unwrap_or_else(|| panic!("{name}: an error answer without error"));
            let codes = [
                "invalid_json",
                "not_an_object",
                "missing_data",
                "data_not_an_object",
                "payload_too_large",
            ];
            assert!(
                codes.contains(&error.code.as_str()),
                "{name}: {}",
                error.code
            );
            assert_eq!(
                body.invocation_id.as_deref(),
                Some(case.invocation_id.as_str())
            );
            assert_eq!(calls, 0, "{name}: business logic saw a rejected request");
            let leaked = found_in(case.markers, &error.message);
            assert!(leaked.is_empty(), "{name}: {leaked:?} in {}", error.message);
        }
        status => panic!("{name}: undefined status {status}"),
    }
}

/// A number from the environment, decimal or `0x` hexadecimal.
fn env_number(name: &str) -> Option<u64> {
    let text = std::env::var(name).ok()?;
    match text.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => text.parse().ok(),
    }
}

/// A stable hash of `text` (FNV-1a), to give each case its own seed.
fn hash(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}
