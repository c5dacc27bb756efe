//! The JSON bodies of the Advanced Messages API that this client sends and reads.

use serde::{Deserialize, Serialize};

/// The body of `POST /messages/notifications:send`, discriminated by `kind`.
///
/// ```json
/// {"channelRegistrationId": "…", "to": ["14250000000"], "kind": "text", "content": "Hi"}
/// {"channelRegistrationId": "…", "to": ["14250000000"], "kind": "reaction",
///  "messageId": "…", "emoji": "👍"}
/// ```
#[derive(Debug, Serialize)]
#[serde(
    tag = "kind",
    rename_all = "lowercase",
    rename_all_fields = "camelCase"
)]
pub(crate) enum Notification<'a> {
    /// A free-form text message.
    Text {
        channel_registration_id: &'a str,
        to: [&'a str; 1],
        content: &'a str,
    },
    /// An emoji reaction to an earlier message.
    Reaction {
        channel_registration_id: &'a str,
        to: [&'a str; 1],
        message_id: &'a str,
        emoji: &'a str,
    },
}

/// The answer to a successful send: `{"receipts": [{"messageId": "…", "to": "…"}]}`.
#[derive(Debug, Deserialize)]
pub(crate) struct SendResult {
    pub(crate) receipts: Vec<Receipt>,
}

/// One recipient's receipt for an accepted send.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Receipt {
    /// The id ACS gave the message; later delivery-status events carry it.
    pub message_id: String,
    /// The recipient, as it was sent.
    pub to: String,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// A text notification serializes to the documented JSON body with `kind: text`.
    #[test]
    fn text_body_shape() {
        let body = Notification::Text {
            channel_registration_id: "chan",
            to: ["14250000000"],
            content: "Hi",
        };

        assert_eq!(
            serde_json::to_value(&body).expect("serializable"),
            json!({"kind": "text", "channelRegistrationId": "chan", "to": ["14250000000"],
                   "content": "Hi"})
        );
    }

    /// A reaction notification serializes to the documented JSON body with `kind: reaction`.
    #[test]
    fn reaction_body_shape() {
        let body = Notification::Reaction {
            channel_registration_id: "chan",
            to: ["14250000000"],
            message_id: "m-1",
            emoji: "👍",
        };

        assert_eq!(
            serde_json::to_value(&body).expect("serializable"),
            json!({"kind": "reaction", "channelRegistrationId": "chan", "to": ["14250000000"],
                   "messageId": "m-1", "emoji": "👍"})
        );
    }

    /// Receipts are read from a send result, ignoring unknown fields.
    #[test]
    fn receipts_are_read() {
        let result: SendResult = serde_json::from_str(
            r#"{"receipts":[{"messageId":"m-1","to":"14250000000","extra":1}]}"#,
        )
        .expect("valid receipts");

        assert_eq!(
            result.receipts,
            [Receipt {
                message_id: "m-1".into(),
                to: "14250000000".into()
            }]
        );
    }
}
