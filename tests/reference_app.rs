//! The reference application end to end: the real `handler` binary, driven as the host drives
//! it, replying through a stand-in for the Messages API that checks every signature itself.

#![allow(clippy::expect_used, clippy::unwrap_used)]

mod acs_support;
mod support;

use std::{
    collections::HashSet,
    sync::{Arc, Mutex},
};

use acs_support::{Answer, Recorded, Reply, TestServer, verify_signature};
use base64::{Engine, engine::general_purpose::STANDARD};
use serde_json::{Value, json};
use support::{Handler, fixture, wait_for};

/// The access key the stand-in checks signatures with.
const KEY: &[u8] = b"reference application test key";

/// The reply text.
const REPLY: &str = "Thanks, we got your message.";

/// A stand-in for the Messages API: checks the signature, then answers through `answer`.
fn messages_api(
    runtime: &tokio::runtime::Runtime,
    answer: impl Fn(&Recorded) -> Answer + Send + Sync + 'static,
) -> TestServer {
    runtime.block_on(TestServer::start(move |request| {
        match verify_signature(request, KEY) {
            Ok(()) => Reply::Now(answer(request)),
            Err(problem) => Reply::Now(Answer::json(
                401,
                json!({"error": {"code": "Unauthorized", "message": problem}}),
            )),
        }
    }))
}

/// A 202 with one receipt, as the Messages API answers a send.
fn accepted(request: &Recorded) -> Answer {
    let to = request.json()["to"][0].clone();
    Answer::json(
        202,
        json!({"receipts": [{"messageId": "a1b2c3d4-0000-4000-8000-000000000001", "to": to}]}),
    )
}

/// Starts the handler configured to reply through `api`.
fn handler_replying_through(api: &TestServer, extra: &[(&str, &str)]) -> Handler {
    let connection = format!(
        "endpoint={}/;accesskey={}",
        api.base_url,
        STANDARD.encode(KEY)
    );
    let mut settings = vec![
        ("ACS_CONNECTION_STRING", connection.as_str()),
        ("AUTO_REPLY_TEXT", REPLY),
    ];
    settings.extend_from_slice(extra);
    Handler::start(&settings)
}

/// The `Logs` of an answer, joined.
fn logs(answer: &Value) -> String {
    answer["Logs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The sends the stand-in received.
fn sends(api: &TestServer) -> Vec<Recorded> {
    api.requests()
        .into_iter()
        .filter(|r| r.path() == "/messages/notifications:send")
        .collect()
}

/// A received text is answered with the configured text, to its sender, from the channel it
/// arrived on, signed, with repeatability headers.
#[test]
fn text_gets_a_signed_reply_to_the_sender() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let api = messages_api(&runtime, accepted);
    let handler = handler_replying_through(&api, &[]);
    let answer = handler.invoke_event(
        "a0000000-0000-4000-8000-000000000001",
        &fixture("received-text"),
    );
    assert_eq!(answer.status, 200);
    assert!(logs(&answer.assert_json_object()).contains("replied with message a1b2c3d4"));
    let sent = sends(&api);
    assert_eq!(sent.len(), 1);
    let body = sent[0].json();
    assert_eq!(body["kind"], "text");
    assert_eq!(body["content"], REPLY);
    assert_eq!(body["to"], json!(["14255550101"]));
    assert_eq!(
        body["channelRegistrationId"],
        "0f0eb78e-a576-1dfc-b414-0f0756de3338"
    );
    assert!(sent[0].header("repeatability-request-id").is_some());
    assert!(
        sent[0]
            .header("repeatability-first-sent")
            .is_some_and(|d| d.ends_with("GMT"))
    );
}

/// A sender whose number is hidden gets the reply at their BSUID.
#[test]
fn hidden_number_gets_the_reply_at_its_bsuid() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let api = messages_api(&runtime, accepted);
    let handler = handler_replying_through(&api, &[]);
    let event = fixture("received-text-hidden-number");
    assert_eq!(
        handler
            .invoke_event("a1000000-0000-4000-8000-000000000001", &event)
            .status,
        200
    );
    let sent = sends(&api);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].json()["to"], json!(["US.134912086553027419110"]));
}

