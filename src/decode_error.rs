//! Reasons for decoding failures that name the member and the problem without quoting values.
//!
//! serde's messages quote the offending value (`invalid type: string "Hi, it's Ana"`), and the
//! value may be personal data, while these reasons are logged at error level and kept in the
//! poison queue. A reason here names the member's path and the JSON types involved instead:
//!
//! ```text
//! data.media.animated: invalid type: found a string, expected a boolean
//! ```

use serde::de::DeserializeOwned;

/// Decodes `text` as `T`; on failure, returns a reason without quoted values.
///
/// Decoding is done once on the fast path; only a failure decodes again, tracking the path.
///
/// # Errors
///
/// Returns the reason, prefixed by `prefix` and the failing member's path.
pub fn decode<T: DeserializeOwned>(text: &str, prefix: &str) -> Result<T, String> {
    serde_json::from_str(text).map_err(|_| reason::<T>(text, prefix))
}

/// Builds the reason for a text that does not decode as `T`.
pub fn reason<T: DeserializeOwned>(text: &str, prefix: &str) -> String {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let Err(err) = serde_path_to_error::deserialize::<_, T>(&mut deserializer) else {
        return format!("{prefix}: could not be decoded");
    };
    let path = err.path().to_string();
    let message = describe(err.inner());
    match path.as_str() {
        "." | "" => format!("{prefix}: {message}"),
        _ => format!("{prefix}.{path}: {message}"),
    }
}

/// Describes a serde_json error without the values it quotes.
pub fn describe(err: &serde_json::Error) -> String {
    let text = err.to_string();
    let message = text
        .rsplit_once(" at line ")
        .map_or(text.as_str(), |(message, _)| message);
    for marker in ["invalid type: ", "invalid value: "] {
        if let Some(rest) = message.strip_prefix(marker) {
            let found = rest.split([' ', ',']).next().unwrap_or("value");
            let expected = rest
                .rsplit_once(", expected ")
                .map_or("", |(_, expected)| expected);
            return format!(
                "{marker}found {} {found}, expected {expected}",
                article(found)
            );
        }
    }
    message.to_owned()
}

/// `a` or `an` before a JSON type's name.
fn article(word: &str) -> &'static str {
    match word.chars().next() {
        Some('a' | 'e' | 'i' | 'o' | 'u') => "an",
        _ => "a",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Probe {
        media: Option<Media>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Media {
        animated: Option<bool>,
        caption: Option<String>,
    }

    /// A wrong type deep in the data is named by its path and never quotes the value.
    #[test]
    fn reason_names_path_without_value() {
        let text = r#"{"media": {"caption": "secret caption 8812", "animated": "yes"}}"#;
        let reason = decode::<Probe>(text, "data").unwrap_err();
        assert_eq!(
            reason,
            "data.media.animated: invalid type: found a string, expected a boolean"
        );
    }

    /// Numbers, which may be phone numbers, are not quoted either.
    #[test]
    fn reason_hides_numbers() {
        let reason = decode::<Probe>(r#"{"media": {"caption": 14255550101}}"#, "data").unwrap_err();
        assert!(!reason.contains("14255550101"), "{reason}");
        assert!(reason.starts_with("data.media.caption: invalid type: found an integer"));
    }

    /// Syntax errors keep serde's description, which quotes nothing.
    #[test]
    fn syntax_errors_are_described() {
        let reason = decode::<Probe>(r#"{"media": "#, "data").unwrap_err();
        assert!(reason.contains("EOF while parsing"), "{reason}");
    }
}
