//! What the load generator sends: the host's invocation request, byte for byte.
//!
//! The body is a host request body read from a JSON file (by default the seed's text message,
//! `payloads/advanced-message-received-text.json`), compacted the way the host sends it, with its
//! keys kept in order. Every request carries a fresh invocation id and, when the event's id is a
//! GUID, a fresh event id too, so a handler that remembers ids sees no repeats. Both are
//! rewritten in place in a per-connection copy of the request: no allocation per request.
//!
//! ```text
//! POST /EventGridTrigger HTTP/1.1
//! Host: 127.0.0.1:<port>
//! Content-Type: application/json; charset=utf-8
//! X-Azure-Functions-InvocationId: <conn>-<run>-4000-8000-<seq>
//! X-Azure-Functions-HostVersion: 4.1040.300.0
//! User-Agent: Azure-Functions-Host/4.1040.300.0
//! Content-Length: <n>
//!
//! {"Data":{"eventGridEvent":{"id":"<conn>-<run>-4000-a000-<seq>",...}},"Metadata":{...}}
//! ```

use std::{fs, path::Path};

use anyhow::{Context, Result, bail};
use serde_json::Value;

/// The default body: the seed's text message event inside the host's envelope.
const DEFAULT_BODY: &str = include_str!("../payloads/advanced-message-received-text.json");

/// The host version the requests claim to come from.
const HOST_VERSION: &str = "4.1040.300.0";

/// Length of a GUID in its 8-4-4-4-12 text form.
const GUID_LEN: usize = 36;

/// A host request body, compacted, with the place of the event id when it can be rewritten.
#[derive(Debug, Clone)]
pub struct Body {
    /// The compact JSON text sent on the wire.
    pub json: Vec<u8>,
    /// Offset of the event's GUID in `json`, when `Data.eventGridEvent.id` is a GUID.
    event_id_at: Option<usize>,
}

impl Body {
    /// Reads a host request body from `path`, or takes the default one.
    ///
    /// # Errors
    ///
    /// Fails when the file cannot be read, is not JSON, or has no `Data` object.
    pub fn load(path: Option<&Path>) -> Result<Body> {
        let text = match path {
            Some(path) => fs::read_to_string(path)
                .with_context(|| format!("reading the payload {}", path.display()))?,
            None => DEFAULT_BODY.to_owned(),
        };
        Body::parse(&text)
    }

    /// Compacts a host request body and finds its event id.
    fn parse(text: &str) -> Result<Body> {
        // Check the shape the host sends.
        let value: Value = serde_json::from_str(text).context("the payload is not JSON")?;
        let Some(data) = value.get("Data").filter(|data| data.is_object()) else {
            bail!("the payload must be a host request body: an object with a \"Data\" object");
        };

        // Compact it without reordering keys.
        let json = compact(text);

        // Find the event id, to be rewritten per request.
        let event_id = data
            .as_object()
            .and_then(|data| data.values().find_map(|event| event.get("id")))
            .and_then(Value::as_str)
            .filter(|id| id.len() == GUID_LEN);
        let event_id_at = event_id.and_then(|id| {
            let needle = format!("\"id\":\"{id}\"");
            find(&json, needle.as_bytes()).map(|at| at + needle.len() - 1 - GUID_LEN)
        });

        Ok(Body { json, event_id_at })
    }
}

/// A request to one server, copied once per connection and stamped before each send.
#[derive(Debug, Clone)]
pub struct Request {
    /// The whole request, head and body.
    pub bytes: Vec<u8>,
    /// Offset of the invocation id's GUID in `bytes`.
    invocation_id_at: usize,
    /// Offset of the event id's GUID in `bytes`, if the body has one.
    event_id_at: Option<usize>,
}