/// A redelivered event sends one reply: the same instance knows it handled the event, and a
/// second instance (scaled out) asks for the same request id, which the API refuses to repeat.
#[test]
fn redelivered_event_replies_once() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let seen = Arc::new(Mutex::new(HashSet::new()));
    let ids = Arc::clone(&seen);
    let api = messages_api(&runtime, move |request| {
        let id = request
            .header("repeatability-request-id")
            .unwrap_or_default()
            .to_owned();
        if ids.lock().unwrap().insert(id) {
            accepted(request)
        } else {
            Answer::json(202, json!({"receipts": []})).header("Repeatability-Result", "rejected")
        }
    });
    let first = handler_replying_through(&api, &[]);
    let second = handler_replying_through(&api, &[]);
    let event = fixture("received-image");
    for (handler, invocation) in [
        (&first, "a2000000-0000-4000-8000-000000000001"),
        (&first, "a2000000-0000-4000-8000-000000000002"),
        (&second, "a2000000-0000-4000-8000-000000000003"),
    ] {
        assert_eq!(handler.invoke_event(invocation, &event).status, 200);
    }
    let sent = sends(&api);
    assert_eq!(
        sent.len(),
        2,
        "the first instance sent once, the second asked again"
    );
    assert_eq!(
        sent[0].header("repeatability-request-id"),
        sent[1].header("repeatability-request-id")
    );
    assert_eq!(seen.lock().unwrap().len(), 1, "one reply was accepted");
}

/// A 503 from the API fails the invocation as transient (Event Grid retries); a 400 does not:
/// the event is acknowledged, kept as poison, and the service's code is logged at error.
#[test]
fn service_errors_are_sorted_by_retry() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let api = messages_api(&runtime, |request| {
        let recipient = request.json()["to"][0]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        if recipient.ends_with("01") {
            Answer::json(
                503,
                json!({"error": {"code": "ServiceUnavailable", "message": "try later"}}),
            )
        } else {
            Answer::json(
                400,
                json!({"error": {"code": "InvalidChannel", "message": "no such channel"}}),
            )
        }
    });
    let handler = handler_replying_through(&api, &[]);
    let unavailable = handler.invoke_event(
        "a3000000-0000-4000-8000-000000000001",
        &fixture("received-text"),
    );
    assert_eq!(unavailable.status, 500);
    assert_eq!(
        unavailable.assert_json_object()["error"]["code"],
        "transient_failure"
    );
    let refused = handler.invoke_event(
        "a3000000-0000-4000-8000-000000000002",
        &fixture("received-document"),
    );
    assert_eq!(refused.status, 200);
    let body = refused.assert_json_object();
    assert!(
        body["Outputs"]["poison"]["reason"]
            .as_str()
            .unwrap()
            .contains("InvalidChannel"),
        "{body}"
    );
    wait_for(
        || handler.stderr().contains("InvalidChannel"),
        "the code on stderr",
    );
}

/// Reactions get no reply by default, and a failed status is logged at warn with its code and
/// a plain explanation.
#[test]
fn reactions_are_not_answered_and_failures_are_explained() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let api = messages_api(&runtime, accepted);
    let handler = handler_replying_through(&api, &[]);
    let reaction = handler.invoke_event(
        "a4000000-0000-4000-8000-000000000001",
        &fixture("received-reaction"),
    );
    assert!(logs(&reaction.assert_json_object()).contains("no reply"));
    assert!(sends(&api).is_empty());
    let failed = handler.invoke_event(
        "a4000000-0000-4000-8000-000000000002",
        &fixture("status-failed"),
    );
    let logs = logs(&failed.assert_json_object());
    assert!(
        logs.contains("WARN") && logs.contains("131026") && logs.contains("undeliverable"),
        "{logs}"
    );
    wait_for(
        || handler.stderr().contains("131026"),
        "the warning on stderr",
    );
}

/// With nothing configured the handler runs, tracks and logs, and says that replies are off.
#[test]
fn nothing_configured_means_replies_off() {
    let handler = Handler::start(&[]);
    wait_for(
        || handler.stdout().contains("auto-reply is off"),
        "the start-up line",
    );
    let answer = handler.invoke_event(
        "a5000000-0000-4000-8000-000000000001",
        &fixture("received-text"),
    );
    assert!(logs(&answer.assert_json_object()).contains("outcome=handled"));
}

/// A bad setting stops the handler at start with one line naming it, without the secret.
#[test]
fn bad_settings_stop_the_start() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_handler"))
        .env("FUNCTIONS_CUSTOMHANDLER_PORT", "7999")
        .env(
            "ACS_CONNECTION_STRING",
            "endpoint=nowhere;accesskey=c2VjcmV0LXZhbHVl",
        )
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("ACS_CONNECTION_STRING") && !stderr.contains("c2VjcmV0LXZhbHVl"),
        "{stderr}"
    );
}
