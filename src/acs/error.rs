//! What can go wrong talking to ACS, and whether trying again can help.
//!
//! Every variant names the [`Operation`] that failed, so one log line says what was attempted.
//! No variant ever carries the access key, a token, a recipient or message text: the service's
//! own error message is kept (it explains the refusal) but cut to a bounded length.

use std::{error::Error as StdError, fmt, time::Duration};

/// The longest service error message kept in an [`AcsError`], in characters.
const MAX_SERVICE_MESSAGE_CHARS: usize = 300;

/// The call that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// `POST /messages/notifications:send` with a `text` message.
    SendText,
    /// `POST /messages/notifications:send` with a `reaction`.
    SendReaction,
    /// `GET /messages/streams/<media id>`.
    DownloadMedia,
    /// `GET` of a token from the App Service managed identity endpoint.
    FetchToken,
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::SendText => "sending a text message",
            Self::SendReaction => "sending a reaction",
            Self::DownloadMedia => "downloading media",
            Self::FetchToken => "fetching a managed identity token",
        })
    }
}

/// An error from the ACS client.
///
/// [`AcsError::is_transient`] says whether the same call may succeed later.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AcsError {
    /// The connection string could not be used; the text says which part is wrong.
    #[error("invalid ACS connection string: {0}")]
    InvalidConnectionString(String),

    /// A setting (endpoint, access key, identity environment) could not be used.
    #[error("invalid ACS configuration: {0}")]
    InvalidConfig(String),

    /// The request could not be built from the arguments given, so nothing was sent.
    #[error("{operation} failed before sending: {reason}")]
    InvalidRequest {
        /// What was being attempted.
        operation: Operation,
        /// Why the request could not be built.
        reason: String,
    },

    /// The service answered with a status that is not success.
    #[error(
        "{operation} failed: HTTP {status}{}",
        describe_service_error(.code.as_deref(), .message.as_deref(), .client_request_id.as_deref())
    )]
    Service {
        /// What was being attempted.
        operation: Operation,
        /// The HTTP status code.
        status: u16,
        /// The service's error code, from the JSON body's `error.code` or the `x-ms-error-code`
        /// header.
        code: Option<String>,
        /// The service's explanation, cut to a bounded length.
        message: Option<String>,
        /// The `x-ms-client-request-id` this client sent, to find the call in the service's logs.
        client_request_id: Option<String>,
    },

    /// No complete answer arrived within the configured timeout.
    #[error("{operation} timed out after {timeout:?}")]
    Timeout {
        /// What was being attempted.
        operation: Operation,
        /// The timeout that ran out.
        timeout: Duration,
    },

    /// The connection could not be made or broke before the answer was complete.
    #[error("{operation} failed: connection error: {cause}")]
    Connection {
        /// What was being attempted.
        operation: Operation,
        /// The chain of causes, outermost first, without the URL.
        cause: String,
    },

    /// The service said it succeeded, but its answer was not what the API promises.
    #[error("{operation} failed: unexpected answer: {reason}")]
    InvalidResponse {
        /// What was being attempted.
        operation: Operation,
        /// What was wrong with the answer.
        reason: String,
    },

    /// The HTTP client itself could not be set up.
    #[error("could not set up the HTTP client: {0}")]
    HttpClient(String),
}

impl AcsError {
    /// Whether the same call may succeed if tried again later (with back-off).
    ///
    /// True for HTTP 429, any 5xx, timeouts and connection failures; false for every other
    /// error, including other 4xx answers, which mean the request itself is wrong.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Service { status, .. } => *status == 429 || (500..=599).contains(status),
            Self::Timeout { .. } | Self::Connection { .. } => true,
            Self::InvalidConnectionString(_)
            | Self::InvalidConfig(_)
            | Self::InvalidRequest { .. }
            | Self::InvalidResponse { .. }
            | Self::HttpClient(_) => false,
        }
    }

    /// The HTTP status of a service error, if the service answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Service { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The service's error code (for example `InvalidParameter`), if it gave one.
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Service { code, .. } => code.as_deref(),
            _ => None,
        }
    }

    /// The operation that failed, when the error comes from a call.
    pub fn operation(&self) -> Option<Operation> {
        match self {
            Self::InvalidRequest { operation, .. }
            | Self::Service { operation, .. }
            | Self::Timeout { operation, .. }
            | Self::Connection { operation, .. }
            | Self::InvalidResponse { operation, .. } => Some(*operation),
            Self::InvalidConnectionString(_) | Self::InvalidConfig(_) | Self::HttpClient(_) => None,
        }
    }

    /// Classifies an error from `reqwest` raised while sending or reading an answer.
    pub(crate) fn transport(operation: Operation, err: reqwest::Error, timeout: Duration) -> Self {
        let err = err.without_url();

        if err.is_timeout() {
            Self::Timeout { operation, timeout }
        } else if err.is_builder() {
            Self::InvalidRequest {
                operation,
                reason: cause_chain(&err),
            }
        } else {
            Self::Connection {
                operation,
                cause: cause_chain(&err),
            }
        }
    }

    /// Builds a [`AcsError::Service`] from a failed answer's status, headers and body.
    ///
    /// The body may be the ACS shape `{"error": {"code": "…", "message": "…"}}` or the managed
    /// identity endpoint's `{"message": "…"}`; anything else leaves the message empty.
    pub(crate) fn service(
        operation: Operation,
        status: u16,
        header_code: Option<&str>,
        body: &[u8],
        client_request_id: Option<String>,
    ) -> Self {
        let parsed = serde_json::from_slice::<ErrorEnvelope>(body).unwrap_or_default();
        let (body_code, body_message) = match parsed.error {
            Some(ErrorField::Detail(detail)) => (detail.code, detail.message),
            Some(ErrorField::Code(code)) => (Some(code), None),
            None => (None, None),
        };

        let code = body_code
            .or_else(|| header_code.map(str::to_owned))
            .filter(|code| !code.is_empty());
        let message = body_message
            .or(parsed.message)
            .or(parsed.error_description)
            .map(|message| truncate(&message, MAX_SERVICE_MESSAGE_CHARS))
            .filter(|message| !message.is_empty());

        Self::Service {
            operation,
            status,
            code,
            message,
            client_request_id,
        }
    }
}

