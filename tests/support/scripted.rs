//! Business logic that does what a received message's text says, for tests of faults: `panic`,
//! `transient`, `permanent`, `hang` (an hour) and `slow` ([`SLOW`]); anything else is handled.
//! It counts its calls.

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use amh::{
    business_logic::{BusinessLogic, EventContext, LogicError},
    events::{DeliveryStatusUpdated, MessageReceived},
};

/// How long a `slow` message takes.
pub const SLOW: Duration = Duration::from_millis(400);

/// The scripted business logic; clones share the count.
#[derive(Clone, Default)]
pub struct Scripted {
    /// Calls of either method so far.
    pub calls: Arc<AtomicUsize>,
}

impl BusinessLogic for Scripted {
    async fn on_message_received(
        &self,
        _ctx: &EventContext,
        message: MessageReceived,
    ) -> Result<(), LogicError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        match message.content.as_deref() {
            Some("panic") => panic!("business logic failed on purpose"),
            Some("transient") => Err(LogicError::Transient("the store is down".into())),
            Some("permanent") => Err(LogicError::Permanent("the reply was refused".into())),
            Some("hang") => {
                tokio::time::sleep(Duration::from_secs(3600)).await;
                Ok(())
            }
            Some("slow") => {
                tokio::time::sleep(SLOW).await;
                Ok(())
            }
            _ => Ok(()),
        }
    }

    async fn on_delivery_status_updated(
        &self,
        _ctx: &EventContext,
        _update: DeliveryStatusUpdated,
    ) -> Result<(), LogicError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}
