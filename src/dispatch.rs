//! Dispatch: from one event's JSON to a call of business logic and an [`Report`] of the outcome.
//!
//! This is the path every event takes, whether it came from the Functions host, the standalone
//! webhook or a replayed file: read the envelope, decode the data as its type, call the business
//! logic under a deadline with panics contained, and report what happened in one summary line.

use std::{borrow::Cow, time::Duration};

use serde::Serialize;
use serde_json::value::RawValue;

use crate::{
    business_logic::{BusinessLogic, EventContext, LogicError, OtherEvent},
    decode_error,
    dedup::RecentEvents,
    envelope::{Envelope, EnvelopeError},
    events::{
        DELIVERY_STATUS_UPDATED, DeliveryStatus, DeliveryStatusUpdated, MESSAGE_RECEIVED,
        MessageKind, MessageReceived,
    },
    panic_guard::CatchPanic,
};

/// What became of an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Business logic handled it.
    Handled,
    /// It is of a type the business logic does not handle; acknowledged.
    Ignored,
    /// It was already handled; acknowledged without running the business logic again.
    Duplicate,
    /// It cannot be decoded as its type, or business logic refused it for good; acknowledged and
    /// kept in the `poison` queue.
    Poison,
    /// Handling failed in a way a retry may fix; the invocation fails so Event Grid retries.
    Failed,
}

impl Outcome {
    /// The outcome's name in logs and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Handled => "handled",
            Self::Ignored => "ignored",
            Self::Duplicate => "duplicate",
            Self::Poison => "poison",
            Self::Failed => "failed",
        }
    }
}

/// The outcome of one event, with what is known of the event. Holds no personal data.
///
/// ```json
/// {"id": "…", "type": "Microsoft.Communication.AdvancedMessageReceived",
///  "outcome": "handled", "kind": "text", "detail": "handled by business logic"}
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// The event's id, when the envelope could be read.
    pub id: Option<String>,
    /// The event's type, when the envelope could be read.
    #[serde(rename = "type")]
    pub event_type: Option<String>,
    /// What became of the event.
    pub outcome: Outcome,
    /// The kind of a received message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<MessageKind>,
    /// The status of a delivery status update.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<DeliveryStatus>,
    /// Why: the reason for poison and failed outcomes, a short note otherwise.
    pub detail: Cow<'static, str>,
}

impl Report {
    /// A report of an event whose envelope could not be read.
    fn unreadable(detail: String) -> Self {
        let detail = Cow::Owned(detail);
        Self {
            id: None,
            event_type: None,
            outcome: Outcome::Poison,
            kind: None,
            status: None,
            detail,
        }
    }

    /// The one summary line of the event.
    fn log(&self) {
        let event_type = self.event_type.as_deref().unwrap_or("(unreadable event)");
        let short_type = Printable(
            event_type
                .strip_prefix("Microsoft.Communication.")
                .unwrap_or(event_type),
        );
        let id = Printable(self.id.as_deref().unwrap_or("-"));
        let facet = Facet(self);
        let outcome = self.outcome.as_str();
        match self.outcome {
            Outcome::Poison => {
                log::error!(
                    "{short_type} id={id}{facet} outcome={outcome}: {}",
                    self.detail
                );
            }
            Outcome::Failed => log::error!(
                "{short_type} id={id}{facet} outcome={outcome}, Event Grid will retry: {}",
                self.detail
            ),
            _ => log::info!("{short_type} id={id}{facet} outcome={outcome}"),
        }
    }
}

/// The kind or status part of a summary line, written without an intermediate string.
struct Facet<'a>(&'a Report);

impl std::fmt::Display for Facet<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (&self.0.kind, &self.0.status) {
            (Some(kind), _) => write!(f, " kind={kind}"),
            (None, Some(status)) => write!(f, " status={}", Printable(status.as_str())),
            (None, None) => Ok(()),
        }
    }
}

/// Text from an event shown in a log line: control characters replaced and the length capped,
/// so that a crafted id cannot forge log lines or flood them.
struct Printable<'a>(&'a str);

