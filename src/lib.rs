//! An Azure Functions custom handler for Azure Communication Services Advanced Messaging
//! (WhatsApp) events.
//!
//! The Functions host starts the `handler` binary, waits for `GET /` to answer, then posts one
//! invocation per Event Grid event to `POST /EventGridTrigger`. The handler decodes the event,
//! classifies it and calls the business logic with typed data, then answers the host in a way
//! that tells Event Grid whether to deliver the event again.
//!
//! Without the host, the same binary serves Event Grid itself as a standalone webhook, replays
//! event files (`handler invoke`) and posts them to a webhook (`handler post`); every event takes
//! the same path through [`dispatch`].
//!
//! # Layout
//!
//! - [`cli`]: the command line, which picks the mode.
//! - [`server`]: the HTTP server the host talks to.
//! - [`request_body`]: request bodies read within a size and a time limit.
//! - [`webhook`]: the standalone Event Grid webhook, used when no host started the handler.
//! - [`replay`]: `handler invoke`, events from files run in this process.
//! - [`post`]: `handler post`, events from files posted to a webhook.
//! - [`event_files`]: reading event files and standard input.
//! - [`batch`]: one event or an array of events, split without decoding.
//! - [`invocation`]: one invocation, from request body to answer.
//! - [`host_protocol`]: the host's request and answer formats.
//! - [`envelope`]: Event Grid and CloudEvents envelopes, normalized.
//! - [`events`]: typed event data and the classification of messages.
//! - [`dispatch`]: decoding an event and calling business logic under a deadline.
//! - [`business_logic`]: the trait business logic implements.
//! - [`app`]: the business logic itself; the file to edit.
//! - [`dedup`]: recently handled event ids, so redeliveries are not handled twice.
//! - [`acs`]: a client for the Advanced Messages REST API (send, react, download media).
//! - [`logging`]: log routing for the host, gathered per invocation.
//! - [`config`]: settings from the environment.
//! - [`decode_error`]: decoding failures explained without quoting personal data.
//! - [`tls`]: the TLS provider outbound HTTP clients share.
//! - [`panic_guard`]: panics in business logic contained to their invocation.
//!
//! # Known limits
//!
//! - Records logged by tasks that business logic spawns are tied to the invocation only when
//!   the task is wrapped with [`logging::within_current_invocation`].
//! - Event data is decoded as JSON only; a CloudEvent with binary `data_base64` is poison.
//! - The standalone webhook and `handler post` speak plain HTTP only. Event Grid delivers only
//!   to `https` endpoints, so an exposed standalone webhook needs a TLS proxy in front of it.
//! - `handler invoke` runs the real business logic, side effects included, and keeps nothing.

pub mod acs;
pub mod app;
pub mod batch;
pub mod business_logic;
pub mod cli;
pub mod config;
pub mod decode_error;
pub mod dedup;
pub mod dispatch;
pub mod envelope;
pub mod event_files;
pub mod events;
pub mod host_protocol;
pub mod invocation;
pub mod logging;
pub mod panic_guard;
pub mod post;
pub mod replay;
pub mod request_body;
pub mod server;
pub mod tls;
pub mod webhook;
