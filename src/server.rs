//! The HTTP server the Functions host talks to.
//!
//! | request | answer |
//! | --- | --- |
//! | `GET /` (readiness and health pings) | 200 `{"status":"ready"}`, at once |
//! | `POST /EventGridTrigger` | the invocation's answer (see [`crate::invocation`]) |
//! | `POST /<other>` | 404 `{"error":{"code":"unknown_function",…}}` |
//! | anything else | 404 or 405 with a JSON error |
//!
//! It listens on IPv4 loopback only, since the host always calls `127.0.0.1`.

use std::{
    net::{Ipv4Addr, SocketAddr, TcpListener},
    sync::Arc,
    task::Poll,
};

use actix_web::{
    App, HttpRequest, HttpResponse, HttpServer,
    dev::Server,
    http::{StatusCode, header},
    web,
};

use crate::{
    business_logic::BusinessLogic,
    config::Settings,
    dispatch::Dispatcher,
    invocation::{self, Answer},
    request_body::{self, Limits},
};

/// The function this handler serves: the folder that holds its `function.json`.
pub const FUNCTION_NAME: &str = "EventGridTrigger";

/// The function's route: a fixed path, matched without a pattern.
const ROUTE: &str = "/EventGridTrigger";

/// The header that carries the host's invocation id, named once rather than parsed per request.
const INVOCATION_ID: header::HeaderName =
    header::HeaderName::from_static("x-azure-functions-invocationid");

/// What every request handler shares.
struct State<L> {
    /// Dispatch of events to business logic.
    dispatcher: Arc<Dispatcher<L>>,
    /// The bounds of a request body.
    limits: Limits,
}

/// Binds `127.0.0.1:<port>`; port 0 picks a free one.
///
/// # Errors
///
/// Fails when the port cannot be bound.
pub fn bind_loopback(port: u16) -> std::io::Result<TcpListener> {
    TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, port)))
}

/// Starts serving the host's requests on `listener`; the returned server runs when awaited and
/// stops gracefully on SIGTERM or SIGINT, letting invocations in flight finish within the grace
/// period.
///
/// # Errors
///
/// Fails when the listener cannot be used.
pub fn start<L: BusinessLogic>(
    listener: TcpListener,
    dispatcher: Arc<Dispatcher<L>>,
    settings: &Settings,
) -> std::io::Result<Server> {
    let state = web::Data::new(State {
        dispatcher,
        limits: Limits::from_settings(settings),
    });
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .route("/", web::get().to(ready))
            .route(ROUTE, web::post().to(invoke::<L>))
            .default_service(web::to(not_found))
    })
    .workers(settings.workers)
    .shutdown_timeout(settings.shutdown_grace.as_secs())
    .shutdown_signal(stop_signal())
    .listen(listener)?
    .run();
    Ok(server)
}

/// Resolves on the first SIGTERM or SIGINT, which then stops the server gracefully.
///
/// The server's own signal handling would stop gracefully on SIGTERM only, and on SIGINT drop the
/// invocations in flight at once; listening here treats both the same way.
pub async fn stop_signal() {
    use actix_web::rt::signal::unix::{SignalKind, signal};

    // Listen for both signals; without them only SIGKILL stops the handler.
    let (Ok(mut term), Ok(mut interrupt)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        log::error!("cannot listen for SIGTERM and SIGINT; only SIGKILL will stop the handler");
        return std::future::pending().await;
    };

    // Wait for the first of them.
    let name = std::future::poll_fn(|cx| {
        if term.poll_recv(cx).is_ready() {
            Poll::Ready("SIGTERM")
        } else if interrupt.poll_recv(cx).is_ready() {
            Poll::Ready("SIGINT")
        } else {
            Poll::Pending
        }
    })
    .await;
    log::info!("{name} received: no new invocations; finishing those in flight");
}

