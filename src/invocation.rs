//! One host invocation, from request body to answer: decode, dispatch, answer.

use std::collections::BTreeMap;

use serde_json::value::RawValue;

use time::{OffsetDateTime, format_description::well_known::Rfc3339};

use crate::{
    business_logic::BusinessLogic,
    dispatch::{Dispatcher, Outcome, Report},
    host_protocol::{
        ErrorBody, ErrorDetail, InvocationRequest, POISON_BINDING, PoisonMessage, SuccessBody,
        event_in_one_pass, event_json,
    },
    logging::{self, CapturedLogs},
};

/// An answer to the host: a status and a JSON object body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The HTTP status.
    pub status: u16,
    /// The JSON body, never empty.
    pub body: Vec<u8>,
}

impl Answer {
    /// An error answer with a JSON error body.
    pub fn error(status: u16, code: &str, message: &str, invocation_id: Option<&str>) -> Self {
        let body = ErrorBody {
            error: ErrorDetail { code, message },
            invocation_id,
        };
        Self {
            status,
            body: body.to_vec(),
        }
    }
}

/// Handles one invocation request body as the invocation `invocation_id`.
///
/// Everything the invocation logs, from any module, is gathered into the answer's `Logs` when it
/// succeeds (see [`logging`]).
pub async fn handle<L: BusinessLogic>(
    dispatcher: &Dispatcher<L>,
    invocation_id: &str,
    body: &[u8],
) -> Answer {
    // The usual request: its event read in one pass and dispatched.
    if let Some(envelope) = event_in_one_pass(body) {
        let work = dispatcher.dispatch_envelope(invocation_id, envelope);
        let (report, logs) = logging::capture(invocation_id, work).await;
        let event = || {
            InvocationRequest::from_slice(body)
                .ok()
                .and_then(|r| r.event)
        };
        return answer(invocation_id, &report, logs, event);
    }

    // Anything else: decode the host's request, which may not be one.
    let request = match InvocationRequest::from_slice(body) {
        Ok(request) => request,
        Err(err) => {
            log::warn!("[{invocation_id}] rejected a request that is not an invocation: {err}");
            return Answer::error(400, err.code(), &err.to_string(), Some(invocation_id));
        }
    };

    // Dispatch the event with its log records gathered.
    let (report, logs) = logging::capture(invocation_id, async {
        let Some(event) = request.event else {
            return poison_without_dispatch("Data holds no event".to_owned());
        };
        match event_json(event) {
            Ok(event) => dispatcher.dispatch(invocation_id, &event).await,
            Err(reason) => poison_without_dispatch(reason),
        }
    })
    .await;
    answer(invocation_id, &report, logs, || request.event)
}

/// The answer to an invocation whose event was dispatched: 2xx carries the logs and any poison
/// output (with the event as it arrived, which `event` finds); a failure goes to stderr instead.
fn answer<'a>(
    invocation_id: &str,
    report: &Report,
    logs: CapturedLogs,
    event: impl FnOnce() -> Option<&'a RawValue>,
) -> Answer {
    if report.outcome == Outcome::Failed {
        logs.release();
        let message = format!(
            "transient failure, Event Grid will retry: {}",
            report.detail
        );
        return Answer::error(500, "transient_failure", &message, Some(invocation_id));
    }
    let mut success = SuccessBody {
        logs: logs.into_lines(),
        ..SuccessBody::default()
    };
    if report.outcome == Outcome::Poison {
        let poison = PoisonMessage {
            reason: &report.detail,
            invocation_id,
            time: now_rfc3339(),
            event_id: report.id.as_deref(),
            event_type: report.event_type.as_deref(),
            event: event(),
        };
        success.outputs = BTreeMap::from([(POISON_BINDING, poison)]);
    }
    let mut body = Vec::with_capacity(512);
    if serde_json::to_writer(&mut body, &success).is_err() {
        body = b"{}".to_vec();
    }
    Answer { status: 200, body }
}

/// Reports and logs an event that never reached dispatch.
fn poison_without_dispatch(reason: String) -> Report {
    log::error!("event outcome=poison: {reason}");
    Report {
        id: None,
        event_type: None,
        outcome: Outcome::Poison,
        kind: None,
        status: None,
        detail: reason.into(),
    }
}

/// The current time in RFC 3339.
fn now_rfc3339() -> String {
    OffsetDateTime::now_utc()
        .format(&Rfc3339)
        .unwrap_or_default()
}
