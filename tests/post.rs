//! `handler post`, run as the real binary against the standalone webhook: every sample posted
//! and answered 2xx, refusals and missing answers reflected in the exit status.

// Tests report failures by panicking, helpers included.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod support;

use support::{
    Handler, TempDir, events_of, free_port, run_handler, samples, stderr_of, stdout_of, wait_until,
};

/// The key used by the tests that set one.
const KEY: &str = "post-key-8a41d2c9-77e0-4b1f";

/// Runs `handler post --url <url>` on `files` with `env`.
fn post(url: &str, files: &[String], env: &[(&str, &str)]) -> std::process::Output {
    let mut args = vec!["post", "--url", url];
    args.extend(files.iter().map(String::as_str));
    run_handler(&args, env, b"")
}

/// Every sample file, as it is, is posted and answered 202; each file gets its line, every
/// event reaches the business logic, and the exit status is 0.
#[test]
fn every_sample_is_accepted() {
    let poison = TempDir::new("post-poison");
    let webhook = Handler::start_webhook(&[("POISON_DIR", poison.as_str())]);
    let files = samples();
    let output = post(&webhook.webhook_url("EventGridTrigger"), &files, &[]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr_of(&output));

    // One line per file, each 202.
    let stdout = stdout_of(&output);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), files.len(), "{stdout}");
    for (line, file) in lines.iter().zip(&files) {
        assert_eq!(*line, format!("{file}: 202 Accepted"));
    }
    assert!(stderr_of(&output).contains(&format!(
        "posted {} files: {} answered 2xx, 0 not",
        files.len(),
        files.len()
    )));

    // Every event was handled by the webhook, and none was poison.
    for file in &files {
        for event in events_of(file) {
            let id = event["id"].as_str().unwrap().to_owned();
            wait_until(
                || webhook.stdout().contains(&format!("id={id} ")),
                "the event handled",
            );
        }
    }
    assert!(!webhook.stdout().contains("outcome=poison"));
    assert!(poison.files().is_empty());
}

/// Answers that are not 2xx are printed with their body and make the exit status 1; the key
/// from WEBHOOK_KEY is sent when set.
#[test]
fn refusals_and_keys() {
    let webhook = Handler::start_webhook(&[("WEBHOOK_KEY", KEY)]);
    let files = vec!["samples/eventgrid/received-text.json".to_owned()];
    let url = webhook.webhook_url("EventGridTrigger");

    let without_key = post(&url, &files, &[]);
    assert_eq!(without_key.status.code(), Some(1));
    let stdout = stdout_of(&without_key);
    assert!(
        stdout.starts_with("samples/eventgrid/received-text.json: 401 Unauthorized {"),
        "{stdout}"
    );

    let with_key = post(&url, &files, &[("WEBHOOK_KEY", KEY)]);
    assert_eq!(with_key.status.code(), Some(0), "{}", stdout_of(&with_key));

    let other_function = post(
        &webhook.webhook_url("Other"),
        &files,
        &[("WEBHOOK_KEY", KEY)],
    );
    assert_eq!(other_function.status.code(), Some(1));
    assert!(stdout_of(&other_function).contains(": 404 Not Found "));
}

/// No answer at all is reported per file, without the URL, and makes the exit status 1.
#[test]
fn no_answer() {
    let url = format!(
        "http://127.0.0.1:{}/runtime/webhooks/EventGrid?functionName=EventGridTrigger&code=secret",
        free_port()
    );
    let output = post(
        &url,
        &["samples/eventgrid/status-read.json".to_owned()],
        &[],
    );
    assert_eq!(output.status.code(), Some(1));
    let stdout = stdout_of(&output);
    assert!(
        stdout.starts_with("samples/eventgrid/status-read.json: no answer: "),
        "{stdout}"
    );
    assert!(!stdout.contains("secret") && !stderr_of(&output).contains("secret"));
}

/// A bad URL or an unusable file is a usage error (2) before anything is posted.
#[test]
fn usage_errors() {
    let files = vec!["samples/eventgrid/status-read.json".to_owned()];
    for url in ["https://localhost:7071/x", "not a url"] {
        let output = post(url, &files, &[]);
        assert_eq!(output.status.code(), Some(2), "{url}");
        assert!(stderr_of(&output).starts_with("error: --url: "));
    }
    let missing = vec![
        "samples/eventgrid/status-read.json".to_owned(),
        "nowhere.json".to_owned(),
    ];
    let output = post("http://127.0.0.1:9/x", &missing, &[]);
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty());
    assert!(stderr_of(&output).contains("nowhere.json: cannot read"));
}
