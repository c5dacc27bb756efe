//! Test support: a stand-in for the Functions host that drives the real `handler` binary the way
//! the host does, the same binary started as a standalone webhook or run as a command, and
//! helpers for fixtures, samples and temporary folders.
//!
//! The host starts the handler with its environment, polls `GET /` every 25 ms until any answer,
//! then posts invocations over HTTP/1.1 to `127.0.0.1:<port>/<FunctionName>` with its headers,
//! using `Content-Length` under Core Tools and `Transfer-Encoding: chunked` in Azure.
//!
//! Beside it: [`in_process`], the same server with business logic of a test's choosing;
//! [`child`], a test's body run in a child process whose output the test reads; [`mutate`],
//! seeded mutation of events and bodies; [`personal_data`], the personal data in a fixture.

#![allow(dead_code, clippy::expect_used, clippy::unwrap_used)]

pub mod child;
pub mod in_process;
pub mod mutate;
pub mod personal_data;
pub mod scripted;

use std::{
    io::{BufRead, BufReader, Read, Write},
    net::{TcpListener, TcpStream},
    path::{Path, PathBuf},
    process::{Child, Command, Output, Stdio},
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    thread,
    time::{Duration, Instant},
};

use serde_json::Value;

/// How the host frames a request body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// `Content-Length`, as under `func start`.
    ContentLength,
    /// `Transfer-Encoding: chunked`, as in Azure.
    Chunked,
}

/// An HTTP answer.
#[derive(Debug, Clone)]
pub struct HttpAnswer {
    /// The status code.
    pub status: u16,
    /// The headers, names lower-cased.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl HttpAnswer {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// The body as JSON; panics with the body when it is not JSON.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|err| {
            panic!(
                "body is not JSON ({err}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// Checks what every answer must be: a JSON content type and a JSON object body.
    pub fn assert_json_object(&self) -> Value {
        let content_type = self.header("content-type").unwrap_or_default();
        assert!(
            content_type.starts_with("application/json"),
            "content type {content_type:?}"
        );
        let json = self.json();
        assert!(json.is_object(), "body is not an object: {json}");
        json
    }
}

/// The running handler, started as the host starts it.
pub struct Handler {
    /// The child process.
    child: Child,
    /// The port it listens on.
    pub port: u16,
    /// Everything it printed to stdout so far.
    pub stdout: Arc<Mutex<String>>,
    /// Everything it printed to stderr so far.
    pub stderr: Arc<Mutex<String>>,
}

/// The repository root, which is the function app's root.
pub fn app_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A free loopback port.
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local address").port()
}

impl Handler {
    /// Starts the handler with the host's environment plus `extra`, and waits until it is ready.
    pub fn start(extra: &[(&str, &str)]) -> Self {
        let port = free_port();
        let mut command = Command::new(env!("CARGO_BIN_EXE_handler"));
        command
            .current_dir(app_root())
            .env("FUNCTIONS_CUSTOMHANDLER_PORT", port.to_string())
            .env("FUNCTIONS_HTTPWORKER_PORT", port.to_string())
            .env(
                "FUNCTIONS_CUSTOMHANDLER_WORKER_ID",
                "b8d7a4c6-1f0e-4a53-9a51-0f4b8e2c7d11",
            )
            .env(
                "FUNCTIONS_HTTPWORKER_ID",
                "b8d7a4c6-1f0e-4a53-9a51-0f4b8e2c7d11",
            )
            .env("FUNCTIONS_APP_ROOT_PATH", app_root())
            .env("FUNCTIONS_CORETOOLS_ENVIRONMENT", "true")
            .env("FUNCTIONS_WORKER_RUNTIME", "custom")
            .env("AzureWebJobsStorage", "UseDevelopmentStorage=true")
            .env_remove("RUST_LOG");
        for (key, value) in extra {
            command.env(key, value);
        }
        Self::spawn(command, port)
    }

    /// Starts the handler as a standalone webhook on `127.0.0.1:<free port>`: no host variables,
    /// the given `env`, and waits until it is ready.
    pub fn start_webhook(env: &[(&str, &str)]) -> Self {
        let port = free_port();
        let mut command = handler_command(env);
        command.args(["--listen", &format!("127.0.0.1:{port}")]);
        Self::spawn(command, port)
    }

    /// The URL of its Event Grid webhook for `function`.
    pub fn webhook_url(&self, function: &str) -> String {
        format!("http://127.0.0.1:{}{}", self.port, webhook_path(function))
    }

