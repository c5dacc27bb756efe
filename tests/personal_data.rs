//! No personal data in logs: every fixture through the real binary at the default log level, and
//! none of its phone numbers, BSUIDs, texts, captions, file names, button texts and payloads, list
//! titles and descriptions or emoji appears on stdout, on stderr or in any `Logs` line.
//!
//! `Outputs.poison.event` is the dead-letter copy of the event, kept whole by design so that it
//! can be replayed; it is not a log and is not searched.

#![allow(clippy::expect_used, clippy::unwrap_used)]

mod support;

use std::{thread, time::Duration};

use serde_json::Value;
use support::{
    Handler, fixtures,
    personal_data::{found_in, is_seed, markers},
};

/// Every fixture's event, as an object and as a string holding it, leaks none of its personal
/// data into the handler's output.
#[test]
fn fixtures_leak_no_personal_data() {
    let handler = Handler::start(&[]);
    let mut all_markers = Vec::new();
    let mut invocations = 0;

    for (name, events) in fixtures().into_iter().filter(|(name, _)| !is_seed(name)) {
        for (index, event) in events.iter().enumerate() {
            let markers = markers(event);
            all_markers.extend(markers.iter().cloned());

            // Send the event both ways the host may, each under an id of its own.
            for way in ["object", "string"] {
                invocations += 1;
                let id = format!("da7a0000-0000-4000-8000-{invocations:012}");
                let mut sent = event.clone();
                if sent["id"].is_string() {
                    sent["id"] = Value::String(format!("{name}-{index}-{way}"));
                }
                if way == "string" {
                    sent = Value::String(sent.to_string());
                }
                let answer = handler.invoke_event(&id, &sent);
                let body = answer.assert_json_object();

                // Every log line of the answer, and its error if any, is free of the markers.
                for line in body["Logs"].as_array().into_iter().flatten() {
                    let line = line.as_str().expect("a log line");
                    let leaked = found_in(&markers, line);
                    assert!(leaked.is_empty(), "{name} ({way}): {leaked:?} in {line}");
                }
                let error = body["error"].to_string();
                let leaked = found_in(&markers, &error);
                assert!(leaked.is_empty(), "{name} ({way}): {leaked:?} in {error}");
            }
        }
    }

    // Nothing on stdout or stderr either, once the handler has written everything.
    thread::sleep(Duration::from_millis(300));
    let printed = format!("{}\n{}", handler.stdout(), handler.stderr());
    let leaked = found_in(&all_markers, &printed);
    assert!(leaked.is_empty(), "printed: {leaked:?}");

    // The search was not empty: the fixtures hold personal data of every kind.
    assert!(all_markers.len() > 60, "only {} markers", all_markers.len());
    for sample in [
        "14255550101",
        "US.134912086553027419110",
        "🦩",
        "invoice-fixture-2184.pdf",
    ] {
        assert!(
            all_markers.iter().any(|m| m == sample),
            "{sample} not found"
        );
    }
    for sample in [
        "Confirm fixture button 6362",
        "Fixture list description 4053",
    ] {
        assert!(
            all_markers.iter().any(|m| m == sample),
            "{sample} not found"
        );
    }
}
