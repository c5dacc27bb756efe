//! A small client for the Azure Communication Services (ACS) Advanced Messages REST API:
//! reply to a WhatsApp user with text or a reaction, and download the media they sent.
//!
//! # Layout
//!
//! | file | concern |
//! | --- | --- |
//! | `client.rs` | [`AcsClient`]: the three calls, timeouts, answers |
//! | `credential.rs` | [`Credential`]: access key or managed identity, the token cache |
//! | `signing.rs` | HMAC-SHA256 request signing with an access key |
//! | `connection_string.rs` | parsing `endpoint=…;accesskey=…` |
//! | `repeatability.rs` | [`Repeatability`] headers and request ids derived from event ids |
//! | `wire.rs` | the JSON bodies sent and read |
//! | `error.rs` | [`AcsError`] and whether a retry can help |
//!
//! # The calls
//!
//! Sending is `POST {endpoint}/messages/notifications:send?api-version=…` with one recipient:
//!
//! ```json
//! {"channelRegistrationId": "0f0eb78e-a576-1dfc-b414-0f0756de3338",
//!  "to": ["14250000000"], "kind": "text", "content": "Thanks, we got your message."}
//! ```
//!
//! ```json
//! {"channelRegistrationId": "0f0eb78e-a576-1dfc-b414-0f0756de3338",
//!  "to": ["14250000000"], "kind": "reaction",
//!  "messageId": "a8f4bd3c-1d4e-4d0a-9b0e-0c5b7c2f0e11", "emoji": "👍"}
//! ```
//!
//! and ACS answers `202 Accepted` with
//!
//! ```json
//! {"receipts": [{"messageId": "d53605de-2f6e-437d-9e40-8d83b2111cb8", "to": "14250000000"}]}
//! ```
//!
//! whose `messageId` later delivery-status events carry. Text uses the GA API version
//! `2024-08-30`; reactions need the preview `2025-01-15-preview` (see [`ClientOptions`]).
//!
//! Downloading media is `GET {endpoint}/messages/streams/<media id>?api-version=…`; the answer
//! is the file's bytes with its `Content-Type`.
//!
//! A failed call answers with an `x-ms-error-code` header and
//!
//! ```json
//! {"error": {"code": "InvalidParameter", "message": "…"}}
//! ```
//!
//! which becomes an [`AcsError::Service`]; [`AcsError::is_transient`] is true for 429, 5xx,
//! timeouts and connection failures.
//!
//! # Safe retries
//!
//! A send given a [`Repeatability`] carries `Repeatability-Request-ID` and
//! `Repeatability-First-Sent`. If ACS already did a request with that id it answers with
//! `Repeatability-Result: rejected`, which this client reports as [`SendOutcome::AlreadySent`].
//! [`request_id_for_event`] derives the id from the triggering event's id, so a redelivered
//! event cannot reply twice. Every request also carries a fresh `x-ms-client-request-id`,
//! which service errors repeat so the call can be found in ACS's logs.
//!
//! # Credentials
//!
//! An access key (from a connection string) signs every request with HMAC-SHA256; a managed
//! identity sends a bearer token from the App Service identity endpoint, cached and refreshed
//! five minutes before it expires. See [`Credential`].
//!
//! # Logging
//!
//! Only `debug!` lines, with operation names, request ids and counts. Recipients, message
//! text, keys and tokens are never logged, and never appear in error text.
//!
//! # Known limits
//!
//! - One recipient per send; templates, media messages and interactive messages are not
//!   covered yet.
//! - The client does not retry by itself: callers decide, using [`AcsError::is_transient`].
//! - A downloaded file is read whole into memory and must arrive within the timeout.
//! - Managed identity means the App Service / Azure Functions identity endpoint
//!   (`IDENTITY_ENDPOINT`); other Entra token sources are not supported.

mod client;
mod connection_string;
mod credential;
mod error;
mod repeatability;
pub mod signing;
mod wire;

pub use client::{
    AcsClient, ClientOptions, DEFAULT_API_VERSION, DEFAULT_PREVIEW_API_VERSION, DEFAULT_TIMEOUT,
    Media, SendOutcome,
};
pub use connection_string::{ConnectionString, parse_endpoint};
pub use credential::{
    Credential, IDENTITY_API_VERSION, ManagedIdentity, REFRESH_MARGIN, TOKEN_RESOURCE,
};
pub use error::{AcsError, Operation};
pub use repeatability::{Repeatability, request_id_for_event};
pub use signing::AccessKey;
pub use wire::Receipt;
