//! Your business logic: this is the file to edit.
//!
//! [`App`] receives every Advanced Messaging event, typed. This version logs a summary of each
//! message and status, without personal data: the sender is named only as `phone` or `bsuid`,
//! and text is described by its length.

use crate::{
    business_logic::{BusinessLogic, EventContext, LogicError},
    events::{DeliveryStatusUpdated, MessageReceived},
};

/// The application.
#[derive(Debug, Default)]
pub struct App;

impl BusinessLogic for App {
    async fn on_message_received(
        &self,
        _ctx: &EventContext,
        message: &MessageReceived,
    ) -> Result<(), LogicError> {
        let sender = message.sender().map_or("none", |sender| sender.label());
        let chars = message
            .content
            .as_deref()
            .map_or(0, |text| text.chars().count());
        log::info!(
            "message received: kind={} message_id={} channel={} sender={sender} text_chars={chars}",
            message.kind(),
            message.message_id.as_deref().unwrap_or("-"),
            message
                .channel_type
                .as_ref()
                .map_or("-", |channel| channel.as_str()),
        );
        Ok(())
    }

    async fn on_delivery_status_updated(
        &self,
        _ctx: &EventContext,
        update: &DeliveryStatusUpdated,
    ) -> Result<(), LogicError> {
        let error = update.error.as_ref();
        log::info!(
            "delivery status: message_id={} status={} error_code={}",
            update.message_id.as_deref().unwrap_or("-"),
            update.status.as_ref().map_or("-", |status| status.as_str()),
            error
                .and_then(|error| error.channel_code.as_deref())
                .unwrap_or("-"),
        );
        Ok(())
    }
}
