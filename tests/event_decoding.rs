//! Every fixture decoded: envelopes, typed data, classification and the dispatch outcome.

#![allow(clippy::expect_used, clippy::unwrap_used)]

mod support;

use amh::{
    dispatch::{DispatchSettings, Dispatcher, Outcome},
    envelope::{Envelope, Schema},
    events::{
        ChannelType, DeliveryStatus, DeliveryStatusUpdated, InteractiveReplyType, MessageKind,
        MessageReceived, MessageType, Sender,
    },
};
use serde_json::{Value, value::RawValue};
use support::{fixture, fixtures, scripted::Scripted};
use time::macros::datetime;

/// A fixture's received-message data.
fn received(name: &str) -> MessageReceived {
    serde_json::from_value(fixture(name)["data"].clone()).expect(name)
}

/// A fixture's status data.
fn status(name: &str) -> DeliveryStatusUpdated {
    serde_json::from_value(fixture(name)["data"].clone()).expect(name)
}

/// A fixture's event text, for reading its envelope.
fn event_text(name: &str) -> String {
    fixture(name).to_string()
}

/// Runs one event through dispatch.
fn dispatch(event: &Value) -> amh::dispatch::Report {
    let dispatcher = Dispatcher::new(Scripted::default(), DispatchSettings::default());
    let raw = RawValue::from_string(event.to_string()).expect("raw");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("rt");
    runtime.block_on(dispatcher.dispatch("test-invocation", &raw))
}

/// The outcome and facet each fixture must dispatch to; every fixture must be listed.
const EXPECTED: &[(&str, Outcome, &str)] = &[
    ("other-analysis-completed", Outcome::Ignored, ""),
    ("other-analysis-completed-cloudevent", Outcome::Ignored, ""),
    ("other-malformed-id-number", Outcome::Poison, ""),
    ("other-malformed-no-type", Outcome::Poison, ""),
    ("other-storage-blob-created", Outcome::Ignored, ""),
    ("received-audio", Outcome::Handled, "audio"),
    ("received-button", Outcome::Handled, "template_button_reply"),
    ("received-document", Outcome::Handled, "document"),
    ("received-empty-data", Outcome::Handled, "unknown"),
    ("received-image", Outcome::Handled, "image"),
    ("received-image-cloudevent", Outcome::Handled, "image"),
    ("received-image-no-messagetype", Outcome::Handled, "image"),
    (
        "received-interactive-button-reply",
        Outcome::Handled,
        "interactive_button_reply",
    ),
    (
        "received-interactive-list-reply",
        Outcome::Handled,
        "interactive_list_reply",
    ),
    (
        "received-interactive-unknown-type",
        Outcome::Handled,
        "unknown",
    ),
    ("received-malformed-animated-string", Outcome::Poison, ""),
    ("received-malformed-content-number", Outcome::Poison, ""),
    ("received-malformed-data-array", Outcome::Poison, ""),
    ("received-malformed-data-missing", Outcome::Poison, ""),
    ("received-malformed-data-string", Outcome::Poison, ""),
    ("received-malformed-media-string", Outcome::Poison, ""),
    ("received-malformed-messagetype-number", Outcome::Poison, ""),
    ("received-malformed-timestamp", Outcome::Poison, ""),
    ("received-reaction", Outcome::Handled, "reaction"),
    (
        "received-reaction-no-messagetype",
        Outcome::Handled,
        "reaction",
    ),
    ("received-seed-media", Outcome::Handled, "image"),
    ("received-seed-text", Outcome::Handled, "text"),
    ("received-sticker", Outcome::Handled, "sticker"),
    ("received-sticker-static", Outcome::Handled, "sticker"),
    ("received-text", Outcome::Handled, "text"),
    ("received-text-bsuid-and-number", Outcome::Handled, "text"),
    ("received-text-cloudevent", Outcome::Handled, "text"),
    (
        "received-text-cloudevent-specversion-camel",
        Outcome::Handled,
        "text",
    ),
    (
        "received-text-fractional-timestamp",
        Outcome::Handled,
        "text",
    ),
    ("received-text-hidden-number", Outcome::Handled, "text"),
    (
        "received-text-hidden-number-null-from",
        Outcome::Handled,
        "text",
    ),
    ("received-text-no-messagetype", Outcome::Handled, "text"),
    ("received-text-nulls", Outcome::Handled, "text"),
    ("received-text-reply-context", Outcome::Handled, "text"),
    ("received-text-timestamp-camel", Outcome::Handled, "text"),
    ("received-text-unicode", Outcome::Handled, "text"),
    ("received-text-unknown-channel", Outcome::Handled, "text"),
    ("received-text-unknown-fields", Outcome::Handled, "text"),
    ("received-text-with-error", Outcome::Handled, "text"),
    ("received-unknown-messagetype", Outcome::Handled, "unknown"),
    ("received-video", Outcome::Handled, "video"),
    ("status-bsuid-recipient", Outcome::Handled, "delivered"),
    ("status-capitalized", Outcome::Handled, "delivered"),
    ("status-delivered", Outcome::Handled, "delivered"),
    ("status-failed", Outcome::Handled, "failed"),
    ("status-failed-cloudevent", Outcome::Handled, "failed"),
    ("status-malformed-error-array", Outcome::Poison, ""),
    ("status-malformed-status-object", Outcome::Poison, ""),
    ("status-new-value", Outcome::Handled, "deleted"),
    ("status-read", Outcome::Handled, "read"),
    ("status-seed-failed", Outcome::Handled, "failed"),
    ("status-seed-sent", Outcome::Handled, "sent"),
    ("status-sent", Outcome::Handled, "sent"),
    ("status-sent-cloudevent", Outcome::Handled, "sent"),
    ("status-timestamp-camel", Outcome::Handled, "read"),
    ("status-unknown", Outcome::Handled, "unknown"),
    ("status-warning", Outcome::Handled, "warning"),
];

