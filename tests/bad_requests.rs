//! Requests that are not what the host sends, against the real binary: each gets its defined
//! answer, a JSON object, and the handler keeps serving (`GET /` answers after every one).

#![allow(clippy::expect_used, clippy::unwrap_used)]

mod support;

use std::{
    io::Write,
    net::Shutdown,
    thread,
    time::{Duration, Instant},
};

use serde::Deserialize;
use serde_json::{Value, json, value::RawValue};
use support::{
    Framing, Handler, HttpAnswer, connect, fixture, get, host_body, host_headers, post,
    post_refusable, read_answer, write_head,
};

/// The invocation id of every request here.
const ID: &str = "bad00000-0000-4000-8000-000000000001";

/// Posts `body` to the function with the host's headers.
fn invoke(handler: &Handler, body: &[u8]) -> HttpAnswer {
    handler.invoke("EventGridTrigger", ID, body, Framing::ContentLength)
}

/// Checks that `answer` is the error `status` with `code`, and that the handler still serves.
fn assert_error(handler: &Handler, answer: &HttpAnswer, status: u16, code: &str) {
    assert_eq!(
        answer.status,
        status,
        "{}",
        String::from_utf8_lossy(&answer.body)
    );
    let body = answer.assert_json_object();
    assert_eq!(body["error"]["code"], code, "{body}");
    assert_eq!(body["invocationId"], ID, "{body}");
    assert_still_serving(handler);
}

/// Checks that the handler answers `GET /`.
fn assert_still_serving(handler: &Handler) {
    let ping = get(handler.port, "/").expect("GET / after a bad request");
    assert_eq!(ping.status, 200);
}

/// The poison output of an answer, read without a depth limit.
#[derive(Deserialize)]
struct PoisonAnswer {
    #[serde(rename = "Outputs")]
    outputs: PoisonOutputs,
}

/// The outputs of a poison answer.
#[derive(Deserialize)]
struct PoisonOutputs {
    poison: PoisonOutput,
}

/// The poison output.
#[derive(Deserialize)]
struct PoisonOutput {
    reason: String,
    event: Box<RawValue>,
}

/// The poison output of a 200 answer, checking that the handler still serves.
fn poison_of(handler: &Handler, answer: &HttpAnswer) -> PoisonOutput {
    assert_eq!(
        answer.status,
        200,
        "{}",
        String::from_utf8_lossy(&answer.body)
    );
    let body: PoisonAnswer = serde_json::from_slice(&answer.body).expect("a poison answer");
    assert_still_serving(handler);
    body.outputs.poison
}

/// A body that is not JSON, or JSON cut short, is 400 `invalid_json`.
#[test]
fn not_json_and_truncated_json() {
    let handler = Handler::start(&[]);
    let whole = host_body(&fixture("received-text"));
    let cases: [&[u8]; 4] = [
        b"this is not json",
        &whole[..whole.len() / 2],
        &whole[..whole.len() - 1],
        b"{\"Data\": {\"eventGridEvent\": {}}} trailing",
    ];
    for body in cases {
        let answer = invoke(&handler, body);
        assert_error(&handler, &answer, 400, "invalid_json");
    }
}

/// A content type other than JSON is 415; a missing one is accepted when the body is JSON.
#[test]
fn content_types() {
    let handler = Handler::start(&[]);
    let body = host_body(&fixture("received-text"));
    for content_type in [
        "text/plain",
        "application/xml",
        "multipart/form-data; boundary=x",
    ] {
        let mut headers = host_headers(ID);
        headers.retain(|(key, _)| key != "Content-Type");
        headers.push(("Content-Type".into(), content_type.into()));
        let answer = post(
            handler.port,
            "/EventGridTrigger",
            &headers,
            &body,
            Framing::ContentLength,
        )
        .expect("answered");
        assert_error(&handler, &answer, 415, "unsupported_media_type");
    }
    let mut headers = host_headers(ID);
    headers.retain(|(key, _)| key != "Content-Type");
    let answer = post(
        handler.port,
        "/EventGridTrigger",
        &headers,
        &body,
        Framing::Chunked,
    )
    .expect("answered");
    assert_eq!(answer.status, 200);
    let logs = answer.assert_json_object()["Logs"].to_string();
    assert!(logs.contains("outcome=handled"), "{logs}");
    let answer = post(
        handler.port,
        "/EventGridTrigger",
        &headers,
        b"not json",
        Framing::Chunked,
    )
    .expect("answered");
    assert_error(&handler, &answer, 400, "invalid_json");
}

