//! The ACS client against a local stand-in for ACS and the identity endpoint, which checks
//! each request's signature, headers and body on the wire.

// Helpers outside test functions panic on purpose when the setup itself fails.
#![allow(clippy::expect_used)]

mod acs_support;

use std::{
    collections::HashSet,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use acs_support::{Answer, Recorded, Reply, TestServer, is_uuid, verify_signature};
use amh::acs::{
    AcsClient, AcsError, ClientOptions, Credential, ManagedIdentity, Operation, Receipt,
    Repeatability, SendOutcome, request_id_for_event,
};
use base64::{Engine, engine::general_purpose::STANDARD};
use serde_json::json;
use tokio::task::JoinSet;

/// The decoded access key the stand-in verifies signatures with.
const KEY: &[u8] = b"a test key that signs nothing real";

const CHANNEL: &str = "0f0eb78e-a576-1dfc-b414-0f0756de3338";
const RECIPIENT: &str = "14250000000";
const CONTENT: &str = "Thanks, we got your message.";
const SEND_TARGET: &str = "/messages/notifications:send?api-version=2024-08-30";
const IDENTITY_HEADER: &str = "identity-header-for-tests";

/// A stand-in for ACS: refuses requests whose signature does not verify, else asks `answer`.
fn signed(
    answer: impl Fn(&Recorded) -> Reply + Send + Sync + 'static,
) -> impl Fn(&Recorded) -> Reply {
    move |request| match verify_signature(request, KEY) {
        Ok(()) => answer(request),
        Err(reason) => Reply::Now(Answer::json(
            401,
            json!({"error": {"code": "Unauthorized", "message": reason}}),
        )),
    }
}

/// ACS's answer to an accepted send to [`RECIPIENT`].
fn accepted(message_id: &str) -> Reply {
    Reply::Now(Answer::json(
        202,
        json!({"receipts": [{"messageId": message_id, "to": RECIPIENT}]}),
    ))
}

/// An access key client for `server`, built from a connection string.
fn key_client(server: &TestServer, options: ClientOptions) -> AcsClient {
    let connection_string = format!(
        "endpoint={}/;accesskey={}",
        server.base_url,
        STANDARD.encode(KEY)
    );
    AcsClient::from_connection_string(&connection_string, options).expect("valid client")
}

/// A managed identity client for `server`, fetching tokens from its `/msi/token`.
fn identity_client(server: &TestServer, client_id: Option<&str>) -> AcsClient {
    let identity = ManagedIdentity::new(
        &format!("{}/msi/token", server.base_url),
        IDENTITY_HEADER,
        client_id.map(str::to_owned),
    )
    .expect("valid identity");
    AcsClient::new(&server.base_url, identity.into(), ClientOptions::default())
        .expect("valid client")
}

/// The current time in Unix seconds.
fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs()
}

/// Sends a text to [`RECIPIENT`] expecting an error.
async fn failing_send(client: &AcsClient) -> AcsError {
    client
        .send_text(CHANNEL, RECIPIENT, CONTENT, None)
        .await
        .expect_err("the send should fail")
}

/// A text send is signed correctly, has the documented path, headers and body, and returns
/// the receipts of a 202.
#[tokio::test]
async fn send_text_is_signed_and_returns_receipts() {
    let server = TestServer::start(signed(|_| accepted("m-1"))).await;
    let client = key_client(&server, ClientOptions::default());

    let outcome = client
        .send_text(CHANNEL, RECIPIENT, CONTENT, None)
        .await
        .expect("accepted");

    assert_eq!(
        outcome,
        SendOutcome::Sent(vec![Receipt {
            message_id: "m-1".into(),
            to: RECIPIENT.into()
        }])
    );
    let [request] = server.requests().try_into().expect("exactly one request");
    verify_signature(&request, KEY).expect("a valid signature");
    assert_eq!(request.method, "POST");
    assert_eq!(request.target, SEND_TARGET);
    assert_eq!(
        request.header("host"),
        server.base_url.strip_prefix("http://")
    );
    assert_eq!(request.header("content-type"), Some("application/json"));
    assert!(is_uuid(
        request.header("x-ms-client-request-id").unwrap_or_default()
    ));
    assert_eq!(request.header("repeatability-request-id"), None);
    assert_eq!(request.header("repeatability-first-sent"), None);
    assert_eq!(
        request.json(),
        json!({"channelRegistrationId": CHANNEL, "to": [RECIPIENT], "kind": "text",
               "content": CONTENT})
    );
}

