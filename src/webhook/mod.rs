//! The standalone webhook: when no Functions host started the handler, it serves Event Grid
//! itself, at the address and path of the host's local Event Grid webhook, so the same URL works
//! with `func start` and without it.
//!
//! The webhook's URL is `/runtime/webhooks/EventGrid?functionName=EventGridTrigger`.
//!
//! | request | answer |
//! | --- | --- |
//! | `GET /` | 200 `{"status":"ready"}` |
//! | `POST` to the URL, a notification | 202, empty, when no event failed; 500 when any did |
//! | the same, `aeg-event-type: SubscriptionValidation` | 200 `{"validationResponse": "<code>"}` |
//! | the same, `aeg-event-type: Unsubscribe` | 202 |
//! | `OPTIONS` to the URL with `WebHook-Request-Origin` | 200 with `WebHook-Allowed-Origin` |
//! | no or an unknown `aeg-event-type`, a body that is not an event or an array | 400 |
//! | a missing or wrong key, when a key is set | 401 |
//! | another `functionName` (case-sensitive), or another path | 404 |
//! | a body over `HANDLER_MAX_BODY_BYTES` | 413 |
//!
//! Error answers carry a JSON body `{"error": {"code": "…", "message": "…"}}`. Which posts are
//! notifications is told in [`delivery`]; how their events are run, in [`notification`]; where
//! poison events go, in [`poison_files`]; who may post, in [`access`].

pub mod access;
pub mod delivery;
pub mod notification;
pub mod poison_files;

use std::{net::TcpListener, sync::Arc};

use actix_web::{
    App, HttpRequest, HttpResponse, HttpServer,
    dev::Server,
    http::{Method, StatusCode, header::HeaderValue},
    web,
};
use serde_json::value::RawValue;

pub use self::access::check_exposure;
use self::{
    delivery::{Kind, Refusal},
    poison_files::PoisonFiles,
};
use crate::{
    batch::Batch,
    business_logic::BusinessLogic,
    config::Settings,
    dispatch::Dispatcher,
    invocation::Answer,
    request_body::{self, Limits},
    server::{FUNCTION_NAME, answer, json, ready},
};

/// The path of the host's Event Grid webhook.
pub const WEBHOOK_PATH: &str = "/runtime/webhooks/EventGrid";

/// What every request handler shares.
struct State<L> {
    /// Dispatch of events to business logic.
    dispatcher: Arc<Dispatcher<L>>,
    /// Where poison events are kept.
    poison: Arc<PoisonFiles>,
    /// The key deliveries must carry, if set.
    key: Option<crate::config::Secret>,
    /// The bounds of a request body.
    limits: Limits,
}

/// Starts serving Event Grid on `listener`; the returned server runs when awaited and stops
/// gracefully on SIGTERM or SIGINT, letting deliveries in flight finish within the grace period.
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
        poison: Arc::new(PoisonFiles::new(settings.poison_dir.clone())),
        key: settings.webhook_key.clone(),
        limits: Limits::from_settings(settings),
    });
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .route("/", web::get().to(ready))
            .default_service(web::to(webhook::<L>))
    })
    .workers(settings.workers)
    .shutdown_timeout(settings.shutdown_grace.as_secs())
    .shutdown_signal(crate::server::stop_signal())
    .listen(listener)?
    .run();
    Ok(server)
}

