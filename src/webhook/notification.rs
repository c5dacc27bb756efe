//! A notification's events, each dispatched concurrently as its own invocation, the way the host
//! invokes the handler once per event of a delivery.
//!
//! Each event gets a generated invocation id and runs inside [`logging::capture`]; since there
//! is no host to carry `Logs`, its lines are written to stdout (info) and stderr (warnings and
//! errors, at once) when it ends. A poison event is kept in the poison folder; when it cannot be
//! kept, the event fails, so Event Grid delivers it again.

use std::{
    collections::hash_map::RandomState,
    hash::BuildHasher,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
};

use serde_json::value::RawValue;

use super::poison_files::PoisonFiles;
use crate::{
    business_logic::BusinessLogic,
    dispatch::{Dispatcher, Outcome},
    logging,
};

/// What became of a notification's events.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Delivered {
    /// Events in the notification.
    pub events: usize,
    /// Events that failed: Event Grid must deliver the notification again.
    pub failed: usize,
}

/// Dispatches every event concurrently and waits for all of them.
pub async fn deliver<L: BusinessLogic>(
    dispatcher: &Arc<Dispatcher<L>>,
    poison: &Arc<PoisonFiles>,
    events: Vec<Box<RawValue>>,
) -> Delivered {
    // Start every event at once, each as its own task.
    let tasks: Vec<_> = events
        .into_iter()
        .map(|event| {
            let dispatcher = Arc::clone(dispatcher);
            let poison = Arc::clone(poison);
            actix_web::rt::spawn(async move { handle(&dispatcher, &poison, &event).await })
        })
        .collect();

    // Wait for all; a task that did not finish counts as failed.
    let mut delivered = Delivered {
        events: tasks.len(),
        failed: 0,
    };
    for task in tasks {
        if !matches!(task.await, Ok(true)) {
            delivered.failed += 1;
        }
    }
    delivered
}

/// Handles one event as its own invocation; whether it went through.
async fn handle<L: BusinessLogic>(
    dispatcher: &Dispatcher<L>,
    poison: &PoisonFiles,
    event: &RawValue,
) -> bool {
    // Dispatch it with its records gathered, and keep it when it is poison.
    let invocation_id = new_invocation_id();
    let (through, logs) = logging::capture(&invocation_id, async {
        let report = dispatcher.dispatch(&invocation_id, event).await;
        match report.outcome {
            Outcome::Failed => false,
            Outcome::Poison => match poison.keep(&report, &invocation_id, event) {
                Ok(path) => {
                    log::info!("kept the poison event in {}", path.display());
                    true
                }
                Err(err) => {
                    log::error!(
                        "cannot keep the poison event in {}, so it fails and Event Grid will \
                         retry: {err}",
                        poison.dir().display()
                    );
                    false
                }
            },
            Outcome::Handled | Outcome::Ignored | Outcome::Duplicate => true,
        }
    })
    .await;

    // Write its lines out, since no host carries them.
    logs.release();
    through
}

/// A new invocation id, shaped like the host's GUIDs: random, and unique within the process.
fn new_invocation_id() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    let high = RandomState::new().hash_one(count);
    let low = RandomState::new().hash_one(count);
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        high >> 32,
        (high >> 16) & 0xffff,
        high & 0x0fff,
        0x8000 | ((low >> 48) & 0x3fff),
        low & 0xffff_ffff_ffff
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Invocation ids look like GUIDs and differ.
    #[test]
    fn invocation_ids() {
        let first = new_invocation_id();
        let second = new_invocation_id();
        assert_ne!(first, second);
        assert_eq!(first.len(), 36);
        assert!(first.chars().all(|c| c.is_ascii_hexdigit() || c == '-'));
    }
}
