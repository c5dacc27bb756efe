//! The reference application: replace it with your business logic.
//!
//! [`App`] is what the handler runs for every Advanced Messaging event. It shows the usual jobs:
//!
//! - keep each received message in the [message store](message_store);
//! - answer it with a text, when auto-reply is configured ([`auto_reply`]);
//! - track what happened to each sent message as delivery statuses arrive, and explain failures
//!   ([`delivery_errors`]).
//!
//! Its logs hold no personal data at info level: senders appear as `phone` or `bsuid`, and text
//! only as its length.
//!
//! To write your own, keep the shape of [`App`] (a struct that implements
//! [`BusinessLogic`]) and change what the two methods do; [`App::from_env`] is where settings are
//! read and clients built, once, at start.

pub mod auto_reply;
pub mod delivery_errors;
pub mod message_store;
pub mod settings;

use crate::{
    business_logic::{BusinessLogic, EventContext, LogicError},
    config::ConfigError,
    events::{DeliveryStatus, DeliveryStatusUpdated, MessageReceived},
};
use auto_reply::Replied;
use message_store::{InMemoryStore, MessageStore, ReceivedRecord, StatusUpdate};
use settings::AppSettings;

/// The application, generic over where it keeps messages.
#[derive(Debug)]
pub struct App<S = InMemoryStore> {
    /// The settings.
    settings: AppSettings,
    /// Received messages and the status of sent ones.
    store: S,
}

impl App {
    /// The application configured from the environment, with the in-memory store.
    ///
    /// # Errors
    ///
    /// Returns the first setting whose value cannot be used.
    pub fn from_env() -> Result<Self, ConfigError> {
        let settings = AppSettings::from_env()?;
        let store = InMemoryStore::new(settings.store_capacity);
        Ok(Self::new(settings, store))
    }
}

impl<S: MessageStore> App<S> {
    /// The application with `settings`, keeping messages in `store`.
    pub fn new(settings: AppSettings, store: S) -> Self {
        Self { settings, store }
    }

    /// The message store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// Says once, at start, whether replies are on.
    pub fn log_start(&self) {
        match (&self.settings.reply, self.settings.replies_off_because) {
            (Some(reply), _) => log::info!(
                "auto-reply is on for {} from {}",
                reply.kinds.iter().copied().collect::<Vec<_>>().join(","),
                reply.client.endpoint().host_str().unwrap_or("?"),
            ),
            (None, reason) => {
                log::info!("auto-reply is off: {}", reason.unwrap_or("not configured"))
            }
        }
    }
}

impl<S: MessageStore> BusinessLogic for App<S> {
    async fn on_message_received(
        &self,
        ctx: &EventContext,
        message: MessageReceived,
    ) -> Result<(), LogicError> {
        // Say what arrived, naming the sender only by the kind of its id.
        let kind = message.kind();
        log::info!(
            "received {kind} message {} from a {} id",
            message.message_id.as_deref().unwrap_or("-"),
            message.sender().map_or("missing", |sender| sender.label()),
        );

        // Reply, when configured. The call is boxed so that messages without a reply do not
        // carry the HTTP client's large future around.
        let replied = match &self.settings.reply {
            Some(reply) => Some(Box::pin(auto_reply::reply(reply, ctx, &message)).await),
            None => None,
        };

        // Keep the message, whatever became of the reply; a redelivery finds the reply sent.
        let record = ReceivedRecord {
            event_id: ctx.event_id.clone(),
            kind,
            message,
        };
        self.store
            .record_received(record)
            .await
            .map_err(|err| LogicError::Transient(err.to_string()))?;

        // Track the reply like any sent message.
        match replied.transpose()? {
            None => {}
            Some(Replied::Sent(id)) => {
                if let Some(id) = &id {
                    self.store
                        .record_sent(id)
                        .await
                        .map_err(|err| LogicError::Transient(err.to_string()))?;
                }
                log::info!("replied with message {}", id.as_deref().unwrap_or("-"));
            }
            Some(Replied::AlreadySent) => log::info!("reply was already sent for this event"),
            Some(Replied::Skipped(reason)) => log::info!("no reply: {reason}"),
        }
        Ok(())
    }

    async fn on_delivery_status_updated(
        &self,
        ctx: &EventContext,
        update: DeliveryStatusUpdated,
    ) -> Result<(), LogicError> {
        // Statuses of unknown messages or without a status say nothing to track.
        let (Some(message_id), Some(status)) = (&update.message_id, &update.status) else {
            log::warn!("status update without a message id or status; nothing to track");
            return Ok(());
        };

        // Apply it; the store keeps statuses moving forward only.
        let applied = StatusUpdate {
            event_id: ctx.event_id.clone(),
            status: status.clone(),
            at: update.received_timestamp,
            error: update.error.clone(),
        };
        let state = self
            .store
            .apply_status(message_id, applied)
            .await
            .map_err(|err| LogicError::Transient(err.to_string()))?;
        let current = state.status.as_ref().map_or("-", DeliveryStatus::as_str);
        log::info!("message {message_id} reported {status}, now {current}");

        // Explain failures.
        if *status == DeliveryStatus::Failed {
            let code = update
                .error
                .as_ref()
                .and_then(|error| error.channel_code.as_deref());
            let explanation = code
                .and_then(delivery_errors::explain)
                .unwrap_or("no explanation known");
            log::warn!(
                "message {message_id} failed with WhatsApp code {}: {explanation}",
                code.unwrap_or("-")
            );
        }
        Ok(())
    }
}