/// A reaction goes to the preview API version with the reaction body, signed.
#[tokio::test]
async fn send_reaction_uses_the_preview_version_and_reaction_body() {
    let server = TestServer::start(signed(|_| accepted("m-2"))).await;
    let client = key_client(&server, ClientOptions::default());

    let outcome = client
        .send_reaction(CHANNEL, RECIPIENT, "wamid-1", "👍", None)
        .await
        .expect("accepted");

    assert!(matches!(outcome, SendOutcome::Sent(receipts) if receipts.len() == 1));
    let [request] = server.requests().try_into().expect("exactly one request");
    verify_signature(&request, KEY).expect("a valid signature");
    assert_eq!(
        request.target,
        "/messages/notifications:send?api-version=2025-01-15-preview"
    );
    assert_eq!(
        request.json(),
        json!({"channelRegistrationId": CHANNEL, "to": [RECIPIENT], "kind": "reaction",
               "messageId": "wamid-1", "emoji": "👍"})
    );
}

/// Repeatability headers are sent as given, and a send ACS has already done
/// (`Repeatability-Result: rejected`, here with a 409) is reported as `AlreadySent`.
#[tokio::test]
async fn repeated_request_id_gives_already_sent() {
    let seen = Arc::new(Mutex::new(HashSet::new()));
    let server = TestServer::start(signed(move |request| {
        let id = request
            .header("repeatability-request-id")
            .unwrap_or_default()
            .to_owned();
        if seen.lock().expect("not poisoned").insert(id) {
            Reply::Now(
                Answer::json(
                    202,
                    json!({"receipts": [{"messageId": "m-3", "to": RECIPIENT}]}),
                )
                .header("repeatability-result", "accepted"),
            )
        } else {
            Reply::Now(Answer::status(409).header("repeatability-result", "rejected"))
        }
    }))
    .await;
    let client = key_client(&server, ClientOptions::default());
    let first_sent = UNIX_EPOCH + Duration::from_secs(1_649_873_352);
    let repeatability = Repeatability::for_event("event-1", first_sent);

    let first = client
        .send_text(CHANNEL, RECIPIENT, CONTENT, Some(&repeatability))
        .await
        .expect("accepted");
    let again = client
        .send_text(CHANNEL, RECIPIENT, CONTENT, Some(&repeatability))
        .await
        .expect("a repeat is not an error");
    let other = client
        .send_text(
            CHANNEL,
            RECIPIENT,
            CONTENT,
            Some(&Repeatability::for_event("event-2", first_sent)),
        )
        .await
        .expect("accepted");

    assert!(matches!(first, SendOutcome::Sent(_)));
    assert_eq!(again, SendOutcome::AlreadySent);
    assert!(matches!(other, SendOutcome::Sent(_)));
    let requests = server.requests();
    assert_eq!(
        requests[0].header("repeatability-request-id"),
        Some(request_id_for_event("event-1").as_str())
    );
    assert_eq!(
        requests[0].header("repeatability-first-sent"),
        Some("Wed, 13 Apr 2022 18:09:12 GMT")
    );
    assert_eq!(
        requests[1].header("repeatability-request-id"),
        requests[0].header("repeatability-request-id")
    );
    assert_ne!(
        requests[0].header("x-ms-client-request-id"),
        requests[1].header("x-ms-client-request-id"),
        "each attempt has its own tracing id"
    );
}

/// Media downloads return the exact bytes and content type, from a signed GET of
/// `/messages/streams/<id>` with the empty-body hash, the id percent-encoded as one segment.
#[tokio::test]
async fn download_media_returns_bytes_and_content_type() {
    let image = vec![0xff, 0xd8, 0xff, 0x00, 0x10, 0x80, 0x7f];
    let answer = image.clone();
    let server = TestServer::start(signed(move |_| {
        Reply::Now(
            Answer::status(200)
                .header("content-type", "image/jpeg")
                .body(answer.clone()),
        )
    }))
    .await;
    let client = key_client(&server, ClientOptions::default());

    let media = client.download_media(CHANNEL).await.expect("downloaded");
    let odd = client.download_media("odd id/1").await.expect("downloaded");

    assert_eq!(media.bytes, image);
    assert_eq!(media.content_type.as_deref(), Some("image/jpeg"));
    assert_eq!(odd.bytes, image);
    let requests = server.requests();
    for request in &requests {
        verify_signature(request, KEY).expect("a valid signature");
        assert_eq!(request.method, "GET");
        assert!(request.body.is_empty());
        assert_eq!(
            request.header("x-ms-content-sha256"),
            Some("47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=")
        );
    }
    assert_eq!(
        requests[0].target,
        format!("/messages/streams/{CHANNEL}?api-version=2024-08-30")
    );
    assert_eq!(
        requests[1].target,
        "/messages/streams/odd%20id%2F1?api-version=2024-08-30"
    );
}

