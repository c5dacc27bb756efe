//! Who may deliver to the standalone webhook: a key, required when the webhook listens beyond
//! loopback, carried as the `code` query parameter or the `x-functions-key` header, the way the
//! Functions host takes its keys.
//!
//! The key is compared in constant time and never logged or echoed.

use std::net::SocketAddr;

use actix_web::HttpRequest;

use crate::config::Secret;

/// The header that may carry the key.
pub const KEY_HEADER: &str = "x-functions-key";

/// The query parameter that may carry the key.
pub const KEY_PARAMETER: &str = "code";

/// Checks that the webhook may listen on `address` with the key it has.
///
/// # Errors
///
/// Returns the one-line reason when `address` is not loopback and there is no key: anyone who
/// can reach the address could then deliver events.
pub fn check_exposure(address: SocketAddr, key: Option<&Secret>) -> Result<(), String> {
    if address.ip().is_loopback() || key.is_some() {
        return Ok(());
    }
    Err(format!(
        "refusing to listen on {address} without a key: set WEBHOOK_KEY (at least {} \
         characters), or listen on 127.0.0.1",
        Secret::MIN_LEN
    ))
}

/// Whether the request carries `key` in its `code` query parameter or its `x-functions-key`
/// header.
pub fn carries_key(request: &HttpRequest, query: &[(String, String)], key: &Secret) -> bool {
    let expected = key.expose().as_bytes();
    let in_query = query
        .iter()
        .filter(|(name, _)| name == KEY_PARAMETER)
        .any(|(_, value)| same_bytes(value.as_bytes(), expected));
    let in_header = request
        .headers()
        .get_all(KEY_HEADER)
        .any(|value| same_bytes(value.as_bytes(), expected));
    in_query | in_header
}

/// Compares `given` with `expected` in a time that depends only on `expected`'s length.
fn same_bytes(given: &[u8], expected: &[u8]) -> bool {
    let mut difference = given.len() ^ expected.len();
    for (index, byte) in expected.iter().enumerate() {
        let other = given.get(index).copied().unwrap_or(!byte);
        difference |= usize::from(other ^ byte);
    }
    std::hint::black_box(difference) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Equal bytes match; a different length, a prefix or one changed byte do not.
    #[test]
    fn comparison() {
        let key = b"0123456789abcdef";
        assert!(same_bytes(key, key));
        assert!(!same_bytes(b"0123456789abcdeF", key));
        assert!(!same_bytes(b"0123456789abcde", key));
        assert!(!same_bytes(b"0123456789abcdef0", key));
        assert!(!same_bytes(b"", key));
    }

    /// Loopback needs no key; any other address does.
    #[test]
    fn exposure() {
        let loopback: SocketAddr = "127.0.0.1:7071".parse().unwrap();
        let any: SocketAddr = "0.0.0.0:7071".parse().unwrap();
        let v6: SocketAddr = "[::1]:7071".parse().unwrap();
        assert!(check_exposure(loopback, None).is_ok());
        assert!(check_exposure(v6, None).is_ok());
        let err = check_exposure(any, None).unwrap_err();
        assert!(err.contains("WEBHOOK_KEY") && !err.contains('\n'), "{err}");
    }
}
