//! Recently handled event ids, so that a redelivered event is acknowledged without running the
//! business logic again.
//!
//! Event Grid delivers at least once: when any event of a delivery fails, it redelivers the whole
//! delivery, repeating events that already succeeded. This process remembers the ids of events
//! it handled within a window (bounded in count, oldest forgotten first) and answers their
//! redeliveries as duplicates.
//!
//! It covers one process only. When the function app scales out, a redelivery may reach another
//! instance, which has not seen the event; and a restart forgets everything. Business logic must
//! stay idempotent for that reason (the reference application's replies carry repeatability
//! headers, so the Messages API itself refuses to send a reply twice).

use std::{
    collections::{HashMap, VecDeque},
    sync::{Arc, Mutex, PoisonError},
    time::{Duration, Instant},
};

/// A bounded set of event ids handled within a window.
#[derive(Debug)]
pub struct RecentEvents {
    /// How long an id is remembered.
    window: Duration,
    /// How many ids are remembered at most.
    capacity: usize,
    /// The ids with when they were handled, and their order of arrival.
    inner: Mutex<Inner>,
}

/// The guarded state.
#[derive(Debug, Default)]
struct Inner {
    /// When each remembered id was handled.
    seen: HashMap<Arc<str>, Instant>,
    /// The remembered ids, oldest first, shared with `seen`.
    order: VecDeque<(Arc<str>, Instant)>,
}

impl RecentEvents {
    /// Remembers up to `capacity` ids, each for `window`.
    pub fn new(window: Duration, capacity: usize) -> Self {
        Self {
            window,
            capacity,
            inner: Mutex::new(Inner::default()),
        }
    }

    /// Whether `id` was handled within the window.
    pub fn contains(&self, id: &str) -> bool {
        let now = Instant::now();
        let mut inner = self.lock();
        inner.expire(now, self.window);
        inner.seen.contains_key(id)
    }

    /// Remembers that `id` was handled now.
    pub fn insert(&self, id: &str) {
        if self.capacity == 0 || self.window.is_zero() {
            return;
        }
        let now = Instant::now();
        let mut inner = self.lock();
        inner.expire(now, self.window);
        let id: Arc<str> = match inner.seen.get_key_value(id) {
            Some((known, _)) => Arc::clone(known),
            None => id.into(),
        };
        inner.seen.insert(Arc::clone(&id), now);
        inner.order.push_back((id, now));
        while inner.order.len() > self.capacity {
            if let Some((oldest, at)) = inner.order.pop_front() {
                inner.forget(&oldest, at);
            }
        }
    }

    /// How many ids are remembered now.
    pub fn len(&self) -> usize {
        self.lock().seen.len()
    }

    /// Whether no id is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The state, even if a panic poisoned the lock (the state stays consistent either way).
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Inner {
    /// Forgets the ids handled before the window.
    fn expire(&mut self, now: Instant, window: Duration) {
        while let Some((_, at)) = self.order.front() {
            if now.duration_since(*at) < window {
                break;
            }
            if let Some((id, at)) = self.order.pop_front() {
                self.forget(&id, at);
            }
        }
    }

    /// Forgets `id` if it was last handled `at`; an id handled again since stays.
    fn forget(&mut self, id: &str, at: Instant) {
        if self.seen.get(id) == Some(&at) {
            self.seen.remove(id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An id is remembered within the window and forgotten after it.
    #[test]
    fn remembers_within_the_window() {
        let recent = RecentEvents::new(Duration::from_millis(50), 10);
        recent.insert("a");
        assert!(recent.contains("a"));
        assert!(!recent.contains("b"));
        std::thread::sleep(Duration::from_millis(60));
        assert!(!recent.contains("a"));
        assert!(recent.is_empty());
    }

    /// Memory stays bounded: past the capacity the oldest ids are forgotten first.
    #[test]
    fn bounded_by_capacity() {
        let recent = RecentEvents::new(Duration::from_secs(60), 3);
        for id in ["a", "b", "c", "d", "b"] {
            recent.insert(id);
        }
        assert_eq!(recent.len(), 3);
        assert!(!recent.contains("a"));
        assert!(recent.contains("b") && recent.contains("c") && recent.contains("d"));
    }

    /// An id handled again counts from its latest handling and takes no more room than once.
    #[test]
    fn handled_again_counts_from_the_latest() {
        let recent = RecentEvents::new(Duration::from_millis(1000), 2);
        recent.insert("a");
        std::thread::sleep(Duration::from_millis(600));
        recent.insert("a");
        recent.insert("a");
        std::thread::sleep(Duration::from_millis(600));
        assert!(
            recent.contains("a"),
            "forgotten by its first handling's time"
        );
        assert_eq!(recent.len(), 1);
        assert!(recent.lock().order.len() <= 2);
        std::thread::sleep(Duration::from_millis(600));
        assert!(!recent.contains("a") && recent.is_empty());
    }

    /// A zero window or capacity turns the check off.
    #[test]
    fn zero_disables() {
        let recent = RecentEvents::new(Duration::ZERO, 10);
        recent.insert("a");
        assert!(!recent.contains("a"));
    }
}