/// Answers readiness and health pings.
pub(crate) async fn ready() -> HttpResponse {
    json(StatusCode::OK, br#"{"status":"ready"}"#.to_vec())
}

/// Answers what this server does not serve.
async fn not_found(request: HttpRequest) -> HttpResponse {
    let (status, code, message) = if request.path() == "/" {
        (
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "GET / is the only call on /",
        )
    } else if request.method() == actix_web::http::Method::POST && is_function_path(request.path())
    {
        let message = format!("this handler serves only the function {FUNCTION_NAME}");
        return reject(404, "unknown_function", &message, &invocation_id(&request));
    } else if request.method() != actix_web::http::Method::POST && request.path().len() > 1 {
        (
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "functions are invoked with POST",
        )
    } else {
        (StatusCode::NOT_FOUND, "not_found", "no such route")
    };
    answer(Answer::error(status.as_u16(), code, message, None))
}

/// Whether `path` names a function: one segment after the root, as the host posts them.
fn is_function_path(path: &str) -> bool {
    path.len() > 1 && !path[1..].contains('/')
}

/// Serves one invocation: checks the body, then hands over to
/// [`invocation::handle`].
async fn invoke<L: BusinessLogic>(
    request: HttpRequest,
    payload: web::Payload,
    state: web::Data<State<L>>,
) -> HttpResponse {
    let invocation_id = invocation_id(&request);

    // Check the content type before reading the body.
    if let Some(rejection) = content_type_rejection(&request) {
        return reject(415, "unsupported_media_type", rejection, &invocation_id);
    }

    // Read the body, bounded in size and in time.
    let body = match request_body::read(&request, payload, state.limits).await {
        Ok(body) => body,
        Err(err) => {
            let (status, code, message) = err.parts();
            return reject(status, code, &message, &invocation_id);
        }
    };

    // Handle the invocation.
    answer(invocation::handle(&state.dispatcher, &invocation_id, &body).await)
}

/// The host's invocation id, kept to the characters of a GUID so it is safe in every log line.
fn invocation_id(request: &HttpRequest) -> String {
    let raw = request
        .headers()
        .get(INVOCATION_ID)
        .map(|value| value.as_bytes())
        .unwrap_or_default();
    let safe = |byte: &u8| byte.is_ascii_alphanumeric() || *byte == b'-';

    // The usual id, a GUID, is taken whole; anything else keeps only its safe characters.
    let id: String = match std::str::from_utf8(raw) {
        Ok(text) if text.len() <= 64 && raw.iter().all(safe) => text.to_owned(),
        _ => raw
            .iter()
            .copied()
            .filter(safe)
            .take(64)
            .map(char::from)
            .collect(),
    };
    if id.is_empty() {
        "no-invocation-id".to_owned()
    } else {
        id
    }
}

/// Why the content type rules out a JSON body, if it does; a missing one is accepted.
fn content_type_rejection(request: &HttpRequest) -> Option<&'static str> {
    let value = request.headers().get(header::CONTENT_TYPE)?;
    let Ok(text) = value.to_str() else {
        return Some("the Content-Type header is not readable");
    };
    let essence = text.split(';').next().unwrap_or_default().trim();
    let is = |name: &str| essence.eq_ignore_ascii_case(name);
    let suffix = essence.as_bytes().rsplit(|&byte| byte == b'+').next();
    let suffix = essence.contains('+') && suffix.is_some_and(|s| s.eq_ignore_ascii_case(b"json"));
    let json = is("application/json") || is("text/json") || suffix;
    (!json).then_some("the body must be JSON (Content-Type application/json)")
}

/// Refuses a request that is not a valid invocation, logging why at warn.
fn reject(status: u16, code: &str, message: &str, invocation_id: &str) -> HttpResponse {
    log::warn!("[{invocation_id}] answered {status} {code}: {message}");
    answer(Answer::error(status, code, message, Some(invocation_id)))
}

/// An [`Answer`] as an HTTP response.
pub(crate) fn answer(answer: Answer) -> HttpResponse {
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    json(status, answer.body)
}

/// A JSON response.
pub(crate) fn json(status: StatusCode, body: Vec<u8>) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("application/json")
        .body(body)
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    /// The id as the handler keeps it, from a request carrying `value` as its invocation id.
    fn kept(value: Option<&[u8]>) -> String {
        let mut request = TestRequest::post().uri(ROUTE);
        if let Some(value) = value {
            let value = header::HeaderValue::from_bytes(value).expect("a header value");
            request = request.insert_header((INVOCATION_ID, value));
        }
        invocation_id(&request.to_http_request())
    }

    /// A GUID is kept whole; anything else keeps its safe characters, at most 64; none at all
    /// is named as missing, so a crafted id can neither forge nor flood a log line.
    #[test]
    fn invocation_ids_are_safe_in_log_lines() {
        let guid = "5b0f3a1e-9c8d-4f8e-a2a5-3c1d2e4f6a7b";
        assert_eq!(kept(Some(guid.as_bytes())), guid);
        assert_eq!(kept(Some(b"abc] ERROR forged\t\xff-1")), "abcERRORforged-1");
        assert_eq!(kept(Some("a".repeat(100).as_bytes())), "a".repeat(64));
        assert_eq!(kept(Some(b"[]")), "no-invocation-id");
        assert_eq!(kept(None), "no-invocation-id");
    }
}
