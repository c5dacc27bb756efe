//! Auto-reply: answer a received message with a text to its sender, once per event.
//!
//! The reply goes to the sender's phone number, or to the BSUID when the number is hidden, from
//! the channel the message arrived on. It carries `Repeatability-Request-ID`, derived from the
//! event id, and `Repeatability-First-Sent`, the event's time: a redelivered event, on this
//! instance or another, asks the Messages API for the same request again, and the API refuses to
//! send it twice (`Repeatability-Result: rejected`), which counts as success here.

use std::time::SystemTime;

use crate::{
    acs::{AcsError, Repeatability, SendOutcome},
    app::settings::ReplySettings,
    business_logic::{EventContext, LogicError},
    events::MessageReceived,
};

/// What became of a reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Replied {
    /// Sent now; the id the Messages API gave the reply.
    Sent(Option<String>),
    /// Sent before, for an earlier delivery of the same event.
    AlreadySent,
    /// Not sent, for the reason given.
    Skipped(&'static str),
}

/// Sends the configured reply to `message`, when its kind is one that gets a reply.
///
/// # Errors
///
/// [`LogicError::Transient`] when the Messages API throttles, fails on its side or does not
/// answer in time; [`LogicError::Permanent`] when it refuses the request, since retrying cannot
/// help.
pub async fn reply(
    settings: &ReplySettings,
    ctx: &EventContext,
    message: &MessageReceived,
) -> Result<Replied, LogicError> {
    // Decide whether this message gets a reply, and where it goes.
    let kind = message.kind();
    if !settings.kinds.contains(kind.as_str()) {
        return Ok(Replied::Skipped("this kind of message gets no reply"));
    }
    let Some(sender) = message.sender() else {
        return Ok(Replied::Skipped("the message has no sender id"));
    };
    let channel = settings
        .channel_override
        .as_deref()
        .or(message.to.as_deref());
    let Some(channel) = channel.filter(|channel| !channel.is_empty()) else {
        return Ok(Replied::Skipped(
            "the message names no channel to reply from",
        ));
    };

    // Send once per event, whichever delivery of it this is.
    let first_sent = ctx
        .event_time
        .map_or_else(SystemTime::now, SystemTime::from);
    let repeatability = Repeatability::for_event(&format!("{}/reply", ctx.event_id), first_sent);
    let sent =
        settings
            .client
            .send_text(channel, sender.id(), &settings.text, Some(&repeatability));

    // Sort failures into those a retry may fix and those it cannot.
    match sent.await {
        Ok(SendOutcome::Sent(receipts)) => Ok(Replied::Sent(
            receipts
                .into_iter()
                .next()
                .map(|receipt| receipt.message_id),
        )),
        Ok(SendOutcome::AlreadySent) => Ok(Replied::AlreadySent),
        Err(err) if err.is_transient() => Err(LogicError::Transient(format!("reply: {err}"))),
        Err(err) => {
            log::error!("reply refused (code {}): {err}", code(&err));
            Err(LogicError::Permanent(format!("reply refused: {err}")))
        }
    }
}

/// The service's error code, or `-`.
fn code(err: &AcsError) -> &str {
    err.code().unwrap_or("-")
}
