//! Timestamps as the events write them: RFC 3339 with an offset, fractions optional.
//!
//! ```text
//! "2024-12-24T06:41:56+00:00"   "2026-11-30T10:15:02.1234567+01:00"   "2023-07-06T18:30:22Z"
//! ```

use serde::{Deserialize, Deserializer};
use time::{OffsetDateTime, format_description::well_known::Rfc3339};

/// Parses one RFC 3339 timestamp.
///
/// # Errors
///
/// Returns the parser's complaint when the text is not an RFC 3339 date-time with an offset.
pub fn parse(text: &str) -> Result<OffsetDateTime, time::error::Parse> {
    OffsetDateTime::parse(text, &Rfc3339)
}

/// Deserializes an optional timestamp: absent or `null` is `None`, anything else must parse.
pub(crate) fn optional<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<OffsetDateTime>, D::Error> {
    let Some(text) = Option::<std::borrow::Cow<'de, str>>::deserialize(deserializer)? else {
        return Ok(None);
    };
    parse(&text)
        .map(Some)
        .map_err(|err| serde::de::Error::custom(format_args!("invalid timestamp: {err}")))
}
