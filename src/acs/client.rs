//! The client: send a text or a reaction, download media.

use std::time::Duration;

use log::debug;
use reqwest::{
    Method, Response, Url,
    header::{CONTENT_TYPE, HeaderMap},
    redirect,
};

use super::{
    AcsError, ConnectionString, Credential, Operation, Receipt, Repeatability,
    connection_string::parse_endpoint,
    repeatability::new_client_request_id,
    signing::http_date,
    wire::{Notification, SendResult},
};

/// The GA API version, used for text messages and media downloads.
pub const DEFAULT_API_VERSION: &str = "2024-08-30";

/// The preview API version, used for reactions (which need `2025-01-15-preview` or later).
pub const DEFAULT_PREVIEW_API_VERSION: &str = "2025-01-15-preview";

/// How long one HTTP request may take, from connecting to the last byte of the answer.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// The client's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientOptions {
    /// How long each HTTP request may take, from connecting to the last byte of the answer.
    ///
    /// A call that first fetches a managed identity token makes two requests, each with this
    /// limit.
    pub timeout: Duration,
    /// The `api-version` of text sends and media downloads.
    pub api_version: String,
    /// The `api-version` of kinds only in preview: reactions.
    pub preview_api_version: String,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            timeout: DEFAULT_TIMEOUT,
            api_version: DEFAULT_API_VERSION.to_owned(),
            preview_api_version: DEFAULT_PREVIEW_API_VERSION.to_owned(),
        }
    }
}

/// What a send achieved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendOutcome {
    /// ACS accepted the message; one receipt per recipient.
    Sent(Vec<Receipt>),
    /// ACS had already done a request with this `Repeatability-Request-ID`
    /// (`Repeatability-Result: rejected`), so nothing new was sent.
    AlreadySent,
}

/// Downloaded media: the raw bytes and what the service says they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Media {
    /// The file's bytes.
    pub bytes: Vec<u8>,
    /// The answer's `Content-Type`, if any; the event's `mimeType` says the same.
    pub content_type: Option<String>,
}

/// A client for one ACS resource's Advanced Messages API.
///
/// Cheap to clone: clones share the connection pool and the token cache.
#[derive(Debug, Clone)]
pub struct AcsClient {
    endpoint: Url,
    credential: Credential,
    options: ClientOptions,
    http: reqwest::Client,
}

impl AcsClient {
    /// A client for the resource at `endpoint` (e.g. `https://<resource>.communication.azure.com`).
    ///
    /// # Errors
    ///
    /// [`AcsError::InvalidConfig`] for an unusable endpoint, [`AcsError::HttpClient`] if the
    /// HTTP client cannot be set up.
    pub fn new(
        endpoint: &str,
        credential: Credential,
        options: ClientOptions,
    ) -> Result<Self, AcsError> {
        let endpoint = parse_endpoint(endpoint)?;
        Self::with_endpoint(endpoint, credential, options)
    }

    /// A client signing with the access key of `connection_string`.
    ///
    /// # Errors
    ///
    /// [`AcsError::InvalidConnectionString`] saying what is wrong with it, or
    /// [`AcsError::HttpClient`].
    pub fn from_connection_string(
        connection_string: &str,
        options: ClientOptions,
    ) -> Result<Self, AcsError> {
        let (endpoint, key) = ConnectionString::parse(connection_string)?.into_parts();
        Self::with_endpoint(endpoint, Credential::AccessKey(key), options)
    }

    fn with_endpoint(
        endpoint: Url,
        credential: Credential,
        options: ClientOptions,
    ) -> Result<Self, AcsError> {
        crate::tls::install_crypto_provider();

        let http = reqwest::Client::builder()
            .timeout(options.timeout)
            .redirect(redirect::Policy::none())
            .user_agent(concat!(
                env!("CARGO_PKG_NAME"),
                "/",
                env!("CARGO_PKG_VERSION")
            ))
            .build()
            .map_err(|err| AcsError::HttpClient(err.to_string()))?;

        Ok(Self {
            endpoint,
            credential,
            options,
            http,
        })
    }

    /// The resource's endpoint.
    pub fn endpoint(&self) -> &Url {
        &self.endpoint
    }

    /// The client's settings.
    pub fn options(&self) -> &ClientOptions {
        &self.options
    }