/// Every fixture dispatches to its expected outcome, kind or status; no fixture is unlisted.
#[test]
fn every_fixture_dispatches_as_expected() {
    let all = fixtures();
    let names: Vec<&str> = all.iter().map(|(name, _)| name.as_str()).collect();
    let listed: Vec<&str> = EXPECTED.iter().map(|(name, ..)| *name).collect();
    assert_eq!(
        names, listed,
        "the fixtures folder and the expectations differ"
    );
    for ((name, events), (_, outcome, facet)) in all.iter().zip(EXPECTED) {
        for event in events {
            let report = dispatch(event);
            assert_eq!(report.outcome, *outcome, "{name}: {report:?}");
            let got = match (&report.kind, &report.status) {
                (Some(kind), _) => kind.as_str().to_owned(),
                (None, Some(status)) => status.as_str().to_owned(),
                (None, None) => String::new(),
            };
            assert_eq!(got, *facet, "{name}");
            if *outcome == Outcome::Poison {
                assert!(!report.detail.is_empty(), "{name} has a reason");
            }
        }
    }
}

/// A text message decodes every member, and its sender is the phone number.
#[test]
fn text_message_members() {
    let message = received("received-text");
    assert_eq!(
        message.content.as_deref(),
        Some("Hello from fixture text-basic, order 3279")
    );
    assert_eq!(message.message_type, Some(MessageType::Text));
    assert_eq!(message.channel_type, Some(ChannelType::WhatsApp));
    assert_eq!(
        message.message_id.as_deref(),
        Some("6ae3568b-d8f7-46ee-b6bb-00e57085349f")
    );
    assert_eq!(
        message.to.as_deref(),
        Some("0f0eb78e-a576-1dfc-b414-0f0756de3338")
    );
    assert_eq!(
        message.received_timestamp,
        Some(datetime!(2026-11-30 09:15:02 UTC))
    );
    assert_eq!(message.sender(), Some(Sender::Phone("14255550101")));
}

/// Both timestamp spellings and fractional seconds with an offset are read.
#[test]
fn timestamps_in_every_spelling() {
    let fractional = received("received-text-fractional-timestamp");
    assert_eq!(
        fractional.received_timestamp,
        Some(datetime!(2026-11-30 10:15:02.1234567 +01:00))
    );
    assert!(
        received("received-text-timestamp-camel")
            .received_timestamp
            .is_some()
    );
    assert!(
        status("status-timestamp-camel")
            .received_timestamp
            .is_some()
    );
}

