//! Where the application keeps what it knows of messages: those received, and for each one sent,
//! its delivery status with the timeline of updates.
//!
//! [`MessageStore`] is the seam for a durable store (a table or a database shared by every
//! instance); [`InMemoryStore`] is the embedded default, bounded in size and lost on restart.
//!
//! Statuses only move forward, however updates are ordered or repeated: `read` implies
//! `delivered` implies `sent`, and `failed` is final. The current status is the most advanced one
//! in the timeline, so applying the same updates in any order gives the same state, and applying
//! an event twice changes nothing.

use std::{
    collections::{HashMap, VecDeque},
    future::Future,
    sync::{Arc, Mutex, PoisonError},
};

use thiserror::Error;
use time::OffsetDateTime;

use crate::events::{ChannelError, DeliveryStatus, MessageKind, MessageReceived};

/// A message a customer sent, as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct ReceivedRecord {
    /// The id of the event that carried it.
    pub event_id: String,
    /// What kind of message it is.
    pub kind: MessageKind,
    /// The message itself (it holds personal data).
    pub message: MessageReceived,
}

/// One delivery status update of a sent message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusUpdate {
    /// The id of the event that carried it; an event is applied once.
    pub event_id: String,
    /// The status it reports.
    pub status: DeliveryStatus,
    /// When the channel reported it.
    pub at: Option<OffsetDateTime>,
    /// The channel's error, on failures.
    pub error: Option<ChannelError>,
}

/// What is known of a message the business sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SentMessage {
    /// The id the send API returned.
    pub message_id: String,
    /// The most advanced status so far; `None` until a `sent`, `delivered`, `read` or `failed`.
    pub status: Option<DeliveryStatus>,
    /// The error of the update that set the status, if it had one.
    pub error: Option<ChannelError>,
    /// Every update applied, ordered by time, then by progress, then by event id.
    pub timeline: Vec<StatusUpdate>,
}

/// A store that cannot be reached; the invocation fails as transient.
#[derive(Debug, Error)]
#[error("message store: {0}")]
pub struct StoreError(pub String);

/// Storage of received messages and of the delivery status of sent ones.
pub trait MessageStore: Send + Sync + 'static {
    /// Keeps a received message under its message id (or its event id when it has none).
    fn record_received(
        &self,
        record: ReceivedRecord,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Notes that the business sent `message_id`, before any status arrives.
    fn record_sent(&self, message_id: &str) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Applies a status update to `message_id` and returns the message's state after it.
    fn apply_status(
        &self,
        message_id: &str,
        update: StatusUpdate,
    ) -> impl Future<Output = Result<SentMessage, StoreError>> + Send;

    /// A received message by id.
    fn received(
        &self,
        message_id: &str,
    ) -> impl Future<Output = Result<Option<ReceivedRecord>, StoreError>> + Send;

    /// A sent message by id.
    fn sent(
        &self,
        message_id: &str,
    ) -> impl Future<Output = Result<Option<SentMessage>, StoreError>> + Send;
}

/// How far a status is along the way; statuses that say nothing of progress rank 0.
fn progress(status: &DeliveryStatus) -> u8 {
    match status {
        DeliveryStatus::Sent => 1,
        DeliveryStatus::Delivered => 2,
        DeliveryStatus::Read => 3,
        DeliveryStatus::Failed => 4,
        _ => 0,
    }
}

impl SentMessage {
    /// Applies `update` unless its event was applied already; the result does not depend on the
    /// order in which updates arrive.
    pub fn apply(&mut self, update: StatusUpdate) {
        // Apply each event once.
        if self
            .timeline
            .iter()
            .any(|known| known.event_id == update.event_id)
        {
            return;
        }

        // Keep the timeline in an order that does not depend on arrival.
        let position = self
            .timeline
            .partition_point(|known| timeline_order(known) <= timeline_order(&update));
        self.timeline.insert(position, update);

        // The status is the most advanced in the timeline; ties go to the latest.
        let current = self
            .timeline
            .iter()
            .filter(|u| progress(&u.status) > 0)
            .max_by_key(|u| (progress(&u.status), u.at, u.event_id.as_str()));
        self.status = current.map(|u| u.status.clone());
        self.error = current.and_then(|u| u.error.clone());
    }
}

