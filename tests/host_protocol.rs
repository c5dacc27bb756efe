//! The real `handler` binary driven the way the Functions host drives it: its environment,
//! readiness polling, headers, both framings, concurrent invocations, and every kind of answer.

#![allow(clippy::expect_used, clippy::unwrap_used)]

mod support;

use std::{
    io::BufReader,
    process::Command,
    sync::Arc,
    thread,
    time::{Duration, Instant},
};

use serde_json::{Value, json};
use support::{
    Framing, Handler, connect, fixture, free_port, get, host_body, host_headers, post, read_answer,
    wait_for, write_post,
};

/// The `Logs` of an answer, joined.
fn logs(answer: &Value) -> String {
    answer["Logs"]
        .as_array()
        .expect("Logs is an array")
        .iter()
        .map(|line| line.as_str().expect("log lines are strings"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// `GET /` answers 200 JSON as soon as the handler is ready, and at any later time.
#[test]
fn ready_and_health_pings_answer() {
    let handler = Handler::start(&[]);
    for _ in 0..3 {
        let answer = get(handler.port, "/").expect("GET /");
        assert_eq!(answer.status, 200);
        answer.assert_json_object();
    }
}

/// A text message is handled with both framings; `Logs` carries the summary with its facts.
#[test]
fn handled_with_both_framings() {
    let handler = Handler::start(&[]);
    for (framing, id) in [
        (
            Framing::ContentLength,
            "11111111-aaaa-4bbb-8ccc-000000000001",
        ),
        (Framing::Chunked, "11111111-aaaa-4bbb-8ccc-000000000002"),
    ] {
        let mut event = fixture("received-text");
        event["id"] = json!(format!("event-{id}"));
        let answer = handler.invoke("EventGridTrigger", id, &host_body(&event), framing);
        assert_eq!(answer.status, 200, "{framing:?}");
        let body = answer.assert_json_object();
        let logs = logs(&body);
        let summary = logs
            .lines()
            .find(|line| line.contains("outcome="))
            .expect("summary");
        for fact in [
            id,
            "AdvancedMessageReceived",
            event["id"].as_str().expect("id"),
            "kind=text",
        ] {
            assert!(summary.contains(fact), "{fact} missing from {summary}");
        }
        assert!(summary.contains("outcome=handled"));
        assert!(
            body["Outputs"]
                .as_object()
                .is_some_and(|outputs| outputs.is_empty())
        );
    }
}

/// A redelivered event is acknowledged as a duplicate without running business logic again.
#[test]
fn redelivery_is_a_duplicate() {
    let handler = Handler::start(&[]);
    let event = fixture("received-video");
    let first = handler.invoke_event("12121212-0000-4000-8000-000000000001", &event);
    assert!(logs(&first.assert_json_object()).contains("outcome=handled"));
    let again = handler.invoke_event("12121212-0000-4000-8000-000000000002", &event);
    assert_eq!(again.status, 200);
    let logs = logs(&again.assert_json_object());
    assert!(
        logs.contains("outcome=duplicate") && !logs.contains("received video"),
        "{logs}"
    );
}

/// A status update is handled and its summary names the status.
#[test]
fn status_update_handled() {
    let handler = Handler::start(&[]);
    let answer = handler.invoke_event(
        "22222222-aaaa-4bbb-8ccc-000000000001",
        &fixture("status-read"),
    );
    assert_eq!(answer.status, 200);
    let logs = logs(&answer.assert_json_object());
    assert!(logs.contains("status=read outcome=handled"), "{logs}");
}

/// CloudEvents, and an event given as a string holding JSON, are handled like any other.
#[test]
fn cloudevents_and_string_events() {
    let handler = Handler::start(&[]);
    let cloud = handler.invoke_event(
        "33333333-0000-4000-8000-000000000001",
        &fixture("received-image-cloudevent"),
    );
    assert!(logs(&cloud.assert_json_object()).contains("kind=image outcome=handled"));
    let as_string = Value::String(fixture("status-sent").to_string());
    let answer = handler.invoke_event("33333333-0000-4000-8000-000000000002", &as_string);
    assert_eq!(answer.status, 200);
    assert!(logs(&answer.assert_json_object()).contains("status=sent outcome=handled"));
}

/// An event type the handler does not handle is acknowledged and logged as ignored.
#[test]
fn other_event_types_are_ignored() {
    let handler = Handler::start(&[]);
    let answer = handler.invoke_event(
        "44444444-0000-4000-8000-000000000001",
        &fixture("other-storage-blob-created"),
    );
    assert_eq!(answer.status, 200);
    let body = answer.assert_json_object();
    assert!(logs(&body).contains("outcome=ignored"));
    assert!(
        body["Outputs"]
            .as_object()
            .is_some_and(|outputs| outputs.is_empty())
    );
}

/// A poison event is acknowledged with the original event, unchanged, in `Outputs.poison`,
/// and reported on stderr with the invocation id.
#[test]
fn poison_goes_to_the_queue_unchanged() {
    let handler = Handler::start(&[]);
    let id = "55555555-0000-4000-8000-000000000001";
    let event = fixture("received-malformed-media-string");
    let answer = handler.invoke_event(id, &event);
    assert_eq!(answer.status, 200);
    let body = answer.assert_json_object();
    let poison = &body["Outputs"]["poison"];
    assert!(poison.is_object(), "{body}");
    assert_eq!(poison["event"], event);
    assert_eq!(poison["invocationId"], id);
    assert_eq!(poison["eventId"], event["id"]);
    assert!(
        poison["reason"]
            .as_str()
            .is_some_and(|r| r.starts_with("data.media"))
    );
    assert!(poison["time"].as_str().is_some_and(|t| t.starts_with("20")));
    assert!(logs(&body).contains("outcome=poison"));
    wait_for(
        || handler.stderr().contains(&format!("ERROR [{id}]")),
        "poison on stderr",
    );
}

/// `Data` without an event is poison, kept with a null event.
#[test]
fn data_without_event_is_poison() {
    let handler = Handler::start(&[]);
    let body = br#"{"Data":{},"Metadata":{"sys":{"MethodName":"EventGridTrigger"}}}"#;
    let answer = handler.invoke(
        "EventGridTrigger",
        "66666666-0000-4000-8000-000000000001",
        body,
        Framing::ContentLength,
    );
    assert_eq!(answer.status, 200);
    let body = answer.assert_json_object();
    assert_eq!(body["Outputs"]["poison"]["reason"], "Data holds no event");
    assert_eq!(body["Outputs"]["poison"]["event"], Value::Null);
}

/// Requests that are not host invocations get 400, 404, 413 or 415 with a JSON error.
#[test]
fn not_the_host_protocol() {
    let handler = Handler::start(&[("HANDLER_MAX_BODY_BYTES", "2048")]);
    let cases: [(&str, &[u8], u16, &str); 6] = [
        ("EventGridTrigger", b"this is not json", 400, "invalid_json"),
        (
            "EventGridTrigger",
            b"{\"Data\": {\"eventGridEvent\": ",
            400,
            "invalid_json",
        ),
        ("EventGridTrigger", b"[1, 2]", 400, "not_an_object"),
        (
            "EventGridTrigger",
            br#"{"Metadata": {}}"#,
            400,
            "missing_data",
        ),
        (
            "EventGridTrigger",
            br#"{"Data": "eventGridEvent"}"#,
            400,
            "data_not_an_object",
        ),
        ("OtherFunction", br#"{"Data": {}}"#, 404, "unknown_function"),
    ];
    for (function, body, status, code) in cases {
        let answer = handler.invoke(
            function,
            "77777777-0000-4000-8000-000000000001",
            body,
            Framing::ContentLength,
        );
        assert_eq!(answer.status, status, "{}", String::from_utf8_lossy(body));
        assert_eq!(answer.assert_json_object()["error"]["code"], code);
    }
    let big = vec![b' '; 4096];
    for framing in [Framing::ContentLength, Framing::Chunked] {
        let answer = handler.invoke(
            "EventGridTrigger",
            "77777777-0000-4000-8000-000000000002",
            &big,
            framing,
        );
        assert_eq!(answer.status, 413, "{framing:?}");
        assert_eq!(
            answer.assert_json_object()["error"]["code"],
            "payload_too_large"
        );
    }
    let mut headers = host_headers("77777777-0000-4000-8000-000000000003");
    headers.retain(|(key, _)| key != "Content-Type");
    headers.push(("Content-Type".into(), "text/plain".into()));
    let answer = post(
        handler.port,
        "/EventGridTrigger",
        &headers,
        b"{}",
        Framing::ContentLength,
    )
    .expect("post");
    assert_eq!(answer.status, 415);
    answer.assert_json_object();
    assert_eq!(get(handler.port, "/").expect("still up").status, 200);
}

/// Records of an invocation answered 2xx go into its `Logs`, not also to stdout.
#[test]
fn logs_are_not_written_twice() {
    let handler = Handler::start(&[]);
    let id = "88888888-0000-4000-8000-000000000001";
    let answer = handler.invoke_event(id, &fixture("received-document"));
    assert!(logs(&answer.assert_json_object()).contains(id));
    thread::sleep(Duration::from_millis(200));
    assert!(
        !handler.stdout().contains(id),
        "stdout: {}",
        handler.stdout()
    );
    assert!(
        !handler.stderr().contains(id),
        "stderr: {}",
        handler.stderr()
    );
}

/// Many invocations at once on many connections each get their own answer.
#[test]
fn concurrent_invocations() {
    let handler = Arc::new(Handler::start(&[]));
    let names = [
        "received-text",
        "received-image",
        "status-failed",
        "received-reaction",
    ];
    let threads: Vec<_> = (0..64)
        .map(|n| {
            let handler = Arc::clone(&handler);
            let name = names[n % names.len()];
            thread::spawn(move || {
                let mut stream = connect(handler.port).expect("connect");
                for round in 0..10 {
                    let id = format!("99999999-0000-4000-8000-{n:06}{round:06}");
                    let mut event = fixture(name);
                    event["id"] = json!(format!("event-{n}-{round}"));
                    let framing = if round % 2 == 0 {
                        Framing::Chunked
                    } else {
                        Framing::ContentLength
                    };
                    write_post(
                        &mut stream,
                        handler.port,
                        "/EventGridTrigger",
                        &host_headers(&id),
                        &host_body(&event),
                        framing,
                    )
                    .expect("send");
                    let answer = read_answer(&mut BufReader::new(&mut stream)).expect("answer");
                    assert_eq!(answer.status, 200);
                    let logs = logs(&answer.assert_json_object());
                    assert!(
                        logs.contains(&id) && logs.contains(&format!("id=event-{n}-{round} ")),
                        "{logs}"
                    );
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().expect("client thread");
    }
}

/// A bad port setting is a one-line error naming it and a non-zero exit, never a panic.
#[test]
fn bad_port_exits_with_one_line() {
    for bad in ["not-a-port", "70000"] {
        let output = Command::new(env!("CARGO_BIN_EXE_handler"))
            .env("FUNCTIONS_CUSTOMHANDLER_PORT", bad)
            .output()
            .expect("run handler");
        assert_eq!(output.status.code(), Some(2));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.contains("FUNCTIONS_CUSTOMHANDLER_PORT") && !stderr.contains("panicked"));
    }
}

/// The legacy port variable alone is enough, and the handler is ready within a second.
#[test]
fn legacy_port_and_quick_start() {
    let port = free_port();
    let mut command = Command::new(env!("CARGO_BIN_EXE_handler"));
    command
        .env_remove("FUNCTIONS_CUSTOMHANDLER_PORT")
        .env("FUNCTIONS_HTTPWORKER_PORT", port.to_string());
    let start = Instant::now();
    let handler = Handler::spawn(command, port);
    assert!(
        start.elapsed() < Duration::from_secs(1),
        "ready after {:?}",
        start.elapsed()
    );
    assert_eq!(get(handler.port, "/").expect("GET /").status, 200);
}

/// The settings shipped in `local.settings.json.example` are all accepted as they are.
#[test]
fn example_settings_are_accepted() {
    let path = support::app_root().join("local.settings.json.example");
    let example: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let values: Vec<(String, String)> = example["Values"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(key, value)| (key.clone(), value.as_str().unwrap().to_owned()))
        .collect();
    let settings: Vec<(&str, &str)> = values
        .iter()
        .map(|(key, value)| (key.as_str(), value.as_str()))
        .collect();
    let handler = Handler::start(&settings);
    let answer = handler.invoke_event(
        "13131313-0000-4000-8000-000000000001",
        &fixture("status-sent"),
    );
    assert_eq!(answer.status, 200);
    support::wait_for(
        || handler.stdout().contains("auto-reply is off"),
        "the start-up line",
    );
}
