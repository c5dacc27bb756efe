//! How requests prove who sends them: an access key, or a managed identity's bearer token.
//!
//! On App Service and Azure Functions the platform announces the identity endpoint in two
//! environment variables, `IDENTITY_ENDPOINT` and `IDENTITY_HEADER`. A token is fetched with
//!
//! ```text
//! GET {IDENTITY_ENDPOINT}?resource=https://communication.azure.com&api-version=2019-08-01
//!     [&client_id=<client id of a user-assigned identity>]
//! X-IDENTITY-HEADER: {IDENTITY_HEADER}
//! ```
//!
//! and the answer is
//!
//! ```json
//! {"access_token": "eyJ0…", "expires_on": "1700000000", "token_type": "Bearer",
//!  "resource": "https://communication.azure.com"}
//! ```
//!
//! where `expires_on` is in Unix seconds, as a string or a number. The token is cached, shared
//! by every clone of the credential and every concurrent caller (one fetch at a time), and
//! fetched anew once it is within [`REFRESH_MARGIN`] of expiring.

use std::{
    fmt,
    sync::Arc,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use log::debug;
use reqwest::{
    Method, Url,
    header::{AUTHORIZATION, HeaderName, HeaderValue},
};
use serde::Deserialize;
use tokio::sync::Mutex;

use super::{AccessKey, AcsError, Operation, signing};

/// The resource whose tokens ACS accepts.
pub const TOKEN_RESOURCE: &str = "https://communication.azure.com";

/// The App Service identity endpoint's API version.
pub const IDENTITY_API_VERSION: &str = "2019-08-01";

/// A cached token is fetched anew once it has less than this left before it expires.
pub const REFRESH_MARGIN: Duration = Duration::from_secs(5 * 60);

/// The header that proves to the identity endpoint that the caller runs in the app.
const IDENTITY_HEADER_NAME: &str = "x-identity-header";

/// The credentials a client can use.
#[derive(Debug, Clone)]
pub enum Credential {
    /// Sign every request with HMAC-SHA256 and the resource's access key.
    AccessKey(AccessKey),
    /// Send a Microsoft Entra token from the App Service managed identity endpoint.
    ManagedIdentity(ManagedIdentity),
}

impl From<AccessKey> for Credential {
    fn from(key: AccessKey) -> Self {
        Self::AccessKey(key)
    }
}

impl From<ManagedIdentity> for Credential {
    fn from(identity: ManagedIdentity) -> Self {
        Self::ManagedIdentity(identity)
    }
}

impl Credential {
    /// The headers that authenticate a request with `method`, `url` and `body`.
    ///
    /// For an access key: `x-ms-date`, `x-ms-content-sha256` and the signed `Authorization`.
    /// For a managed identity: `Authorization: Bearer <token>`, fetching the token if needed.
    pub(crate) async fn headers(
        &self,
        http: &reqwest::Client,
        timeout: Duration,
        operation: Operation,
        method: &Method,
        url: &Url,
        body: &[u8],
    ) -> Result<Vec<(HeaderName, HeaderValue)>, AcsError> {
        match self {
            Self::AccessKey(key) => {
                let signed =
                    signing::sign_request(key, method.as_str(), url, body, SystemTime::now());

                Ok(vec![
                    (
                        HeaderName::from_static("x-ms-date"),
                        header_value(operation, &signed.date)?,
                    ),
                    (
                        HeaderName::from_static("x-ms-content-sha256"),
                        header_value(operation, &signed.content_hash)?,
                    ),
                    (
                        AUTHORIZATION,
                        secret_header_value(operation, &signed.authorization)?,
                    ),
                ])
            }
            Self::ManagedIdentity(identity) => {
                let token = identity.token(http, timeout).await?;
                let bearer = secret_header_value(operation, &format!("Bearer {token}"))?;

                Ok(vec![(AUTHORIZATION, bearer)])
            }
        }
    }
}

/// The App Service (and Azure Functions) managed identity.
///
/// Clones share one token cache. `Debug` shows the endpoint and client id, never the identity
/// header or a token.
#[derive(Clone)]
pub struct ManagedIdentity {
    endpoint: Url,
    identity_header: String,
    client_id: Option<String>,
    cache: Arc<Mutex<Option<CachedToken>>>,
}

impl ManagedIdentity {
    /// The identity at `endpoint`, proved with `identity_header`.
    ///
    /// `client_id` selects a user-assigned identity; `None` means the system-assigned one.
    ///
    /// # Errors
    ///
    /// [`AcsError::InvalidConfig`] when `endpoint` is not an http(s) URL or the header is empty.
    pub fn new(
        endpoint: &str,
        identity_header: impl Into<String>,
        client_id: Option<String>,
    ) -> Result<Self, AcsError> {
        let endpoint = Url::parse(endpoint.trim()).map_err(|err| {
            AcsError::InvalidConfig(format!("the identity endpoint is not a URL ({err})"))
        })?;
        if !matches!(endpoint.scheme(), "http" | "https") || endpoint.host_str().is_none() {
            return Err(AcsError::InvalidConfig(
                "the identity endpoint must be an http or https URL".into(),
            ));
        }

        let identity_header = identity_header.into();
        if identity_header.trim().is_empty() {
            return Err(AcsError::InvalidConfig(
                "the identity header is empty".into(),
            ));
        }

        Ok(Self {
            endpoint,
            identity_header,
            client_id: client_id.filter(|id| !id.trim().is_empty()),
            cache: Arc::default(),
        })
    }

    /// The identity announced by the `IDENTITY_ENDPOINT` and `IDENTITY_HEADER` variables.
    ///
    /// # Errors
    ///
    /// [`AcsError::InvalidConfig`] naming the variable that is missing or unusable.
    pub fn from_env(client_id: Option<String>) -> Result<Self, AcsError> {
        Self::from_lookup(|name| std::env::var(name).ok(), client_id)
    }

    /// [`ManagedIdentity::from_env`] with the variables read through `lookup`.
    ///
    /// # Errors
    ///
    /// As [`ManagedIdentity::from_env`].
    pub fn from_lookup(
        lookup: impl Fn(&str) -> Option<String>,
        client_id: Option<String>,
    ) -> Result<Self, AcsError> {
        let missing = |name: &str| {
            AcsError::InvalidConfig(format!(
                "{name} is not set; is a managed identity enabled for this app?"
            ))
        };

        let endpoint = lookup("IDENTITY_ENDPOINT")
            .filter(|value| !value.trim().is_empty())
            .ok_or_else(|| missing("IDENTITY_ENDPOINT"))?;
        let header = lookup("IDENTITY_HEADER")
            .filter(|value| !value.trim().is_empty())
            .ok_or_else(|| missing("IDENTITY_HEADER"))?;

        Self::new(&endpoint, header, client_id)
    }

    /// The client id of the user-assigned identity, if one was chosen.
    pub fn client_id(&self) -> Option<&str> {
        self.client_id.as_deref()
    }

    /// A token with more than [`REFRESH_MARGIN`] left, from the cache or freshly fetched.
    ///
    /// The cache lock is held during a fetch, so concurrent callers wait for that one fetch
    /// instead of starting their own.
    pub(crate) async fn token(
        &self,
        http: &reqwest::Client,
        timeout: Duration,
    ) -> Result<String, AcsError> {
        let mut cache = self.cache.lock().await;

        if let Some(cached) = cache
            .as_ref()
            .filter(|cached| cached.is_fresh(SystemTime::now()))
        {
            return Ok(cached.token.clone());
        }

        let fetched = self.fetch(http, timeout).await?;
        let token = fetched.token.clone();
        *cache = Some(fetched);
        Ok(token)
    }

    /// Asks the identity endpoint for a token.
    async fn fetch(
        &self,
        http: &reqwest::Client,
        timeout: Duration,
    ) -> Result<CachedToken, AcsError> {
        let operation = Operation::FetchToken;

        // Build the request: resource, version and the optional user-assigned client id.
        let mut url = self.endpoint.clone();
        {
            let mut query = url.query_pairs_mut();
            query
                .append_pair("resource", TOKEN_RESOURCE)
                .append_pair("api-version", IDENTITY_API_VERSION);
            if let Some(client_id) = &self.client_id {
                query.append_pair("client_id", client_id);
            }
        }
        let identity_header = secret_header_value(operation, &self.identity_header)?;

        // Send it and read the whole answer.
        let response = http
            .get(url)
            .header(IDENTITY_HEADER_NAME, identity_header)
            .send()
            .await
            .map_err(|err| AcsError::transport(operation, err, timeout))?;
        let status = response.status();
        let error_code = response
            .headers()
            .get("x-ms-error-code")
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        let body = response
            .bytes()
            .await
            .map_err(|err| AcsError::transport(operation, err, timeout))?;

        if !status.is_success() {
            return Err(AcsError::service(
                operation,
                status.as_u16(),
                error_code.as_deref(),
                &body,
                None,
            ));
        }

        // Decode it; serde's messages could quote the token, so only its position is kept.
        let answer: TokenAnswer =
            serde_json::from_slice(&body).map_err(|err| AcsError::InvalidResponse {
                operation,
                reason: format!(
                    "the token answer is not the expected JSON ({:?} error at line {}, column {})",
                    err.classify(),
                    err.line(),
                    err.column()
                ),
            })?;
        let token = answer
            .into_cached()
            .map_err(|reason| AcsError::InvalidResponse {
                operation,
                reason: reason.into(),
            })?;

        debug!(
            "fetched a managed identity token for {TOKEN_RESOURCE}, valid for {} s",
            token.remaining(SystemTime::now()).as_secs()
        );
        Ok(token)
    }
}

impl fmt::Debug for ManagedIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ManagedIdentity")
            .field("endpoint", &self.endpoint.as_str())
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

/// A token and the moment it stops being valid.
struct CachedToken {
    token: String,
    expires_at: SystemTime,
}

impl CachedToken {
    /// Whether the token still has more than [`REFRESH_MARGIN`] left at `now`.
    fn is_fresh(&self, now: SystemTime) -> bool {
        self.remaining(now) > REFRESH_MARGIN
    }

    /// How long the token is still valid at `now` (zero once expired).
    fn remaining(&self, now: SystemTime) -> Duration {
        self.expires_at.duration_since(now).unwrap_or_default()
    }
}

/// The identity endpoint's answer.
#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    expires_on: UnixSeconds,
    token_type: Option<String>,
}

