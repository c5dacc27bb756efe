//! Parsing an ACS connection string and checking an endpoint URL.
//!
//! ```text
//! endpoint=https://<resource>.communication.azure.com/;accesskey=<base64 key>
//! ```
//!
//! Parts are separated by `;` (a trailing `;` is fine), names are case-insensitive, and
//! unknown names are ignored. Errors name the part that is wrong and never repeat its value,
//! since a mistyped connection string may still hold the real key.

use std::{fmt, str::FromStr};

use reqwest::Url;

use super::{AccessKey, AcsError};

/// A parsed connection string: where the resource is and the key that signs for it.
///
/// Its `Debug` output never shows the key.
#[derive(Clone)]
pub struct ConnectionString {
    endpoint: Url,
    access_key: AccessKey,
}

impl ConnectionString {
    /// Parses `endpoint=…;accesskey=…`.
    ///
    /// # Errors
    ///
    /// [`AcsError::InvalidConnectionString`] naming what is missing, repeated or malformed.
    pub fn parse(text: &str) -> Result<Self, AcsError> {
        let invalid = |reason: String| AcsError::InvalidConnectionString(reason);

        // Split into `name=value` parts, keeping the two that matter.
        let mut endpoint = None;
        let mut access_key = None;
        for (index, part) in text.split(';').enumerate() {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }

            let Some((name, value)) = part.split_once('=') else {
                return Err(invalid(format!("part {} has no `=`", index + 1)));
            };
            let name = name.trim().to_ascii_lowercase();
            let slot = match name.as_str() {
                "endpoint" => &mut endpoint,
                "accesskey" => &mut access_key,
                "" => return Err(invalid(format!("part {} has no name", index + 1))),
                _ => continue,
            };
            if slot.replace(value.trim()).is_some() {
                return Err(invalid(format!("`{name}` is given more than once")));
            }
        }

        // Both parts are required and neither may be empty.
        let endpoint = endpoint
            .filter(|value| !value.is_empty())
            .ok_or_else(|| invalid("`endpoint` is missing or empty".into()))?;
        let access_key = access_key
            .filter(|value| !value.is_empty())
            .ok_or_else(|| invalid("`accesskey` is missing or empty".into()))?;

        // Check each value; the errors say which one failed and never show the key.
        let endpoint = parse_endpoint(endpoint).map_err(|err| match err {
            AcsError::InvalidConfig(reason) => invalid(format!("`endpoint`: {reason}")),
            other => other,
        })?;
        let access_key = AccessKey::from_base64(access_key)
            .map_err(|_| invalid("`accesskey` is not valid base64".into()))?;

        Ok(Self {
            endpoint,
            access_key,
        })
    }

    /// The resource's endpoint, e.g. `https://<resource>.communication.azure.com/`.
    pub fn endpoint(&self) -> &Url {
        &self.endpoint
    }

    /// The access key that signs requests.
    pub fn access_key(&self) -> &AccessKey {
        &self.access_key
    }

    /// Splits into the endpoint and the access key.
    pub fn into_parts(self) -> (Url, AccessKey) {
        (self.endpoint, self.access_key)
    }
}

impl FromStr for ConnectionString {
    type Err = AcsError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

impl fmt::Debug for ConnectionString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectionString")
            .field("endpoint", &self.endpoint.as_str())
            .field("access_key", &self.access_key)
            .finish()
    }
}

