//! The standalone webhook, started as the real binary without the host's variables: Event Grid's
//! handshakes, notifications in both schemas, poison events kept as files, the answers the host
//! gives, the key, and the refusal to listen beyond loopback without one.

// Tests report failures by panicking, helpers included.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod support;

use std::time::Duration;

use serde_json::{Value, json};
use support::{
    Handler, HttpAnswer, TempDir, event_grid_headers, events_of, fixture, free_port, get,
    handler_command, request, run_handler, stderr_of, stdout_of, wait_until, webhook_path,
};

/// The key used by the tests that set one.
const KEY: &str = "test-key-5f0c2a7e-1b9d-4c3a";

/// A webhook with its own poison folder.
struct Webhook {
    /// The running handler.
    handler: Handler,
    /// Its `POISON_DIR`.
    poison: TempDir,
}

impl Webhook {
    /// Starts a webhook with `env` besides its poison folder.
    fn start(env: &[(&str, &str)]) -> Self {
        let poison = TempDir::new("webhook-poison");
        let mut all = vec![("POISON_DIR", poison.as_str())];
        all.extend_from_slice(env);
        let handler = Handler::start_webhook(&all);
        Self { handler, poison }
    }

    /// Sends `body` to the webhook of `function` with `headers`.
    fn send(
        &self,
        method: &str,
        function: &str,
        headers: &[(String, String)],
        body: &[u8],
    ) -> HttpAnswer {
        request(
            self.handler.port,
            method,
            &webhook_path(function),
            headers,
            body,
        )
        .expect("answer")
    }

    /// Delivers `body` as an Event Grid notification.
    fn notify(&self, body: &Value) -> HttpAnswer {
        let body = serde_json::to_vec(body).unwrap();
        self.send(
            "POST",
            "EventGridTrigger",
            &event_grid_headers("Notification"),
            &body,
        )
    }
}

/// An error answer's code, after checking it is JSON.
fn error_code(answer: &HttpAnswer) -> String {
    answer.assert_json_object()["error"]["code"]
        .as_str()
        .expect("error code")
        .to_owned()
}

/// `GET /` answers, and the subscription validation handshake echoes the validation code.
#[test]
fn subscription_validation_handshake() {
    let webhook = Webhook::start(&[]);
    assert_eq!(get(webhook.handler.port, "/").unwrap().status, 200);
    let body = json!([{
        "id": "2d1781af-3a4c-4d7c-bd0c-e34b19da4e66",
        "topic": "/subscriptions/x/resourceGroups/y/providers/Microsoft.EventGrid/topics/z",
        "subject": "",
        "data": {
            "validationCode": "512d38b6-c7b8-40c8-89fe-f46f9e9622b6",
            "validationUrl": "https://rp-eastus2.eventgrid.azure.net/api/vx?code=abc"
        },
        "eventType": "Microsoft.EventGrid.SubscriptionValidationEvent",
        "eventTime": "2026-12-03T18:30:22.6043181Z",
        "metadataVersion": "1",
        "dataVersion": "1"
    }]);
    let answer = webhook.send(
        "POST",
        "EventGridTrigger",
        &event_grid_headers("SubscriptionValidation"),
        &serde_json::to_vec(&body).unwrap(),
    );
    assert_eq!(answer.status, 200);
    assert_eq!(
        answer.assert_json_object(),
        json!({"validationResponse": "512d38b6-c7b8-40c8-89fe-f46f9e9622b6"})
    );
}

/// The CloudEvents abuse-protection handshake allows the origin, and any rate when asked.
#[test]
fn options_handshake() {
    let webhook = Webhook::start(&[]);
    let headers = |rate: bool| {
        let mut headers = vec![(
            "WebHook-Request-Origin".to_owned(),
            "eventgrid.azure.net".to_owned(),
        )];
        if rate {
            headers.push(("WebHook-Request-Rate".to_owned(), "120".to_owned()));
        }
        headers
    };
    let answer = webhook.send("OPTIONS", "EventGridTrigger", &headers(true), b"");
    assert_eq!(answer.status, 200);
    assert_eq!(
        answer.header("webhook-allowed-origin"),
        Some("eventgrid.azure.net")
    );
    assert_eq!(answer.header("webhook-allowed-rate"), Some("*"));
    let answer = webhook.send("OPTIONS", "EventGridTrigger", &headers(false), b"");
    assert_eq!(answer.status, 200);
    assert_eq!(answer.header("webhook-allowed-rate"), None);
    let answer = webhook.send("OPTIONS", "EventGridTrigger", &[], b"");
    assert_eq!(answer.status, 400);
}