    /// Sends `content` as a free-form text message to one recipient.
    ///
    /// `channel_registration_id` is the WhatsApp channel's GUID (`data.to` of a received
    /// event); `to` is a phone number (digits with country code) or a BSUID. Free-form
    /// messages are only delivered within 24 hours of the customer's last message.
    ///
    /// # Errors
    ///
    /// Any [`AcsError`]; [`AcsError::is_transient`] says whether to retry, and a retry with
    /// the same `repeatability` cannot send the message twice.
    pub async fn send_text(
        &self,
        channel_registration_id: &str,
        to: &str,
        content: &str,
        repeatability: Option<&Repeatability>,
    ) -> Result<SendOutcome, AcsError> {
        let body = Notification::Text {
            channel_registration_id,
            to: [to],
            content,
        };

        self.send(
            Operation::SendText,
            &self.options.api_version,
            &body,
            repeatability,
        )
        .await
    }

    /// Reacts with `emoji` to the message `message_id` from (or to) `to`.
    ///
    /// Uses [`ClientOptions::preview_api_version`]: reactions need `2025-01-15-preview` or
    /// later.
    ///
    /// # Errors
    ///
    /// As for [`AcsClient::send_text`].
    pub async fn send_reaction(
        &self,
        channel_registration_id: &str,
        to: &str,
        message_id: &str,
        emoji: &str,
        repeatability: Option<&Repeatability>,
    ) -> Result<SendOutcome, AcsError> {
        let body = Notification::Reaction {
            channel_registration_id,
            to: [to],
            message_id,
            emoji,
        };

        self.send(
            Operation::SendReaction,
            &self.options.preview_api_version,
            &body,
            repeatability,
        )
        .await
    }