/// Checks an endpoint URL: `http` or `https`, a host, and nothing after it but an optional `/`.
///
/// `http` is accepted for local test servers; Azure endpoints are always `https`.
///
/// # Errors
///
/// [`AcsError::InvalidConfig`] saying what is wrong.
pub fn parse_endpoint(text: &str) -> Result<Url, AcsError> {
    let invalid = |reason: &str| AcsError::InvalidConfig(reason.to_owned());

    let url = Url::parse(text.trim())
        .map_err(|err| AcsError::InvalidConfig(format!("not a URL ({err})")))?;

    if !matches!(url.scheme(), "https" | "http") {
        return Err(AcsError::InvalidConfig(format!(
            "the scheme must be https or http, not `{}`",
            url.scheme()
        )));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(invalid("the URL has no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid("the URL must not carry a user name or password"));
    }
    if url.path() != "/" {
        return Err(invalid("the URL must not have a path"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("the URL must not have a query or fragment"));
    }

    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `pw==`, the key of the signing test vectors.
    const KEY: &str = "pw==";

    /// The message of the error that parsing `text` must give.
    fn error_of(text: &str) -> String {
        ConnectionString::parse(text)
            .map(|_| ())
            .expect_err("should be refused")
            .to_string()
    }

    /// The portal's form yields its endpoint and a key that signs like the test vectors.
    #[test]
    fn parses_the_portal_form() {
        let parsed = ConnectionString::parse(&format!(
            "endpoint=https://res.communication.azure.com/;accesskey={KEY}"
        ))
        .expect("valid");

        assert_eq!(
            parsed.endpoint().as_str(),
            "https://res.communication.azure.com/"
        );
        assert_eq!(
            parsed.access_key().sign("banana"),
            "88EC05aAS9iXnaimtNO78JLjiPtfWryQB/5QYEzEsu8="
        );
    }

    /// Part names match in any case and order, with spaces and a trailing `;` allowed.
    #[test]
    fn names_are_case_insensitive_and_order_free() {
        let parsed: ConnectionString =
            format!(" AccessKey={KEY} ; Endpoint=https://res.communication.azure.com ;")
                .parse()
                .expect("valid");

        assert_eq!(
            parsed.endpoint().host_str(),
            Some("res.communication.azure.com")
        );
    }

    /// An `http` endpoint with a port, as a local test server has, is accepted.
    #[test]
    fn http_endpoints_with_ports_are_accepted() {
        let parsed =
            ConnectionString::parse(&format!("endpoint=http://127.0.0.1:8080/;accesskey={KEY}"))
                .expect("valid");

        assert_eq!(parsed.endpoint().port(), Some(8080));
    }

    /// Parts other than `endpoint` and `accesskey` are ignored.
    #[test]
    fn unknown_parts_are_ignored() {
        let text = format!("endpoint=https://r.example/;accesskey={KEY};region=west");
        assert!(ConnectionString::parse(&text).is_ok());
    }

    /// A missing or empty `endpoint` or `accesskey` is refused with an error naming it.
    #[test]
    fn missing_parts_are_named() {
        assert!(error_of(&format!("accesskey={KEY}")).contains("`endpoint` is missing"));
        assert!(error_of("endpoint=https://r.example/").contains("`accesskey` is missing"));
        assert!(error_of("endpoint=https://r.example/;accesskey=").contains("`accesskey`"));
        assert!(error_of("").contains("`endpoint` is missing"));
    }

    /// A part without `=` is refused by its position, without quoting what may be the key.
    #[test]
    fn malformed_parts_are_named_without_their_value() {
        let secret = "c2VjcmV0IGtleQ";
        let text = format!("endpoint=https://r.example/;{secret}");
        let err = error_of(&text);

        assert!(err.contains("part 2 has no `=`"), "{err}");
        assert!(!err.contains(secret));
    }

    /// A key that is not base64 is refused as such, without quoting it.
    #[test]
    fn a_bad_key_is_named_without_its_value() {
        let err = error_of("endpoint=https://r.example/;accesskey=not*base64");

        assert!(err.contains("`accesskey` is not valid base64"), "{err}");
        assert!(!err.contains("not*base64"));
    }

    /// A part given twice, even in another case, is refused as repeated.
    #[test]
    fn repeated_parts_are_refused() {
        let text =
            format!("endpoint=https://a.example/;Endpoint=https://b.example/;accesskey={KEY}");
        assert!(error_of(&text).contains("`endpoint` is given more than once"));
    }

    /// Endpoints that are not URLs or have a wrong scheme, path, query or user info say why.
    #[test]
    fn bad_endpoints_are_explained() {
        let with = |endpoint: &str| error_of(&format!("endpoint={endpoint};accesskey={KEY}"));

        assert!(with("res.communication.azure.com").contains("not a URL"));
        assert!(with("ftp://r.example/").contains("scheme must be https or http"));
        assert!(with("https://r.example/base").contains("must not have a path"));
        assert!(with("https://r.example/?x=1").contains("query"));
        assert!(with("https://u:p@r.example/").contains("user name"));
    }

    /// A connection string's `Debug` output never shows the key.
    #[test]
    fn debug_hides_the_key() {
        let parsed =
            ConnectionString::parse(&format!("endpoint=https://r.example/;accesskey={KEY}"))
                .expect("valid");

        assert!(!format!("{parsed:?}").contains(KEY));
    }
}
