//! A batch of events, the way Event Grid delivers them and files keep them: a JSON array of
//! events, or a single event, split into each event's JSON text without decoding it.
//!
//! ```json
//! [{"id": "…", "eventType": "…", "data": {…}}, {"id": "…", …}]
//! {"specversion": "1.0", "id": "…", "type": "…", "data": {…}}
//! ```
//!
//! Each event must be a JSON object; what is inside it is left to dispatch, so an event with a
//! broken envelope is reported as poison there, like any other. Members that are not part of an
//! envelope, such as those Event Grid adds in a dead-letter blob, are kept and later ignored.
//!
//! A poison message kept by the standalone webhook (see
//! [`PoisonMessage`](crate::host_protocol::PoisonMessage)) is read as the event it holds, so a
//! kept event can be replayed or posted again as is.

use serde::Deserialize;
use serde_json::value::RawValue;
use thiserror::Error;

use crate::decode_error;

/// The events of a batch, each as its JSON text.
#[derive(Debug)]
pub struct Batch {
    /// Each event, unchanged.
    pub events: Vec<Box<RawValue>>,
    /// What the text held.
    pub shape: Shape,
}

/// What a batch's text held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// A JSON array of events.
    Array,
    /// One event object.
    Single,
    /// A kept poison message, read as its event.
    PoisonMessage,
}

/// Why a text is not a batch of events.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum BatchError {
    /// The text is not JSON.
    #[error("not valid JSON: {0}")]
    NotJson(String),
    /// The text is JSON, but neither an object nor an array.
    #[error("not an event or an array of events: the JSON is {0}")]
    NotEvents(&'static str),
    /// An element of the array is not an object.
    #[error("not an array of events: element {index} is {found}, not an event object")]
    NotAnEvent {
        /// The element's position, from 0.
        index: usize,
        /// Its JSON type, with an article.
        found: &'static str,
    },
    /// A poison message whose event is missing or not an object.
    #[error("a poison message without an event object")]
    PoisonWithoutEvent,
}

/// The members that tell a kept poison message from an event.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PoisonProbe<'a> {
    #[serde(borrow)]
    id: Option<&'a RawValue>,
    #[serde(borrow)]
    reason: Option<&'a RawValue>,
    #[serde(borrow)]
    invocation_id: Option<&'a RawValue>,
    #[serde(borrow)]
    event: Option<&'a RawValue>,
}

impl Batch {
    /// Splits a JSON text into its events; a leading UTF-8 byte order mark is skipped.
    ///
    /// # Errors
    ///
    /// Returns [`BatchError`] when the text is not JSON, not an object or array, or an array
    /// with an element that is not an object. The reason never quotes the text.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, BatchError> {
        // Read the top level, keeping every member's text as it is.
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let top: &RawValue = serde_json::from_slice(bytes).map_err(not_json)?;

        // An array holds the events; an object is one event, or a kept poison message.
        match top.get().as_bytes().first() {
            Some(b'[') => {
                let events: Vec<Box<RawValue>> =
                    serde_json::from_str(top.get()).map_err(not_json)?;
                if let Some((index, event)) = events
                    .iter()
                    .enumerate()
                    .find(|(_, event)| !is_object(event))
                {
                    return Err(BatchError::NotAnEvent {
                        index,
                        found: json_type(event),
                    });
                }
                Ok(Self {
                    events,
                    shape: Shape::Array,
                })
            }
            Some(b'{') => Self::from_object(top),
            _ => Err(BatchError::NotEvents(json_type(top))),
        }
    }

    /// One object: a poison message's event, or the event itself.
    fn from_object(object: &RawValue) -> Result<Self, BatchError> {
        let probe: PoisonProbe<'_> = serde_json::from_str(object.get()).map_err(not_json)?;
        let poison = probe.id.is_none() && probe.reason.is_some() && probe.invocation_id.is_some();
        if !poison {
            return Ok(Self {
                events: vec![object.to_owned()],
                shape: Shape::Single,
            });
        }
        match probe.event {
            Some(event) if is_object(event) => Ok(Self {
                events: vec![event.to_owned()],
                shape: Shape::PoisonMessage,
            }),
            _ => Err(BatchError::PoisonWithoutEvent),
        }
    }

    /// The batch as a JSON array, as Event Grid delivers it.
    pub fn to_array(&self) -> String {
        let length: usize = self.events.iter().map(|event| event.get().len() + 1).sum();
        let mut array = String::with_capacity(length + 2);
        array.push('[');
        for (index, event) in self.events.iter().enumerate() {
            if index > 0 {
                array.push(',');
            }
            array.push_str(event.get());
        }
        array.push(']');
        array
    }
}

