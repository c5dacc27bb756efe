//! The Functions host's custom-handler protocol: the invocation request it sends and the answer
//! it expects.
//!
//! ```json
//! {"Data": {"eventGridEvent": {…the event…}},
//!  "Metadata": {"data": {…}, "sys": {"MethodName": "EventGridTrigger",
//!                                    "UtcNow": "…", "RandGuid": "…"}}}
//! ```
//!
//! is answered, on success, with a 2xx status, a JSON content type and
//!
//! ```json
//! {"Outputs": {"poison": {…}}, "Logs": ["…"]}
//! ```
//!
//! The host fails an invocation whose answer is not 2xx or not JSON, drops its `Logs`, and hangs
//! until `functionTimeout` on an empty or `null` body: every answer here is a JSON object.

use std::collections::BTreeMap;

use serde::{
    Deserialize, Deserializer, Serialize,
    de::{MapAccess, Visitor, value::MapAccessDeserializer},
};
use serde_json::value::RawValue;
use thiserror::Error;

use crate::{
    decode_error,
    envelope::{self, Envelope},
};

/// The binding name of the Event Grid trigger in `EventGridTrigger/function.json`.
pub const EVENT_BINDING: &str = "eventGridEvent";

/// The name of the storage queue output binding that keeps poison events.
pub const POISON_BINDING: &str = "poison";

/// An invocation request, borrowing from the request body.
#[derive(Debug)]
pub struct InvocationRequest<'a> {
    /// The trigger's event as it arrived (an object, or a string holding JSON), if any.
    pub event: Option<&'a RawValue>,
}

/// Why a request body is not a host invocation. Each is answered 400.
#[derive(Debug, Error)]
pub enum ProtocolError {
    /// The body is not JSON (or not UTF-8, or nested too deeply for the parser).
    #[error("the body is not valid JSON: {0}")]
    NotJson(String),
    /// The body is JSON but not an object.
    #[error("the body is not a JSON object")]
    NotObject,
    /// The object has no `Data` member.
    #[error("the body has no Data member, so it is not a Functions host invocation")]
    MissingData,
    /// `Data` is not an object of bindings.
    #[error("Data is not an object of input bindings")]
    DataNotObject,
}

/// The top of the body. `Metadata` repeats what the event holds and is not read.
#[derive(Deserialize)]
struct Wire<'a> {
    #[serde(rename = "Data", borrow)]
    data: Option<Bindings<'a>>,
}

/// `Data`: the input bindings, of which the event is the one named [`EVENT_BINDING`], or the
/// only one when the binding has another name. Read in one pass, without copying.
struct Bindings<'a> {
    /// The event, if found.
    event: Option<&'a RawValue>,
}

impl<'de: 'a, 'a> Deserialize<'de> for Bindings<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(BindingsVisitor(std::marker::PhantomData))
    }
}

/// Visits `Data`'s members.
struct BindingsVisitor<'a>(std::marker::PhantomData<&'a ()>);

impl<'de: 'a, 'a> Visitor<'de> for BindingsVisitor<'a> {
    type Value = Bindings<'a>;

    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("an object of input bindings")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let (mut named, mut last, mut count) = (None, None, 0_usize);
        while let Some(key) = map.next_key::<BindingName>()? {
            let value: &'de RawValue = map.next_value()?;
            count += 1;
            match key {
                BindingName::Event => named = Some(value),
                BindingName::Other => last = Some(value),
            }
        }
        let event = named.or(if count == 1 { last } else { None });
        Ok(Bindings {
            event: event.filter(|raw| raw.get() != "null"),
        })
    }
}

/// A binding's name: the event's, or another.
enum BindingName {
    /// [`EVENT_BINDING`].
    Event,
    /// Any other name.
    Other,
}

impl<'de> Deserialize<'de> for BindingName {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        /// Compares the name without copying it.
        struct NameVisitor;

        impl Visitor<'_> for NameVisitor {
            type Value = BindingName;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("a binding name")
            }

            fn visit_str<E: serde::de::Error>(self, name: &str) -> Result<BindingName, E> {
                Ok(if name == EVENT_BINDING {
                    BindingName::Event
                } else {
                    BindingName::Other
                })
            }
        }

        deserializer.deserialize_str(NameVisitor)
    }
}

impl<'a> InvocationRequest<'a> {
    /// Reads an invocation request body.
    ///
    /// The event is taken from `Data.eventGridEvent`, or from the only member of `Data` when the
    /// binding has another name.
    ///
    /// # Errors
    ///
    /// Returns a [`ProtocolError`] when the body is not a host invocation.
    pub fn from_slice(body: &'a [u8]) -> Result<Self, ProtocolError> {
        // Read the top level without decoding the event yet; it must be an object.
        let first = body.iter().find(|byte| !byte.is_ascii_whitespace());
        if first != Some(&b'{') {
            return Err(
                match serde_json::from_slice::<serde::de::IgnoredAny>(body) {
                    Ok(_) => ProtocolError::NotObject,
                    Err(err) => ProtocolError::NotJson(decode_error::describe(&err)),
                },
            );
        }
        let wire: Wire<'a> = serde_json::from_slice(body).map_err(|err| {
            if err.is_data() {
                ProtocolError::DataNotObject
            } else {
                ProtocolError::NotJson(decode_error::describe(&err))
            }
        })?;

        // Take the event from the input bindings.
        let bindings = wire.data.ok_or(ProtocolError::MissingData)?;
        Ok(Self {
            event: bindings.event,
        })
    }
}

