//! Any text as one event: the envelope, both typed data models and dispatch never panic, and
//! dispatch agrees with the envelope about what the event is.

#![no_main]

use amh::{
    dispatch::Outcome,
    envelope::Envelope,
    events::{DeliveryStatusUpdated, MessageReceived},
};
use amh_fuzz::{INVOCATION_ID, dispatcher, runtime};
use libfuzzer_sys::fuzz_target;
use serde_json::value::RawValue;

fuzz_target!(|bytes: &[u8]| {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return;
    };

    // Read the text as an envelope, and as each data type, classifying what decodes.
    let envelope = Envelope::from_json(text);
    if let Ok(envelope) = &envelope {
        assert!(!envelope.id.is_empty() && !envelope.event_type.is_empty());
    }
    if let Ok(message) = serde_json::from_str::<MessageReceived>(text) {
        let _ = (
            message.kind().as_str(),
            message.sender().map(|sender| sender.label()),
        );
    }
    let _ = serde_json::from_str::<DeliveryStatusUpdated>(text);

    // Dispatch it: poison exactly when it cannot be decoded, never a failure.
    let Ok(raw) = RawValue::from_string(text.to_owned()) else {
        return;
    };
    let dispatcher = dispatcher();
    let before = dispatcher.logic().calls();
    let report = runtime().block_on(dispatcher.dispatch(INVOCATION_ID, &raw));
    let calls = dispatcher.logic().calls() - before;
    match report.outcome {
        Outcome::Handled | Outcome::Ignored => {
            assert_eq!(calls, 1, "acknowledged without business logic: {report:?}");
            assert!(envelope.is_ok(), "dispatched an event without an envelope");
        }
        Outcome::Poison => {
            assert_eq!(calls, 0, "business logic saw a poison event: {report:?}");
            assert!(!report.detail.is_empty(), "poison without a reason");
        }
        Outcome::Duplicate | Outcome::Failed => panic!("undefined outcome: {report:?}"),
    }
    assert_eq!(report.id.is_some(), envelope.is_ok(), "{report:?}");
});
