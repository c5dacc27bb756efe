//! `Microsoft.Communication.AdvancedMessageDeliveryStatusUpdated`: what happened to a message the
//! business sent.
//!
//! ```json
//! {
//!   "channelType": "whatsapp", "messageId": "…", "status": "failed",
//!   "from": "0f0eb78e-a576-1dfc-b414-0f0756de3338", "to": "14255550101",
//!   "receivedTimestamp": "2026-11-30T09:15:02+00:00",
//!   "error": { "channelCode": "131026", "channelMessage": "Message Undeliverable." }
//! }
//! ```

use serde::Deserialize;
use time::OffsetDateTime;

use super::{
    channel::{ChannelError, ChannelType},
    open_enum::open_enum,
    timestamp,
};

open_enum! {
    /// A delivery status, read case-insensitively (sources write `Sent` and `sent`).
    ///
    /// `read` implies `delivered` implies `sent`; `failed` is final.
    DeliveryStatus {
        /// The channel sent the message to the recipient.
        Sent => "sent",
        /// The recipient's device received it.
        Delivered => "delivered",
        /// The recipient read it.
        Read => "read",
        /// It could not be delivered; `error` says why.
        Failed => "failed",
        /// The channel reported a warning.
        Warning => "warning",
        /// The service itself did not know.
        Unknown => "unknown",
    }
}

/// The data of an `AdvancedMessageDeliveryStatusUpdated` event.
///
/// Every member is optional, as in [`MessageReceived`](super::MessageReceived).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(from = "Wire")]
pub struct DeliveryStatusUpdated {
    /// The channel the message went through.
    pub channel_type: Option<ChannelType>,
    /// The id the send API returned for the outbound message.
    pub message_id: Option<String>,
    /// The new status.
    pub status: Option<DeliveryStatus>,
    /// The channel registration id (a GUID) that sent the message.
    pub from: Option<String>,
    /// The recipient's phone number; may be empty when the message went to a BSUID.
    pub to: Option<String>,
    /// The recipient's business-scoped user id (added 2026).
    pub to_bsuid: Option<String>,
    /// When the channel reported the status, from `receivedTimestamp` or `receivedTimeStamp`.
    pub received_timestamp: Option<OffsetDateTime>,
    /// The channel's error, on failures: WhatsApp's code and text.
    pub error: Option<ChannelError>,
}

/// The wire form, which may spell the timestamp two ways.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Wire {
    channel_type: Option<ChannelType>,
    message_id: Option<String>,
    status: Option<DeliveryStatus>,
    from: Option<String>,
    to: Option<String>,
    #[serde(rename = "toBSUID")]
    to_bsuid: Option<String>,
    #[serde(default, deserialize_with = "timestamp::optional")]
    received_timestamp: Option<OffsetDateTime>,
    #[serde(
        default,
        deserialize_with = "timestamp::optional",
        rename = "receivedTimeStamp"
    )]
    received_time_stamp: Option<OffsetDateTime>,
    error: Option<ChannelError>,
}

impl From<Wire> for DeliveryStatusUpdated {
    fn from(wire: Wire) -> Self {
        Self {
            channel_type: wire.channel_type,
            message_id: wire.message_id,
            status: wire.status,
            from: wire.from,
            to: wire.to,
            to_bsuid: wire.to_bsuid,
            received_timestamp: wire.received_timestamp.or(wire.received_time_stamp),
            error: wire.error,
        }
    }
}
