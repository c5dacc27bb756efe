//! Members shared by both message event types: the channel and its error report.

use serde::Deserialize;

use super::open_enum::open_enum;

open_enum! {
    /// The messaging channel an event came through (`channelType`).
    ChannelType {
        /// WhatsApp, the only channel so far.
        WhatsApp => "whatsapp",
    }
}

/// An error the channel reported (`error`), on status updates and sometimes on received messages.
///
/// ```json
/// { "channelCode": "131026", "channelMessage": "Message Undeliverable." }
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChannelError {
    /// The channel's own error code, such as WhatsApp's `131026`.
    pub channel_code: Option<String>,
    /// The channel's own description of the error.
    pub channel_message: Option<String>,
}