/// A hidden number (empty or null `from`) makes the BSUID the sender; a shown one wins.
#[test]
fn sender_falls_back_to_bsuid() {
    let hidden = received("received-text-hidden-number");
    assert_eq!(hidden.from.as_deref(), Some(""));
    assert_eq!(
        hidden.sender(),
        Some(Sender::Bsuid("US.134912086553027419110"))
    );
    let null_from = received("received-text-hidden-number-null-from");
    assert!(matches!(null_from.sender(), Some(Sender::Bsuid(_))));
    let both = received("received-text-bsuid-and-number");
    assert!(matches!(both.sender(), Some(Sender::Phone(_))));
    assert!(both.from_bsuid.is_some());
}

/// Payloads without `messageType` are classified by the members present.
#[test]
fn kinds_inferred_without_message_type() {
    let text = received("received-text-no-messagetype");
    assert_eq!(
        (text.message_type.clone(), text.kind()),
        (None, MessageKind::Text)
    );
    assert_eq!(
        received("received-image-no-messagetype").kind(),
        MessageKind::Image
    );
    assert_eq!(
        received("received-reaction-no-messagetype").kind(),
        MessageKind::Reaction
    );
    assert_eq!(received("received-seed-media").kind(), MessageKind::Image);
}

/// Media members: MIME type, id, caption, file name and the sticker's `animated` flag.
#[test]
fn media_members() {
    let document = received("received-document");
    let media = document.media.expect("media");
    assert_eq!(media.mime_type.as_deref(), Some("application/pdf"));
    assert_eq!(media.file_name.as_deref(), Some("invoice-fixture-2184.pdf"));
    assert_eq!(
        media.caption.as_deref(),
        Some("Caption fixture document 4294")
    );
    assert_eq!(
        media.id.as_deref(),
        Some("9b412396-1382-4484-8cb1-2d4a6cdee06f")
    );
    assert_eq!(
        received("received-sticker").media.and_then(|m| m.animated),
        Some(true)
    );
    assert_eq!(
        received("received-sticker-static")
            .media
            .and_then(|m| m.animated),
        Some(false)
    );
}

/// Reactions, template buttons, interactive replies and reply context decode.
#[test]
fn reply_members() {
    let reaction = received("received-reaction").reaction.expect("reaction");
    assert_eq!(reaction.emoji.as_deref(), Some("🦩"));
    assert_eq!(
        reaction.message_id.as_deref(),
        Some("fdb400ec-f4c9-4420-93cd-1b9360d3bb0f")
    );
    let button = received("received-button").button.expect("button");
    assert_eq!(
        button.payload.as_deref(),
        Some("fixture-button-payload-6362")
    );
    let reply = received("received-interactive-button-reply")
        .interactive
        .expect("interactive");
    assert_eq!(reply.reply_type, Some(InteractiveReplyType::ButtonReply));
    assert_eq!(
        reply.button_reply.and_then(|b| b.id).as_deref(),
        Some("fixture-reply-id-4310")
    );
    let list = received("received-interactive-list-reply")
        .interactive
        .expect("interactive");
    let item = list.list_reply.expect("list reply");
    assert_eq!(
        item.description.as_deref(),
        Some("Fixture list description 4053")
    );
    let context = received("received-text-reply-context")
        .context
        .expect("context");
    assert_eq!(
        context.id.as_deref(),
        Some("6de402d9-57be-4152-9ac3-755412ee5b99")
    );
}

/// Unknown enum values are kept as they came, and unknown members are ignored.
#[test]
fn unknown_values_are_kept() {
    let channel = received("received-text-unknown-channel").channel_type;
    assert_eq!(channel, Some(ChannelType::Other("telegram".to_owned())));
    let location = received("received-unknown-messagetype");
    assert_eq!(
        location.message_type,
        Some(MessageType::Other("location".to_owned()))
    );
    assert_eq!(location.kind(), MessageKind::Unknown);
    let interactive = received("received-interactive-unknown-type")
        .interactive
        .expect("interactive");
    assert_eq!(
        interactive.reply_type,
        Some(InteractiveReplyType::Other("nfmReply".to_owned()))
    );
    assert_eq!(
        status("status-new-value").status,
        Some(DeliveryStatus::Other("deleted".into()))
    );
    assert!(received("received-text-unknown-fields").content.is_some());
}

