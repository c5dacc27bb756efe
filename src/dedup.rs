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
    sync::{Mutex, PoisonError},
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
    seen: HashMap<Box<str>, Instant>,
    /// The remembered ids, oldest first.
    order: VecDeque<(Box<str>, Instant)>,
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
        if inner.seen.insert(id.into(), now).is_none() {
            inner.order.push_back((id.into(), now));
        }
        while inner.order.len() > self.capacity {
            if let Some((oldest, _)) = inner.order.pop_front() {
                inner.seen.remove(&oldest);
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
        while let Some((id, at)) = self.order.front() {
            if now.duration_since(*at) < window {
                break;
            }
            if self.seen.get(id) == Some(at) {
                self.seen.remove(id);
            }
            self.order.pop_front();
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

    /// A zero window or capacity turns the check off.
    #[test]
    fn zero_disables() {
        let recent = RecentEvents::new(Duration::ZERO, 10);
        recent.insert("a");
        assert!(!recent.contains("a"));
    }
}