    /// Spawns `command`, which must listen on `port`, and waits until it answers `GET /`.
    pub fn spawn(mut command: Command, port: u16) -> Self {
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the handler");
        let stdout = collect(child.stdout.take().expect("stdout"));
        let stderr = collect(child.stderr.take().expect("stderr"));
        let handler = Self {
            child,
            port,
            stdout,
            stderr,
        };
        handler.wait_ready(Duration::from_secs(30));
        handler
    }

    /// Polls `GET /` every 25 ms, as the host does, until any answer.
    fn wait_ready(&self, limit: Duration) {
        let start = Instant::now();
        while start.elapsed() < limit {
            if get(self.port, "/").is_ok() {
                return;
            }
            thread::sleep(Duration::from_millis(25));
        }
        panic!(
            "the handler did not answer GET / within {limit:?}; stderr: {}",
            self.stderr()
        );
    }

    /// Posts one invocation body to `/<function>` as the host does.
    pub fn invoke(&self, function: &str, id: &str, body: &[u8], framing: Framing) -> HttpAnswer {
        post(
            self.port,
            &format!("/{function}"),
            &host_headers(id),
            body,
            framing,
        )
        .expect("invocation answered")
    }

    /// Posts the event as a host invocation of `EventGridTrigger`, with `Content-Length`.
    pub fn invoke_event(&self, id: &str, event: &Value) -> HttpAnswer {
        self.invoke(
            "EventGridTrigger",
            id,
            &host_body(event),
            Framing::ContentLength,
        )
    }

    /// What the handler printed to stdout so far.
    pub fn stdout(&self) -> String {
        self.stdout.lock().expect("stdout lock").clone()
    }

    /// What the handler printed to stderr so far.
    pub fn stderr(&self) -> String {
        self.stderr.lock().expect("stderr lock").clone()
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The process's resident memory in KiB, from `/proc/<pid>/status`.
    pub fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))
            .expect("read the process status");
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmRSS in the process status")
    }

    /// Waits for the process to exit, up to `limit`; its exit code, or `None` when it did not.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<i32> {
        let start = Instant::now();
        while start.elapsed() < limit {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status.code().unwrap_or(-1));
            }
            thread::sleep(Duration::from_millis(10));
        }
        None
    }

    /// Sends a signal to the process.
    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([&format!("-{signal}"), &self.pid().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success());
    }
}

