//! The seam between the handler and the business: the trait an application implements.
//!
//! The handler decodes each event, classifies it and calls one method of [`BusinessLogic`] with
//! the typed data and an [`EventContext`]. What the method returns decides the answer to the
//! host, and so whether Event Grid delivers the event again:
//!
//! | the method returns | answer | Event Grid |
//! | --- | --- | --- |
//! | `Ok(())` | 200, handled | done |
//! | `Err(LogicError::Permanent(_))` | 200, the event goes to the `poison` queue | done |
//! | `Err(LogicError::Transient(_))`, a panic, or running past the deadline | 500 | retries |
//!
//! Delivery is at least once and unordered: a method may see the same event again, even after
//! it succeeded, and must be idempotent.

use std::future::Future;

use thiserror::Error;
use time::OffsetDateTime;

use crate::{
    envelope::{Envelope, Schema},
    events::{DeliveryStatusUpdated, MessageReceived},
};

/// What business logic knows about the event it is handling, besides the event's data.
#[derive(Debug, Clone)]
pub struct EventContext {
    /// The host's invocation id, as shown in host logs and Application Insights.
    pub invocation_id: String,
    /// The event's id: the same on every redelivery of the event.
    pub event_id: String,
    /// The event's type, such as `Microsoft.Communication.AdvancedMessageReceived`.
    pub event_type: String,
    /// The event's subject. For received messages it holds the sender's id: personal data.
    pub subject: Option<String>,
    /// When Event Grid says the event happened.
    pub event_time: Option<OffsetDateTime>,
    /// Which envelope the event came in.
    pub schema: Schema,
}

impl EventContext {
    /// The context of an event in an invocation.
    pub fn new(invocation_id: &str, envelope: &Envelope<'_>) -> Self {
        Self {
            invocation_id: invocation_id.to_owned(),
            event_id: envelope.id.as_ref().to_owned(),
            event_type: envelope.event_type.as_ref().to_owned(),
            subject: envelope.subject.as_deref().map(str::to_owned),
            event_time: envelope.event_time,
            schema: envelope.schema,
        }
    }
}

/// Why business logic could not handle an event.
#[derive(Debug, Error)]
pub enum LogicError {
    /// Retrying later may succeed (a service is down or throttling): the invocation fails and
    /// Event Grid delivers the event again.
    #[error("transient failure: {0}")]
    Transient(String),
    /// Retrying cannot help (the request was refused as invalid): the event is acknowledged and
    /// kept in the `poison` queue with this reason.
    #[error("permanent failure: {0}")]
    Permanent(String),
}

/// What [`BusinessLogic::on_other_event`] did with an event of another type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OtherEvent {
    /// The logic acted on the event.
    Handled,
    /// The logic has nothing to do with this event type.
    Ignored,
}

/// Business logic: one async method per message event type, and one for any other type.
///
/// Methods run concurrently, one call per event, under a deadline (see the configuration);
/// a panic in a method is contained and fails only its own invocation.
///
/// ```no_run
/// use amh::business_logic::{BusinessLogic, EventContext, LogicError};
/// use amh::events::{DeliveryStatusUpdated, MessageReceived};
///
/// struct Echo;
///
/// impl BusinessLogic for Echo {
///     async fn on_message_received(
///         &self,
///         _ctx: &EventContext,
///         message: MessageReceived,
///     ) -> Result<(), LogicError> {
///         log::info!("received a {} message", message.kind());
///         Ok(())
///     }
///
///     async fn on_delivery_status_updated(
///         &self,
///         _ctx: &EventContext,
///         update: DeliveryStatusUpdated,
///     ) -> Result<(), LogicError> {
///         log::info!("message is now {:?}", update.status);
///         Ok(())
///     }
/// }
/// ```
pub trait BusinessLogic: Send + Sync + 'static {
    /// Handles `Microsoft.Communication.AdvancedMessageReceived`. The message is the method's
    /// own, to keep or to move into a store without a copy.
    fn on_message_received(
        &self,
        ctx: &EventContext,
        message: MessageReceived,
    ) -> impl Future<Output = Result<(), LogicError>> + Send;

    /// Handles `Microsoft.Communication.AdvancedMessageDeliveryStatusUpdated`; the update is the
    /// method's own.
    fn on_delivery_status_updated(
        &self,
        ctx: &EventContext,
        update: DeliveryStatusUpdated,
    ) -> impl Future<Output = Result<(), LogicError>> + Send;

    /// Handles any other event type; by default it is acknowledged and ignored.
    fn on_other_event(
        &self,
        ctx: &EventContext,
        event: &Envelope<'_>,
    ) -> impl Future<Output = Result<OtherEvent, LogicError>> + Send {
        let _ = (ctx, event);
        async { Ok(OtherEvent::Ignored) }
    }
}
