//! Typed models of the Advanced Messaging event data, lenient the way real payloads need.
//!
//! - [`MessageReceived`] for `Microsoft.Communication.AdvancedMessageReceived`;
//! - [`DeliveryStatusUpdated`] for `Microsoft.Communication.AdvancedMessageDeliveryStatusUpdated`;
//! - [`MessageKind`], the classification of a received message.
//!
//! Unknown members are ignored, unknown enum values are kept (`Other`), every member may be
//! absent or `null`, and both timestamp spellings are read. A member of the wrong JSON type (a
//! number where text belongs) is an error: such an event cannot be decoded as its type.

mod channel;
mod delivery_status;
mod message_kind;
mod open_enum;
mod received;
pub mod timestamp;

pub use channel::{ChannelError, ChannelType};
pub use delivery_status::{DeliveryStatus, DeliveryStatusUpdated};
pub use message_kind::MessageKind;
pub use received::{
    Button, ButtonReply, Interactive, InteractiveReplyType, ListReply, Media, MessageContext,
    MessageReceived, MessageType, Reaction, Sender,
};

/// The event type of a received message.
pub const MESSAGE_RECEIVED: &str = "Microsoft.Communication.AdvancedMessageReceived";

/// The event type of a delivery status update.
pub const DELIVERY_STATUS_UPDATED: &str =
    "Microsoft.Communication.AdvancedMessageDeliveryStatusUpdated";