impl Drop for Handler {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The handler binary as a command run from the app root, without the host's variables, with
/// `RUST_LOG` unset and `env` set.
pub fn handler_command(env: &[(&str, &str)]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_handler"));
    command.current_dir(app_root()).env_remove("RUST_LOG");
    for name in [
        "FUNCTIONS_CUSTOMHANDLER_PORT",
        "FUNCTIONS_HTTPWORKER_PORT",
        "WEBHOOK_KEY",
        "POISON_DIR",
    ] {
        command.env_remove(name);
    }
    for (key, value) in env {
        command.env(key, value);
    }
    command
}

/// Runs the handler with `args` and `env` to its end, with `stdin` as its standard input.
pub fn run_handler(args: &[&str], env: &[(&str, &str)], stdin: &[u8]) -> Output {
    let mut child = handler_command(env)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the handler");
    let mut input = child.stdin.take().expect("stdin");
    let stdin = stdin.to_vec();
    let writer = thread::spawn(move || {
        let _ = input.write_all(&stdin);
    });
    let output = child.wait_with_output().expect("handler output");
    writer.join().expect("stdin writer");
    output
}

/// The path and query of the standalone webhook for `function`.
pub fn webhook_path(function: &str) -> String {
    format!("/runtime/webhooks/EventGrid?functionName={function}")
}

/// The headers Event Grid sends with a delivery of `kind` (`Notification`,
/// `SubscriptionValidation`, …).
pub fn event_grid_headers(kind: &str) -> Vec<(String, String)> {
    vec![
        ("Content-Type".into(), "application/json".into()),
        ("aeg-event-type".into(), kind.into()),
        ("aeg-delivery-count".into(), "0".into()),
    ]
}

/// Any request, with `Content-Length` framing, on a fresh connection.
pub fn request(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> std::io::Result<HttpAnswer> {
    let mut stream = connect(port)?;
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n");
    for (key, value) in headers {
        request.push_str(&format!("{key}: {value}\r\n"));
    }
    request.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    let mut bytes = request.into_bytes();
    bytes.extend_from_slice(body);
    stream.write_all(&bytes)?;
    read_answer(&mut BufReader::new(stream))
}

/// A folder of its own under the system's temporary folder, removed when dropped.
pub struct TempDir {
    /// The folder.
    pub path: PathBuf,
}

impl TempDir {
    /// A new, empty folder whose name starts with `label`.
    pub fn new(label: &str) -> Self {
        static COUNT: AtomicUsize = AtomicUsize::new(0);
        let count = COUNT.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("amh-{label}-{}-{count}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("create a temporary folder");
        Self { path }
    }

    /// The folder's path as text, for environment variables and arguments.
    pub fn as_str(&self) -> &str {
        self.path.to_str().expect("temporary paths are UTF-8")
    }

    /// The files in the folder, sorted.
    pub fn files(&self) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&self.path)
            .map(|entries| entries.map(|entry| entry.expect("entry").path()).collect())
            .unwrap_or_default();
        files.sort();
        files
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// Every sample file (`samples/<schema>/*.json`), sorted, relative to the app root.
pub fn samples() -> Vec<String> {
    let mut files = Vec::new();
    for schema in ["cloudevents", "deadletter", "eventgrid"] {
        let dir = app_root().join("samples").join(schema);
        for entry in std::fs::read_dir(&dir).expect("read samples") {
            let name = entry.expect("entry").file_name();
            let name = name.to_str().expect("UTF-8 name");
            if name.ends_with(".json") {
                files.push(format!("samples/{schema}/{name}"));
            }
        }
    }
    files.sort();
    files
}

/// The events of a file relative to the app root (one event, or an array of them).
pub fn events_of(relative: &str) -> Vec<Value> {
    events_in(&app_root().join(relative))
}

/// Standard output as text.
pub fn stdout_of(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Standard error as text.
pub fn stderr_of(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Waits up to ten seconds for `condition`.
pub fn wait_until(condition: impl Fn() -> bool, what: &str) {
    let start = Instant::now();
    while !condition() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "timed out waiting for {what}"
        );
        thread::sleep(Duration::from_millis(20));
    }
}

/// Collects a pipe into a shared string on a thread.
fn collect(pipe: impl Read + Send + 'static) -> Arc<Mutex<String>> {
    let text = Arc::new(Mutex::new(String::new()));
    let sink = Arc::clone(&text);
    thread::spawn(move || {
        let mut reader = BufReader::new(pipe);
        let mut line = String::new();
        while reader.read_line(&mut line).map(|n| n > 0).unwrap_or(false) {
            sink.lock().expect("pipe lock").push_str(&line);
            line.clear();
        }
    });
    text
}

/// The headers the host sends with an invocation.
pub fn host_headers(id: &str) -> Vec<(String, String)> {
    [
        ("X-Azure-Functions-InvocationId", id),
        ("X-Azure-Functions-HostVersion", "4.1040.300.0"),
        ("User-Agent", "Azure-Functions-Host/4.1040.300.0"),
        ("Content-Type", "application/json; charset=utf-8"),
        (
            "traceparent",
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        ),
    ]
    .iter()
    .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
    .collect()
}

/// The host's invocation body for one Event Grid trigger event, compact as the host sends it.
pub fn host_body(event: &Value) -> Vec<u8> {
    let data = event.get("data").cloned().unwrap_or(Value::Null);
    let body = serde_json::json!({
        "Data": { "eventGridEvent": event },
        "Metadata": {
            "data": data,
            "sys": {
                "MethodName": "EventGridTrigger",
                "UtcNow": "2026-12-03T18:30:22.6043181Z",
                "RandGuid": "5b0f3a1e-9c8d-4f8e-a2a5-3c1d2e4f6a7b"
            }
        }
    });
    serde_json::to_vec(&body).expect("serialize")
}

/// `GET path` on a fresh connection.
pub fn get(port: u16, path: &str) -> std::io::Result<HttpAnswer> {
    let mut stream = connect(port)?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    )?;
    read_answer(&mut BufReader::new(stream))
}

/// `POST path` with `headers` and `body` on a fresh connection.
pub fn post(
    port: u16,
    path: &str,
    headers: &[(String, String)],
    body: &[u8],
    framing: Framing,
) -> std::io::Result<HttpAnswer> {
    let mut stream = connect(port)?;
    write_post(&mut stream, port, path, headers, body, framing)?;
    read_answer(&mut BufReader::new(stream))
}

/// `POST path` with a body the handler may refuse before it has all arrived: the request is
/// written from another thread, ignoring write errors, while the answer is read.
pub fn post_refusable(
    port: u16,
    path: &str,
    headers: &[(String, String)],
    body: Vec<u8>,
    framing: Framing,
) -> std::io::Result<HttpAnswer> {
    let stream = connect(port)?;
    let mut writer = stream.try_clone()?;
    let path = path.to_owned();
    let headers = headers.to_vec();
    let sending = thread::spawn(move || {
        let _ = write_post(&mut writer, port, &path, &headers, &body, framing);
    });
    let answer = read_answer(&mut BufReader::new(&stream));
    let _ = stream.shutdown(std::net::Shutdown::Both);
    let _ = sending.join();
    answer
}

/// Opens a connection with generous timeouts.
pub fn connect(port: u16) -> std::io::Result<TcpStream> {
    let stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(60)))?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// Writes a POST request's head for a body of `length` bytes, sent later with `Content-Length`.
pub fn write_head(
    stream: &mut TcpStream,
    port: u16,
    path: &str,
    headers: &[(String, String)],
    length: usize,
) -> std::io::Result<()> {
    let mut head = format!("POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n");
    for (key, value) in headers {
        head.push_str(&format!("{key}: {value}\r\n"));
    }
    head.push_str(&format!("Content-Length: {length}\r\n\r\n"));
    stream.write_all(head.as_bytes())
}

/// Writes a POST request with the given framing.
pub fn write_post(
    stream: &mut TcpStream,
    port: u16,
    path: &str,
    headers: &[(String, String)],
    body: &[u8],
    framing: Framing,
) -> std::io::Result<()> {
    let mut request = format!("POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n");
    for (key, value) in headers {
        request.push_str(&format!("{key}: {value}\r\n"));
    }
    let mut bytes = Vec::new();
    match framing {
        Framing::ContentLength => {
            request.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
            bytes.extend_from_slice(request.as_bytes());
            bytes.extend_from_slice(body);
        }
        Framing::Chunked => {
            request.push_str("Transfer-Encoding: chunked\r\n\r\n");
            bytes.extend_from_slice(request.as_bytes());
            for chunk in body.chunks(1000) {
                bytes.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
                bytes.extend_from_slice(chunk);
                bytes.extend_from_slice(b"\r\n");
            }
            bytes.extend_from_slice(b"0\r\n\r\n");
        }
    }
    stream.write_all(&bytes)
}

/// Reads one HTTP/1.1 answer.
pub fn read_answer(reader: &mut impl BufRead) -> std::io::Result<HttpAnswer> {
    let bad = |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_owned());
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Err(bad("connection closed before an answer"));
    }
    let status = line
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| bad("bad status line"))?;
    let mut headers = Vec::new();
    loop {
        line.clear();
        reader.read_line(&mut line)?;
        let trimmed = line.trim_end();
        if trimmed.is_empty() {
            break;
        }
        if let Some((key, value)) = trimmed.split_once(':') {
            headers.push((key.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
    }
    let length = headers
        .iter()
        .find(|(key, _)| key == "content-length")
        .and_then(|(_, value)| value.parse::<usize>().ok());
    let chunked = headers
        .iter()
        .any(|(key, value)| key == "transfer-encoding" && value == "chunked");
    let mut body = Vec::new();
    if let Some(length) = length {
        body.resize(length, 0);
        reader.read_exact(&mut body)?;
    } else if chunked {
        loop {
            line.clear();
            reader.read_line(&mut line)?;
            let size = usize::from_str_radix(line.trim(), 16).map_err(|_| bad("chunk size"))?;
            let mut chunk = vec![0; size + 2];
            reader.read_exact(&mut chunk)?;
            if size == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..size]);
        }
    }
    Ok(HttpAnswer {
        status,
        headers,
        body,
    })
}

