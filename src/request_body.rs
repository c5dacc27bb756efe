//! Reading a delivery's body, bounded in size and in time.

use std::time::Duration;

use actix_web::{HttpRequest, http::header, web};

/// The bounds of a body.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// The largest body accepted, in bytes.
    pub max_bytes: usize,
    /// How long the body may take to arrive.
    pub timeout: Duration,
}

impl Limits {
    /// The limits the settings give.
    pub fn from_settings(settings: &crate::config::Settings) -> Self {
        Self {
            max_bytes: settings.max_body_bytes,
            timeout: settings.body_timeout,
        }
    }
}

/// Why a body was not read. Each knows its status.
#[derive(Debug)]
pub enum BodyError {
    /// Over the size limit: 413.
    TooLarge(usize),
    /// Too slow: 408.
    Timeout(Duration),
    /// Broken framing or connection: 400.
    Unreadable(String),
}

impl BodyError {
    /// The HTTP status, a stable code and a message.
    pub fn parts(&self) -> (u16, &'static str, String) {
        match self {
            Self::TooLarge(limit) => (
                413,
                "payload_too_large",
                format!("the request body is larger than the limit of {limit} bytes"),
            ),
            Self::Timeout(limit) => (
                408,
                "body_timeout",
                format!(
                    "the request body did not arrive within {} ms",
                    limit.as_millis()
                ),
            ),
            Self::Unreadable(reason) => (
                400,
                "unreadable_body",
                format!("the request body could not be read: {reason}"),
            ),
        }
    }
}

/// Reads the whole body of `request`.
///
/// # Errors
///
/// Returns [`BodyError`] when the body is too large, too slow, or cannot be read.
pub async fn read(
    request: &HttpRequest,
    payload: web::Payload,
    limits: Limits,
) -> Result<web::Bytes, BodyError> {
    // Refuse a declared length over the limit before reading anything.
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|text| text.parse::<usize>().ok());
    if declared.is_some_and(|length| length > limits.max_bytes) {
        return Err(BodyError::TooLarge(limits.max_bytes));
    }

    // Read it, bounded in size and in time.
    match tokio::time::timeout(limits.timeout, payload.to_bytes_limited(limits.max_bytes)).await {
        Ok(Ok(Ok(body))) => Ok(body),
        Ok(Ok(Err(err))) => Err(BodyError::Unreadable(err.to_string())),
        Ok(Err(_)) => Err(BodyError::TooLarge(limits.max_bytes)),
        Err(_) => Err(BodyError::Timeout(limits.timeout)),
    }
}