impl TokenAnswer {
    /// Checks the answer and turns it into a cache entry.
    fn into_cached(self) -> Result<CachedToken, &'static str> {
        if self.access_token.is_empty() {
            return Err("the token answer has an empty access_token");
        }
        if let Some(kind) = &self.token_type
            && !kind.eq_ignore_ascii_case("bearer")
        {
            return Err("the token answer's token_type is not Bearer");
        }

        let seconds = match self.expires_on {
            UnixSeconds::Number(seconds) => seconds,
            UnixSeconds::Text(text) => text
                .trim()
                .parse()
                .map_err(|_| "the token answer's expires_on is not a number of seconds")?,
        };

        Ok(CachedToken {
            token: self.access_token,
            expires_at: UNIX_EPOCH + Duration::from_secs(seconds),
        })
    }
}

/// `expires_on`: App Service sends a string, other identity endpoints a number.
#[derive(Deserialize)]
#[serde(untagged)]
enum UnixSeconds {
    Number(u64),
    Text(String),
}

/// A header value built from text this client made.
fn header_value(operation: Operation, text: &str) -> Result<HeaderValue, AcsError> {
    HeaderValue::from_str(text).map_err(|_| AcsError::InvalidRequest {
        operation,
        reason: "a header value has characters HTTP does not allow".into(),
    })
}

