//! What a `POST` to the webhook is, from its headers, and the parts of it that are not events.
//!
//! | headers | kind |
//! | --- | --- |
//! | `aeg-event-type: Notification` | events: one or an array, either schema |
//! | `aeg-event-type: SubscriptionValidation` | the validation handshake |
//! | `aeg-event-type: Unsubscribe` | acknowledged, nothing else |
//! | none, and a CloudEvents content type (1) | events, structured CloudEvents |
//! | none, and `ce-specversion` with the other `ce-` headers | one event, binary CloudEvents |
//! | any other `aeg-event-type`, or none | refused, 400 |
//!
//! (1) `application/cloudevents+json` or `application/cloudevents-batch+json`.
//!
//! Event Grid itself always sends `aeg-event-type`, whatever the schema; the CloudEvents rows
//! serve other CloudEvents senders. A binary CloudEvent is rebuilt as the structured event it
//! stands for (its `ce-` headers as attributes, `Content-Type` as `datacontenttype`, the body as
//! `data`), and only JSON data is accepted.

use std::collections::BTreeMap;

use actix_web::{HttpRequest, http::header};
use serde::Serialize;
use serde_json::{Value, value::RawValue};

/// The header Event Grid sets on every delivery.
pub const EVENT_TYPE_HEADER: &str = "aeg-event-type";

/// What a delivery is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Events to handle.
    Notification,
    /// The subscription validation handshake.
    SubscriptionValidation,
    /// The subscription is being deleted.
    Unsubscribe,
    /// One event in CloudEvents binary mode.
    BinaryCloudEvent,
}

/// Why a delivery is refused: its status, a stable code and a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The HTTP status.
    pub status: u16,
    /// A stable code.
    pub code: &'static str,
    /// What is wrong, in words.
    pub message: String,
}

impl Refusal {
    /// A refusal with status 400.
    fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status: 400,
            code,
            message: message.into(),
        }
    }
}

/// Tells what the delivery is from its headers.
///
/// # Errors
///
/// Returns a 400 [`Refusal`] for a missing or unknown `aeg-event-type`.
pub fn kind(request: &HttpRequest) -> Result<Kind, Refusal> {
    // Event Grid's own header decides, matched without case like the host does.
    if let Some(value) = request.headers().get(EVENT_TYPE_HEADER) {
        let value = value.to_str().unwrap_or_default().trim();
        return [
            ("Notification", Kind::Notification),
            ("SubscriptionValidation", Kind::SubscriptionValidation),
            ("Unsubscribe", Kind::Unsubscribe),
        ]
        .into_iter()
        .find(|(name, _)| value.eq_ignore_ascii_case(name))
        .map(|(_, kind)| kind)
        .ok_or_else(|| {
            Refusal::bad_request(
                "unknown_event_type",
                "aeg-event-type must be Notification, SubscriptionValidation or Unsubscribe",
            )
        });
    }

    // Without it, only a CloudEvents delivery is understood.
    let essence = content_type_essence(request);
    if essence == "application/cloudevents+json" || essence == "application/cloudevents-batch+json"
    {
        return Ok(Kind::Notification);
    }
    if request.headers().contains_key("ce-specversion") {
        return Ok(Kind::BinaryCloudEvent);
    }
    Err(Refusal::bad_request(
        "missing_event_type",
        "the aeg-event-type header is missing: Notification, SubscriptionValidation or \
         Unsubscribe",
    ))
}

/// The validation code of a `SubscriptionValidation` body: the first event's
/// `data.validationCode`. A single event, and `data` given as a string holding JSON, are read
/// too, as the host does for CloudEvents.
///
/// # Errors
///
/// Returns a 400 [`Refusal`] when there is no validation code.
pub fn validation_code(body: &[u8]) -> Result<String, Refusal> {
    let refusal = || {
        Refusal::bad_request(
            "invalid_validation_event",
            "a SubscriptionValidation body must be an event whose data has a validationCode",
        )
    };
    let body: Value = serde_json::from_slice(body).map_err(|_| refusal())?;
    let event = match &body {
        Value::Array(events) => events.first(),
        Value::Object(_) => Some(&body),
        _ => None,
    };
    let data = event
        .and_then(|event| event.get("data"))
        .ok_or_else(refusal)?;
    let data = match data {
        Value::String(text) => serde_json::from_str(text).map_err(|_| refusal())?,
        data => data.clone(),
    };
    data.get("validationCode")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(refusal)
}

/// A structured CloudEvent, as it is serialized.
#[derive(Serialize)]
struct Structured<'a> {
    /// The context attributes, from the `ce-` headers and the content type.
    #[serde(flatten)]
    attributes: BTreeMap<String, String>,
    /// The data, when there is a body.
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<&'a RawValue>,
}

