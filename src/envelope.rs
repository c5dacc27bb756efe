//! The two event envelopes, Event Grid and CloudEvents 1.0, normalized into one [`Envelope`].
//!
//! ```json
//! {"id": "…", "topic": "…", "subject": "…", "eventType": "…", "eventTime": "…",
//!  "dataVersion": "1.0", "metadataVersion": "1", "data": {…}}
//! {"specversion": "1.0", "id": "…", "source": "…", "subject": "…", "type": "…",
//!  "time": "…", "datacontenttype": "application/json", "data": {…}}
//! ```
//!
//! An event is CloudEvents when it carries `specversion` (or `specVersion`, as some published
//! samples write it). Members that are not part of either envelope, such as the extra members of
//! a dead-letter blob, are ignored.

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::value::RawValue;
use thiserror::Error;
use time::OffsetDateTime;

use crate::events::timestamp;

/// Which envelope an event came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Schema {
    /// The Event Grid event schema.
    EventGrid,
    /// The CloudEvents 1.0 schema.
    CloudEvents,
}

/// An event with its envelope read and its `data` left undecoded, borrowed from the event's text.
#[derive(Debug, Clone)]
pub struct Envelope<'a> {
    /// Which envelope the event came in.
    pub schema: Schema,
    /// The event's id, unique per event and repeated on redelivery.
    pub id: Cow<'a, str>,
    /// `eventType` (Event Grid) or `type` (CloudEvents).
    pub event_type: Cow<'a, str>,
    /// The subject, such as `advancedMessage/<messageId>/status/Read`.
    pub subject: Option<Cow<'a, str>>,
    /// `topic` (Event Grid) or `source` (CloudEvents): the resource that published the event.
    pub source: Option<Cow<'a, str>>,
    /// `eventTime` (Event Grid) or `time` (CloudEvents).
    pub event_time: Option<OffsetDateTime>,
    /// The event's `data`, as it arrived; `None` when absent or `null`.
    pub data: Option<&'a RawValue>,
}

/// Why an event's envelope cannot be read.
#[derive(Debug, Error)]
pub enum EnvelopeError {
    /// The event is not a JSON object, or a member has the wrong JSON type.
    #[error("the event is not a valid event object: {0}")]
    Invalid(#[from] serde_json::Error),
    /// The event has no `id`.
    #[error("the event has no id")]
    MissingId,
    /// The event has neither `eventType` nor `type`.
    #[error("the event has no eventType (Event Grid) or type (CloudEvents)")]
    MissingType,
    /// The event's time is not an RFC 3339 timestamp.
    #[error("the event's time is not an RFC 3339 timestamp: {0}")]
    InvalidTime(#[from] time::error::Parse),
    /// A CloudEvent carries binary `data_base64`, which Advanced Messaging never sends.
    #[error("the event carries data_base64; only JSON data is supported")]
    BinaryData,
}

/// Both envelopes' members in one wire form.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Wire<'a> {
    #[serde(borrow)]
    id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    subject: Option<Cow<'a, str>>,
    #[serde(borrow)]
    data: Option<&'a RawValue>,
    #[serde(borrow)]
    event_type: Option<Cow<'a, str>>,
    #[serde(borrow)]
    topic: Option<Cow<'a, str>>,
    #[serde(borrow)]
    event_time: Option<Cow<'a, str>>,
    #[serde(borrow)]
    specversion: Option<&'a RawValue>,
    #[serde(rename = "specVersion", borrow)]
    spec_version: Option<&'a RawValue>,
    #[serde(rename = "type", borrow)]
    cloud_type: Option<Cow<'a, str>>,
    #[serde(borrow)]
    source: Option<Cow<'a, str>>,
    #[serde(borrow)]
    time: Option<Cow<'a, str>>,
    data_base64: Option<&'a RawValue>,
}

impl<'a> Envelope<'a> {
    /// Reads an event's envelope from its JSON text.
    ///
    /// # Errors
    ///
    /// Returns [`EnvelopeError`] when the text is not an event object, lacks its id or type,
    /// has an unreadable time, or carries binary data.
    pub fn from_json(text: &'a str) -> Result<Self, EnvelopeError> {
        Self::from_wire(serde_json::from_str(text)?)
    }

    /// Normalizes an envelope read in either schema.
    ///
    /// # Errors
    ///
    /// As [`Envelope::from_json`], but for the JSON itself.
    pub(crate) fn from_wire(wire: Wire<'a>) -> Result<Self, EnvelopeError> {
        // Choose the envelope by its marker member.
        let cloud = wire.specversion.is_some() || wire.spec_version.is_some();
        let (schema, event_type, source, time) = if cloud {
            (Schema::CloudEvents, wire.cloud_type, wire.source, wire.time)
        } else {
            (
                Schema::EventGrid,
                wire.event_type,
                wire.topic,
                wire.event_time,
            )
        };

        // Check what every event must have.
        let id = wire
            .id
            .filter(|id| !id.is_empty())
            .ok_or(EnvelopeError::MissingId)?;
        let event_type = event_type
            .filter(|t| !t.is_empty())
            .ok_or(EnvelopeError::MissingType)?;
        if wire.data.is_none() && wire.data_base64.is_some() {
            return Err(EnvelopeError::BinaryData);
        }

        Ok(Self {
            schema,
            id,
            event_type,
            subject: wire.subject,
            source,
            event_time: time.as_deref().map(timestamp::parse).transpose()?,
            data: wire.data,
        })
    }
}
