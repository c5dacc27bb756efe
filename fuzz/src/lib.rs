//! What the fuzz targets share: business logic that accepts everything and counts its calls, a
//! runtime and a dispatcher built once, a logger that formats every record and keeps none, and
//! the checks every answer must pass.
//!
//! - `invocation`: bytes as a host request body through [`amh::invocation::handle`].
//! - `event_decoding`: bytes as one event through the envelope, the typed data and dispatch.
//!
//! Run both with `fuzz/run <seconds>`.

use std::{
    collections::BTreeMap,
    sync::{
        LazyLock, Once,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use amh::{
    business_logic::{BusinessLogic, EventContext, LogicError, OtherEvent},
    dispatch::{DispatchSettings, Dispatcher},
    envelope::Envelope,
    events::{DeliveryStatusUpdated, MessageReceived},
    invocation::Answer,
};
use serde::Deserialize;
use serde_json::value::RawValue;

/// The invocation id every fuzzed invocation runs as.
pub const INVOCATION_ID: &str = "fuzz-invocation";

/// Business logic that accepts every event and counts how often it was called.
#[derive(Debug, Default)]
pub struct AcceptAll {
    /// Calls of any of its methods so far.
    calls: AtomicUsize,
}

impl AcceptAll {
    /// Calls so far.
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::Relaxed)
    }

    /// Counts one call.
    fn called(&self) {
        self.calls.fetch_add(1, Ordering::Relaxed);
    }
}

impl BusinessLogic for AcceptAll {
    async fn on_message_received(
        &self,
        _ctx: &EventContext,
        message: MessageReceived,
    ) -> Result<(), LogicError> {
        self.called();
        let _ = (
            message.kind(),
            message.sender().map(|sender| sender.id().len()),
        );
        Ok(())
    }

    async fn on_delivery_status_updated(
        &self,
        _ctx: &EventContext,
        _update: DeliveryStatusUpdated,
    ) -> Result<(), LogicError> {
        self.called();
        Ok(())
    }

    async fn on_other_event(
        &self,
        _ctx: &EventContext,
        _event: &Envelope<'_>,
    ) -> Result<OtherEvent, LogicError> {
        self.called();
        Ok(OtherEvent::Ignored)
    }
}

/// The current-thread runtime the targets run on, built once.
pub fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap_or_else(|err| panic!("cannot build the runtime: {err}"))
    });
    &RUNTIME
}

/// The dispatcher the targets run, built once, with the logger installed and deduplication off.
pub fn dispatcher() -> &'static Dispatcher<AcceptAll> {
    static DISPATCHER: LazyLock<Dispatcher<AcceptAll>> = LazyLock::new(|| {
        install_logger();
        // Without deduplication, so that every input is handled on its own.
        let settings = DispatchSettings {
            dedup_window: Duration::ZERO,
            ..DispatchSettings::default()
        };
        Dispatcher::new(AcceptAll::default(), settings)
    });
    &DISPATCHER
}

/// A logger that formats every record, as the real one does, and throws the text away.
struct Discard;

impl log::Log for Discard {
    fn enabled(&self, _metadata: &log::Metadata<'_>) -> bool {
        true
    }

    fn log(&self, record: &log::Record<'_>) {
        std::hint::black_box(record.args().to_string());
    }

    fn flush(&self) {}
}

/// Installs [`Discard`] at the trace level, once.
fn install_logger() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        if log::set_logger(&Discard).is_ok() {
            log::set_max_level(log::LevelFilter::Trace);
        }
    });
}

/// An answer body, read without a depth limit: the poison output holds the event as it came.
#[derive(Deserialize)]
struct AnswerBody<'a> {
    /// Log lines, on success.
    #[serde(rename = "Logs")]
    logs: Option<Vec<String>>,
    /// Output bindings, on success.
    #[serde(rename = "Outputs", borrow)]
    outputs: Option<BTreeMap<String, &'a RawValue>>,
    /// The error, on failure.
    error: Option<ErrorDetail>,
    /// The invocation, on failure.
    #[serde(rename = "invocationId")]
    invocation_id: Option<String>,
}

/// The error of an error answer.
#[derive(Deserialize)]
struct ErrorDetail {
    /// Its stable code.
    code: String,
    /// Its words.
    message: String,
}

/// The poison output.
#[derive(Deserialize)]
struct Poison<'a> {
    /// Why the event is poison.
    reason: String,
    /// The invocation that found it.
    #[serde(rename = "invocationId")]
    invocation_id: String,
    /// The event as it came, or `null`.
    #[serde(borrow)]
    event: Option<&'a RawValue>,
}

/// Checks that `answer` is one of the defined outcomes for business logic that accepts
/// everything, and that the event was either handed to business logic (`calls` is 1) or kept as
/// poison, never lost.
///
/// # Panics
///
/// Panics, for the fuzzer to report, when it is not.
pub fn check_answer(answer: &Answer, calls: usize) {
    // Every answer is a JSON object.
    let body: AnswerBody<'_> = serde_json::from_slice(&answer.body).unwrap_or_else(|err| {
        panic!(
            "answer {} is not a JSON object ({err}): {}",
            answer.status,
            String::from_utf8_lossy(&answer.body)
        )
    });

    // Its status is one of the defined ones, with the members that status promises.
    match answer.status {
        200 => {
            assert!(body.logs.is_some(), "a 200 answer without Logs");
            let outputs = body
                .outputs
                .unwrap_or_else(|| panic!("a 200 answer without Outputs"));
            assert!(
                outputs.keys().all(|name| name == "poison"),
                "unknown outputs"
            );
            match outputs.get("poison") {
                Some(poison) => {
                    let poison: Poison<'_> = serde_json::from_str(poison.get())
                        .unwrap_or_else(|err| panic!("unreadable poison output: {err}"));
                    assert!(!poison.reason.is_empty(), "poison without a reason");
                    assert_eq!(poison.invocation_id, INVOCATION_ID);
                    if poison.event.is_none() {
                        assert_eq!(poison.reason, "Data holds no event", "the event was lost");
                    }
                    assert_eq!(calls, 0, "business logic called for a poison event");
                }
                None => assert_eq!(calls, 1, "acknowledged without business logic"),
            }
        }
        400 | 413 => {
            let error = body
                .error
                .unwrap_or_else(|| panic!("an error answer without error"));
            assert!(!error.code.is_empty() && !error.message.is_empty());
            assert_eq!(body.invocation_id.as_deref(), Some(INVOCATION_ID));
            assert_eq!(calls, 0, "business logic called for a rejected request");
        }
        status => panic!("undefined status {status}"),
    }
}