/// Rebuilds the structured event of a binary CloudEvents delivery.
///
/// # Errors
///
/// Returns a [`Refusal`]: 400 for an unreadable header or a body that is not JSON, 415 for data
/// that is not JSON.
pub fn binary_cloud_event(request: &HttpRequest, body: &[u8]) -> Result<Box<RawValue>, Refusal> {
    // The ce- headers are the context attributes; data members are not attributes.
    let mut attributes = BTreeMap::new();
    for (name, value) in request.headers() {
        let Some(attribute) = name.as_str().strip_prefix("ce-") else {
            continue;
        };
        if attribute == "data" || attribute == "data_base64" {
            continue;
        }
        let value = value
            .to_str()
            .map_err(|_| Refusal::bad_request("invalid_header", "a ce- header is not text"))?;
        attributes.insert(attribute.to_owned(), value.to_owned());
    }

    // The body is the data, which must be JSON.
    let essence = content_type_essence(request);
    let json = essence.is_empty()
        || essence == "application/json"
        || essence == "text/json"
        || essence.ends_with("+json");
    if !json && !body.is_empty() {
        return Err(Refusal {
            status: 415,
            code: "unsupported_media_type",
            message: "only JSON data is supported".to_owned(),
        });
    }
    if let Some(content_type) = request.headers().get(header::CONTENT_TYPE)
        && let Ok(content_type) = content_type.to_str()
    {
        attributes.insert("datacontenttype".to_owned(), content_type.to_owned());
    }
    let data: Option<&RawValue> = if body.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        Some(serde_json::from_slice(body).map_err(|_| {
            Refusal::bad_request(
                "invalid_json",
                "the body of a binary CloudEvent is not JSON",
            )
        })?)
    };

    // Serialize the event as it would have come in structured mode.
    let text = serde_json::to_string(&Structured { attributes, data })
        .map_err(|_| Refusal::bad_request("invalid_json", "the event cannot be rebuilt"))?;
    RawValue::from_string(text)
        .map_err(|_| Refusal::bad_request("invalid_json", "the event cannot be rebuilt"))
}

/// The request's media type, lower-cased, without parameters; empty when there is none.
fn content_type_essence(request: &HttpRequest) -> String {
    request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|text| text.split(';').next())
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    /// aeg-event-type decides, without case; CloudEvents deliveries are told by their headers.
    #[test]
    fn kinds() {
        let with = |name: &str, value: &str| TestRequest::post().insert_header((name, value));
        let cases = [
            (
                with("aeg-event-type", "notification"),
                Ok(Kind::Notification),
            ),
            (
                with("aeg-event-type", "SubscriptionValidation"),
                Ok(Kind::SubscriptionValidation),
            ),
            (with("aeg-event-type", "Unsubscribe"), Ok(Kind::Unsubscribe)),
            (
                with("content-type", "application/cloudevents-batch+json"),
                Ok(Kind::Notification),
            ),
            (with("ce-specversion", "1.0"), Ok(Kind::BinaryCloudEvent)),
            (with("aeg-event-type", "Other"), Err("unknown_event_type")),
            (
                with("content-type", "application/json"),
                Err("missing_event_type"),
            ),
        ];
        for (request, expected) in cases {
            let got = kind(&request.to_http_request()).map_err(|refusal| refusal.code);
            assert_eq!(got, expected);
        }
    }

    /// The validation code is found in an array, a single event, and string data.
    #[test]
    fn validation_codes() {
        let array = br#"[{"id":"1","data":{"validationCode":"abc"}}]"#;
        assert_eq!(validation_code(array).unwrap(), "abc");
        let single = br#"{"id":"1","data":"{\"validationCode\":\"def\"}"}"#;
        assert_eq!(validation_code(single).unwrap(), "def");
        for bad in [&b"[]"[..], b"[{\"data\":{}}]", b"not json", b"[1]"] {
            assert_eq!(validation_code(bad).unwrap_err().status, 400);
        }
    }

    /// A binary CloudEvent is rebuilt as its structured event, with its data unchanged.
    #[test]
    fn binary_event_is_rebuilt() {
        let request = TestRequest::post()
            .insert_header(("ce-specversion", "1.0"))
            .insert_header(("ce-id", "e1"))
            .insert_header(("ce-type", "T"))
            .insert_header(("ce-source", "/s"))
            .insert_header(("content-type", "application/json"))
            .to_http_request();
        let event = binary_cloud_event(&request, br#"{"a": 1}"#).unwrap();
        let event: Value = serde_json::from_str(event.get()).unwrap();
        assert_eq!(
            event,
            serde_json::json!({"specversion": "1.0", "id": "e1", "type": "T", "source": "/s",
                "datacontenttype": "application/json", "data": {"a": 1}})
        );
        let text = TestRequest::post()
            .insert_header(("ce-specversion", "1.0"))
            .insert_header(("content-type", "text/plain"))
            .to_http_request();
        assert_eq!(binary_cloud_event(&text, b"hi").unwrap_err().status, 415);
    }
}