/// Nulls everywhere decode to `None`, and an error on a received message is kept.
#[test]
fn nulls_and_errors() {
    let nulls = received("received-text-nulls");
    assert!(nulls.media.is_none() && nulls.reaction.is_none() && nulls.error.is_none());
    assert!(nulls.interactive.is_none() && nulls.button.is_none() && nulls.context.is_none());
    let with_error = received("received-text-with-error").error.expect("error");
    assert_eq!(with_error.channel_code.as_deref(), Some("131051"));
}

/// Status values are read case-insensitively; failures carry WhatsApp's code; BSUID recipients.
#[test]
fn status_members() {
    assert_eq!(
        status("status-capitalized").status,
        Some(DeliveryStatus::Delivered)
    );
    assert_eq!(
        status("status-seed-sent").status,
        Some(DeliveryStatus::Sent)
    );
    let failed = status("status-failed");
    assert_eq!(failed.status, Some(DeliveryStatus::Failed));
    let error = failed.error.expect("error");
    assert_eq!(error.channel_code.as_deref(), Some("131026"));
    assert_eq!(
        error.channel_message.as_deref(),
        Some("Message Undeliverable.")
    );
    let bsuid = status("status-bsuid-recipient");
    assert_eq!(bsuid.to.as_deref(), Some(""));
    assert_eq!(bsuid.to_bsuid.as_deref(), Some("GB.134912086553027419113"));
}

/// Both envelopes normalize to the same members, including the `specVersion` spelling.
#[test]
fn envelopes_normalize() {
    let text = event_text("received-text");
    let grid = Envelope::from_json(&text).expect("envelope");
    assert_eq!(grid.schema, Schema::EventGrid);
    assert_eq!(
        grid.event_type,
        "Microsoft.Communication.AdvancedMessageReceived"
    );
    assert!(
        grid.source
            .as_deref()
            .is_some_and(|s| s.contains("communicationServices"))
    );
    for name in [
        "received-text-cloudevent",
        "received-text-cloudevent-specversion-camel",
    ] {
        let text = event_text(name);
        let cloud = Envelope::from_json(&text).expect(name);
        assert_eq!(cloud.schema, Schema::CloudEvents, "{name}");
        assert_eq!(
            cloud.event_type,
            "Microsoft.Communication.AdvancedMessageReceived"
        );
        assert!(cloud.event_time.is_some() && cloud.subject.is_some() && cloud.data.is_some());
    }
}

/// The seed's examples, the oldest shape, decode with their placeholders as ids.
#[test]
fn seed_examples_decode() {
    let text = received("received-seed-text");
    assert_eq!(text.from.as_deref(), Some("{sender@id}"));
    assert_eq!(text.content.as_deref(), Some("Hello"));
    let failed = status("status-seed-failed");
    assert_eq!(failed.status, Some(DeliveryStatus::Failed));
}

/// Poison reasons name the member at fault and never quote its value.
#[test]
fn poison_reasons_name_the_member() {
    let cases = [
        ("received-malformed-animated-string", "data.media.animated"),
        ("received-malformed-content-number", "data.content"),
        ("received-malformed-media-string", "data.media"),
        ("received-malformed-messagetype-number", "data.messageType"),
        ("received-malformed-timestamp", "data.receivedTimestamp"),
        ("received-malformed-data-missing", "data: missing"),
        ("received-malformed-data-string", "data: not a JSON object"),
        ("status-malformed-status-object", "data.status"),
        ("status-malformed-error-array", "data.error"),
        ("other-malformed-id-number", "event.id"),
        (
            "other-malformed-no-type",
            "event: the event has no eventType",
        ),
    ];
    for (name, start) in cases {
        let report = dispatch(&fixture(name));
        assert!(
            report.detail.starts_with(start),
            "{name}: {}",
            report.detail
        );
        let event = fixture(name).to_string();
        assert!(
            !report.detail.contains("14255550"),
            "{name} quotes a phone: {}",
            report.detail
        );
        assert!(event.len() > report.detail.len());
    }
}