/// The fixtures folder.
pub fn fixtures_dir() -> PathBuf {
    app_root().join("tests/fixtures")
}

/// Every fixture's name and its events (a file holds one event, or an array of them).
pub fn fixtures() -> Vec<(String, Vec<Value>)> {
    let mut all: Vec<(String, Vec<Value>)> = std::fs::read_dir(fixtures_dir())
        .expect("read fixtures")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .map(|path| (name_of(&path), events_in(&path)))
        .collect();
    all.sort_by(|a, b| a.0.cmp(&b.0));
    all
}

/// One fixture's only event.
pub fn fixture(name: &str) -> Value {
    let path = fixtures_dir().join(format!("{name}.json"));
    let mut events = events_in(&path);
    assert_eq!(events.len(), 1, "{name} holds one event");
    events.remove(0)
}

/// A file's stem.
fn name_of(path: &Path) -> String {
    path.file_stem()
        .and_then(|stem| stem.to_str())
        .expect("file name")
        .to_owned()
}

/// The events of a fixture file.
fn events_in(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).expect("read fixture");
    match serde_json::from_str(&text).expect("fixture is JSON") {
        Value::Array(events) => events,
        event => vec![event],
    }
}

/// Waits up to five seconds for `condition`, failing the test with `what` when it stays false.
pub fn wait_for(condition: impl Fn() -> bool, what: &str) {
    let start = Instant::now();
    while !condition() {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "timed out waiting for {what}"
        );
        thread::sleep(Duration::from_millis(20));
    }
}