impl Printable<'_> {
    /// The most characters shown.
    const MAX_CHARS: usize = 128;
}

impl std::fmt::Display for Printable<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use std::fmt::Write as _;

        // The usual text, short and without control characters, is written whole.
        let plain = |c: char| !c.is_control();
        if self.0.len() <= Self::MAX_CHARS && self.0.chars().all(plain) {
            return f.write_str(self.0);
        }

        // Anything else, character by character.
        for c in self.0.chars().take(Self::MAX_CHARS) {
            f.write_char(if c.is_control() { '?' } else { c })?;
        }
        Ok(())
    }
}

/// Settings of dispatch.
#[derive(Debug, Clone)]
pub struct DispatchSettings {
    /// How long business logic may take for one event before the invocation fails as transient.
    /// Kept under Event Grid's 30 s wait, past which it delivers the event again anyway.
    pub deadline: Duration,
    /// How long a handled event's id is remembered, to acknowledge its redeliveries as
    /// duplicates; zero turns this off.
    pub dedup_window: Duration,
    /// How many handled event ids are remembered at most.
    pub dedup_capacity: usize,
}

impl Default for DispatchSettings {
    fn default() -> Self {
        Self {
            deadline: Duration::from_secs(25),
            dedup_window: Duration::from_secs(900),
            dedup_capacity: 10_000,
        }
    }
}

/// Decodes events and runs business logic on them.
#[derive(Debug)]
pub struct Dispatcher<L> {
    /// The business logic.
    logic: L,
    /// The settings.
    settings: DispatchSettings,
    /// Events handled recently.
    recent: RecentEvents,
}

impl<L: BusinessLogic> Dispatcher<L> {
    /// A dispatcher that runs `logic`.
    pub fn new(logic: L, settings: DispatchSettings) -> Self {
        let recent = RecentEvents::new(settings.dedup_window, settings.dedup_capacity);
        Self {
            logic,
            settings,
            recent,
        }
    }

    /// The business logic.
    pub fn logic(&self) -> &L {
        &self.logic
    }

    /// Handles one event given as JSON text, logs its summary line and reports its outcome.
    pub async fn dispatch(&self, invocation_id: &str, event: &RawValue) -> Report {
        let report = self.run(invocation_id, event.get()).await;
        report.log();
        report
    }

    /// Handles one event whose envelope is already read, logs its summary line and reports its
    /// outcome.
    pub async fn dispatch_envelope(&self, invocation_id: &str, envelope: Envelope<'_>) -> Report {
        let report = self.run_envelope(invocation_id, envelope).await;
        report.log();
        report
    }

    /// Handles one event without logging its summary.
    async fn run(&self, invocation_id: &str, event: &str) -> Report {
        // Read the envelope: without an id and a type there is nothing to dispatch on.
        let envelope = match Envelope::from_json(event) {
            Ok(envelope) => envelope,
            Err(EnvelopeError::Invalid(_)) => {
                return Report::unreadable(decode_error::reason::<EnvelopeProbe>(event, "event"));
            }
            Err(err) => return Report::unreadable(format!("event: {err}")),
        };
        self.run_envelope(invocation_id, envelope).await
    }

    /// Handles one event with its envelope read, without logging its summary.
    async fn run_envelope(&self, invocation_id: &str, envelope: Envelope<'_>) -> Report {
        let ctx = EventContext::new(invocation_id, &envelope);
        let mut report = self.decide(&ctx, &envelope).await;
        report.id = Some(ctx.event_id);
        report.event_type = Some(ctx.event_type);
        report
    }