/// An empty body, with either framing, is 400 `invalid_json`.
#[test]
fn empty_body() {
    let handler = Handler::start(&[]);
    for framing in [Framing::ContentLength, Framing::Chunked] {
        let answer = handler.invoke("EventGridTrigger", ID, b"", framing);
        assert_error(&handler, &answer, 400, "invalid_json");
    }
}

/// A body without `Data` is 400 `missing_data`; a `Data` that is not an object of bindings is
/// 400 `data_not_an_object`, even an array holding an event; a body that is an array is 400
/// `not_an_object`.
#[test]
fn data_missing_or_of_the_wrong_type() {
    let handler = Handler::start(&[]);
    for body in [json!({}), json!({"Metadata": {}}), json!({"Data": null})] {
        let answer = invoke(&handler, body.to_string().as_bytes());
        assert_error(&handler, &answer, 400, "missing_data");
    }
    for event in ["received-text", "received-malformed-media-string"] {
        let event = fixture(event);
        for data in [json!("event"), json!([event]), json!(7), json!(true)] {
            let body = json!({"Data": data, "Metadata": {}});
            let answer = invoke(&handler, body.to_string().as_bytes());
            assert_error(&handler, &answer, 400, "data_not_an_object");
        }
        let body = json!([{"eventGridEvent": event}]);
        let answer = invoke(&handler, body.to_string().as_bytes());
        assert_error(&handler, &answer, 400, "not_an_object");
    }
}

/// An event given as a JSON string that holds no JSON is poison, kept exactly as it came.
#[test]
fn event_string_holding_garbage_is_poison() {
    let handler = Handler::start(&[]);
    for garbage in ["not an event", "{\"id\": ", "", "\u{0}\u{1b}[31m"] {
        let event = Value::String(garbage.to_owned());
        let answer = handler.invoke_event(ID, &event);
        let poison = poison_of(&handler, &answer);
        assert!(
            poison
                .reason
                .starts_with("event: the string does not hold JSON"),
            "{}",
            poison.reason
        );
        assert_eq!(poison.event.get(), event.to_string());
    }
}

/// A body over `HANDLER_MAX_BODY_BYTES` (4 MiB by default) is 413 with either framing, while the
/// largest event Event Grid delivers (1 MB), carried twice in the body, is handled.
#[test]
fn over_size_body() {
    let handler = Handler::start(&[]);
    let limit = 4 << 20;

    // An event of 1 MB, the most Event Grid delivers, makes a body of nearly 2 MB.
    let mut event = fixture("received-text");
    let length = event.to_string().len();
    event["data"]["content"] = json!("x".repeat(1_000_000 - length + 41));
    assert!(event.to_string().len() <= 1_000_000);
    for framing in [Framing::ContentLength, Framing::Chunked] {
        event["id"] = json!(format!("{framing:?}-{:032}", 0));
        let body = host_body(&event);
        assert!(body.len() > 1_990_000);
        let answer = handler.invoke("EventGridTrigger", ID, &body, framing);
        assert_eq!(answer.status, 200, "{framing:?}");
        assert!(
            answer.assert_json_object()["Logs"]
                .to_string()
                .contains("outcome=handled")
        );
    }

    // One byte over the limit is refused, declared or not.
    let mut over = b"{\"Data\": {}, \"padding\": \"".to_vec();
    over.resize(limit - 1, b'x');
    over.extend_from_slice(b"\"}");
    assert_eq!(over.len(), limit + 1);
    for framing in [Framing::ContentLength, Framing::Chunked] {
        let answer = post_refusable(
            handler.port,
            "/EventGridTrigger",
            &host_headers(ID),
            over.clone(),
            framing,
        )
        .expect("answered");
        assert_error(&handler, &answer, 413, "payload_too_large");
    }
}

