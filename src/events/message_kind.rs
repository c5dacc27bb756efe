//! Classification of received messages into the kinds business logic acts on.

use serde::Serialize;

use super::received::{InteractiveReplyType, Media, MessageReceived, MessageType};

/// What a received message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageKind {
    /// Text in `content`.
    Text,
    /// A picture in `media`.
    Image,
    /// A document in `media`.
    Document,
    /// A video in `media`.
    Video,
    /// Audio in `media`.
    Audio,
    /// A sticker in `media`.
    Sticker,
    /// An emoji reaction in `reaction`.
    Reaction,
    /// A template quick-reply button press in `button`.
    TemplateButtonReply,
    /// An interactive reply button press in `interactive.buttonReply`.
    InteractiveButtonReply,
    /// An interactive list pick in `interactive.listReply`.
    InteractiveListReply,
    /// Anything else: a type this version does not know, or nothing recognizable.
    Unknown,
}

impl MessageKind {
    /// Classifies a message: by `messageType` when present, otherwise by which member is
    /// present, in the order reaction, interactive, button, media, content.
    pub fn of(message: &MessageReceived) -> Self {
        match &message.message_type {
            Some(MessageType::Text) => Self::Text,
            Some(MessageType::Image) => Self::Image,
            Some(MessageType::Document) => Self::Document,
            Some(MessageType::Video) => Self::Video,
            Some(MessageType::Audio) => Self::Audio,
            Some(MessageType::Sticker) => Self::Sticker,
            Some(MessageType::Reaction) => Self::Reaction,
            Some(MessageType::Button) => Self::TemplateButtonReply,
            Some(MessageType::Interactive) => Self::of_interactive(message),
            Some(MessageType::Other(_)) => Self::Unknown,
            None => Self::inferred(message),
        }
    }

    /// The kind's name in logs and reports, such as `interactive_list_reply`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Text => "text",
            Self::Image => "image",
            Self::Document => "document",
            Self::Video => "video",
            Self::Audio => "audio",
            Self::Sticker => "sticker",
            Self::Reaction => "reaction",
            Self::TemplateButtonReply => "template_button_reply",
            Self::InteractiveButtonReply => "interactive_button_reply",
            Self::InteractiveListReply => "interactive_list_reply",
            Self::Unknown => "unknown",
        }
    }

    /// Whether the message carries media that can be downloaded.
    pub fn is_media(self) -> bool {
        matches!(
            self,
            Self::Image | Self::Document | Self::Video | Self::Audio | Self::Sticker
        )
    }

    /// Infers the kind of a payload without `messageType` (older than 2025).
    fn inferred(message: &MessageReceived) -> Self {
        if message.reaction.is_some() {
            Self::Reaction
        } else if message.interactive.is_some() {
            Self::of_interactive(message)
        } else if message.button.is_some() {
            Self::TemplateButtonReply
        } else if let Some(media) = &message.media {
            Self::of_media(media)
        } else if message.content.is_some() {
            Self::Text
        } else {
            Self::Unknown
        }
    }

    /// An interactive reply: by `interactive.type`, else by which reply is present.
    fn of_interactive(message: &MessageReceived) -> Self {
        let Some(interactive) = &message.interactive else {
            return Self::Unknown;
        };
        match &interactive.reply_type {
            Some(InteractiveReplyType::ButtonReply) => Self::InteractiveButtonReply,
            Some(InteractiveReplyType::ListReply) => Self::InteractiveListReply,
            Some(_) => Self::Unknown,
            None if interactive.button_reply.is_some() => Self::InteractiveButtonReply,
            None if interactive.list_reply.is_some() => Self::InteractiveListReply,
            None => Self::Unknown,
        }
    }

    /// Media without `messageType`: by MIME type; a WebP image that says whether it is
    /// animated is a sticker.
    fn of_media(media: &Media) -> Self {
        let mime = media
            .mime_type
            .as_deref()
            .unwrap_or_default()
            .to_ascii_lowercase();
        if mime.starts_with("image/webp") && media.animated.is_some() {
            Self::Sticker
        } else if mime.starts_with("image/") {
            Self::Image
        } else if mime.starts_with("video/") {
            Self::Video
        } else if mime.starts_with("audio/") {
            Self::Audio
        } else {
            Self::Document
        }
    }
}

impl std::fmt::Display for MessageKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
