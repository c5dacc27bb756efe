//! `handler post [--url URL] <file>...`: each file's events posted to an Event Grid webhook the
//! way Event Grid delivers them, to try a running `func start` or the standalone webhook.
//!
//! ```text
//! POST http://localhost:7071/runtime/webhooks/EventGrid?functionName=EventGridTrigger
//! Content-Type: application/json
//! aeg-event-type: Notification
//!
//! [ …the file's events… ]
//! ```
//!
//! An array is sent as it is in the file; a single event (or a kept poison message's event) is
//! sent in an array of one. When `WEBHOOK_KEY` is set it is sent as the `x-functions-key` header.
//! Each file gets one line on standard output: its name, the answer's status, and the answer's
//! body when there is one. Only plain `http` is supported: this is for local endpoints.

use std::{io::Write, time::Duration};

use reqwest::{Client, StatusCode, Url};

use crate::{batch::Shape, config::Secret, event_files::EventFile};

/// Where `func start` serves the Event Grid webhook of the function `EventGridTrigger`.
pub const DEFAULT_URL: &str =
    "http://localhost:7071/runtime/webhooks/EventGrid?functionName=EventGridTrigger";

/// How long one request may take, answer included: Event Grid's own wait.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// How long connecting may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The longest answer body printed.
const MAX_SHOWN_BODY: usize = 2000;

/// Checks a URL given for posting.
///
/// # Errors
///
/// Returns the reason when the URL cannot be read or is not plain `http`.
pub fn parse_url(text: &str) -> Result<Url, String> {
    let url = Url::parse(text).map_err(|err| format!("--url: not a URL: {err}"))?;
    match url.scheme() {
        "http" => Ok(url),
        scheme => Err(format!(
            "--url: only http is supported, got {scheme}: post is for local endpoints"
        )),
    }
}

/// How many files were answered 2xx.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Tally {
    /// Files answered 2xx.
    pub accepted: usize,
    /// Files answered otherwise, or not at all.
    pub refused: usize,
}

/// Posts each file to `url`, writing one line per file to `out`.
///
/// # Errors
///
/// Fails when the HTTP client cannot be set up or `out` cannot be written; a file that is not
/// answered 2xx is counted, not an error.
pub async fn post_all(
    url: &Url,
    files: &[EventFile],
    key: Option<&Secret>,
    out: &mut impl Write,
) -> std::io::Result<Tally> {
    crate::tls::install_crypto_provider();
    let client = Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .connect_timeout(CONNECT_TIMEOUT)
        .build()
        .map_err(std::io::Error::other)?;
    let mut tally = Tally::default();
    for file in files {
        // Send the events as an array, the file's own when it holds one.
        let body = match file.batch.shape {
            Shape::Array => file.bytes.clone(),
            Shape::Single | Shape::PoisonMessage => file.batch.to_array().into_bytes(),
        };
        let mut request = client
            .post(url.clone())
            .header("content-type", "application/json")
            .header("aeg-event-type", "Notification")
            .body(body);
        if let Some(key) = key {
            request = request.header("x-functions-key", key.expose());
        }

        // Print the answer, or why there was none; the URL is left out since it may hold a key.
        let line = match send(request).await {
            Ok((status, body)) => {
                if status.is_success() {
                    tally.accepted += 1;
                } else {
                    tally.refused += 1;
                }
                answer_line(&file.name, status, &body)
            }
            Err(reason) => {
                tally.refused += 1;
                format!("{}: no answer: {reason}", file.name)
            }
        };
        writeln!(out, "{line}")?;
        out.flush()?;
    }
    Ok(tally)
}

/// Sends a request and reads the whole answer.
async fn send(request: reqwest::RequestBuilder) -> Result<(StatusCode, String), String> {
    let answer = request.send().await.map_err(describe)?;
    let status = answer.status();
    let body = answer.text().await.map_err(describe)?;
    Ok((status, body))
}

/// One file's line: its name, the status, and the body when there is one.
fn answer_line(name: &str, status: StatusCode, body: &str) -> String {
    let reason = status.canonical_reason().unwrap_or("");
    let mut line = format!("{name}: {} {reason}", status.as_u16());
    let body = body.trim();
    if !body.is_empty() {
        let shown: String = body.chars().take(MAX_SHOWN_BODY).collect();
        line.push(' ');
        line.push_str(&shown.replace(['\r', '\n'], " "));
        if shown.len() < body.len() {
            line.push('…');
        }
    }
    line
}

/// A client error with its causes, without the URL.
fn describe(err: reqwest::Error) -> String {
    let err = err.without_url();
    let mut text = err.to_string();
    let mut source = std::error::Error::source(&err);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Only plain http URLs are accepted, each refusal naming the option.
    #[test]
    fn urls_are_checked() {
        assert!(parse_url(DEFAULT_URL).is_ok());
        for bad in ["localhost:7071", "https://example.invalid/x", "not a url"] {
            let err = parse_url(bad).unwrap_err();
            assert!(err.starts_with("--url: "), "{err}");
        }
    }

    /// An answer line shows the status and a body on one line.
    #[test]
    fn answer_lines() {
        assert_eq!(
            answer_line("a.json", StatusCode::ACCEPTED, ""),
            "a.json: 202 Accepted"
        );
        assert_eq!(
            answer_line("a.json", StatusCode::BAD_REQUEST, "{\"error\":\n1}\n"),
            "a.json: 400 Bad Request {\"error\": 1}"
        );
    }
}