/// An array of events and a single event are each answered 202 with an empty body, once every
/// event is handled; each event's lines reach stdout under its own invocation id.
#[test]
fn notifications_are_accepted() {
    let webhook = Webhook::start(&[]);
    let mut batch = events_of("samples/eventgrid/received-text.json");
    batch.extend(events_of("samples/eventgrid/status-read.json"));
    batch.push(fixture("received-image-cloudevent"));
    let answer = webhook.notify(&Value::Array(batch.clone()));
    assert_eq!(answer.status, 202);
    assert!(answer.body.is_empty());
    let single = fixture("status-delivered");
    assert_eq!(webhook.notify(&single).status, 202);

    // Each event was dispatched as its own invocation, its summary on stdout.
    batch.push(single);
    for event in &batch {
        let id = event["id"].as_str().unwrap();
        wait_until(
            || webhook.handler.stdout().contains(&format!("id={id} ")),
            "the event's summary",
        );
    }
    let stdout = webhook.handler.stdout();
    let invocations: std::collections::BTreeSet<&str> = stdout
        .lines()
        .filter(|line| line.contains("outcome=handled"))
        .filter_map(|line| line.split(['[', ']']).nth(1))
        .collect();
    assert_eq!(invocations.len(), batch.len(), "{stdout}");
}

/// CloudEvents deliveries without aeg-event-type are understood by their content type, or by
/// their ce- headers in binary mode.
#[test]
fn cloudevents_without_event_grid_headers() {
    let webhook = Webhook::start(&[]);
    let events = events_of("samples/cloudevents/received-reaction.json");
    let structured = [(
        "Content-Type".to_owned(),
        "application/cloudevents-batch+json".to_owned(),
    )];
    let body = serde_json::to_vec(&events).unwrap();
    let answer = webhook.send("POST", "EventGridTrigger", &structured, &body);
    assert_eq!(answer.status, 202);

    let event = &events_of("samples/cloudevents/status-read.json")[0];
    let mut binary: Vec<(String, String)> =
        ["specversion", "id", "type", "source", "subject", "time"]
            .iter()
            .map(|name| {
                (
                    format!("ce-{name}"),
                    event[*name].as_str().unwrap().to_owned(),
                )
            })
            .collect();
    binary.push(("Content-Type".to_owned(), "application/json".to_owned()));
    let body = serde_json::to_vec(&event["data"]).unwrap();
    let answer = webhook.send("POST", "EventGridTrigger", &binary, &body);
    assert_eq!(answer.status, 202);
    let id = event["id"].as_str().unwrap();
    wait_until(
        || {
            webhook
                .handler
                .stdout()
                .contains(&format!("id={id} status=read outcome=handled"))
        },
        "the binary event handled",
    );
}