/// Where an update stands in a timeline: by time, then by progress, then by event id.
fn timeline_order(update: &StatusUpdate) -> (Option<OffsetDateTime>, u8, &str) {
    (update.at, progress(&update.status), &update.event_id)
}

/// A bounded map that forgets its oldest entries first.
#[derive(Debug)]
struct Bounded<V> {
    /// The entries.
    entries: HashMap<Arc<str>, V>,
    /// The keys, oldest first, shared with `entries`.
    order: VecDeque<Arc<str>>,
    /// How many entries it keeps.
    capacity: usize,
}

impl<V> Bounded<V> {
    /// An empty map keeping up to `capacity` entries.
    fn new(capacity: usize) -> Self {
        Self {
            entries: HashMap::new(),
            order: VecDeque::new(),
            capacity,
        }
    }

    /// The entry for `key`, made with `make` when missing (possibly forgetting the oldest).
    fn entry(&mut self, key: &str, make: impl FnOnce() -> V) -> &mut V {
        let key = match self.entries.get_key_value(key) {
            Some((known, _)) => Arc::clone(known),
            None => self.admit(key.into()),
        };
        self.entries.entry(key).or_insert_with(make)
    }

    /// Sets the entry for `key` to `value`.
    fn insert(&mut self, key: Arc<str>, value: V) {
        if let Some(slot) = self.entries.get_mut(&key) {
            *slot = value;
            return;
        }
        let key = self.admit(key);
        self.entries.insert(key, value);
    }

    /// Makes room for a new key and queues it as the newest.
    fn admit(&mut self, key: Arc<str>) -> Arc<str> {
        self.make_room();
        self.order.push_back(Arc::clone(&key));
        key
    }

    /// Forgets the oldest entries until there is room for one more.
    fn make_room(&mut self) {
        while self.order.len() >= self.capacity.max(1) {
            if let Some(oldest) = self.order.pop_front() {
                self.entries.remove(&oldest);
            }
        }
    }
}

/// The embedded store: in memory, bounded, lost on restart, not shared between instances.
#[derive(Debug)]
pub struct InMemoryStore {
    /// Received messages by message id.
    received: Mutex<Bounded<ReceivedRecord>>,
    /// Sent messages by message id.
    sent: Mutex<Bounded<SentMessage>>,
}

impl InMemoryStore {
    /// A store keeping up to `capacity` received and `capacity` sent messages.
    pub fn new(capacity: usize) -> Self {
        Self {
            received: Mutex::new(Bounded::new(capacity)),
            sent: Mutex::new(Bounded::new(capacity)),
        }
    }
}

impl MessageStore for InMemoryStore {
    async fn record_received(&self, record: ReceivedRecord) -> Result<(), StoreError> {
        let key = record
            .message
            .message_id
            .as_deref()
            .unwrap_or(&record.event_id);
        let key: Arc<str> = key.into();
        let mut received = self.received.lock().unwrap_or_else(PoisonError::into_inner);
        received.insert(key, record);
        Ok(())
    }

    async fn record_sent(&self, message_id: &str) -> Result<(), StoreError> {
        let mut sent = self.sent.lock().unwrap_or_else(PoisonError::into_inner);
        sent.entry(message_id, || SentMessage {
            message_id: message_id.to_owned(),
            ..SentMessage::default()
        });
        Ok(())
    }

    async fn apply_status(
        &self,
        message_id: &str,
        update: StatusUpdate,
    ) -> Result<SentMessage, StoreError> {
        let mut sent = self.sent.lock().unwrap_or_else(PoisonError::into_inner);
        let message = sent.entry(message_id, || SentMessage {
            message_id: message_id.to_owned(),
            ..SentMessage::default()
        });
        message.apply(update);
        Ok(message.clone())
    }

    async fn received(&self, message_id: &str) -> Result<Option<ReceivedRecord>, StoreError> {
        let received = self.received.lock().unwrap_or_else(PoisonError::into_inner);
        Ok(received.entries.get(message_id).cloned())
    }