/// A header value that HTTP logging must not print.
fn secret_header_value(operation: Operation, text: &str) -> Result<HeaderValue, AcsError> {
    let mut value = HeaderValue::from_str(text).map_err(|_| AcsError::InvalidRequest {
        operation,
        reason: "a credential has characters HTTP headers do not allow".into(),
    })?;
    value.set_sensitive(true);
    Ok(value)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    /// Parses an identity endpoint answer and checks it into a cache entry.
    fn answer(json: &str) -> Result<CachedToken, &'static str> {
        serde_json::from_str::<TokenAnswer>(json)
            .expect("valid JSON")
            .into_cached()
    }

    /// A token's `expires_on` is read as Unix seconds, whether a string or a number.
    #[test]
    fn expires_on_may_be_a_string_or_a_number() {
        let as_text =
            answer(r#"{"access_token":"t","expires_on":"1700000000","token_type":"Bearer"}"#)
                .expect("valid");
        let as_number = answer(r#"{"access_token":"t","expires_on":1700000000}"#).expect("valid");

        assert_eq!(
            as_text.expires_at,
            UNIX_EPOCH + Duration::from_secs(1_700_000_000)
        );
        assert_eq!(as_text.expires_at, as_number.expires_at);
    }

    /// Answers with an empty token, a non-numeric expiry or a non-Bearer type are refused.
    #[test]
    fn unusable_answers_are_refused() {
        assert!(answer(r#"{"access_token":"","expires_on":1}"#).is_err());
        assert!(answer(r#"{"access_token":"t","expires_on":"soon"}"#).is_err());
        assert!(answer(r#"{"access_token":"t","expires_on":1,"token_type":"PoP"}"#).is_err());
    }

    /// A token is fresh only while more than the refresh margin is left.
    #[test]
    fn freshness_respects_the_margin() {
        let now = SystemTime::now();
        let token = |left: Duration| CachedToken {
            token: "t".into(),
            expires_at: now + left,
        };

        assert!(token(Duration::from_secs(3600)).is_fresh(now));
        assert!(!token(Duration::from_secs(60)).is_fresh(now));
        assert!(!token(REFRESH_MARGIN).is_fresh(now));
    }

    /// A missing identity variable is named; a full set keeps the client id and hides the header.
    #[test]
    fn environment_variables_are_required_and_named() {
        let env = HashMap::from([("IDENTITY_ENDPOINT", "http://127.0.0.1:41741/msi/token")]);
        let err = ManagedIdentity::from_lookup(|name| env.get(name).map(|v| v.to_string()), None)
            .expect_err("the header is missing");
        assert!(
            err.to_string().contains("IDENTITY_HEADER is not set"),
            "{err}"
        );

        let env = HashMap::from([
            ("IDENTITY_ENDPOINT", "http://127.0.0.1:41741/msi/token"),
            ("IDENTITY_HEADER", "secret-header"),
        ]);
        let identity = ManagedIdentity::from_lookup(
            |name| env.get(name).map(|v| v.to_string()),
            Some("client".into()),
        )
        .expect("both variables are set");
        assert_eq!(identity.client_id(), Some("client"));
        assert!(!format!("{identity:?}").contains("secret-header"));
    }
}