impl Request {
    /// Builds the host's `POST /<function>` request for a server on `port`.
    pub fn invocation(function: &str, port: u16, body: &Body) -> Request {
        let head = format!(
            "POST /{function} HTTP/1.1\r\n\
             Host: 127.0.0.1:{port}\r\n\
             Content-Type: application/json; charset=utf-8\r\n\
             X-Azure-Functions-InvocationId: "
        );
        let invocation_id_at = head.len();
        let rest = format!(
            "{guid}\r\n\
             X-Azure-Functions-HostVersion: {HOST_VERSION}\r\n\
             User-Agent: Azure-Functions-Host/{HOST_VERSION}\r\n\
             Content-Length: {len}\r\n\r\n",
            guid = "00000000-0000-4000-8000-000000000000",
            len = body.json.len(),
        );

        let mut bytes = Vec::with_capacity(head.len() + rest.len() + body.json.len());
        bytes.extend_from_slice(head.as_bytes());
        bytes.extend_from_slice(rest.as_bytes());
        let body_at = bytes.len();
        bytes.extend_from_slice(&body.json);

        Request {
            bytes,
            invocation_id_at,
            event_id_at: body.event_id_at.map(|at| body_at + at),
        }
    }

    /// Builds the host's readiness ping, `GET /`, on a connection it closes afterwards.
    pub fn ping(port: u16) -> Vec<u8> {
        format!("GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n")
            .into_bytes()
    }

    /// Writes unique ids for request `seq` of connection `conn` in run `run`.
    pub fn stamp(&mut self, conn: u32, run: u16, seq: u64) {
        write_guid(
            &mut self.bytes[self.invocation_id_at..],
            conn,
            run,
            b'8',
            seq,
        );
        if let Some(at) = self.event_id_at {
            write_guid(&mut self.bytes[at..], conn, run, b'a', seq);
        }
    }
}

/// Writes `cccccccc-rrrr-4000-v000-ssssssssssss` over the first 36 bytes of `out`.
fn write_guid(out: &mut [u8], conn: u32, run: u16, variant: u8, seq: u64) {
    write_hex(&mut out[0..8], u64::from(conn));
    write_hex(&mut out[9..13], u64::from(run));
    out[14..18].copy_from_slice(b"4000");
    out[19] = variant;
    out[20..23].copy_from_slice(b"000");
    write_hex(&mut out[24..36], seq);
}

/// Writes the low digits of `value` as lower-case hex, filling `out`.
fn write_hex(out: &mut [u8], mut value: u64) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for byte in out.iter_mut().rev() {
        *byte = DIGITS[(value & 0xf) as usize];
        value >>= 4;
    }
}

/// Removes the whitespace between JSON tokens, leaving strings untouched.
fn compact(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let (mut in_string, mut escaped) = (false, false);
    for &byte in text.as_bytes() {
        if in_string {
            out.push(byte);
            match byte {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
        } else if !byte.is_ascii_whitespace() {
            in_string = byte == b'"';
            out.push(byte);
        }
    }
    out
}

/// Finds the first occurrence of `needle` in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The default body compacts to valid JSON and its event id is found.
    #[test]
    fn default_body_is_compact_and_stampable() -> Result<()> {
        let body = Body::load(None)?;
        let text = std::str::from_utf8(&body.json)?;
        assert!(!text.contains(['\n', ' ']));
        assert!(text.starts_with("{\"Data\":{\"eventGridEvent\":{\"id\":\"00000000-"));
        serde_json::from_str::<Value>(text)?;
        assert!(body.event_id_at.is_some());
        Ok(())
    }

    /// Stamping writes distinct, well-formed ids into the head and the body.
    #[test]
    fn stamp_rewrites_both_ids() -> Result<()> {
        let body = Body::load(None)?;
        let mut request = Request::invocation("EventGridTrigger", 7071, &body);
        request.stamp(0x2a, 3, 0x1234);
        let text = String::from_utf8(request.bytes.clone())?;
        assert!(
            text.contains(
                "X-Azure-Functions-InvocationId: 0000002a-0003-4000-8000-000000001234\r\n"
            )
        );
        assert!(text.contains("\"id\":\"0000002a-0003-4000-a000-000000001234\""));

        let (_, json) = text.split_once("\r\n\r\n").unwrap_or_default();
        assert_eq!(json.len(), body.json.len());
        serde_json::from_str::<Value>(json)?;
        Ok(())
    }

    /// A payload without the host's envelope is refused.
    #[test]
    fn bare_event_is_refused() {
        assert!(Body::parse(r#"{"id":"x","eventType":"y"}"#).is_err());
    }
}