/// A 503 is a transient service error that keeps its status and code.
#[tokio::test]
async fn service_unavailable_is_transient() {
    let server = TestServer::start(signed(|_| {
        Reply::Now(Answer::json(
            503,
            json!({"error": {"code": "ServiceUnavailable", "message": "Try later."}}),
        ))
    }))
    .await;

    let err = failing_send(&key_client(&server, ClientOptions::default())).await;

    assert!(err.is_transient());
    assert_eq!(err.status(), Some(503));
    assert_eq!(err.code(), Some("ServiceUnavailable"));
}

/// A 429 (throttling) is transient.
#[tokio::test]
async fn too_many_requests_is_transient() {
    let server = TestServer::start(signed(|_| {
        Reply::Now(
            Answer::json(
                429,
                json!({"error": {"code": "TooManyRequests", "message": "Slow down."}}),
            )
            .header("retry-after", "1"),
        )
    }))
    .await;

    let err = failing_send(&key_client(&server, ClientOptions::default())).await;

    assert!(err.is_transient());
    assert_eq!(err.status(), Some(429));
}

/// A 400 is permanent, and its error names the operation, status, code, message and client
/// request id, but never the key, the recipient or the message text.
#[tokio::test]
async fn bad_request_is_permanent_and_names_code_and_message() {
    let server = TestServer::start(signed(|_| {
        Reply::Now(
            Answer::json(
                400,
                json!({"error": {"code": "InvalidParameter",
                                 "message": "The channel registration id is not valid."}}),
            )
            .header("x-ms-error-code", "InvalidParameter"),
        )
    }))
    .await;

    let err = failing_send(&key_client(&server, ClientOptions::default())).await;
    let text = err.to_string();

    assert!(!err.is_transient());
    assert_eq!(err.status(), Some(400));
    assert_eq!(err.code(), Some("InvalidParameter"));
    assert_eq!(err.operation(), Some(Operation::SendText));
    assert!(
        text.starts_with("sending a text message failed: HTTP 400"),
        "{text}"
    );
    assert!(text.contains("InvalidParameter"), "{text}");
    assert!(
        text.contains("The channel registration id is not valid."),
        "{text}"
    );
    let client_request_id = server.requests()[0]
        .header("x-ms-client-request-id")
        .map(str::to_owned)
        .expect("a client request id");
    assert!(text.contains(&client_request_id), "{text}");
    for secret in [STANDARD.encode(KEY).as_str(), RECIPIENT, CONTENT] {
        assert!(!text.contains(secret), "{text} leaks {secret}");
    }
}

/// With no JSON body, the `x-ms-error-code` header supplies the code; a 404 is permanent.
#[tokio::test]
async fn error_code_header_is_used_without_a_body() {
    let server = TestServer::start(signed(|_| {
        Reply::Now(Answer::status(404).header("x-ms-error-code", "MediaNotFound"))
    }))
    .await;
    let client = key_client(&server, ClientOptions::default());

    let err = client.download_media("gone").await.expect_err("not found");

    assert!(!err.is_transient());
    assert_eq!(err.code(), Some("MediaNotFound"));
    assert_eq!(err.operation(), Some(Operation::DownloadMedia));
}

/// A server that never answers makes the call time out after the configured timeout, and
/// the timeout is transient.
#[tokio::test]
async fn unanswered_request_times_out_as_transient() {
    let server = TestServer::start(|_| Reply::Never).await;
    let timeout = Duration::from_millis(300);
    let client = key_client(
        &server,
        ClientOptions {
            timeout,
            ..ClientOptions::default()
        },
    );

    let started = Instant::now();
    let err = failing_send(&client).await;

    assert!(
        matches!(err, AcsError::Timeout { timeout: t, .. } if t == timeout),
        "{err:?}"
    );
    assert!(err.is_transient());
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(server.count("/messages"), 1, "the request did arrive");
}

/// A refused connection is a transient connection error.
#[tokio::test]
async fn refused_connection_is_transient() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = listener.local_addr().expect("bound address");
    drop(listener);
    let connection_string = format!(
        "endpoint=http://{address}/;accesskey={}",
        STANDARD.encode(KEY)
    );
    let client = AcsClient::from_connection_string(&connection_string, ClientOptions::default())
        .expect("valid client");

    let err = failing_send(&client).await;

    assert!(matches!(err, AcsError::Connection { .. }), "{err:?}");
    assert!(err.is_transient());
}