/// A poison event is acknowledged 202 and kept as a file holding the original event, which
/// `handler invoke` can replay as is.
#[test]
fn poison_is_kept_as_a_file() {
    let webhook = Webhook::start(&[]);
    let event = fixture("received-malformed-media-string");
    let answer = webhook.notify(&json!([event, fixture("received-text")]));
    assert_eq!(answer.status, 202);

    // One file, named from the time and the id, holding the poison message.
    let files = webhook.poison.files();
    assert_eq!(files.len(), 1, "{files:?}");
    let name = files[0].file_name().unwrap().to_str().unwrap();
    let id = event["id"].as_str().unwrap();
    assert!(
        name.starts_with("20") && name.ends_with(&format!("-{id}.json")),
        "{name}"
    );
    let kept: Value = serde_json::from_slice(&std::fs::read(&files[0]).unwrap()).unwrap();
    assert_eq!(kept["event"], event);
    assert_eq!(kept["eventId"], id);
    assert!(kept["reason"].as_str().unwrap().starts_with("data.media"));
    let invocation_id = kept["invocationId"].as_str().unwrap();
    assert_eq!(invocation_id.len(), 36);
    wait_until(
        || {
            let stderr = webhook.handler.stderr();
            stderr.contains(&format!("ERROR [{invocation_id}] "))
        },
        "the poison line on stderr",
    );

    // The kept file replays as the event it holds.
    let output = run_handler(&["invoke", files[0].to_str().unwrap()], &[], b"");
    assert_eq!(output.status.code(), Some(1));
    let line: Value = serde_json::from_str(stdout_of(&output).trim()).unwrap();
    assert_eq!(line["id"], id);
    assert_eq!(line["outcome"], "poison");
}

/// When a poison event cannot be kept, it fails: 500, so Event Grid delivers it again.
#[test]
fn poison_that_cannot_be_kept_fails() {
    let blocker = TempDir::new("webhook-blocker");
    let file = blocker.path.join("a-file");
    std::fs::write(&file, "not a folder").unwrap();
    let poison_dir = file.join("poison");
    let handler = Handler::start_webhook(&[("POISON_DIR", poison_dir.to_str().unwrap())]);
    let body = serde_json::to_vec(&json!([fixture("received-malformed-media-string")])).unwrap();
    let path = webhook_path("EventGridTrigger");
    let answer = request(
        handler.port,
        "POST",
        &path,
        &event_grid_headers("Notification"),
        &body,
    )
    .unwrap();
    assert_eq!(answer.status, 500);
    assert_eq!(error_code(&answer), "transient_failure");
    wait_until(
        || handler.stderr().contains("cannot keep the poison event"),
        "the failure on stderr",
    );
}

/// A refused POST: function, aeg-event-type, body, and the status and error code expected.
type Case<'a> = (&'a str, Option<&'a str>, &'a [u8], u16, &'a str);

/// What the host refuses, this refuses the same way: 400 for a missing or unknown
/// aeg-event-type or a body that is not events, 404 for another function, 413 over the limit.
#[test]
fn refusals() {
    let webhook = Webhook::start(&[("HANDLER_MAX_BODY_BYTES", "2048")]);
    let event = serde_json::to_vec(&fixture("received-text")).unwrap();
    let json_only = [("Content-Type".to_owned(), "application/json".to_owned())];
    let big = [b' '; 4096];
    let cases: [Case<'_>; 7] = [
        ("EventGridTrigger", None, &event, 400, "missing_event_type"),
        (
            "EventGridTrigger",
            Some("Gossip"),
            &event,
            400,
            "unknown_event_type",
        ),
        (
            "EventGridTrigger",
            Some("Notification"),
            b"14255550101",
            400,
            "not_events",
        ),
        (
            "EventGridTrigger",
            Some("Notification"),
            b"{",
            400,
            "not_events",
        ),
        (
            "eventgridtrigger",
            Some("Notification"),
            &event,
            404,
            "unknown_function",
        ),
        (
            "OtherFunction",
            Some("Notification"),
            &event,
            404,
            "unknown_function",
        ),
        (
            "EventGridTrigger",
            Some("Notification"),
            &big,
            413,
            "payload_too_large",
        ),
    ];
    for (function, kind, body, status, code) in cases {
        let headers = kind.map_or_else(|| json_only.to_vec(), event_grid_headers);
        let answer = webhook.send("POST", function, &headers, body);
        assert_eq!(answer.status, status, "{function} {code}");
        assert_eq!(error_code(&answer), code);
    }
    let get = webhook.send("GET", "EventGridTrigger", &[], b"");
    assert_eq!(get.status, 405);
    assert_eq!(error_code(&get), "method_not_allowed");
    let no_function = request(
        webhook.handler.port,
        "POST",
        "/runtime/webhooks/EventGrid",
        &event_grid_headers("Notification"),
        &event,
    )
    .unwrap();
    assert_eq!(no_function.status, 404);
    let unsubscribe = webhook.send(
        "POST",
        "EventGridTrigger",
        &event_grid_headers("Unsubscribe"),
        b"",
    );
    assert_eq!(unsubscribe.status, 202);
    assert!(!webhook.handler.stderr().contains("14255550101"));
}

