//! HMAC-SHA256 request signing with an ACS access key.
//!
//! Each request carries three headers:
//!
//! ```text
//! x-ms-date: Wed, 13 Apr 2022 18:09:12 GMT
//! x-ms-content-sha256: <base64 SHA-256 of the exact body bytes>
//! Authorization: HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=<sig>
//! ```
//!
//! where `<sig>` is the base64 HMAC-SHA256, keyed with the base64-decoded access key, of
//!
//! ```text
//! <VERB>\n<path and query as sent>\n<x-ms-date>;<host>;<content hash>
//! ```
//!
//! and `<host>` is the `Host` header's value: the host name, with `:port` when the port is not
//! the scheme's default.

use std::{fmt, time::SystemTime};

use base64::{
    Engine, alphabet,
    engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig, general_purpose::STANDARD},
};
use hmac::{Hmac, KeyInit, Mac};
use reqwest::Url;
use sha2::{Digest, Sha256};

use super::AcsError;

/// The `x-ms-content-sha256` of an empty body.
pub const EMPTY_CONTENT_HASH: &str = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";

/// The headers named in the signature, in the order the service expects.
const SIGNED_HEADERS: &str = "x-ms-date;host;x-ms-content-sha256";

/// Standard base64 that accepts keys with or without `=` padding.
const LENIENT_BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// An ACS access key, ready to sign.
///
/// Its `Debug` output never shows the key.
#[derive(Clone)]
pub struct AccessKey(Hmac<Sha256>);

impl AccessKey {
    /// Takes the key as the Azure portal and connection strings show it: base64.
    ///
    /// # Errors
    ///
    /// [`AcsError::InvalidConfig`] when the text is empty or not base64; the error never
    /// contains the text.
    pub fn from_base64(key: &str) -> Result<Self, AcsError> {
        let key = key.trim();
        if key.is_empty() {
            return Err(AcsError::InvalidConfig("the access key is empty".into()));
        }

        let bytes = LENIENT_BASE64
            .decode(key)
            .map_err(|_| AcsError::InvalidConfig("the access key is not valid base64".into()))?;
        Self::from_bytes(&bytes)
    }

    /// Takes the already decoded key bytes.
    ///
    /// # Errors
    ///
    /// [`AcsError::InvalidConfig`] if HMAC-SHA256 refuses the key, which it does for no length.
    pub fn from_bytes(key: &[u8]) -> Result<Self, AcsError> {
        Hmac::<Sha256>::new_from_slice(key)
            .map(Self)
            .map_err(|_| AcsError::InvalidConfig("the access key cannot key HMAC-SHA256".into()))
    }

    /// The base64 HMAC-SHA256 of `string_to_sign` under this key.
    pub fn sign(&self, string_to_sign: &str) -> String {
        let mut mac = self.0.clone();
        mac.update(string_to_sign.as_bytes());
        STANDARD.encode(mac.finalize().into_bytes())
    }
}

impl fmt::Debug for AccessKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AccessKey(<redacted>)")
    }
}

/// The three headers that authenticate one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestSignature {
    /// The `x-ms-date` header: the signing time, RFC 1123 in GMT.
    pub date: String,
    /// The `x-ms-content-sha256` header: base64 SHA-256 of the body.
    pub content_hash: String,
    /// The `Authorization` header.
    pub authorization: String,
}

/// Signs a request about to be sent to `url` with `method` and `body`, as of `now`.
///
/// `url` must be the URL exactly as it will be sent: its path and query and its host (with
/// any non-default port) are part of the signature.
pub fn sign_request(
    key: &AccessKey,
    method: &str,
    url: &Url,
    body: &[u8],
    now: SystemTime,
) -> RequestSignature {
    let date = http_date(now);
    let content_hash = content_hash(body);

    let to_sign = string_to_sign(
        method,
        &path_and_query(url),
        &date,
        &host_header(url),
        &content_hash,
    );
    let signature = key.sign(&to_sign);
    let authorization = format!("HMAC-SHA256 SignedHeaders={SIGNED_HEADERS}&Signature={signature}");

    RequestSignature {
        date,
        content_hash,
        authorization,
    }
}

/// `<VERB>\n<path and query>\n<date>;<host>;<content hash>`, the text the signature covers.
pub fn string_to_sign(
    method: &str,
    path_and_query: &str,
    date: &str,
    host: &str,
    content_hash: &str,
) -> String {
    format!(
        "{}\n{path_and_query}\n{date};{host};{content_hash}",
        method.to_ascii_uppercase()
    )
}

/// Base64 of the SHA-256 of `body`: the `x-ms-content-sha256` header.
pub fn content_hash(body: &[u8]) -> String {
    STANDARD.encode(Sha256::digest(body))
}

/// `time` as RFC 1123 in GMT, e.g. `Wed, 13 Apr 2022 18:09:12 GMT`.
pub fn http_date(time: SystemTime) -> String {
    httpdate::fmt_http_date(time)
}

/// The `Host` header value for `url`: the host, with `:port` when it is not the default.
pub fn host_header(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default();

    match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    }
}

