//! The standalone webhook with business logic of the test's choosing, run in this process: the
//! events of a delivery run concurrently, one failure fails the whole delivery (500, so Event
//! Grid retries it) without stopping the other events, and a permanent refusal is kept as a file.

// Tests report failures by panicking, helpers included.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod support;

use std::{
    sync::atomic::Ordering,
    time::{Duration, Instant},
};

use serde_json::{Value, json};
use support::{
    TempDir, event_grid_headers, fixture,
    in_process::InProcess,
    request,
    scripted::{SLOW, Scripted},
    webhook_path,
};

/// A received text event with its own id whose content says what to do.
fn event_asking(what: &str, number: usize) -> Value {
    let mut event = fixture("received-text");
    event["id"] = json!(format!("scripted-{what}-{number}"));
    event["data"]["content"] = json!(what);
    event
}

/// Delivers `events` as one Event Grid notification.
fn deliver(port: u16, events: &[Value]) -> support::HttpAnswer {
    let body = serde_json::to_vec(events).unwrap();
    let path = webhook_path("EventGridTrigger");
    request(
        port,
        "POST",
        &path,
        &event_grid_headers("Notification"),
        &body,
    )
    .expect("answer")
}

/// Six slow events of one delivery take about as long as one: they run concurrently.
#[test]
fn events_of_a_delivery_run_concurrently() {
    let poison = TempDir::new("concurrent-poison");
    let logic = Scripted::default();
    let server = InProcess::start_webhook(logic.clone(), Duration::from_secs(5), &poison.path);
    let events: Vec<Value> = (0..6).map(|n| event_asking("slow", n)).collect();
    let start = Instant::now();
    let answer = deliver(server.port, &events);
    let elapsed = start.elapsed();
    assert_eq!(answer.status, 202);
    assert_eq!(logic.calls.load(Ordering::SeqCst), 6);
    assert!(elapsed < SLOW * 4, "took {elapsed:?}");
}

/// A transient failure or a panic in one event fails the delivery with 500 naming how many
/// failed, while every other event still runs; the webhook keeps serving.
#[test]
fn one_failure_fails_the_delivery() {
    let poison = TempDir::new("failure-poison");
    for fault in ["transient", "panic"] {
        let logic = Scripted::default();
        let server = InProcess::start_webhook(logic.clone(), Duration::from_secs(5), &poison.path);
        let events = [
            event_asking("fine", 1),
            event_asking(fault, 2),
            event_asking("fine", 3),
        ];
        let answer = deliver(server.port, &events);
        assert_eq!(answer.status, 500, "{fault}");
        let body = answer.assert_json_object();
        assert_eq!(body["error"]["code"], "transient_failure");
        assert!(
            body["error"]["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("1 of 3 events failed")),
            "{body}"
        );
        assert_eq!(logic.calls.load(Ordering::SeqCst), 3, "{fault}");
        assert_eq!(deliver(server.port, &[event_asking("fine", 4)]).status, 202);
    }
    assert!(poison.files().is_empty());
}

/// A permanent refusal is acknowledged 202 and the event kept as a file with the reason.
#[test]
fn permanent_refusal_is_kept() {
    let poison = TempDir::new("refusal-poison");
    let server =
        InProcess::start_webhook(Scripted::default(), Duration::from_secs(5), &poison.path);
    let event = event_asking("permanent", 1);
    assert_eq!(
        deliver(server.port, std::slice::from_ref(&event)).status,
        202
    );
    let files = poison.files();
    assert_eq!(files.len(), 1);
    let kept: Value = serde_json::from_slice(&std::fs::read(&files[0]).unwrap()).unwrap();
    assert_eq!(kept["reason"], "the reply was refused");
    assert_eq!(kept["event"], event);
}