/// With WEBHOOK_KEY set, a delivery without the key or with a wrong one is refused 401, and
/// the right key is accepted in the code parameter or the x-functions-key header. The key is
/// never logged.
#[test]
fn key_is_required_when_set() {
    let webhook = Webhook::start(&[("WEBHOOK_KEY", KEY)]);
    let body = serde_json::to_vec(&json!([fixture("status-sent")])).unwrap();
    let port = webhook.handler.port;
    let path = webhook_path("EventGridTrigger");
    let headers = event_grid_headers("Notification");
    let with_header = |key: &str| {
        let mut headers = headers.clone();
        headers.push(("x-functions-key".to_owned(), key.to_owned()));
        headers
    };
    let wrong = "test-key-5f0c2a7e-1b9d-4c3b";
    let refused = [
        request(port, "POST", &path, &headers, &body),
        request(
            port,
            "POST",
            &format!("{path}&code={wrong}"),
            &headers,
            &body,
        ),
        request(port, "POST", &path, &with_header(wrong), &body),
        request(
            port,
            "POST",
            &path,
            &with_header(&KEY[..KEY.len() - 1]),
            &body,
        ),
        request(
            port,
            "OPTIONS",
            &path,
            &[("WebHook-Request-Origin".into(), "x".into())],
            b"",
        ),
    ];
    for answer in refused {
        let answer = answer.unwrap();
        assert_eq!(answer.status, 401);
        assert_eq!(error_code(&answer), "unauthorized");
    }
    let by_code = request(port, "POST", &format!("{path}&code={KEY}"), &headers, &body).unwrap();
    assert_eq!(by_code.status, 202);
    let by_header = request(port, "POST", &path, &with_header(KEY), &body).unwrap();
    assert_eq!(by_header.status, 202);
    assert_eq!(get(port, "/").unwrap().status, 200);
    let logs = format!("{}{}", webhook.handler.stdout(), webhook.handler.stderr());
    assert!(
        logs.contains("key required") && !logs.contains(KEY),
        "{logs}"
    );
}

/// Listening beyond loopback without a key is refused at start: one line, exit status 2, and
/// nothing is bound.
#[test]
fn refuses_to_listen_exposed_without_key() {
    let port = free_port();
    let output = run_handler(&["--listen", &format!("0.0.0.0:{port}")], &[], b"");
    assert_eq!(output.status.code(), Some(2));
    let stderr = stderr_of(&output);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("WEBHOOK_KEY") && stderr.contains("0.0.0.0"),
        "{stderr}"
    );
}

/// A weak key and --listen under the host are refused with one line and exit status 2.
#[test]
fn bad_starts_are_usage_errors() {
    let weak = run_handler(&[], &[("WEBHOOK_KEY", "short")], b"");
    assert_eq!(weak.status.code(), Some(2));
    assert!(stderr_of(&weak).contains("WEBHOOK_KEY") && !stderr_of(&weak).contains("short"));
    let port = free_port().to_string();
    let under_host = run_handler(
        &["--listen", "127.0.0.1:0"],
        &[("FUNCTIONS_CUSTOMHANDLER_PORT", &port)],
        b"",
    );
    assert_eq!(under_host.status.code(), Some(2));
    assert_eq!(stderr_of(&under_host).lines().count(), 1);
}

/// SIGTERM stops the webhook gracefully, with exit status 0.
#[test]
fn stops_on_sigterm() {
    let port = free_port();
    let mut command = handler_command(&[]);
    command.args(["--listen", &format!("127.0.0.1:{port}")]);
    let mut handler = Handler::spawn(command, port);
    handler.signal("TERM");
    assert_eq!(handler.wait_exit(Duration::from_secs(15)), Some(0));
    assert!(handler.stdout().contains("stopped"));
}