/// Nesting far past what a recursive parser allows (serde_json stops at 128 levels) is read
/// without recursion where the handler does not need the values: a deeply nested event is
/// poison, kept as it came; deep nesting in a member nobody reads is harmless; a body that is
/// deeply nested arrays is not an invocation.
#[test]
fn deep_nesting() {
    let handler = Handler::start(&[]);
    let depth = 100_000;
    let deep = format!("{}{}", "[".repeat(depth), "]".repeat(depth));

    // In a member the data model types, or as the event itself: poison.
    let text = fixture("received-text").to_string();
    let in_content = text.replace("\"Hello from fixture text-basic, order 3279\"", &deep);
    assert_ne!(in_content, text);
    for (event, reason) in [
        (in_content.as_str(), "data.content"),
        (deep.as_str(), "event"),
    ] {
        let body = format!(r#"{{"Data":{{"eventGridEvent":{event}}},"Metadata":{{}}}}"#);
        let answer = invoke(&handler, body.as_bytes());
        let poison = poison_of(&handler, &answer);
        assert!(poison.reason.starts_with(reason), "{}", poison.reason);
        assert_eq!(poison.event.get(), event);
    }

    // In a member nobody reads: handled.
    let unread = text.replacen('{', &format!("{{\"nested\":{deep},"), 1);
    let body = format!(r#"{{"Data":{{"eventGridEvent":{unread}}},"Metadata":{{"x":{deep}}}}}"#);
    let answer = invoke(&handler, body.as_bytes());
    assert_eq!(answer.status, 200);
    assert!(
        answer.assert_json_object()["Logs"]
            .to_string()
            .contains("outcome=handled")
    );
    assert_still_serving(&handler);

    // As the whole body: not an invocation.
    let answer = invoke(&handler, deep.as_bytes());
    assert_error(&handler, &answer, 400, "not_an_object");
}

/// Bytes that are not UTF-8, in the event or around it, are 400 `invalid_json`.
#[test]
fn invalid_utf8() {
    let handler = Handler::start(&[]);
    let body = host_body(&fixture("received-text"));
    let text = String::from_utf8(body).unwrap();

    // In the message text, and in a member of the envelope that nothing reads.
    for at in ["Hello from", "1\",\"subject\""] {
        let (before, after) = text.split_at(text.find(at).unwrap());
        for bad in [
            b"\xff".as_slice(),
            b"\xc0\x80",
            b"\xed\xa0\x80",
            b"\xe2\x82",
        ] {
            let body = [before.as_bytes(), bad, after.as_bytes()].concat();
            let answer = invoke(&handler, &body);
            assert_error(&handler, &answer, 400, "invalid_json");
        }
    }

    // Before the body.
    let body = [b"\xff\xfe".as_slice(), text.as_bytes()].concat();
    let answer = invoke(&handler, &body);
    assert_error(&handler, &answer, 400, "invalid_json");
}

/// A client that never finishes its body is answered 408 once `HANDLER_BODY_TIMEOUT_MS` has
/// passed, with either framing.
#[test]
fn slow_client_gets_408() {
    let handler = Handler::start(&[("HANDLER_BODY_TIMEOUT_MS", "400")]);
    for chunked in [false, true] {
        let mut stream = connect(handler.port).expect("connect");
        let start = Instant::now();
        if chunked {
            let mut head = format!(
                "POST /EventGridTrigger HTTP/1.1\r\nHost: 127.0.0.1:{}\r\n",
                handler.port
            );
            for (key, value) in host_headers(ID) {
                head.push_str(&format!("{key}: {value}\r\n"));
            }
            head.push_str("Transfer-Encoding: chunked\r\n\r\n8\r\n{\"Data\":\r\n");
            stream.write_all(head.as_bytes()).expect("send");
        } else {
            write_head(
                &mut stream,
                handler.port,
                "/EventGridTrigger",
                &host_headers(ID),
                1000,
            )
            .expect("send the head");
            stream.write_all(b"{\"Data\":").expect("send a little");
        }
        let answer = read_answer(&mut std::io::BufReader::new(&stream)).expect("an answer");
        let waited = start.elapsed();
        assert_error(&handler, &answer, 408, "body_timeout");
        assert!(
            waited >= Duration::from_millis(400) && waited < Duration::from_secs(5),
            "answered after {waited:?}"
        );
    }
}

/// A client that goes away in the middle of its body costs nothing: the handler serves the next
/// request as usual.
#[test]
fn client_disconnects_mid_body() {
    let handler = Handler::start(&[]);
    let body = host_body(&fixture("received-text"));
    for close in [Shutdown::Write, Shutdown::Both] {
        let mut stream = connect(handler.port).expect("connect");
        write_head(
            &mut stream,
            handler.port,
            "/EventGridTrigger",
            &host_headers(ID),
            body.len(),
        )
        .expect("send the head");
        stream
            .write_all(&body[..body.len() / 2])
            .expect("send half");
        thread::sleep(Duration::from_millis(100));
        stream.shutdown(close).expect("hang up");
        drop(stream);
        thread::sleep(Duration::from_millis(100));
        assert_still_serving(&handler);
        let answer = handler.invoke_event(ID, &fixture("status-read"));
        assert_eq!(answer.status, 200);
    }
}