/// The event of a request read in one pass, when the request is what the host usually sends: a
/// JSON object whose `Data.eventGridEvent` is an event object with a readable envelope.
///
/// `None` for anything else: [`InvocationRequest::from_slice`] then reads the request again and
/// says what is wrong with it. This path saves a pass over the event on every invocation.
pub fn event_in_one_pass(body: &[u8]) -> Option<Envelope<'_>> {
    // Only what the full reading accepts too, or the poison output could not find the event:
    // UTF-8 throughout (members this pass skips are not checked otherwise) and objects only.
    let text = std::str::from_utf8(body).ok()?;
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let wire: OnePass<'_> = object(&mut deserializer).ok()?;
    deserializer.end().ok()?;
    Envelope::from_wire(wire.data?.event?).ok()
}

/// The top of the body, for [`event_in_one_pass`].
#[derive(Deserialize)]
struct OnePass<'a> {
    #[serde(rename = "Data", borrow, default, deserialize_with = "some_object")]
    data: Option<OnePassBindings<'a>>,
}

/// Reads `T` from a JSON object only, as [`InvocationRequest::from_slice`] does; serde's derived
/// structs also read JSON arrays.
fn object<'de, D: Deserializer<'de>, T: Deserialize<'de>>(deserializer: D) -> Result<T, D::Error> {
    /// Hands the object's members to `T`.
    struct ObjectVisitor<T>(std::marker::PhantomData<T>);

    impl<'de, T: Deserialize<'de>> Visitor<'de> for ObjectVisitor<T> {
        type Value = T;

        fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            formatter.write_str("a JSON object")
        }

        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
            T::deserialize(MapAccessDeserializer::new(map))
        }
    }

    deserializer.deserialize_map(ObjectVisitor(std::marker::PhantomData))
}

/// [`object`], for an optional member.
fn some_object<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> Result<Option<T>, D::Error> {
    object(deserializer).map(Some)
}

/// `Data`, for [`event_in_one_pass`]: only the binding of the usual name is read.
#[derive(Deserialize)]
struct OnePassBindings<'a> {
    #[serde(rename = "eventGridEvent", borrow)]
    event: Option<envelope::Wire<'a>>,
}

/// The event's JSON text: the object itself, or the JSON held by a string, as string-typed
/// triggers send it.
///
/// # Errors
///
/// Returns a reason when the string cannot be read.
pub fn event_json(event: &RawValue) -> Result<std::borrow::Cow<'_, RawValue>, String> {
    if !event.get().starts_with('"') {
        return Ok(std::borrow::Cow::Borrowed(event));
    }
    let text: String = serde_json::from_str(event.get())
        .map_err(|err| format!("event: {}", decode_error::describe(&err)))?;
    RawValue::from_string(text)
        .map(std::borrow::Cow::Owned)
        .map_err(|err| {
            format!(
                "event: the string does not hold JSON: {}",
                decode_error::describe(&err)
            )
        })
}

/// A successful answer's body.
#[derive(Debug, Default, Serialize)]
pub struct SuccessBody<'a> {
    /// Output bindings by name; empty unless the event is poison.
    #[serde(rename = "Outputs")]
    pub outputs: BTreeMap<&'static str, PoisonMessage<'a>>,
    /// The invocation's log lines.
    #[serde(rename = "Logs")]
    pub logs: Vec<String>,
}

/// The message put on the `poison` queue: enough to understand and replay the event.
///
/// ```json
/// {"reason": "data.media: invalid type: found a string, expected struct Media",
///  "invocationId": "…", "time": "2026-12-03T18:30:22.604Z", "eventId": "…",
///  "eventType": "…", "event": {…the event exactly as it arrived…}}
/// ```
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PoisonMessage<'a> {
    /// Why the event is poison.
    pub reason: &'a str,
    /// The invocation that found it.
    pub invocation_id: &'a str,
    /// When, in RFC 3339.
    pub time: String,
    /// The event's id, when it could be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_id: Option<&'a str>,
    /// The event's type, when it could be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_type: Option<&'a str>,
    /// The event as it arrived, unchanged; `null` when there was none.
    pub event: Option<&'a RawValue>,
}

/// An error answer's body.
///
/// ```json
/// {"error": {"code": "invalid_json", "message": "…"}, "invocationId": "…"}
/// ```
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody<'a> {
    /// The error.
    pub error: ErrorDetail<'a>,
    /// The invocation, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invocation_id: Option<&'a str>,
}

/// The error of an [`ErrorBody`].
#[derive(Debug, Serialize)]
pub struct ErrorDetail<'a> {
    /// A stable code, such as `invalid_json`, `payload_too_large` or `transient_failure`.
    pub code: &'a str,
    /// What is wrong, in words.
    pub message: &'a str,
}

impl ErrorBody<'_> {
    /// The body as JSON bytes.
    pub fn to_vec(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_else(|_| b"{}".to_vec())
    }
}

impl ProtocolError {
    /// The error's stable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotJson(_) => "invalid_json",
            Self::NotObject => "not_an_object",
            Self::MissingData => "missing_data",
            Self::DataNotObject => "data_not_an_object",
        }
    }
}
