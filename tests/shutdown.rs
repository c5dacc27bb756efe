//! Stopping: on SIGTERM or SIGINT the real binary stops accepting connections, finishes the
//! invocations in flight within `HANDLER_SHUTDOWN_GRACE_SECONDS`, and exits 0.

#![allow(clippy::expect_used, clippy::unwrap_used)]

mod support;

use std::{
    io::{BufReader, ErrorKind, Write},
    net::TcpStream,
    thread,
    time::{Duration, Instant},
};

use support::{
    Framing, Handler, connect, fixture, host_body, host_headers, read_answer, write_head,
    write_post,
};

/// Whether a new connection to `port` is refused.
fn refused(port: u16) -> bool {
    match TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_secs(1)) {
        Ok(_) => false,
        Err(err) => err.kind() == ErrorKind::ConnectionRefused,
    }
}

/// Waits up to `limit` for new connections to `port` to be refused.
fn wait_refused(port: u16, limit: Duration) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if refused(port) {
            return true;
        }
        thread::sleep(Duration::from_millis(20));
    }
    false
}

/// Opens a connection the handler is surely serving: one invocation answered on it already.
fn served_connection(handler: &Handler) -> TcpStream {
    let mut stream = connect(handler.port).expect("connect");
    let body = host_body(&fixture("status-read"));
    let headers = host_headers("5d000000-0000-4000-8000-000000000001");
    write_post(
        &mut stream,
        handler.port,
        "/EventGridTrigger",
        &headers,
        &body,
        Framing::Chunked,
    )
    .expect("send the first invocation");
    let answer = read_answer(&mut BufReader::new(&mut stream)).expect("first answer");
    assert_eq!(answer.status, 200);
    stream
}

/// Sends half an invocation, then `signal`, then the other half: the answer still comes, new
/// connections are refused meanwhile, and the handler exits 0.
fn finishes_in_flight_on(signal: &str) {
    let mut handler = Handler::start(&[("HANDLER_SHUTDOWN_GRACE_SECONDS", "10")]);
    let port = handler.port;
    let mut stream = served_connection(&handler);

    // Start an invocation: its head and half its body.
    let id = "5d000000-0000-4000-8000-000000000002";
    let body = host_body(&fixture("received-text"));
    let (first, rest) = body.split_at(body.len() / 2);
    write_head(
        &mut stream,
        port,
        "/EventGridTrigger",
        &host_headers(id),
        body.len(),
    )
    .expect("send the head");
    stream.write_all(first).expect("send half the body");
    thread::sleep(Duration::from_millis(300));

    // Signal, and see that the handler no longer accepts connections.
    handler.signal(signal);
    assert!(
        wait_refused(port, Duration::from_secs(5)),
        "still accepting after {signal}"
    );

    // Finish the body: the invocation is answered in full.
    stream.write_all(rest).expect("send the rest of the body");
    let answer = read_answer(&mut BufReader::new(&mut stream)).expect("answer after the signal");
    assert_eq!(
        answer.status,
        200,
        "{}",
        String::from_utf8_lossy(&answer.body)
    );
    let logs = answer.assert_json_object()["Logs"].to_string();
    assert!(
        logs.contains(id) && logs.contains("outcome=handled"),
        "{logs}"
    );
    drop(stream);

    // The process exits 0 and nothing listens any more.
    let code = handler.wait_exit(Duration::from_secs(15));
    assert_eq!(code, Some(0), "stderr: {}", handler.stderr());
    assert!(refused(port), "something still listens on {port}");
}

/// SIGTERM, which the host and Azure send to stop the handler, lets an invocation in flight finish.
#[test]
fn sigterm_finishes_the_invocation_in_flight() {
    finishes_in_flight_on("TERM");
}

/// SIGINT, as from Ctrl+C under `func start`, stops the handler as gracefully as SIGTERM.
#[test]
fn sigint_finishes_the_invocation_in_flight() {
    finishes_in_flight_on("INT");
}

/// An invocation that does not finish within the grace period does not hold the handler up: it
/// exits 0 soon after the grace period ends.
#[test]
fn grace_period_bounds_the_wait() {
    let mut handler = Handler::start(&[
        ("HANDLER_SHUTDOWN_GRACE_SECONDS", "1"),
        ("HANDLER_BODY_TIMEOUT_MS", "60000"),
    ]);
    let mut stream = served_connection(&handler);
    let headers = host_headers("5d000000-0000-4000-8000-000000000003");
    write_head(
        &mut stream,
        handler.port,
        "/EventGridTrigger",
        &headers,
        1000,
    )
    .expect("head");
    stream
        .write_all(b"{\"Data\":")
        .expect("a little of the body");
    thread::sleep(Duration::from_millis(300));

    // Signal, and time the exit.
    let start = Instant::now();
    handler.signal("TERM");
    let code = handler.wait_exit(Duration::from_secs(10));
    assert_eq!(code, Some(0), "stderr: {}", handler.stderr());
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "exited after {:?}",
        start.elapsed()
    );
}