/// The path and query of `url` as they appear on the request line.
pub fn path_and_query(url: &Url) -> String {
    match url.query() {
        Some(query) => format!("{}?{query}", url.path()),
        None => url.path().to_owned(),
    }
}

#[cfg(test)]
mod tests {
    //! The official vectors come from the Azure SDK for JavaScript's own signing tests.

    use std::time::Duration;

    use super::*;

    /// The access key of the official test vectors.
    fn vector_key() -> AccessKey {
        AccessKey::from_base64("pw==").expect("the test key is valid base64")
    }

    /// `Wed, 13 Apr 2022 18:09:12 GMT`.
    fn vector_date() -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_649_873_352)
    }

    /// The `Signature=` value of an `Authorization` header.
    fn signature_of(authorization: &str) -> &str {
        authorization
            .split_once("&Signature=")
            .map(|(_, signature)| signature)
            .expect("the header carries a signature")
    }

    /// The content hash is the base64 SHA-256 of the body, as in the official "banana" vector.
    #[test]
    fn sha256_of_banana() {
        assert_eq!(
            content_hash(b"banana"),
            "tJPUg2Sv5E0RwBZc9HCkFk0eJgmRHvmYvoaNRq3j3k4="
        );
    }

    /// The content hash covers the body's UTF-8 bytes, as in the official emoji vector.
    #[test]
    fn sha256_of_an_emoji() {
        assert_eq!(
            content_hash("😀".as_bytes()),
            "8EQ6NCxe9UeDoRG1G6Vsk45HTDIyTZDDpgycjjo34tk="
        );
    }

    /// `EMPTY_CONTENT_HASH` is the content hash of an empty body.
    #[test]
    fn sha256_of_the_empty_body() {
        assert_eq!(content_hash(b""), EMPTY_CONTENT_HASH);
    }

    /// Signing is base64 HMAC-SHA256 under the decoded key, as in the official "banana" vector.
    #[test]
    fn hmac_of_banana() {
        assert_eq!(
            vector_key().sign("banana"),
            "88EC05aAS9iXnaimtNO78JLjiPtfWryQB/5QYEzEsu8="
        );
    }

    /// Signing covers the UTF-8 bytes of the text, as in the official emoji vector.
    #[test]
    fn hmac_of_an_emoji() {
        assert_eq!(
            vector_key().sign("😀"),
            "1rudJKjn2Zi+3hRrBG29wIF6pD6YyAeQR1ZcFtXoKAU="
        );
    }

    /// A signed GET with a query gives the official date, empty-body hash and signature.
    #[test]
    fn whole_request_with_a_query() {
        let url = Url::parse("https://example.com/testPath?testQuery=test").expect("valid URL");
        let signed = sign_request(&vector_key(), "GET", &url, b"", vector_date());

        assert_eq!(signed.date, "Wed, 13 Apr 2022 18:09:12 GMT");
        assert_eq!(signed.content_hash, EMPTY_CONTENT_HASH);
        assert_eq!(
            signature_of(&signed.authorization),
            "DGdgwggJWnQyc6EHjR/Vbqg1ES64KpD6U2XwTDDj3tU="
        );
    }

    /// A signed GET without a query gives the official `Authorization` header exactly.
    #[test]
    fn whole_request_without_a_query() {
        let url = Url::parse("https://example.com/testPath").expect("valid URL");
        let signed = sign_request(&vector_key(), "GET", &url, b"", vector_date());

        assert_eq!(
            signed.authorization,
            "HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256\
             &Signature=+6tWkg3lNKVjQHHmxkdGQcJjUgzclsWTMebnuCz1ngU="
        );
    }

    /// The signed host drops the scheme's default port but keeps any other, IPv6 included.
    #[test]
    fn host_keeps_only_a_non_default_port() {
        let url = |text| Url::parse(text).expect("valid URL");

        assert_eq!(host_header(&url("https://a.example:443/x")), "a.example");
        assert_eq!(
            host_header(&url("http://127.0.0.1:8080/x")),
            "127.0.0.1:8080"
        );
        assert_eq!(host_header(&url("http://[::1]:8080/")), "[::1]:8080");
    }

    /// The signed text is the upper-cased verb, the path and query, and `date;host;hash`.
    #[test]
    fn string_to_sign_layout() {
        assert_eq!(
            string_to_sign("post", "/p?q=1", "DATE", "h:1", "HASH"),
            "POST\n/p?q=1\nDATE;h:1;HASH"
        );
    }

    /// Blank or non-base64 keys are refused without quoting them; `=` padding is optional.
    #[test]
    fn bad_keys_are_refused_without_echo() {
        let err = AccessKey::from_base64("not base64!").expect_err("refused");
        assert!(!err.to_string().contains("not base64!"));
        assert!(AccessKey::from_base64("  ").is_err());
        assert!(AccessKey::from_base64("pw").is_ok(), "padding is optional");
    }

    /// An access key's `Debug` output is redacted.
    #[test]
    fn debug_hides_the_key() {
        assert_eq!(format!("{:?}", vector_key()), "AccessKey(<redacted>)");
    }
}