/// A syntax error, with where it is and without quoting the text.
fn not_json(err: serde_json::Error) -> BatchError {
    let reason = decode_error::describe(&err);
    BatchError::NotJson(format!(
        "{reason} at line {} column {}",
        err.line(),
        err.column()
    ))
}

/// Whether a JSON value is an object.
fn is_object(value: &RawValue) -> bool {
    value.get().starts_with('{')
}

/// A JSON value's type, with an article, as said in an error.
fn json_type(value: &RawValue) -> &'static str {
    match value.get().as_bytes().first() {
        Some(b'{') => "an object",
        Some(b'[') => "an array",
        Some(b'"') => "a string",
        Some(b't' | b'f') => "a boolean",
        Some(b'n') => "null",
        _ => "a number",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(batch: &Batch) -> Vec<&str> {
        batch.events.iter().map(|event| event.get()).collect()
    }

    /// An array is split into its events, each kept byte for byte.
    #[test]
    fn array_is_split_unchanged() {
        let batch = Batch::from_slice(br#"[{"id":"a", "x": 1.50}, {"id":"b"}]"#).unwrap();
        assert_eq!(batch.shape, Shape::Array);
        assert_eq!(texts(&batch), [r#"{"id":"a", "x": 1.50}"#, r#"{"id":"b"}"#]);
        assert_eq!(batch.to_array(), r#"[{"id":"a", "x": 1.50},{"id":"b"}]"#);
    }

    /// A single event, with a byte order mark, is a batch of one.
    #[test]
    fn single_event_with_bom() {
        let batch = Batch::from_slice(b"\xEF\xBB\xBF {\"id\":\"a\"}\n").unwrap();
        assert_eq!(batch.shape, Shape::Single);
        assert_eq!(texts(&batch), [r#"{"id":"a"}"#]);
    }

    /// A kept poison message is read as its event.
    #[test]
    fn poison_message_is_read_as_its_event() {
        let text = br#"{"reason":"r","invocationId":"i","time":"t","event":{"id":"e"}}"#;
        let batch = Batch::from_slice(text).unwrap();
        assert_eq!(batch.shape, Shape::PoisonMessage);
        assert_eq!(texts(&batch), [r#"{"id":"e"}"#]);
        let empty = br#"{"reason":"r","invocationId":"i","event":null}"#;
        assert_eq!(
            Batch::from_slice(empty).unwrap_err(),
            BatchError::PoisonWithoutEvent
        );
    }

    /// What is not an event or an array of events is refused with its JSON type, unquoted.
    #[test]
    fn non_events_are_refused() {
        assert!(matches!(
            Batch::from_slice(b"secret text"),
            Err(BatchError::NotJson(_))
        ));
        assert_eq!(
            Batch::from_slice(b"\"14255550101\"").unwrap_err(),
            BatchError::NotEvents("a string")
        );
        let err = Batch::from_slice(br#"[{"id":"a"}, 14255550101]"#).unwrap_err();
        assert_eq!(
            err,
            BatchError::NotAnEvent {
                index: 1,
                found: "a number"
            }
        );
        assert!(!err.to_string().contains("14255550101"));
        assert!(Batch::from_slice(b"[]").unwrap().events.is_empty());
    }
}