/// A managed identity token is fetched once, with the identity header and the documented
/// query, and shared by concurrent and later calls, each sent as `Authorization: Bearer`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn managed_identity_token_is_fetched_once_for_many_calls() {
    let server = TestServer::start(|request| {
        if request.path() == "/msi/token" {
            // Slow enough that concurrent callers would all fetch if nothing stopped them.
            return Reply::After(
                Duration::from_millis(200),
                Answer::json(
                    200,
                    json!({"access_token": "token-1",
                           "expires_on": (unix_now() + 3600).to_string(),
                           "token_type": "Bearer",
                           "resource": "https://communication.azure.com"}),
                ),
            );
        }
        accepted("m-4")
    })
    .await;
    let client = identity_client(&server, None);

    // Eight concurrent sends, then three more and a download once the token is cached.
    let mut sends = JoinSet::new();
    for _ in 0..8 {
        let client = client.clone();
        sends.spawn(async move { client.send_text(CHANNEL, RECIPIENT, CONTENT, None).await });
    }
    while let Some(result) = sends.join_next().await {
        result.expect("the task ran").expect("accepted");
    }
    for _ in 0..3 {
        client
            .send_text(CHANNEL, RECIPIENT, CONTENT, None)
            .await
            .expect("accepted");
    }
    client.download_media("media-1").await.expect("downloaded");

    assert_eq!(server.count("/msi/token"), 1);
    let requests = server.requests();
    let token_request = requests
        .iter()
        .find(|request| request.path() == "/msi/token")
        .expect("a token request");
    assert_eq!(token_request.method, "GET");
    assert_eq!(
        token_request.header("x-identity-header"),
        Some(IDENTITY_HEADER)
    );
    assert_eq!(
        token_request.query(),
        [
            ("resource", "https%3A%2F%2Fcommunication.azure.com"),
            ("api-version", "2019-08-01")
        ]
    );
    let acs_requests: Vec<&Recorded> = requests
        .iter()
        .filter(|request| request.path().starts_with("/messages"))
        .collect();
    assert_eq!(acs_requests.len(), 12);
    for request in acs_requests {
        assert_eq!(request.header("authorization"), Some("Bearer token-1"));
    }
}

/// A token with less than the refresh margin left is fetched again before the next call,
/// and a user-assigned identity's client id is sent with each fetch.
#[tokio::test]
async fn managed_identity_token_near_expiry_is_refetched() {
    let fetches = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&fetches);
    let server = TestServer::start(move |request| {
        if request.path() == "/msi/token" {
            let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
            // One minute left: inside the five-minute margin, so never reused.
            return Reply::Now(Answer::json(
                200,
                json!({"access_token": format!("token-{n}"),
                       "expires_on": unix_now() + 60,
                       "token_type": "Bearer"}),
            ));
        }
        accepted("m-5")
    })
    .await;
    let client = identity_client(&server, Some("user-assigned-id"));

    for _ in 0..3 {
        client
            .send_text(CHANNEL, RECIPIENT, CONTENT, None)
            .await
            .expect("accepted");
    }

    assert_eq!(fetches.load(Ordering::SeqCst), 3);
    assert_eq!(server.count("/msi/token"), 3);
    let requests = server.requests();
    let bearer: Vec<&str> = requests
        .iter()
        .filter(|request| request.path().starts_with("/messages"))
        .filter_map(|request| request.header("authorization"))
        .collect();
    assert_eq!(
        bearer,
        ["Bearer token-1", "Bearer token-2", "Bearer token-3"]
    );
    for request in requests
        .iter()
        .filter(|request| request.path() == "/msi/token")
    {
        assert!(request.query().contains(&("client_id", "user-assigned-id")));
        assert_eq!(request.header("x-identity-header"), Some(IDENTITY_HEADER));
    }
}

/// A failing identity endpoint fails the call as a token fetch (transient for a 5xx) without
/// sending anything to ACS or quoting the identity header.
#[tokio::test]
async fn identity_endpoint_failure_is_a_transient_token_error() {
    let server = TestServer::start(|request| {
        if request.path() == "/msi/token" {
            return Reply::Now(Answer::json(
                503,
                json!({"statusCode": 503, "message": "Identity service unavailable"}),
            ));
        }
        accepted("m-6")
    })
    .await;
    let client = identity_client(&server, None);

    let err = failing_send(&client).await;

    assert_eq!(err.operation(), Some(Operation::FetchToken));
    assert!(err.is_transient());
    assert!(
        err.to_string().contains("Identity service unavailable"),
        "{err}"
    );
    assert!(!err.to_string().contains(IDENTITY_HEADER));
    assert_eq!(server.count("/messages"), 0);
}

/// The client can be built from a bare endpoint and an access key credential too.
#[tokio::test]
async fn endpoint_and_access_key_credential_sign_like_a_connection_string() {
    let server = TestServer::start(signed(|_| accepted("m-7"))).await;
    let key = amh::acs::AccessKey::from_bytes(KEY).expect("valid key");
    let client = AcsClient::new(
        &server.base_url,
        Credential::from(key),
        ClientOptions::default(),
    )
    .expect("valid client");

    let outcome = client
        .send_text(CHANNEL, RECIPIENT, CONTENT, None)
        .await
        .expect("accepted");

    assert!(matches!(outcome, SendOutcome::Sent(_)));
}
