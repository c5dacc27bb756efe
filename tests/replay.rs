//! `handler invoke`, run as the real binary: every sample and the dead-letter blob replayed
//! through the business logic, poison and failures reflected in the exit status, standard input,
//! and files that cannot be replayed.

// Tests report failures by panicking, helpers included.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod support;

use std::{path::Path, process::Output};

use serde_json::Value;
use support::{TempDir, app_root, events_of, run_handler, samples, stderr_of, stdout_of};

/// Runs `handler invoke` on `files`.
fn invoke(files: &[&str]) -> Output {
    let mut args = vec!["invoke"];
    args.extend_from_slice(files);
    run_handler(&args, &[], b"")
}

/// Every stdout line as JSON; panics on a line that is not, such as a log line.
fn lines(output: &Output) -> Vec<Value> {
    stdout_of(output)
        .lines()
        .map(|line| {
            serde_json::from_str(line).unwrap_or_else(|err| panic!("not JSON ({err}): {line}"))
        })
        .collect()
}

/// Every sample, in both schemas, and the dead-letter blob are handled: one JSON line per
/// event with its kind or status, logs on stderr only, a summary, and exit status 0.
#[test]
fn every_sample_is_handled() {
    let files = samples();
    let names: Vec<&str> = files.iter().map(String::as_str).collect();
    let output = invoke(&names);
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(0), "{stderr}");

    // One line per event, in order, each handled and classified.
    let expected: Vec<(String, Value)> = files
        .iter()
        .flat_map(|file| events_of(file).into_iter().map(move |e| (file.clone(), e)))
        .collect();
    let lines = lines(&output);
    assert_eq!(lines.len(), expected.len());
    for (line, (file, event)) in lines.iter().zip(&expected) {
        assert_eq!(line["file"], file.as_str());
        assert_eq!(line["id"], event["id"]);
        assert_eq!(line["outcome"], "handled", "{line}");
        let received = line["type"]
            .as_str()
            .is_some_and(|t| t.ends_with("AdvancedMessageReceived"));
        if received {
            assert!(line["kind"].is_string(), "{line}");
        } else {
            let status = event["data"]["status"].as_str().expect("status");
            assert_eq!(line["status"], status);
        }
    }

    // Logs carry the replay ids on stderr; the summary closes it.
    assert!(stderr.contains("INFO [replay-1] "), "{stderr}");
    let summary = format!(
        "replayed {} events from {} files: {} handled, 0 ignored, 0 duplicate, 0 poison, 0 failed",
        expected.len(),
        files.len(),
        expected.len()
    );
    assert_eq!(stderr.lines().last(), Some(summary.as_str()), "{stderr}");
}

/// Each kind and status of the samples is classified as its file name says.
#[test]
fn samples_are_classified() {
    let cases = [
        ("samples/eventgrid/received-text.json", "kind", "text"),
        ("samples/cloudevents/received-image.json", "kind", "image"),
        (
            "samples/eventgrid/received-hidden-number.json",
            "kind",
            "text",
        ),
        ("samples/cloudevents/status-read.json", "status", "read"),
        ("samples/eventgrid/status-failed.json", "status", "failed"),
    ];
    for (file, facet, value) in cases {
        let output = invoke(&[file]);
        assert_eq!(output.status.code(), Some(0), "{file}");
        assert_eq!(lines(&output)[0][facet], value, "{file}");
    }
}

/// The dead-letter blob's events, with their extra members, replay as the events they were.
#[test]
fn dead_letter_blob_replays() {
    let output = invoke(&["samples/deadletter/deadletter-blob.json"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    let lines = lines(&output);
    let events = events_of("samples/deadletter/deadletter-blob.json");
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["id"], events[0]["id"]);
    assert_eq!(lines[0]["kind"], "text");
    assert_eq!(lines[1]["id"], events[1]["id"]);
    assert_eq!(lines[1]["status"], "failed");
}

/// A poison event is reported with its reason and makes the exit status 1, while the other
/// files are still replayed.
#[test]
fn poison_makes_exit_status_one() {
    let output = invoke(&[
        "samples/eventgrid/received-text.json",
        "tests/fixtures/received-malformed-media-string.json",
        "tests/fixtures/other-storage-blob-created.json",
    ]);
    assert_eq!(output.status.code(), Some(1));
    let lines = lines(&output);
    let outcomes: Vec<&str> = lines
        .iter()
        .map(|l| l["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["handled", "poison", "ignored"]);
    assert!(
        lines[1]["detail"]
            .as_str()
            .unwrap()
            .starts_with("data.media")
    );
    let stderr = stderr_of(&output);
    assert!(stderr.contains("ERROR [replay-2] "), "{stderr}");
    assert!(stderr.ends_with(
        "replayed 3 events from 3 files: 1 handled, 1 ignored, 0 duplicate, 1 poison, 0 failed\n"
    ));
}

/// `-` reads the events from standard input.
#[test]
fn standard_input() {
    let text = std::fs::read(app_root().join("samples/cloudevents/status-sent.json")).unwrap();
    let output = run_handler(&["invoke", "-"], &[], &text);
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));
    let lines = lines(&output);
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["file"], "(stdin)");
    assert_eq!(lines[0]["status"], "sent");
}

/// A missing file, a file that is not JSON, and JSON that is not events each stop the replay
/// before any event runs: exit status 2 and one line naming the file, never a panic.
#[test]
fn unusable_files_are_usage_errors() {
    let dir = TempDir::new("replay-bad");
    let not_json = dir.path.join("not-json.json");
    std::fs::write(&not_json, "hello 14255550101").unwrap();
    let number = dir.path.join("number.json");
    std::fs::write(&number, "14255550101").unwrap();
    let mixed = dir.path.join("mixed.json");
    std::fs::write(&mixed, r#"[{"id": "a"}, "text"]"#).unwrap();
    let missing = dir.path.join("missing.json");
    let cases: [(&Path, &str); 4] = [
        (&missing, "cannot read"),
        (&not_json, "not valid JSON"),
        (&number, "not an event or an array of events"),
        (&mixed, "element 1 is a string"),
    ];
    for (path, reason) in cases {
        let name = path.to_str().unwrap();
        let output = invoke(&["samples/eventgrid/received-text.json", name]);
        assert_eq!(output.status.code(), Some(2), "{name}");
        assert!(output.stdout.is_empty(), "{name} replayed something");
        let stderr = stderr_of(&output);
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.contains(name) && stderr.contains(reason), "{stderr}");
        assert!(!stderr.contains("14255550101") && !stderr.contains("panicked"));
    }
}

/// Command-line mistakes are usage errors (2); help and version succeed.
#[test]
fn command_line() {
    for args in [
        &["invoke"][..],
        &["invoke", "--bogus", "a.json"],
        &["frobnicate"],
    ] {
        let output = run_handler(args, &[], b"");
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(stderr_of(&output).starts_with("error: "), "{args:?}");
    }
    let help = run_handler(&["--help"], &[], b"");
    assert_eq!(help.status.code(), Some(0));
    assert!(stdout_of(&help).contains("handler invoke FILE..."));
    let version = run_handler(&["--version"], &[], b"");
    assert_eq!(
        stdout_of(&version).trim(),
        format!("handler {}", env!("CARGO_PKG_VERSION"))
    );
}