/// An error answer's JSON body, in any of the shapes the services use.
#[derive(Debug, Default, serde::Deserialize)]
struct ErrorEnvelope {
    error: Option<ErrorField>,
    message: Option<String>,
    error_description: Option<String>,
}

/// `error` is an object in ACS answers and a bare code in OAuth-style answers.
#[derive(Debug, serde::Deserialize)]
#[serde(untagged)]
enum ErrorField {
    Detail(ErrorDetail),
    Code(String),
}

/// The `error` object of an ACS error answer.
#[derive(Debug, serde::Deserialize)]
struct ErrorDetail {
    code: Option<String>,
    message: Option<String>,
}

/// The tail of a service error's text: `, error code X: message (client request id Y)`.
fn describe_service_error(
    code: Option<&str>,
    message: Option<&str>,
    client_request_id: Option<&str>,
) -> String {
    let mut text = String::new();

    if let Some(code) = code {
        text.push_str(", error code ");
        text.push_str(code);
    }
    if let Some(message) = message {
        text.push_str(": ");
        text.push_str(message);
    }
    if let Some(id) = client_request_id {
        text.push_str(" (client request id ");
        text.push_str(id);
        text.push(')');
    }
    text
}

/// Joins an error and its sources with `: `, so one line carries the root cause.
fn cause_chain(err: &dyn StdError) -> String {
    let mut text = err.to_string();
    let mut source = err.source();

    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.ends_with(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// Cuts `text` to at most `max` characters, marking the cut with `…`.
fn truncate(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A text-send service error with `status` and no code, body or request id.
    fn service(status: u16) -> AcsError {
        AcsError::service(Operation::SendText, status, None, b"", None)
    }

    /// 429 and 5xx service errors are transient; 400, 401 and 404 are not.
    #[test]
    fn retryable_statuses_are_transient() {
        assert!(service(429).is_transient());
        assert!(service(500).is_transient());
        assert!(service(503).is_transient());
        assert!(!service(400).is_transient());
        assert!(!service(401).is_transient());
        assert!(!service(404).is_transient());
    }

    /// The body's error code wins over the header's; the message shows code, text and request id.
    #[test]
    fn acs_error_body_gives_code_and_message() {
        let body = br#"{"error":{"code":"InvalidParameter","message":"Bad channel"}}"#;
        let err = AcsError::service(
            Operation::SendText,
            400,
            Some("HeaderCode"),
            body,
            Some("abc".into()),
        );

        assert_eq!(err.code(), Some("InvalidParameter"));
        assert_eq!(
            err.to_string(),
            "sending a text message failed: HTTP 400, error code InvalidParameter: \
             Bad channel (client request id abc)"
        );
    }

    /// Without an error body, the `x-ms-error-code` header supplies the code.
    #[test]
    fn header_code_is_used_when_the_body_has_none() {
        let err = AcsError::service(Operation::DownloadMedia, 404, Some("NotFound"), b"", None);

        assert_eq!(err.code(), Some("NotFound"));
        assert_eq!(
            err.to_string(),
            "downloading media failed: HTTP 404, error code NotFound"
        );
    }

    /// Both identity endpoint error bodies, `message` and OAuth `error_description`, are read.
    #[test]
    fn identity_endpoint_error_shapes_are_understood() {
        let body = br#"{"statusCode":400,"message":"No identity"}"#;
        let err = AcsError::service(Operation::FetchToken, 400, None, body, None);
        assert_eq!(
            err.to_string(),
            "fetching a managed identity token failed: HTTP 400: No identity"
        );

        let body = br#"{"error":"invalid_request","error_description":"Bad resource"}"#;
        let err = AcsError::service(Operation::FetchToken, 400, None, body, None);
        assert_eq!(err.code(), Some("invalid_request"));
        assert!(err.to_string().ends_with("invalid_request: Bad resource"));
    }

    /// A long service message is cut to 300 characters plus an ellipsis.
    #[test]
    fn long_service_messages_are_cut() {
        let long = "x".repeat(1000);
        let body = format!(r#"{{"error":{{"code":"C","message":"{long}"}}}}"#);
        let err = AcsError::service(Operation::SendText, 400, None, body.as_bytes(), None);

        let AcsError::Service { message, .. } = err else {
            panic!("not a service error");
        };
        assert_eq!(message.map(|m| m.chars().count()), Some(301));
    }
}