/// Serves the webhook's path: checks the key and the function, then answers by method.
async fn webhook<L: BusinessLogic>(
    request: HttpRequest,
    payload: web::Payload,
    state: web::Data<State<L>>,
) -> HttpResponse {
    // Serve only the webhook's path; ASP.NET matches paths without case, and so does this.
    if !request.path().eq_ignore_ascii_case(WEBHOOK_PATH) {
        let message = format!("no such route: the webhook is at {WEBHOOK_PATH}");
        return refuse(404, "not_found", &message);
    }

    // Check the key first, so that nothing more is told to a caller without it.
    let query = web::Query::<Vec<(String, String)>>::from_query(request.query_string())
        .map(web::Query::into_inner)
        .unwrap_or_default();
    if let Some(key) = &state.key
        && !access::carries_key(&request, &query, key)
    {
        return refuse(
            401,
            "unauthorized",
            "a valid key is required, as the code query parameter or the x-functions-key header",
        );
    }

    // Check the function's name, case-sensitive like the host.
    let function = query
        .iter()
        .find(|(name, _)| name == "functionName")
        .map(|(_, value)| value.as_str());
    if function != Some(FUNCTION_NAME) {
        let message = format!("no such function: this webhook serves functionName={FUNCTION_NAME}");
        return refuse(404, "unknown_function", &message);
    }

    // Answer by method.
    match *request.method() {
        Method::OPTIONS => abuse_protection(&request),
        Method::POST => post(&request, payload, &state).await,
        _ => refuse(
            405,
            "method_not_allowed",
            "Event Grid delivers with POST and validates CloudEvents with OPTIONS",
        ),
    }
}

/// Answers the CloudEvents abuse-protection handshake: the origin is allowed, at any rate.
fn abuse_protection(request: &HttpRequest) -> HttpResponse {
    let headers = request.headers();
    let Some(origin) = headers.get("webhook-request-origin") else {
        return refuse(
            400,
            "missing_origin",
            "an OPTIONS handshake must carry WebHook-Request-Origin",
        );
    };
    let mut response = HttpResponse::Ok();
    response.insert_header(("WebHook-Allowed-Origin", origin.clone()));
    if headers.contains_key("webhook-request-rate") {
        response.insert_header(("WebHook-Allowed-Rate", HeaderValue::from_static("*")));
    }
    log::info!("answered the CloudEvents abuse-protection handshake");
    response.finish()
}

/// Answers a POST: a notification, a handshake, or an unsubscription.
async fn post<L: BusinessLogic>(
    request: &HttpRequest,
    payload: web::Payload,
    state: &State<L>,
) -> HttpResponse {
    // Tell what it is from its headers.
    let kind = match delivery::kind(request) {
        Ok(kind) => kind,
        Err(refusal) => return refused(&refusal),
    };

    // Read the body.
    let body = match request_body::read(request, payload, state.limits).await {
        Ok(body) => body,
        Err(err) => {
            let (status, code, message) = err.parts();
            return refuse(status, code, &message);
        }
    };

    // Answer a handshake or an unsubscription, or find the events.
    let events: Vec<Box<RawValue>> = match kind {
        Kind::SubscriptionValidation => return validation(&body),
        Kind::Unsubscribe => return HttpResponse::Accepted().finish(),
        Kind::BinaryCloudEvent => match delivery::binary_cloud_event(request, &body) {
            Ok(event) => vec![event],
            Err(refusal) => return refused(&refusal),
        },
        Kind::Notification => match Batch::from_slice(&body) {
            Ok(batch) => batch.events,
            Err(err) => return refuse(400, "not_events", &format!("the body is {err}")),
        },
    };

    // Dispatch them all at once, and answer as the host does.
    let delivered = notification::deliver(&state.dispatcher, &state.poison, events).await;
    if delivered.failed == 0 {
        return HttpResponse::Accepted().finish();
    }
    let message = format!(
        "{} of {} events failed; Event Grid will deliver them all again",
        delivered.failed, delivered.events
    );
    log::warn!("answered 500: {message}");
    refuse(500, "transient_failure", &message)
}

/// Answers the subscription validation handshake.
fn validation(body: &[u8]) -> HttpResponse {
    match delivery::validation_code(body) {
        Ok(code) => {
            log::info!("answered the Event Grid subscription validation handshake");
            let answer = serde_json::json!({ "validationResponse": code });
            json(StatusCode::OK, answer.to_string().into_bytes())
        }
        Err(refusal) => refused(&refusal),
    }
}

/// An error answer for a [`Refusal`].
fn refused(refusal: &Refusal) -> HttpResponse {
    refuse(refusal.status, refusal.code, &refusal.message)
}

/// An error answer with a JSON body.
fn refuse(status: u16, code: &str, message: &str) -> HttpResponse {
    answer(Answer::error(status, code, message, None))
}