    async fn sent(&self, message_id: &str) -> Result<Option<SentMessage>, StoreError> {
        let sent = self.sent.lock().unwrap_or_else(PoisonError::into_inner);
        Ok(sent.entries.get(message_id).cloned())
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    /// An update of `status` from event `id` at minute `minute`.
    fn update(id: &str, status: DeliveryStatus, minute: u8) -> StatusUpdate {
        let at = datetime!(2026-12-01 10:00 UTC) + time::Duration::minutes(minute.into());
        StatusUpdate {
            event_id: id.to_owned(),
            status,
            at: Some(at),
            error: None,
        }
    }

    /// Every permutation of `items`.
    fn permutations<T: Clone>(items: &[T]) -> Vec<Vec<T>> {
        if items.len() <= 1 {
            return vec![items.to_vec()];
        }
        let mut all = Vec::new();
        for i in 0..items.len() {
            let mut rest = items.to_vec();
            let first = rest.remove(i);
            for mut tail in permutations(&rest) {
                tail.insert(0, first.clone());
                all.push(tail);
            }
        }
        all
    }

    /// Applies `updates` in order, each twice, to a fresh message.
    fn applied(updates: &[StatusUpdate]) -> SentMessage {
        let mut message = SentMessage {
            message_id: "m".into(),
            ..SentMessage::default()
        };
        for update in updates.iter().chain(updates) {
            message.apply(update.clone());
        }
        message
    }

    /// Sent, delivered, read and a warning, applied in all 120 orders and each twice, end in
    /// one state: read, with the full timeline in time order.
    #[test]
    fn every_order_ends_in_the_same_state() {
        let updates = [
            update("e1", DeliveryStatus::Sent, 1),
            update("e2", DeliveryStatus::Delivered, 2),
            update("e3", DeliveryStatus::Read, 3),
            update("e4", DeliveryStatus::Warning, 4),
            update("e5", DeliveryStatus::Delivered, 2),
        ];
        let expected = applied(&updates);
        assert_eq!(expected.status, Some(DeliveryStatus::Read));
        assert_eq!(expected.timeline.len(), 5);
        for order in permutations(&updates) {
            assert_eq!(applied(&order), expected);
        }
    }

    /// `failed` is final: a later `read` or `delivered` does not undo it, in any order.
    #[test]
    fn failed_is_final() {
        let mut failed = update("f", DeliveryStatus::Failed, 2);
        failed.error = Some(ChannelError {
            channel_code: Some("131026".into()),
            channel_message: Some("Message Undeliverable.".into()),
        });
        let updates = [
            update("s", DeliveryStatus::Sent, 1),
            failed,
            update("r", DeliveryStatus::Read, 3),
        ];
        for order in permutations(&updates) {
            let message = applied(&order);
            assert_eq!(message.status, Some(DeliveryStatus::Failed));
            assert_eq!(
                message.error.and_then(|e| e.channel_code).as_deref(),
                Some("131026")
            );
        }
    }

    /// A status never moves backwards: `delivered` after `read` keeps `read`.
    #[test]
    fn status_only_moves_forward() {
        let message = applied(&[
            update("r", DeliveryStatus::Read, 3),
            update("d", DeliveryStatus::Delivered, 5),
        ]);
        assert_eq!(message.status, Some(DeliveryStatus::Read));
    }

    /// The store applies updates and keeps received and sent messages, bounded in count.
    #[tokio::test]
    async fn store_is_bounded() {
        let store = InMemoryStore::new(2);
        for id in ["a", "b", "c"] {
            store
                .apply_status(id, update(id, DeliveryStatus::Sent, 1))
                .await
                .unwrap();
        }
        assert!(store.sent("a").await.unwrap().is_none());
        assert_eq!(
            store.sent("c").await.unwrap().and_then(|m| m.status),
            Some(DeliveryStatus::Sent)
        );
        store.record_sent("d").await.unwrap();
        assert_eq!(store.sent("d").await.unwrap().map(|m| m.status), Some(None));
    }
}
