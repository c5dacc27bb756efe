//! Request ids: the repeatability headers that make a send safe to retry, and tracing ids.
//!
//! ACS remembers a send's `Repeatability-Request-ID` for a while. Sending again with the same
//! id does not send the message twice: the answer carries `Repeatability-Result: rejected`.
//! Deriving the id from the triggering event's id makes a redelivered event map to the same id,
//! so the handler can retry or be re-invoked without double messages.

use std::{
    process,
    sync::atomic::{AtomicU64, Ordering},
    time::{SystemTime, UNIX_EPOCH},
};

use sha2::{Digest, Sha256};

/// The repeatability headers of one logical send.
///
/// Keep the same value for every attempt of that send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repeatability {
    /// Sent as `Repeatability-Request-ID`: unique to this logical request, in UUID form.
    pub request_id: String,
    /// Sent as `Repeatability-First-Sent` (RFC 1123): when the first attempt was made.
    pub first_sent: SystemTime,
}

impl Repeatability {
    /// Repeatability for a request whose id the caller already has.
    pub fn new(request_id: impl Into<String>, first_sent: SystemTime) -> Self {
        Self {
            request_id: request_id.into(),
            first_sent,
        }
    }

    /// Repeatability for a send triggered by the event `key`, first attempted at `first_sent`.
    ///
    /// The id is [`request_id_for_event`] of `key`. When one event leads to more than one send,
    /// give each its own key (for example `"<event id>/reaction"` and `"<event id>/reply"`), or
    /// the second would be taken for a repeat of the first. `first_sent` is best taken from the
    /// event (its time), so every redelivery states the same first attempt.
    pub fn for_event(key: &str, first_sent: SystemTime) -> Self {
        Self::new(request_id_for_event(key), first_sent)
    }
}

/// A stable request id for an event: the same `event_id` always gives the same id.
///
/// The id is the first 16 bytes of SHA-256 of the UTF-8 `event_id`, with the UUID version set
/// to 8 (custom) and the RFC 9562 variant bits, written `8-4-4-4-12` in lowercase hex.
pub fn request_id_for_event(event_id: &str) -> String {
    uuid_from_digest(&Sha256::digest(event_id.as_bytes()))
}

/// A fresh `x-ms-client-request-id`, unique within and across processes in practice.
///
/// Not random: the hash of the time, the process id and a counter, which is enough for a
/// tracing id and needs no source of randomness.
pub(crate) fn new_client_request_id() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);

    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_nanos())
        .unwrap_or_default();
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);

    let mut hasher = Sha256::new();
    hasher.update(nanos.to_le_bytes());
    hasher.update(process::id().to_le_bytes());
    hasher.update(count.to_le_bytes());
    uuid_from_digest(&hasher.finalize())
}

/// Formats the first 16 bytes of `digest` as a version 8 UUID.
fn uuid_from_digest(digest: &[u8]) -> String {
    let mut bytes = [0_u8; 16];
    for (byte, source) in bytes.iter_mut().zip(digest) {
        *byte = *source;
    }

    // Version 8 in the high nibble of byte 6, variant `10` in the top bits of byte 8.
    bytes[6] = (bytes[6] & 0x0f) | 0x80;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;

    let hex: String = bytes.iter().map(|byte| format!("{byte:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether `id` is a lowercase `8-4-4-4-12` UUID with version 8 and the RFC 9562 variant.
    fn is_uuid_v8(id: &str) -> bool {
        let groups: Vec<&str> = id.split('-').collect();
        let lengths: Vec<usize> = groups.iter().map(|group| group.len()).collect();

        lengths == [8, 4, 4, 4, 12]
            && id
                .chars()
                .all(|c| c == '-' || c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
            && groups[2].starts_with('8')
            && groups[3].starts_with(['8', '9', 'a', 'b'])
    }

    /// The same event id always gives the same version 8 UUID, and another id another.
    #[test]
    fn event_ids_map_to_stable_uuids() {
        let id = request_id_for_event("0f0eb78e-a576-1dfc-b414-0f0756de3338");

        assert_eq!(
            id,
            request_id_for_event("0f0eb78e-a576-1dfc-b414-0f0756de3338")
        );
        assert_ne!(
            id,
            request_id_for_event("0f0eb78e-a576-1dfc-b414-0f0756de3339")
        );
        assert!(is_uuid_v8(&id), "{id}");
    }

    /// The request id is the id's SHA-256 prefix with the UUID version and variant bits set.
    #[test]
    fn event_id_derivation_is_pinned() {
        // SHA-256("banana") = b493d483 64afe44d 11c0165c f470a416 ...
        assert_eq!(
            request_id_for_event("banana"),
            "b493d483-64af-844d-91c0-165cf470a416"
        );
    }

    /// Two client request ids in a row differ, and each is a version 8 UUID.
    #[test]
    fn client_request_ids_differ() {
        let first = new_client_request_id();
        let second = new_client_request_id();

        assert_ne!(first, second);
        assert!(is_uuid_v8(&first), "{first}");
    }

    /// Repeatability for an event carries the event's derived request id and the given time.
    #[test]
    fn repeatability_for_event_uses_the_derived_id() {
        let at = SystemTime::UNIX_EPOCH;
        let repeatability = Repeatability::for_event("event-1", at);

        assert_eq!(repeatability.request_id, request_id_for_event("event-1"));
        assert_eq!(repeatability.first_sent, at);
    }
}