    /// Runs the business logic on one event and reports the outcome, without the event's id and
    /// type, which the caller adds.
    async fn decide(&self, ctx: &EventContext, envelope: &Envelope<'_>) -> Report {
        let mut report = Report {
            id: None,
            event_type: None,
            outcome: Outcome::Handled,
            kind: None,
            status: None,
            detail: Cow::Borrowed(""),
        };

        // Acknowledge an event handled recently without handling it again.
        if self.recent.contains(&envelope.id) {
            report.outcome = Outcome::Duplicate;
            report.detail = Cow::Borrowed("already handled by this instance");
            return report;
        }

        // Decode the data as its type and call the matching method.
        let result = if envelope.event_type.eq_ignore_ascii_case(MESSAGE_RECEIVED) {
            let message: MessageReceived = match decode_data(envelope) {
                Ok(message) => message,
                Err(reason) => return report.poison(reason),
            };
            report.kind = Some(message.kind());
            self.guarded(self.logic.on_message_received(ctx, message))
                .await
        } else if envelope
            .event_type
            .eq_ignore_ascii_case(DELIVERY_STATUS_UPDATED)
        {
            let update: DeliveryStatusUpdated = match decode_data(envelope) {
                Ok(update) => update,
                Err(reason) => return report.poison(reason),
            };
            report.status.clone_from(&update.status);
            self.guarded(self.logic.on_delivery_status_updated(ctx, update))
                .await
        } else {
            match self.guarded(self.logic.on_other_event(ctx, envelope)).await {
                Ok(OtherEvent::Ignored) => {
                    report.outcome = Outcome::Ignored;
                    report.detail = Cow::Borrowed("no business logic for this event type");
                    return report;
                }
                result => result.map(|_| ()),
            }
        };

        // Turn the result into the outcome, remembering events that are done with.
        match result {
            Ok(()) => {
                self.recent.insert(&envelope.id);
                report.detail = Cow::Borrowed("handled by business logic");
            }
            Err(LogicError::Permanent(reason)) => return report.poison(reason),
            Err(LogicError::Transient(reason)) => {
                report.outcome = Outcome::Failed;
                report.detail = Cow::Owned(reason);
            }
        }
        report
    }

    /// Runs business logic under the deadline, containing panics.
    async fn guarded<T>(
        &self,
        work: impl Future<Output = Result<T, LogicError>>,
    ) -> Result<T, LogicError> {
        match tokio::time::timeout(self.settings.deadline, CatchPanic::new(work)).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err(LogicError::Transient("business logic panicked".to_owned())),
            Err(_) => Err(LogicError::Transient(format!(
                "business logic ran past its deadline of {} ms",
                self.settings.deadline.as_millis()
            ))),
        }
    }
}

impl Report {
    /// Marks the event as poison for `reason`.
    fn poison(mut self, reason: String) -> Self {
        self.outcome = Outcome::Poison;
        self.detail = Cow::Owned(reason);
        self
    }
}

/// Decodes an event's data as `T`, with a reason that quotes no values when it fails.
fn decode_data<T: serde::de::DeserializeOwned>(envelope: &Envelope<'_>) -> Result<T, String> {
    let Some(data) = &envelope.data else {
        return Err("data: missing or null".to_owned());
    };
    let text = data.get();
    if !text.starts_with('{') {
        return Err("data: not a JSON object".to_owned());
    }
    decode_error::decode(text, "data")
}

/// The envelope's members with their JSON types, to explain why an envelope did not decode.
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
struct EnvelopeProbe {
    id: Option<String>,
    subject: Option<String>,
    event_type: Option<String>,
    topic: Option<String>,
    event_time: Option<String>,
    #[serde(rename = "type")]
    cloud_type: Option<String>,
    source: Option<String>,
    time: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::Printable;

    /// Event text in log lines cannot break the line or run on without end.
    #[test]
    fn printable_text_stays_on_one_short_line() {
        let forged = format!("id\nERROR forged line\r{}", "x".repeat(500));
        let shown = Printable(&forged).to_string();
        assert!(!shown.contains('\n') && !shown.contains('\r'), "{shown}");
        assert_eq!(shown.chars().count(), 128);
        assert!(shown.starts_with("id?ERROR forged line?"));
    }

    /// Plain text is shown as it is up to the cap, and cut there past it.
    #[test]
    fn plain_text_is_shown_whole_up_to_the_cap() {
        let id = "0f0eb78e-a576-1dfc-b414-0f0756de3338";
        assert_eq!(Printable(id).to_string(), id);
        let long = "é".repeat(200);
        assert_eq!(Printable(&long).to_string(), "é".repeat(128));
    }
}
