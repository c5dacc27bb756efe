//! Faults in business logic: a panic, an error, a hang past the deadline. Each fails only its own
//! invocation, as transient (500, so Event Grid retries), and the handler keeps serving.

#![allow(clippy::expect_used, clippy::unwrap_used)]

mod support;

use std::{
    sync::atomic::{AtomicUsize, Ordering},
    thread,
    time::{Duration, Instant},
};

use serde_json::{Value, json};
use support::{
    Framing, fixture, get, host_body, host_headers, in_process::InProcess, post, scripted::Scripted,
};

/// A received text event, with an id of its own, whose content asks for `fault`.
fn event_asking(fault: &str) -> Value {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let mut event = fixture("received-text");
    event["id"] = json!(format!(
        "event-{fault}-{}",
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    event["data"]["content"] = json!(fault);
    event
}

/// Posts the event as an invocation.
fn invoke(port: u16, id: &str, event: &Value) -> support::HttpAnswer {
    post(
        port,
        "/EventGridTrigger",
        &host_headers(id),
        &host_body(event),
        Framing::ContentLength,
    )
    .expect("answered")
}

/// A panic, a transient error and a hang each become a 500 with a JSON error naming the cause,
/// and the next invocation is handled normally.
#[test]
fn faults_are_transient_and_contained() {
    let server = InProcess::start(Scripted::default(), Duration::from_millis(300));
    let cases = [
        ("panic", "panicked"),
        ("transient", "the store is down"),
        ("hang", "deadline"),
    ];
    for (fault, cause) in cases {
        let answer = invoke(
            server.port,
            "f0000000-0000-4000-8000-000000000001",
            &event_asking(fault),
        );
        assert_eq!(answer.status, 500, "{fault}");
        let body = answer.assert_json_object();
        assert_eq!(body["error"]["code"], "transient_failure", "{fault}");
        assert!(
            body["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains(cause)),
            "{body}"
        );
        assert_eq!(body["invocationId"], "f0000000-0000-4000-8000-000000000001");
        let next = invoke(
            server.port,
            "f0000000-0000-4000-8000-000000000002",
            &event_asking("fine"),
        );
        assert_eq!(next.status, 200, "after {fault}");
    }
}

/// A permanent failure is acknowledged and the event is kept in the poison output.
#[test]
fn permanent_failure_goes_to_poison() {
    let server = InProcess::start(Scripted::default(), Duration::from_secs(5));
    let event = event_asking("permanent");
    let answer = invoke(server.port, "f1000000-0000-4000-8000-000000000001", &event);
    assert_eq!(answer.status, 200);
    let body = answer.assert_json_object();
    assert_eq!(body["Outputs"]["poison"]["reason"], "the reply was refused");
    assert_eq!(body["Outputs"]["poison"]["event"], event);
}

/// A hanging invocation blocks neither health pings nor other invocations.
#[test]
fn a_hang_blocks_nothing_else() {
    let server = InProcess::start(Scripted::default(), Duration::from_secs(2));
    let port = server.port;
    let hung = thread::spawn(move || {
        invoke(
            port,
            "f2000000-0000-4000-8000-000000000001",
            &event_asking("hang"),
        )
    });
    thread::sleep(Duration::from_millis(100));
    let start = Instant::now();
    assert_eq!(get(port, "/").expect("ping").status, 200);
    assert_eq!(
        invoke(
            port,
            "f2000000-0000-4000-8000-000000000002",
            &event_asking("ok")
        )
        .status,
        200
    );
    assert!(
        start.elapsed() < Duration::from_secs(1),
        "took {:?}",
        start.elapsed()
    );
    assert_eq!(hung.join().expect("hung client").status, 500);
}
