//! `Microsoft.Communication.AdvancedMessageReceived`: a message a customer sent the business.
//!
//! ```json
//! {
//!   "channelType": "whatsapp", "messageType": "text", "messageId": "…",
//!   "from": "14255550101", "fromBSUID": "US.13491208655302741918",
//!   "to": "0f0eb78e-a576-1dfc-b414-0f0756de3338",
//!   "receivedTimestamp": "2026-11-30T09:15:02+00:00",
//!   "content": "Hello"
//! }
//! ```

use serde::Deserialize;
use time::OffsetDateTime;

use super::{
    channel::{ChannelError, ChannelType},
    message_kind::MessageKind,
    open_enum::open_enum,
    timestamp,
};

open_enum! {
    /// The wire's `messageType`: what the customer sent. Absent in payloads older than 2025.
    MessageType {
        /// A text message.
        Text => "text",
        /// A picture.
        Image => "image",
        /// A document such as a PDF.
        Document => "document",
        /// A video.
        Video => "video",
        /// A voice note or audio file.
        Audio => "audio",
        /// A sticker.
        Sticker => "sticker",
        /// An emoji reaction to an earlier message.
        Reaction => "reaction",
        /// A reply to an interactive message (buttons or a list).
        Interactive => "interactive",
        /// A press of a template's quick-reply button.
        Button => "button",
    }
}

open_enum! {
    /// The kind of an interactive reply (`interactive.type`).
    InteractiveReplyType {
        /// The customer pressed a reply button.
        ButtonReply => "buttonReply",
        /// The customer picked an item from a list.
        ListReply => "listReply",
        /// The service itself did not know.
        Unknown => "unknown",
    }
}

/// The data of an `AdvancedMessageReceived` event.
///
/// Every member is optional because real payloads omit or null them, older ones lack the newer
/// members, and unknown members are ignored. A member of the wrong JSON type makes the event
/// undecodable (poison).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(from = "Wire")]
pub struct MessageReceived {
    /// The channel the message came through.
    pub channel_type: Option<ChannelType>,
    /// The message's id (added 2025).
    pub message_id: Option<String>,
    /// What was sent, as the service says it; see [`MessageReceived::kind`] for a reliable answer.
    pub message_type: Option<MessageType>,
    /// The customer's WhatsApp id (phone digits, no `+`). Empty or `None` when the customer hides
    /// the number behind a username: then [`MessageReceived::from_bsuid`] identifies them.
    pub from: Option<String>,
    /// The customer's business-scoped user id, `<country>.<id>` (added 2026).
    pub from_bsuid: Option<String>,
    /// The channel registration id (a GUID) the message was sent to.
    pub to: Option<String>,
    /// When the channel received the message, from `receivedTimestamp` or `receivedTimeStamp`.
    pub received_timestamp: Option<OffsetDateTime>,
    /// An error the channel attached to the message.
    pub error: Option<ChannelError>,
    /// The text of a text message.
    pub content: Option<String>,
    /// The media of an image, document, video, audio or sticker message.
    pub media: Option<Media>,
    /// The emoji reaction of a reaction message.
    pub reaction: Option<Reaction>,
    /// The earlier message this one replies to.
    pub context: Option<MessageContext>,
    /// The template quick-reply button that was pressed.
    pub button: Option<Button>,
    /// The interactive reply (reply button or list item).
    pub interactive: Option<Interactive>,
}

/// Media attached to a received message (`media`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Media {
    /// The MIME type, such as `image/jpeg`.
    pub mime_type: Option<String>,
    /// The handle for downloading the media through the Messages API.
    pub id: Option<String>,
    /// The file name the customer's file had (personal data).
    pub file_name: Option<String>,
    /// The caption the customer wrote (personal data).
    pub caption: Option<String>,
    /// Whether a sticker is animated (added 2025).
    pub animated: Option<bool>,
}

/// An emoji reaction (`reaction`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Reaction {
    /// The id of the message the emoji applies to.
    pub message_id: Option<String>,
    /// The emoji; empty when the customer removed a reaction.
    pub emoji: Option<String>,
}