    /// Downloads the media `media_id` (`data.media.id` of a received event).
    ///
    /// The whole file is read into memory, within the client's timeout.
    ///
    /// # Errors
    ///
    /// Any [`AcsError`]; a 404 means the id is unknown or the media has expired.
    pub async fn download_media(&self, media_id: &str) -> Result<Media, AcsError> {
        let operation = Operation::DownloadMedia;
        if media_id.trim().is_empty() {
            return Err(AcsError::InvalidRequest {
                operation,
                reason: "the media id is empty".into(),
            });
        }

        // The id is one path segment, percent-encoded as needed.
        let url = self.url(
            operation,
            &["messages", "streams", media_id],
            &self.options.api_version,
        )?;
        let client_request_id = new_client_request_id();
        debug!("downloading media {media_id} (client request id {client_request_id})");

        let response = self
            .execute(
                operation,
                Method::GET,
                url,
                Vec::new(),
                &client_request_id,
                None,
            )
            .await?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = self.read_body(operation, response).await?;

        if !status.is_success() {
            return Err(service_error(
                operation,
                status.as_u16(),
                &headers,
                &body,
                client_request_id,
            ));
        }

        let content_type = headers
            .get(CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        debug!(
            "downloaded media {media_id}: {} bytes of {}",
            body.len(),
            content_type.as_deref().unwrap_or("unknown type")
        );

        Ok(Media {
            bytes: body,
            content_type,
        })
    }

    /// Sends one notification and reads the answer.
    async fn send(
        &self,
        operation: Operation,
        api_version: &str,
        notification: &Notification<'_>,
        repeatability: Option<&Repeatability>,
    ) -> Result<SendOutcome, AcsError> {
        // Serialize first: the signature covers these exact bytes.
        let url = self.url(operation, &["messages", "notifications:send"], api_version)?;
        let body = serde_json::to_vec(notification).map_err(|err| AcsError::InvalidRequest {
            operation,
            reason: format!("the body could not be serialized ({err})"),
        })?;
        let client_request_id = new_client_request_id();
        debug!(
            "{operation} (client request id {client_request_id}, repeatability id {})",
            repeatability.map_or("none", |r| r.request_id.as_str())
        );

        // Send, then read the whole answer.
        let response = self
            .execute(
                operation,
                Method::POST,
                url,
                body,
                &client_request_id,
                repeatability,
            )
            .await?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = self.read_body(operation, response).await?;

        // A repeat of a request ACS already did is a success, whatever the status says.
        let repeat_result = headers
            .get("repeatability-result")
            .and_then(|value| value.to_str().ok());
        if repeat_result.is_some_and(|result| result.trim().eq_ignore_ascii_case("rejected")) {
            debug!(
                "{operation}: already done (HTTP {status}, client request id {client_request_id})"
            );
            return Ok(SendOutcome::AlreadySent);
        }

        if !status.is_success() {
            return Err(service_error(
                operation,
                status.as_u16(),
                &headers,
                &body,
                client_request_id,
            ));
        }

        // serde's messages could quote a recipient, so only the error's position is kept.
        let result: SendResult =
            serde_json::from_slice(&body).map_err(|err| AcsError::InvalidResponse {
                operation,
                reason: format!(
                    "the receipts are not the expected JSON ({:?} error at line {}, column {})",
                    err.classify(),
                    err.line(),
                    err.column()
                ),
            })?;
        debug!(
            "{operation}: accepted, {} receipt(s) (client request id {client_request_id})",
            result.receipts.len()
        );

        Ok(SendOutcome::Sent(result.receipts))
    }

    /// Authenticates and sends one request; the answer's body is not read yet.
    async fn execute(
        &self,
        operation: Operation,
        method: Method,
        url: Url,
        body: Vec<u8>,
        client_request_id: &str,
        repeatability: Option<&Repeatability>,
    ) -> Result<Response, AcsError> {
        let timeout = self.options.timeout;
        let auth = self
            .credential
            .headers(&self.http, timeout, operation, &method, &url, &body)
            .await?;

        let mut request = self
            .http
            .request(method, url)
            .header("x-ms-client-request-id", client_request_id);
        if let Some(repeatability) = repeatability {
            request = request
                .header(
                    "repeatability-request-id",
                    repeatability.request_id.as_str(),
                )
                .header(
                    "repeatability-first-sent",
                    http_date(repeatability.first_sent),
                );
        }
        for (name, value) in auth {
            request = request.header(name, value);
        }

        if !body.is_empty() {
            request = request.header(CONTENT_TYPE, "application/json").body(body);
        }

        request
            .send()
            .await
            .map_err(|err| AcsError::transport(operation, err, timeout))
    }

    /// Reads an answer's whole body.
    async fn read_body(
        &self,
        operation: Operation,
        response: Response,
    ) -> Result<Vec<u8>, AcsError> {
        response
            .bytes()
            .await
            .map(Vec::from)
            .map_err(|err| AcsError::transport(operation, err, self.options.timeout))
    }

    /// `<endpoint>/<segments…>?api-version=<api_version>`, each segment percent-encoded.
    fn url(
        &self,
        operation: Operation,
        segments: &[&str],
        api_version: &str,
    ) -> Result<Url, AcsError> {
        let mut url = self.endpoint.clone();

        url.path_segments_mut()
            .map_err(|()| AcsError::InvalidRequest {
                operation,
                reason: "the endpoint cannot take a path".into(),
            })?
            .clear()
            .extend(segments);
        url.query_pairs_mut()
            .clear()
            .append_pair("api-version", api_version);

        Ok(url)
    }
}

/// A [`AcsError::Service`] from a failed answer.
fn service_error(
    operation: Operation,
    status: u16,
    headers: &HeaderMap,
    body: &[u8],
    client_request_id: String,
) -> AcsError {
    let header_code = headers
        .get("x-ms-error-code")
        .and_then(|value| value.to_str().ok());

    AcsError::service(
        operation,
        status,
        header_code,
        body,
        Some(client_request_id),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::acs::AccessKey;

    /// An access key client for `endpoint` with the default options.
    fn client(endpoint: &str) -> AcsClient {
        let key = AccessKey::from_base64("pw==").expect("valid key");
        AcsClient::new(endpoint, key.into(), ClientOptions::default()).expect("valid client")
    }

    /// The send URL keeps `notifications:send` unescaped and carries the `api-version` query.
    #[test]
    fn send_url_keeps_the_colon_and_version() {
        let client = client("https://res.communication.azure.com/");
        let url = client
            .url(
                Operation::SendText,
                &["messages", "notifications:send"],
                "2024-08-30",
            )
            .expect("valid URL");

        assert_eq!(
            url.as_str(),
            "https://res.communication.azure.com/messages/notifications:send?api-version=2024-08-30"
        );
    }

    /// A media id is percent-encoded as one path segment, `/` and spaces included.
    #[test]
    fn media_ids_are_one_encoded_segment() {
        let client = client("http://127.0.0.1:8080");
        let url = client
            .url(
                Operation::DownloadMedia,
                &["messages", "streams", "a/b c"],
                "v",
            )
            .expect("valid URL");

        assert_eq!(url.path(), "/messages/streams/a%2Fb%20c");
    }

    /// A connection string gives an access key client with the default API version.
    #[test]
    fn connection_strings_give_an_access_key_client() {
        let client = AcsClient::from_connection_string(
            "endpoint=https://res.communication.azure.com/;accesskey=pw==",
            ClientOptions::default(),
        )
        .expect("valid");

        assert!(matches!(client.credential, Credential::AccessKey(_)));
        assert_eq!(client.options().api_version, DEFAULT_API_VERSION);
    }
}