/// The message a received message replies to (`context`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct MessageContext {
    /// Who sent the earlier message.
    pub from: Option<String>,
    /// The earlier message's id.
    pub id: Option<String>,
}

/// A template quick-reply button press (`button`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct Button {
    /// The button's label.
    pub text: Option<String>,
    /// The payload the business set up for the button.
    pub payload: Option<String>,
}

/// An interactive reply (`interactive`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Interactive {
    /// Which reply this is.
    #[serde(rename = "type")]
    pub reply_type: Option<InteractiveReplyType>,
    /// The reply button that was pressed.
    pub button_reply: Option<ButtonReply>,
    /// The list item that was picked.
    pub list_reply: Option<ListReply>,
}

/// A pressed reply button (`interactive.buttonReply`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct ButtonReply {
    /// The button's id, set by the business.
    pub id: Option<String>,
    /// The button's title.
    pub title: Option<String>,
}

/// A picked list item (`interactive.listReply`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct ListReply {
    /// The item's id, set by the business.
    pub id: Option<String>,
    /// The item's title.
    pub title: Option<String>,
    /// The item's description.
    pub description: Option<String>,
}

/// Who sent a received message: the phone number when it is shown, else the BSUID.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sender<'a> {
    /// The customer's WhatsApp id (phone digits).
    Phone(&'a str),
    /// The customer's business-scoped user id, when the number is hidden.
    Bsuid(&'a str),
}

impl Sender<'_> {
    /// The id to address a reply to.
    pub fn id(&self) -> &str {
        match self {
            Self::Phone(id) | Self::Bsuid(id) => id,
        }
    }

    /// A label that says which kind of id this is without showing it, for logs.
    pub fn label(&self) -> &'static str {
        match self {
            Self::Phone(_) => "phone",
            Self::Bsuid(_) => "bsuid",
        }
    }
}

impl MessageReceived {
    /// What the customer sent, from `messageType` when present, else from the members present.
    pub fn kind(&self) -> MessageKind {
        MessageKind::of(self)
    }

    /// Who sent the message: the phone number when present and not empty, else the BSUID.
    pub fn sender(&self) -> Option<Sender<'_>> {
        non_empty(&self.from)
            .map(Sender::Phone)
            .or_else(|| non_empty(&self.from_bsuid).map(Sender::Bsuid))
    }
}

/// The text of an optional member, unless it is empty.
fn non_empty(member: &Option<String>) -> Option<&str> {
    member.as_deref().filter(|text| !text.is_empty())
}

/// The wire form, which may spell the timestamp two ways.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Wire {
    channel_type: Option<ChannelType>,
    message_id: Option<String>,
    message_type: Option<MessageType>,
    from: Option<String>,
    #[serde(rename = "fromBSUID")]
    from_bsuid: Option<String>,
    to: Option<String>,
    #[serde(default, deserialize_with = "timestamp::optional")]
    received_timestamp: Option<OffsetDateTime>,
    #[serde(
        default,
        deserialize_with = "timestamp::optional",
        rename = "receivedTimeStamp"
    )]
    received_time_stamp: Option<OffsetDateTime>,
    error: Option<ChannelError>,
    content: Option<String>,
    media: Option<Media>,
    reaction: Option<Reaction>,
    context: Option<MessageContext>,
    button: Option<Button>,
    interactive: Option<Interactive>,
}

impl From<Wire> for MessageReceived {
    fn from(wire: Wire) -> Self {
        Self {
            channel_type: wire.channel_type,
            message_id: wire.message_id,
            message_type: wire.message_type,
            from: wire.from,
            from_bsuid: wire.from_bsuid,
            to: wire.to,
            received_timestamp: wire.received_timestamp.or(wire.received_time_stamp),
            error: wire.error,
            content: wire.content,
            media: wire.media,
            reaction: wire.reaction,
            context: wire.context,
            button: wire.button,
            interactive: wire.interactive,
        }
    }
}
